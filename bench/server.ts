/**
 * Starts the simulator (`okta-connections simulator`, built, as `npm run simulator` runs it from
 * source) as a child process (its own core on a 2-core machine, so the client being measured does
 * not share an event loop with the server) and returns its address.
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
    const child = spawn(process.execPath, ["dist/cli/main.mjs", "simulator", ...args], {
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

export interface LeanServer {
  /** The org URL of each wire form: `chunked`, `gzip`, `length`. */
  readonly urls: Readonly<Record<string, string>>
  readonly stats: (
    form: string
  ) => Promise<{ served: number; limited: number; maxInFlight: number }>
  readonly reset: (form: string) => Promise<void>
  readonly stop: () => Promise<void>
}

/** Starts bench/lean-server.mjs as a child process (plain node, no tsx) with `options`. */
export const startLeanServer = (options: Record<string, unknown>): Promise<LeanServer> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bench/lean-server.mjs", JSON.stringify(options)], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.once("error", reject)
    const lines = createInterface({ input: child.stdout })
    lines.once("line", (line) => {
      lines.close()
      const { ports } = JSON.parse(line) as { ports: Record<string, number> }
      const urls = Object.fromEntries(
        Object.entries(ports).map(([form, port]) => [form, `http://127.0.0.1:${port}`])
      )
      resolve({
        urls,
        stats: (form) =>
          fetch(`${urls[form]}/__stats`).then(
            (r) => r.json() as Promise<{ served: number; limited: number; maxInFlight: number }>
          ),
        reset: (form) => fetch(`${urls[form]}/__reset`, { method: "POST" }).then(() => undefined),
        stop: () =>
          new Promise((done) => {
            child.once("exit", () => done())
            child.kill("SIGINT")
          })
      })
    })
  })
