/**
 * Per-call overhead, throughput, the official SDK, and memory: the client against the bare
 * `HttpClient` of the same transport doing the same GET and schema decode, in the same run,
 * against the lean loopback server (bench/lean-server.mjs) on each wire form Okta may use:
 * chunked (what Okta sends), gzip (what Okta sends when the request accepts it) and a declared
 * Content-Length. Calls of the compared implementations are interleaved in rounds so that drift
 * (JIT, GC, the machine) hits all of them alike.
 */
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, DefaultServices, Effect, Layer, ManagedRuntime, Redacted, Tracer } from "effect"
import { performance } from "node:perf_hooks"
import { runInNewContext } from "node:vm"
import { setFlagsFromString } from "node:v8"
import * as Package from "effect-okta-connections"
import { type OktaClientSettings, ProvisioningConnectionResponse } from "effect-okta-connections"
import { OktaUndici } from "effect-okta-connections/undici"
import type { Row } from "./resilience.js"
import { sdkClient } from "./sdk.js"
import { startLeanServer } from "./server.js"

const TOKEN = "00bench-token"
const APP = "0oasimzscaler0000001"
const FORMS = ["chunked", "gzip", "length"] as const
export type Form = (typeof FORMS)[number]

/** The median; of an even number of values, the mean of the middle two. */
export const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 0 ? (sorted[middle - 1]! + sorted[middle]!) / 2 : sorted[middle]!
}

/**
 * `undici`: the bare client on `NodeHttpClient.layerUndici`, this client on `OktaUndici.layer()`
 * (undici capping bodies itself, what the docs recommend on undici); `fetch`: the bare client on
 * `FetchHttpClient.layer`, this client on `OktaFetch.layer()` (what the docs recommend on fetch).
 * `layerUndici` and `layerFetch`: this client on the platform's layer, where an attempt runs in a
 * fiber of its own (and on `layerUndici` a chunked body is read through the platform's `Stream`).
 * `layerNode`: both on `NodeHttpClient.layer` (node:http), as `layerUndici` (bench/steps.ts only).
 */
export type Transport = "fetch" | "undici" | "layerUndici" | "layerFetch" | "layerNode"
const transportLayer = (transport: Transport) =>
  transport === "fetch" || transport === "layerFetch"
    ? FetchHttpClient.layer
    : transport === "layerNode"
      ? NodeHttpClient.layer
      : NodeHttpClient.layerUndici
const ourTransportLayer = (
  transport: Transport,
  undici: Pick<typeof OktaUndici, "layer">,
  fetch: Pick<typeof Package.OktaFetch, "layer"> | undefined
): Layer.Layer<HttpClient.HttpClient> =>
  transport === "undici"
    ? Layer.orDie(undici.layer())
    : transport === "fetch" && fetch !== undefined
      ? fetch.layer()
      : transportLayer(transport)

/** One call as a Promise-returning function, and how to release it. */
export interface Impl {
  readonly name: string
  readonly call: () => Promise<unknown>
  readonly many: (count: number, concurrency: number) => Promise<void>
  readonly dispose: () => Promise<void>
}

/** An implementation on an Effect runtime: also runs `wrap(one call)` there (bench/steps.ts). */
export interface EffectImpl extends Impl {
  readonly run: (
    wrap: <A, E, R>(call: Effect.Effect<A, E, R>) => Effect.Effect<unknown, E, R>
  ) => Promise<unknown>
}

export const bare = (orgUrl: string, form: Form, transport: Transport): EffectImpl => {
  const runtime = ManagedRuntime.make(transportLayer(transport))
  const url = `${orgUrl}/api/v1/apps/${APP}/connections/default`
  const headers = { authorization: `SSWS ${TOKEN}`, accept: "application/json" }
  const once = Effect.flatMap(HttpClient.HttpClient, (client) =>
    client
      .get(url, { headers })
      .pipe(
        Effect.flatMap((response) =>
          HttpClientResponse.schemaBodyJson(ProvisioningConnectionResponse)(response)
        )
      )
  )
  return {
    name: `bare ${transport} ${form}`,
    call: () => runtime.runPromise(once),
    many: (count, concurrency) =>
      runtime.runPromise(
        Effect.forEach(Array.from({ length: count }), () => once, { concurrency, discard: true })
      ),
    dispose: () => runtime.dispose(),
    run: (wrap) => runtime.runPromise(wrap(once))
  }
}

/** V8's `gc`, without starting Node with `--expose-gc`. */
export const garbageCollector = (): (() => void) => {
  setFlagsFromString("--expose-gc")
  return runInNewContext("gc") as () => void
}

/**
 * This client's settings, and whether the application installed a tracer: one that keeps spans
 * as Effect's default tracer does (in memory, exported nowhere), but is not that tracer, as an
 * exporter that drops everything would be.
 */
export type OursSettings = OktaClientSettings & { readonly tracerInstalled?: boolean | undefined }

const defaultTracer = Context.get(DefaultServices.liveServices, Tracer.Tracer)
const installedTracer = Tracer.make({ span: defaultTracer.span, context: defaultTracer.context })

const suffixOf = (settings: OursSettings) =>
  settings.tracing === false
    ? " (tracing off)"
    : settings.tracing === "exchanges"
      ? ' (tracing: "exchanges")'
      : settings.tracerInstalled === true
        ? " (a tracer installed)"
        : ""

/**
 * The client; `lib`: the package to measure (another build of it, for `bench/ab.ts`), and
 * `undici` its `OktaUndici`: a build recognises only the transports its own `OktaUndici` made.
 */
export const ours = (
  orgUrl: string,
  form: Form,
  transport: Transport,
  { tracerInstalled, ...settings }: OursSettings = {},
  lib: Pick<typeof Package, "ApplicationConnections" | "OktaClient"> & {
    // Another revision's build may have no `OktaFetch`: it then runs on `FetchHttpClient.layer`.
    readonly OktaFetch?: Pick<typeof Package.OktaFetch, "layer">
  } = Package,
  undici: Pick<typeof OktaUndici, "layer"> = OktaUndici
): EffectImpl => {
  const runtime = ManagedRuntime.make(
    lib.ApplicationConnections.layer.pipe(
      Layer.provide(lib.OktaClient.layer({ orgUrl, apiToken: Redacted.make(TOKEN), ...settings })),
      Layer.provide(ourTransportLayer(transport, undici, lib.OktaFetch)),
      Layer.merge(tracerInstalled === true ? Layer.setTracer(installedTracer) : Layer.empty)
    )
  )
  const once = Effect.flatMap(lib.ApplicationConnections, (api) =>
    api.getDefaultProvisioningConnectionForApplication(APP)
  )
  return {
    name: `ours ${transport} ${form}${suffixOf({ ...settings, tracerInstalled })}`,
    call: () => runtime.runPromise(once),
    many: (count, concurrency) =>
      runtime.runPromise(
        Effect.forEach(Array.from({ length: count }), () => once, { concurrency, discard: true })
      ),
    dispose: () => runtime.dispose(),
    run: (wrap) => runtime.runPromise(wrap(once))
  }
}

const sdk = (orgUrl: string, form: Form): Impl => {
  const client = sdkClient(orgUrl, TOKEN)
  const call = () =>
    client.applicationApi.getDefaultProvisioningConnectionForApplication({ appId: APP })
  return {
    name: `sdk ${form}`,
    call,
    many: async (count, concurrency) => {
      let next = 0
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < count) {
            next += 1
            await call()
          }
        })
      )
    },
    dispose: async () => {}
  }
}

/** Median per-call time of each implementation, interleaved in rounds after a warm-up. */
const perCall = async (impls: ReadonlyArray<Impl>, rounds = 8, perRound = 250) => {
  for (const impl of impls) for (let i = 0; i < 300; i++) await impl.call()
  const samples = new Map<string, Array<number>>(impls.map((impl) => [impl.name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const impl of impls) {
      const times = samples.get(impl.name)!
      for (let i = 0; i < perRound; i++) {
        const started = performance.now()
        await impl.call()
        times.push(performance.now() - started)
      }
    }
  }
  return new Map([...samples].map(([name, times]) => [name, median(times)]))
}

const throughput = async (impl: Impl, count: number, concurrency: number) => {
  await impl.many(500, concurrency)
  const started = performance.now()
  await impl.many(count, concurrency)
  return count / ((performance.now() - started) / 1000)
}

export const overhead = async (): Promise<ReadonlyArray<Row>> => {
  const server = await startLeanServer({ forms: FORMS })
  const rows: Array<Row> = []
  try {
    const impls: Array<Impl> = []
    for (const form of FORMS) {
      const url = server.urls[form]!
      impls.push(
        bare(url, form, "fetch"),
        ours(url, form, "fetch"),
        bare(url, form, "undici"),
        ours(url, form, "undici"),
        sdk(url, form)
      )
    }
    const chunked = server.urls["chunked"]!
    const variants = [
      ours(chunked, "chunked", "undici", { tracing: false }),
      ours(chunked, "chunked", "undici", { tracerInstalled: true }),
      ours(chunked, "chunked", "undici", { tracing: "exchanges" }),
      ours(chunked, "chunked", "layerUndici"),
      ours(chunked, "chunked", "layerFetch")
    ]
    // The bare undici client a second time: its ratio to itself is the noise left in a run's row.
    const again = { ...bare(chunked, "chunked", "undici"), name: "bare undici chunked (again)" }
    const medians = await perCall([...impls, ...variants, again])
    const ms = (name: string) => medians.get(name)!
    const fmt = (name: string) => `${(ms(name) * 1000).toFixed(0)} µs`
    for (const form of FORMS) {
      for (const transport of ["fetch", "undici"] as const) {
        const name = `ours ${transport} ${form}`
        rows.push({
          scenario: `client overhead, ${transport}, ${form}: one GET + decode, sequential (median of 2000)`,
          figure: `${(ms(name) / ms(`bare ${transport} ${form}`)).toFixed(3)}× the bare ${transport} HttpClient`,
          target: "≤ 1.10×",
          detail: `${fmt(name)} vs ${fmt(`bare ${transport} ${form}`)}`
        })
      }
    }
    for (const form of FORMS) {
      rows.push({
        scenario: `against the official SDK (cache off), ${form}: the same call, undici (median of 2000)`,
        figure: `${(ms(`ours undici ${form}`) / ms(`sdk ${form}`)).toFixed(3)}× @okta/okta-sdk-nodejs`,
        target: "≤ 1.0×",
        detail: `${fmt(`ours undici ${form}`)} vs ${fmt(`sdk ${form}`)}`
      })
    }
    // What bounds the row above: the bare Effect client on the same transport, against the SDK.
    for (const form of FORMS) {
      rows.push({
        scenario: `the bare undici HttpClient against the official SDK, ${form} (median of 2000)`,
        figure: `${(ms(`bare undici ${form}`) / ms(`sdk ${form}`)).toFixed(3)}× @okta/okta-sdk-nodejs`,
        target: "(for comparison)",
        detail: `${fmt(`bare undici ${form}`)} vs ${fmt(`sdk ${form}`)}`
      })
    }
    for (const variant of variants) {
      const fetch = variant.name === "ours layerFetch chunked"
      const scenario =
        variant.name === "ours layerUndici chunked"
          ? "undici, chunked, on NodeHttpClient.layerUndici (not OktaUndici)"
          : fetch
            ? "fetch, chunked, on FetchHttpClient.layer (not OktaFetch)"
            : `undici, chunked, ${variant.name.replace("ours undici chunked ", "")}`
      const baseline = fetch ? "bare fetch chunked" : "bare undici chunked"
      rows.push({
        scenario: `client overhead, ${scenario}`,
        figure: `${(ms(variant.name) / ms(baseline)).toFixed(3)}× the bare ${fetch ? "fetch" : "undici"} HttpClient`,
        target: "(for comparison)",
        detail: `${fmt(variant.name)} vs ${fmt(baseline)}`
      })
    }
    rows.push({
      scenario: "the bare undici HttpClient against itself, chunked, run again (the noise left)",
      figure: `${(ms(again.name) / ms("bare undici chunked")).toFixed(3)}×`,
      target: "(for comparison)",
      detail: `${fmt(again.name)} vs ${fmt("bare undici chunked")}`
    })
    // Six rounds, in the list's order and then in reverse by turns: an A/A run (the bare undici
    // client twice) read about 7 % faster in the second place than in the first, in 5 of 6 rounds
    // (bench/README.md). Each ratio is the median of the rounds' ratios of two implementations
    // measured in the same round, as this 2-core machine's speed drifts from round to round; the
    // bare client against itself shows what is left of that noise.
    const count = 10_000
    const byName = (name: string) => [...impls, ...variants].find((impl) => impl.name === name)!
    const contenders = [
      byName("bare undici chunked"),
      byName("ours undici chunked"),
      byName("ours undici chunked (a tracer installed)"),
      byName("ours layerUndici chunked"),
      byName("sdk chunked"),
      byName("bare fetch chunked"),
      byName("ours fetch chunked"),
      byName("ours layerFetch chunked"),
      again
    ]
    const rates = new Map<string, Array<number>>(contenders.map((impl) => [impl.name, []]))
    for (let round = 0; round < 6; round++) {
      const order = round % 2 === 0 ? contenders : [...contenders].reverse()
      for (const impl of order) rates.get(impl.name)!.push(await throughput(impl, count, 32))
    }
    await again.dispose()
    const rate = (name: string) => median(rates.get(name)!)
    const ratio = (name: string, baseline: string) =>
      median(rates.get(name)!.map((r, round) => r / rates.get(baseline)![round]!)).toFixed(3)
    const runs = (name: string) =>
      rates
        .get(name)!
        .map((r) => r.toFixed(0))
        .join(" ")
    rows.push({
      scenario: `throughput: ${count} GETs at concurrency 32, undici, chunked (median of 6 rounds)`,
      figure: `${ratio("ours undici chunked", "bare undici chunked")}× the bare undici HttpClient`,
      target: "≥ 0.90×",
      detail: `${rate("ours undici chunked").toFixed(0)} vs ${rate("bare undici chunked").toFixed(0)} req/s (rounds: ${runs("ours undici chunked")} vs ${runs("bare undici chunked")}); with a tracer installed ${ratio("ours undici chunked (a tracer installed)", "bare undici chunked")}×; on NodeHttpClient.layerUndici ${ratio("ours layerUndici chunked", "bare undici chunked")}×; the official SDK ${ratio("sdk chunked", "bare undici chunked")}×`
    })
    rows.push({
      scenario: `throughput: the bare undici HttpClient against itself, run again in each round (the noise left)`,
      figure: `${ratio("bare undici chunked (again)", "bare undici chunked")}×`,
      target: "(for comparison)",
      detail: `rounds: ${runs("bare undici chunked (again)")} vs ${runs("bare undici chunked")} req/s`
    })
    rows.push({
      scenario: `throughput: the same on fetch (median of 6 rounds)`,
      figure: `${ratio("ours fetch chunked", "bare fetch chunked")}× the bare fetch HttpClient, ${ratio("ours fetch chunked", "bare undici chunked")}× the bare undici one`,
      target: "(for comparison)",
      detail: `${rate("ours fetch chunked").toFixed(0)} vs ${rate("bare fetch chunked").toFixed(0)} req/s; on FetchHttpClient.layer ${ratio("ours layerFetch chunked", "bare fetch chunked")}×`
    })

    // Memory: after 10,000 calls, then after 100,000, with a full GC before each reading.
    const gc = garbageCollector()
    const reading = () => {
      gc()
      gc()
      const usage = process.memoryUsage()
      return { rss: usage.rss / 2 ** 20, heap: usage.heapUsed / 2 ** 20 }
    }
    const mem = ours(chunked, "chunked", "undici")
    await mem.many(10_000, 32)
    const after10k = reading()
    await mem.many(90_000, 32)
    const after100k = reading()
    await mem.dispose()
    rows.push({
      scenario:
        "memory: RSS and heap after 100,000 calls vs after 10,000 (undici, chunked, concurrency 32, after GC)",
      figure: `RSS ${(after100k.rss / after10k.rss).toFixed(3)}×, heap ${(after100k.heap / after10k.heap).toFixed(3)}×`,
      target: "flat within noise",
      detail: `RSS ${after10k.rss.toFixed(1)} → ${after100k.rss.toFixed(1)} MiB, heap ${after10k.heap.toFixed(1)} → ${after100k.heap.toFixed(1)} MiB`
    })
    for (const impl of [...impls, ...variants]) await impl.dispose()
  } finally {
    await server.stop()
  }
  return rows
}
