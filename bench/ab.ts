/**
 * Interleaved A/B of the client's CPU per call: this checkout's build (`dist/`) against the build
 * of another revision, both loaded in one process, beside the bare `HttpClient`, against the lean
 * server. Not part of `npm run bench`; how bench/README.md measures a change:
 *
 *   npm run bench:ab -- <rev> [form] [transport] [concurrency] [rounds]
 *
 * `form`: chunked (default), gzip or length; `transport`: undici (default: each build on its own
 * `OktaUndici.layer()`), fetch (each on its own `OktaFetch.layer()`, or `FetchHttpClient.layer`
 * for a build without one), or layerUndici / layerFetch (both on the platform's layer); `concurrency`:
 * 1 (default, one call at a time in one fiber) or more, or `each` (one call at a time, each its
 * own `runPromise`, as the overhead group's sequential rows call); `rounds`: 9 (default) of 3,000
 * calls each, the order reversed every other round, garbage collected before each. The other revision is built in a
 * temporary git worktree, which is removed afterwards. Printed: each one's median CPU per call,
 * and for the two builds the median of the per-round ratios and in how many rounds this build was
 * the cheaper: the machine's speed drifts more within a run than most changes move a call, so
 * rounds are compared side by side. `AB_TRANSFORM=1` gives both builds an identity
 * `transformClient`, to measure the path a transformed client takes.
 */
import type * as Package from "effect-okta-connections"
import type { OktaClientSettings } from "effect-okta-connections"
import type * as UndiciEntry from "effect-okta-connections/undici"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { bare, type Form, garbageCollector, type Impl, median, ours } from "./overhead.js"
import { startLeanServer } from "./server.js"

const [rev, form = "chunked", transportName = "undici", concurrencyArg = "1", roundsArg = "9"] =
  process.argv.slice(2)
if (rev === undefined) {
  console.error(
    "usage: bench/ab.ts <rev> [chunked|gzip|length] [undici|layerUndici|fetch|layerFetch] [concurrency] [rounds]"
  )
  process.exit(2)
}
const transport =
  transportName === "fetch" || transportName === "layerUndici" || transportName === "layerFetch"
    ? transportName
    : "undici"
const settings: OktaClientSettings =
  process.env["AB_TRANSFORM"] === "1" ? { transformClient: (client) => client } : {}
const eachOwnRun = concurrencyArg === "each"
const concurrency = eachOwnRun ? 1 : Number(concurrencyArg)
const run = async (impl: Impl, count: number) => {
  if (!eachOwnRun) return impl.many(count, concurrency)
  for (let i = 0; i < count; i++) await impl.call()
}
const rounds = Number(roundsArg)
const callsPerRound = 3_000
const root = fileURLToPath(new URL("..", import.meta.url))

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
    { cwd: dir, stdio: "inherit" }
  )
  return {
    dir,
    remove: () =>
      execFileSync("git", ["worktree", "remove", "--force", dir], { cwd: root, stdio: "ignore" })
  }
}

const main = async () => {
  const server = await startLeanServer({ forms: [form] })
  const url = server.urls[form]!
  const other = buildRevision(rev)
  try {
    const Other = (await import(
      pathToFileURL(join(other.dir, "dist/index.js")).href
    )) as typeof Package
    // The other build's own `OktaUndici`, where it has one: its client recognises only the
    // transports its own layer made (and reads any other one as it would a stranger's).
    const otherUndici = join(other.dir, "dist/undici/index.js")
    const OtherUndici = existsSync(otherUndici)
      ? ((await import(pathToFileURL(otherUndici).href)) as typeof UndiciEntry).OktaUndici
      : undefined
    const contenders: ReadonlyArray<{ readonly label: string; readonly impl: Impl }> = [
      { label: "bare HttpClient", impl: bare(url, form as Form, transport) },
      { label: rev, impl: ours(url, form as Form, transport, settings, Other, OtherUndici) },
      { label: "this checkout", impl: ours(url, form as Form, transport, settings) }
    ]
    const cpu = contenders.map((): Array<number> => [])
    for (const { impl } of contenders) await run(impl, 2_000)
    const gc = garbageCollector()
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0]
      for (const i of order) {
        gc()
        const before = process.cpuUsage()
        await run(contenders[i]!.impl, callsPerRound)
        const used = process.cpuUsage(before)
        cpu[i]!.push((used.user + used.system) / callsPerRound)
      }
    }
    console.log(
      `${form}, ${transport}${settings.transformClient !== undefined ? " through transformClient" : ""}, concurrency ${eachOwnRun ? "1, each call its own runPromise" : concurrency}, ${rounds} rounds of ${callsPerRound} calls`
    )
    contenders.forEach(({ label }, i) => {
      const each = median(cpu[i]!)
      console.log(
        `  ${label.padEnd(16)} ${each.toFixed(0).padStart(5)} µs CPU a call, ${(each / median(cpu[0]!)).toFixed(3)}× the bare client   rounds: ${cpu[i]!.map((c) => c.toFixed(0)).join(" ")}`
      )
    })
    const ratios = cpu[2]!.map((c, i) => c / cpu[1]![i]!)
    console.log(
      `  this checkout / ${rev}: ${median(ratios).toFixed(3)}× (median of the rounds' ratios), cheaper in ${ratios.filter((r) => r < 1).length} of ${rounds} rounds`
    )
    for (const { impl } of contenders) await impl.dispose()
  } finally {
    other.remove()
    await server.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
