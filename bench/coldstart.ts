/**
 * Cold start: a fresh `node` process that imports, builds the client and makes one call, against
 * the simulator in its own process. Wall time from spawn to exit and the child's peak RSS;
 * medians of interleaved runs.
 */
import { spawn } from "node:child_process"
import { performance } from "node:perf_hooks"
import { fileURLToPath } from "node:url"
import type { Row } from "./resilience.js"
import { startSimulator } from "./server.js"

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const run = (script: string, args: ReadonlyArray<string>) =>
  new Promise<{ wall: number; rssMiB: number }>((resolve, reject) => {
    const started = performance.now()
    let out = ""
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL(`./cold/${script}`, import.meta.url)), ...args],
      {
        cwd: fileURLToPath(new URL("..", import.meta.url)),
        stdio: ["ignore", "pipe", "inherit"]
      }
    )
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.once("exit", (code) => {
      const wall = (performance.now() - started) / 1000
      if (code !== 0) return reject(new Error(`${script} exited ${code}`))
      const { maxRSS } = JSON.parse(out.trim().split("\n").at(-1)!) as { maxRSS: number }
      resolve({ wall, rssMiB: maxRSS / 1024 })
    })
  })

/** `okta-connections get <id> --json` (dist/cli/main.mjs) as a user runs it: wall time only. */
const runCli = (url: string, token: string, id: string) =>
  new Promise<number>((resolve, reject) => {
    const started = performance.now()
    const child = spawn(process.execPath, ["dist/cli/main.mjs", "get", id, "--json"], {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { PATH: process.env["PATH"] ?? "", OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: token },
      stdio: ["ignore", "ignore", "inherit"]
    })
    child.once("exit", (code) =>
      code === 0
        ? resolve((performance.now() - started) / 1000)
        : reject(new Error(`okta-connections exited ${code}`))
    )
  })

export const coldStart = async (runs = 9): Promise<ReadonlyArray<Row>> => {
  const sim = await startSimulator(["--rate-limit", "100000000", "--concurrency-limit", "100000"])
  const args = [sim.url, sim.token, sim.apps[0]!.id]
  const results = new Map<string, Array<{ wall: number; rssMiB: number }>>([
    ["baseline.mjs", []],
    ["ours.mjs", []],
    ["sdk.cjs", []]
  ])
  const cli: Array<number> = []
  try {
    for (let i = 0; i < runs; i++) {
      for (const [script, list] of results) list.push(await run(script, args))
      cli.push(await runCli(sim.url, sim.token, sim.apps[0]!.id))
    }
  } finally {
    await sim.stop()
  }
  const wall = (script: string) => median(results.get(script)!.map((r) => r.wall))
  const rss = (script: string) => median(results.get(script)!.map((r) => r.rssMiB))
  return [
    {
      scenario: `cold start vs bare Effect + platform (deep imports): fresh process, import, one call (median of ${runs})`,
      figure: `${(wall("ours.mjs") / wall("baseline.mjs")).toFixed(3)}× wall, ${(rss("ours.mjs") / rss("baseline.mjs")).toFixed(3)}× peak RSS`,
      target: "≤ 1.10× wall",
      detail: `${wall("ours.mjs").toFixed(3)} s / ${rss("ours.mjs").toFixed(0)} MiB vs ${wall("baseline.mjs").toFixed(3)} s / ${rss("baseline.mjs").toFixed(0)} MiB`
    },
    {
      scenario: `cold start vs @okta/okta-sdk-nodejs (median of ${runs})`,
      figure: `${(wall("ours.mjs") / wall("sdk.cjs")).toFixed(3)}× wall, ${(rss("ours.mjs") / rss("sdk.cjs")).toFixed(3)}× peak RSS`,
      target: "≤ 0.8× wall, ≤ 0.9× memory",
      detail: `${wall("ours.mjs").toFixed(3)} s / ${rss("ours.mjs").toFixed(0)} MiB vs ${wall("sdk.cjs").toFixed(3)} s / ${rss("sdk.cjs").toFixed(0)} MiB`
    },
    {
      scenario: `cold start: okta-connections get <id> --json vs a Node script doing it with @okta/okta-sdk-nodejs (median of ${runs})`,
      figure: `${(median(cli) / wall("sdk.cjs")).toFixed(3)}× wall`,
      target: "≤ 0.5× wall",
      detail: `${median(cli).toFixed(3)} s vs ${wall("sdk.cjs").toFixed(3)} s`
    }
  ]
}
