/**
 * Starts `npm run simulator` as a child process (its own core on a 2-core machine, so the client
 * being measured does not share an event loop with the server) and returns its address.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

export interface SimulatorProcess {
  readonly url: string
  readonly token: string
  readonly apps: ReadonlyArray<{ readonly id: string; readonly name: string }>
  readonly stop: () => Promise<void>
}

export const startSimulator = (args: ReadonlyArray<string>): Promise<SimulatorProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/simulator.ts", ...args], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.once("error", reject)
    const lines = createInterface({ input: child.stdout })
    lines.once("line", (line) => {
      const info = JSON.parse(line) as {
        url: string
        token: string
        apps: Array<{ id: string; name: string }>
      }
      // Keep draining stdout (one line per request) so the child never blocks on a full pipe,
      // without splitting it into lines: that work would land in the measured process.
      lines.close()
      child.stdout.resume()
      resolve({
        ...info,
        stop: () =>
          new Promise((done) => {
            child.once("exit", () => done())
            child.kill("SIGINT")
          })
      })
    })
  })
