/**
 * Resilience benchmark: the client against the loopback simulator (real sockets, real clock).
 *
 * 1. Window limit: N GETs over N apps at concurrency 10 with a limit of 50 per 1-second window.
 *    Reported as elapsed / theoretical minimum ((ceil(N/limit) − 1) × window), failures, and
 *    429s the simulator sent. Each run starts on a window boundary, so the minimum is exact.
 * 2. Concurrent-request limit, on the lean server (bench/lean-server.mjs), which holds each
 *    request 20 ms and counts it in flight from its arrival until its response has been sent, as
 *    Okta counts: 5 in flight allowed. Throughput at concurrency 20 against the baseline measured
 *    in the same process: the same client at concurrency 5, which can never exceed the limit.
 */
import { FetchHttpClient } from "@effect/platform"
import { Effect, Either, Layer, Redacted } from "effect"
import { performance } from "node:perf_hooks"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientSettings,
  RetryPolicy
} from "effect-okta-connections"
import {
  DEFAULT_APPS,
  generatedApps,
  OktaSimulator,
  SimulatorServer
} from "effect-okta-connections/testing"
import { sdkClient } from "./sdk.js"
import { type LeanServer, startLeanServer } from "./server.js"

/** The same calls through the official SDK (its default retry: 2, reset − Date + 1 s; cache off). */
const sdkAll = async (
  url: string,
  token: string,
  ids: ReadonlyArray<string>,
  concurrency: number
) => {
  const client = sdkClient(url, token)
  let next = 0
  let failures = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!
        await client.applicationApi
          .getDefaultProvisioningConnectionForApplication({ appId: id })
          .catch(() => {
            failures += 1
          })
      }
    })
  )
  return failures
}

export interface Row {
  readonly scenario: string
  readonly figure: string
  readonly target: string
  readonly detail: string
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** Sleeps (real time) until just after the next whole second: the simulator's windows align to it. */
const alignToWindow = Effect.promise(
  () => new Promise<void>((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5))
)

const windowRun = (
  n: number,
  limit: number,
  concurrency: number,
  client: OktaClientSettings = {}
) =>
  Effect.gen(function* () {
    const apps = generatedApps(n)
    const sim = yield* OktaSimulator
    const api = yield* ApplicationConnections
    // One call to open the connection pool and end the client's probe, then a fresh window.
    yield* api.getDefaultProvisioningConnectionForApplication(DEFAULT_APPS[0]!.id)
    yield* alignToWindow
    yield* sim.clearRequests
    const started = performance.now()
    const results = yield* Effect.all(
      apps.map((app) => Effect.either(api.getDefaultProvisioningConnectionForApplication(app.id))),
      { concurrency }
    )
    const elapsed = (performance.now() - started) / 1000
    const log = yield* sim.requests
    return {
      elapsed,
      failures: results.filter(Either.isLeft).length,
      limited: log.filter((entry) => entry.outcome === 429).length
    }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      OktaSimulator.layerConnectionsServer({
        apps: [...DEFAULT_APPS, ...generatedApps(n)],
        rateLimit: { limit, windowSeconds: 1, concurrencyLimit: 10_000 },
        client
      })
    )
  )

const windowRunSdk = (n: number, limit: number, concurrency: number) =>
  Effect.gen(function* () {
    const apps = generatedApps(n)
    const sim = yield* OktaSimulator
    const { url } = yield* SimulatorServer
    yield* alignToWindow
    yield* sim.clearRequests
    const started = performance.now()
    const failures = yield* Effect.promise(() =>
      sdkAll(
        url,
        sim.token,
        apps.map((app) => app.id),
        concurrency
      )
    )
    const elapsed = (performance.now() - started) / 1000
    const log = yield* sim.requests
    return { elapsed, failures, limited: log.filter((entry) => entry.outcome === 429).length }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      OktaSimulator.layerConnectionsServer({
        apps: [...DEFAULT_APPS, ...generatedApps(n)],
        rateLimit: { limit, windowSeconds: 1, concurrencyLimit: 10_000 }
      })
    )
  )

/** `calls` GETs at `concurrency` against the lean server's concurrent-request limit. */
const concurrencyRun = (
  server: LeanServer,
  calls: number,
  concurrency: number,
  client: OktaClientSettings | "sdk" = {}
) =>
  Effect.gen(function* () {
    const url = server.urls["chunked"]!
    const id = DEFAULT_APPS[0]!.id
    let failures = 0
    let seconds = 0
    if (client === "sdk") {
      yield* Effect.promise(() => server.reset("chunked"))
      const started = performance.now()
      failures = yield* Effect.promise(() =>
        sdkAll(
          url,
          "00bench",
          Array.from({ length: calls }, () => id),
          concurrency
        )
      )
      seconds = (performance.now() - started) / 1000
    } else {
      const program = Effect.gen(function* () {
        const api = yield* ApplicationConnections
        yield* api.getDefaultProvisioningConnectionForApplication(id)
        yield* Effect.promise(() => server.reset("chunked"))
        const started = performance.now()
        const results = yield* Effect.all(
          Array.from({ length: calls }, () =>
            Effect.either(api.getDefaultProvisioningConnectionForApplication(id))
          ),
          { concurrency }
        )
        seconds = (performance.now() - started) / 1000
        failures = results.filter(Either.isLeft).length
      })
      yield* Effect.provide(
        program,
        ApplicationConnections.layer.pipe(
          Layer.provide(
            OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00bench"), ...client })
          ),
          Layer.provide(FetchHttpClient.layer)
        )
      )
    }
    const stats = yield* Effect.promise(() => server.stats("chunked"))
    return { throughput: (calls - failures) / seconds, failures, limited: stats.limited }
  }).pipe(Effect.orDie)

export const resilience = (runs = 3): Effect.Effect<ReadonlyArray<Row>> =>
  Effect.gen(function* () {
    const rows: Array<Row> = []
    const n = 300
    const limit = 50
    const minimum = (Math.ceil(n / limit) - 1) * 1
    const windows = []
    for (let i = 0; i < runs; i++) windows.push(yield* windowRun(n, limit, 10))
    const ratio = median(windows.map((w) => w.elapsed)) / minimum
    const sdkWindow = yield* windowRunSdk(n, limit, 10)
    rows.push({
      scenario: `window limit: ${n} GETs, concurrency 10, ${limit}/1 s (median of ${runs})`,
      figure: `${ratio.toFixed(3)}× the minimum (${median(windows.map((w) => w.elapsed)).toFixed(2)} s vs ${minimum} s)`,
      target: "≤ 1.10×, 0 failures, ≤ 10 429s",
      detail: `failures ${windows.map((w) => w.failures).join("/")}, 429s ${windows.map((w) => w.limited).join("/")}`
    })

    rows.push({
      scenario: `…the same batch through @okta/okta-sdk-nodejs (one run)`,
      figure: `${(sdkWindow.elapsed / minimum).toFixed(3)}× the minimum (${sdkWindow.elapsed.toFixed(2)} s)`,
      target: "(for comparison)",
      detail: `failures ${sdkWindow.failures}, 429s ${sdkWindow.limited}`
    })

    const calls = 1000
    const server = yield* Effect.promise(() =>
      startLeanServer({ forms: ["chunked"], holdMillis: 20, concurrencyLimit: 5 })
    )
    const baseline = [] as Array<number>
    const contended = [] as Array<{ throughput: number; failures: number; limited: number }>
    const noAdaptive = [] as Array<{ throughput: number; failures: number; limited: number }>
    for (let i = 0; i < runs; i++) {
      baseline.push((yield* concurrencyRun(server, calls, 5)).throughput)
      contended.push(yield* concurrencyRun(server, calls, 20))
      noAdaptive.push(
        yield* concurrencyRun(server, calls, 20, {
          retry: RetryPolicy.make({ adaptiveConcurrency: false })
        })
      )
    }
    const base = median(baseline)
    rows.push({
      scenario: `concurrent limit (lean server): 5 in flight × 20 ms, ${calls} GETs at concurrency 20 (median of ${runs})`,
      figure: `${(median(contended.map((c) => c.throughput)) / base).toFixed(3)}× the throughput of 5 in flight (${median(contended.map((c) => c.throughput)).toFixed(0)} vs ${base.toFixed(0)} req/s)`,
      target: "≥ 0.90×",
      detail: `failures ${contended.map((c) => c.failures).join("/")}, 429s ${contended.map((c) => c.limited).join("/")}`
    })
    const sdkConcurrent = yield* concurrencyRun(server, calls, 20, "sdk")
    yield* Effect.promise(() => server.stop())
    rows.push({
      scenario: `…the same through @okta/okta-sdk-nodejs (one run)`,
      figure: `${(sdkConcurrent.throughput / base).toFixed(3)}× (${sdkConcurrent.throughput.toFixed(1)} successful req/s)`,
      target: "(for comparison)",
      detail: `failures ${sdkConcurrent.failures}, 429s ${sdkConcurrent.limited}`
    })
    rows.push({
      scenario: `…the same with adaptiveConcurrency: false (backoff alone)`,
      figure: `${(median(noAdaptive.map((c) => c.throughput)) / base).toFixed(3)}× (${median(noAdaptive.map((c) => c.throughput)).toFixed(0)} req/s)`,
      target: "(for comparison)",
      detail: `failures ${noAdaptive.map((c) => c.failures).join("/")}, 429s ${noAdaptive.map((c) => c.limited).join("/")}`
    })
    return rows
  }).pipe(Effect.orDie)
