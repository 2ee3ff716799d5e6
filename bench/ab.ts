/**
 * Interleaved A/B of the client's CPU per call: this checkout's build (`dist/`) against the build
 * of another revision, both loaded in one process, beside the bare `HttpClient`, against the lean
 * server. Not part of `npm run bench`; how bench/README.md measures a change:
 *
 *   npm run bench:ab -- <rev> [form] [transport] [concurrency] [rounds]
 *
 * (with `NODE_OPTIONS=--expose-gc`, garbage is collected before each round).
 * `form`: chunked (default), gzip or length; `transport`: undici (default) or fetch; `concurrency`:
 * 1 (default, one call at a time) or more; `rounds`: 9 (default) of 3,000 calls each, the order
 * reversed every other round. The other revision is built in a temporary git worktree, which is
 * removed afterwards. Printed: each one's median CPU per call, and for the two builds the median
 * of the per-round ratios and in how many rounds this build was the cheaper: the machine's speed
 * drifts more within a run than most changes move a call, so rounds are compared side by side.
 */
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as Current from "effect-okta-connections"
import { execFileSync } from "node:child_process"
import { mkdtempSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { startLeanServer } from "./server.js"

const [rev, form = "chunked", transportName = "undici", concurrencyArg = "1", roundsArg = "9"] =
  process.argv.slice(2)
if (rev === undefined) {
  console.error(
    "usage: bench/ab.ts <rev> [chunked|gzip|length] [undici|fetch] [concurrency] [rounds]"
  )
  process.exit(2)
}
const concurrency = Number(concurrencyArg)
const rounds = Number(roundsArg)
const callsPerRound = 3_000
const APP = "0oasimzscaler0000001"
const root = fileURLToPath(new URL("..", import.meta.url))

interface Contender {
  readonly name: string
  /** Runs `calls` calls at the chosen concurrency. */
  readonly run: (calls: number) => Promise<void>
  readonly dispose: () => Promise<void>
  readonly cpu: Array<number>
}

const contender = <R, E>(
  name: string,
  layer: Layer.Layer<R, E>,
  call: Effect.Effect<unknown, unknown, R>
): Contender => {
  const runtime = ManagedRuntime.make(layer)
  return {
    name,
    run: (calls) =>
      runtime.runPromise(
        Effect.forEach(Array.from({ length: calls }), () => call, { concurrency, discard: true })
      ),
    dispose: () => runtime.dispose(),
    cpu: []
  }
}

const median = (values: ReadonlyArray<number>) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

const buildRevision = (revision: string) => {
  const dir = mkdtempSync(join(tmpdir(), "okta-ab-"))
  execFileSync("git", ["worktree", "add", "--detach", dir, revision], {
    cwd: root,
    stdio: "ignore"
  })
  // The same dependencies as this checkout, so both builds share one `effect` instance.
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"))
  execFileSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: dir,
      stdio: "inherit"
    }
  )
  return {
    dir,
    remove: () =>
      execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: root, stdio: "ignore" })
  }
}

const main = async () => {
  const transport = transportName === "fetch" ? FetchHttpClient.layer : NodeHttpClient.layerUndici
  const server = await startLeanServer({ forms: [form] })
  const url = server.urls[form]!
  const other = buildRevision(rev)
  try {
    const Other = (await import(
      pathToFileURL(join(other.dir, "dist/index.js")).href
    )) as typeof Current
    const client = (lib: typeof Current, name: string) =>
      contender(
        name,
        lib.ApplicationConnections.layer.pipe(
          Layer.provide(lib.OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00ab") })),
          Layer.provide(transport)
        ),
        Effect.flatMap(lib.ApplicationConnections, (api) =>
          api.getDefaultProvisioningConnectionForApplication(APP)
        )
      )
    const contenders: ReadonlyArray<Contender> = [
      contender(
        "bare HttpClient",
        transport,
        Effect.flatMap(HttpClient.HttpClient, (http) =>
          Effect.flatMap(
            http.get(`${url}/api/v1/apps/${APP}/connections/default`, {
              headers: { authorization: "SSWS 00ab", accept: "application/json" }
            }),
            HttpClientResponse.schemaBodyJson(Current.ProvisioningConnectionResponse)
          )
        )
      ),
      client(Other, rev),
      client(Current, "this checkout")
    ]
    for (const each of contenders) await each.run(2_000)
    const gc = (globalThis as { gc?: () => void }).gc
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const each of order) {
        gc?.()
        const before = process.cpuUsage()
        await each.run(callsPerRound)
        const used = process.cpuUsage(before)
        each.cpu.push((used.user + used.system) / callsPerRound)
      }
    }
    const [bare, base, current] = contenders as [Contender, Contender, Contender]
    console.log(
      `${form}, ${transportName}, concurrency ${concurrency}, ${rounds} rounds of ${callsPerRound} calls`
    )
    for (const each of contenders) {
      const cpu = median(each.cpu)
      console.log(
        `  ${each.name.padEnd(16)} ${cpu.toFixed(0).padStart(5)} µs CPU a call, ${(cpu / median(bare.cpu)).toFixed(3)}× the bare client   rounds: ${each.cpu.map((c) => c.toFixed(0)).join(" ")}`
      )
    }
    const ratios = current.cpu.map((c, i) => c / base.cpu[i]!)
    console.log(
      `  this checkout / ${rev}: ${median(ratios).toFixed(3)}× (median of the rounds' ratios), cheaper in ${ratios.filter((r) => r < 1).length} of ${rounds} rounds`
    )
    for (const each of contenders) await each.dispose()
  } finally {
    other.remove()
    await server.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
