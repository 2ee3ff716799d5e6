/**
 * Multi-process benchmark of the shared rate-limit store (`effect-okta-connections/redis`): four
 * worker processes (bench/shared-worker.mjs, the built package) calling one org, with their gates
 * shared on Redis, beside the same run with four independent in-memory gates.
 *
 * 1. Window limit: 4 workers × 300 GETs at concurrency 10 against the loopback simulator (run in
 *    this process) with a 50-per-second window. Elapsed from the common start to the last worker's
 *    end, against the theoretical minimum ((ceil(1200 / 50) − 1) × 1 s); 429s the simulator sent.
 * 2. Concurrent-request limit: 4 workers × concurrency 10 (1000 GETs in all, then 4000 shared on
 *    Redis) against the lean server holding each request 20 ms with 5 allowed in flight; throughput
 *    against one process at concurrency 5 (which can never exceed the limit), measured in the same
 *    run; for the 4000 GETs also in steady state, without the processes' first seconds.
 * 3. Faults, on the window run: one worker killed mid-run (the others finish; its leases expire
 *    within their TTL), and Redis restarted mid-run (every call still succeeds; how many processes
 *    fell back to their local gate). The restart needs `redis-server` installed: a private one is
 *    started on a free port.
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379). BENCH_WORKERS changes the number of
 * worker processes (default 4).
 */
import { Effect } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createServer } from "node:net"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Redis } from "ioredis"
import { DEFAULT_APPS, generatedApps, OktaSimulator, serve } from "effect-okta-connections/testing"
import type { Row } from "./resilience.js"
import { startLeanServer } from "./server.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const WORKERS = Number(process.env["BENCH_WORKERS"] ?? 4)

interface WorkerResult {
  readonly ok: number
  readonly failures: number
  readonly finishedAt: number
  readonly fallbacks: number
  /** Requests its own gate admitted while the store was unreachable or slow. */
  readonly localRequests: number
  /** The worker's CPU time from the common start to its end. */
  readonly cpuMillis: number
  /** When each of its successful calls ended (epoch ms). */
  readonly doneAt: ReadonlyArray<number>
}

interface Worker {
  readonly child: ChildProcess
  readonly result: Promise<WorkerResult | undefined>
}

const startWorker = (options: Record<string, unknown>): Worker => {
  const child = spawn(process.execPath, ["bench/shared-worker.mjs", JSON.stringify(options)], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"]
  })
  const result = new Promise<WorkerResult | undefined>((resolve) => {
    let line: string | undefined
    createInterface({ input: child.stdout! }).on("line", (l) => (line = l))
    child.once("exit", () =>
      resolve(line !== undefined ? (JSON.parse(line) as WorkerResult) : undefined)
    )
  })
  return { child, result }
}

const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis))
/** The next whole second, at least `leadMillis` from now: workers start together, on a window. */
const startAtFrom = (leadMillis: number) => Math.ceil((Date.now() + leadMillis) / 1000) * 1000 + 5

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })

const hasRedisServer = () => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}

const startRedisServer = (port: number) => {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
    { stdio: "ignore" }
  )
  return child
}

const waitForRedis = async (url: string) => {
  for (let i = 0; i < 50; i++) {
    const client = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null
    })
    client.on("error", () => {})
    const up = await client.connect().then(
      () => client.ping().then(() => true),
      () => false
    )
    client.disconnect()
    if (up) return
    await sleep(100)
  }
  throw new Error(`no Redis at ${url}`)
}

interface WindowOutcome {
  readonly elapsed: number
  readonly ok: number
  readonly failures: number
  readonly limited: number
  readonly fallbacks: number
  readonly localRequests: number
  readonly survivors: number
  readonly leasesAfterTtl?: number | undefined
}

/**
 * 4 workers × 300 GETs at concurrency 10, 50 per 1-s window. `redisUrl` shares their gates;
 * `killAfter` kills worker 0 that long after the start; `onRunning` runs once they started.
 */
const windowRun = (options: {
  readonly redisUrl?: string | undefined
  readonly killAfter?: number | undefined
  readonly onRunning?: (() => Promise<void>) | undefined
}) =>
  Effect.gen(function* () {
    const perWorker = 300
    const apps = generatedApps(WORKERS * perWorker)
    const sim = yield* OktaSimulator
    const { url } = yield* serve()
    const keyPrefix = `bench-${randomUUID()}:`
    const startAt = startAtFrom(2_500)
    yield* sim.clearRequests
    const workers = Array.from({ length: WORKERS }, (_, i) =>
      startWorker({
        url,
        token: sim.token,
        ids: apps.slice(i * perWorker, (i + 1) * perWorker).map((app) => app.id),
        concurrency: 10,
        startAt,
        timeout: "2 seconds",
        ...(options.redisUrl !== undefined ? { redisUrl: options.redisUrl, keyPrefix } : {})
      })
    )
    const running = (async () => {
      await sleep(Math.max(0, startAt - Date.now()))
      if (options.killAfter !== undefined) {
        await sleep(options.killAfter)
        workers[0]!.child.kill("SIGKILL")
      }
      await options.onRunning?.()
    })()
    const results = yield* Effect.promise(() => Promise.all(workers.map((w) => w.result)))
    yield* Effect.promise(() => running)
    const done = results.filter((r): r is WorkerResult => r !== undefined)
    let leasesAfterTtl: number | undefined
    if (options.killAfter !== undefined && options.redisUrl !== undefined) {
      // The killed worker's leases (2 s attempt timeout + 5 s margin) must be gone after that.
      yield* Effect.promise(() => sleep(7_500))
      const raw = new Redis(options.redisUrl)
      const host = new URL(url).host
      leasesAfterTtl = yield* Effect.promise(() =>
        raw.zcount(`${keyPrefix}{${host}}:leases`, "-inf", "+inf")
      )
      raw.disconnect()
    }
    const log = yield* sim.requests
    return {
      elapsed: (Math.max(...done.map((r) => r.finishedAt)) - startAt) / 1000,
      ok: done.reduce((sum, r) => sum + r.ok, 0),
      failures: done.reduce((sum, r) => sum + r.failures, 0),
      limited: log.filter((entry) => entry.outcome === 429).length,
      fallbacks: done.filter((r) => r.fallbacks > 0).length,
      localRequests: done.reduce((sum, r) => sum + r.localRequests, 0),
      survivors: done.length,
      leasesAfterTtl
    } satisfies WindowOutcome
  }).pipe(
    Effect.scoped,
    Effect.provide(
      OktaSimulator.layer({
        apps: [...DEFAULT_APPS, ...generatedApps(WORKERS * 300)],
        rateLimit: { limit: 50, windowSeconds: 1, concurrencyLimit: 10_000 }
      })
    )
  )

/**
 * Fresh processes spend their first seconds compiling the client: four of them at once saturate a
 * two-core machine for about 2 s while one alone does not (measured 2026-12-02, see
 * bench/README.md). The steady-state figure leaves out the first 3 s.
 */
const WARM_UP_MS = 3_000

/** `total` GETs over 4 workers × concurrency 10 against 5 allowed in flight; or one process at 5. */
const concurrencyRun = (
  url: string,
  workers: number,
  concurrency: number,
  redisUrl?: string,
  total = 1000
) =>
  Effect.promise(async () => {
    const startAt = startAtFrom(2_000)
    const keyPrefix = `bench-${randomUUID()}:`
    const started = Array.from({ length: workers }, () =>
      startWorker({
        url,
        token: "00bench",
        ids: Array.from({ length: total / workers }, () => DEFAULT_APPS[0]!.id),
        concurrency,
        startAt,
        ...(redisUrl !== undefined ? { redisUrl, keyPrefix } : {})
      })
    )
    const results = (await Promise.all(started.map((w) => w.result))).filter(
      (r): r is WorkerResult => r !== undefined
    )
    const seconds = (Math.max(...results.map((r) => r.finishedAt)) - startAt) / 1000
    const ok = results.reduce((sum, r) => sum + r.ok, 0)
    // Steady state: calls that ended from WARM_UP_MS after the start until 90 % of all had ended
    // (after that, workers that finished early leave fewer requests competing).
    const ends = results.flatMap((r) => r.doneAt).sort((a, b) => a - b)
    const from = startAt + WARM_UP_MS
    const until = ends[Math.floor(ends.length * 0.9)] ?? from
    const steadyCalls = ends.filter((t) => t > from && t <= until).length
    return {
      throughput: ok / seconds,
      steadyThroughput: until > from ? steadyCalls / ((until - from) / 1000) : Number.NaN,
      failures: results.reduce((s, r) => s + r.failures, 0),
      // CPU per call over all workers: on two cores, four processes' cost is the bound.
      cpuPerCall: results.reduce((s, r) => s + r.cpuMillis, 0) / Math.max(1, ok)
    }
  })
export const shared = (): Effect.Effect<ReadonlyArray<Row>> =>
  Effect.gen(function* () {
    const rows: Array<Row> = []
    const reachable = yield* Effect.promise(() =>
      waitForRedis(REDIS_URL).then(
        () => true,
        () => false
      )
    )
    if (!reachable) {
      return [
        {
          scenario: "shared rate-limit store (Redis), all scenarios",
          figure: `not run: no Redis at ${REDIS_URL}`,
          target: "—",
          detail: "set REDIS_URL"
        }
      ]
    }
    const minimum = Math.ceil((WORKERS * 300) / 50) - 1

    const sharedRun = yield* windowRun({ redisUrl: REDIS_URL })
    const independent = yield* windowRun({})
    rows.push({
      scenario: `shared window (Redis): ${WORKERS} processes × 300 GETs, concurrency 10 each, 50/1 s`,
      figure: `${(sharedRun.elapsed / minimum).toFixed(3)}× the minimum (${sharedRun.elapsed.toFixed(2)} s vs ${minimum} s)`,
      target: "≤ 1.10×, ≤ 4 429s, 0 failures",
      detail: `429s ${sharedRun.limited}, failures ${sharedRun.failures}, ${sharedRun.ok} ok; ${sharedRun.fallbacks} of ${WORKERS} processes fell back to their local gate (requests run there: ${sharedRun.localRequests})`
    })
    rows.push({
      scenario: `…the same with ${WORKERS} independent in-memory gates`,
      figure: `${(independent.elapsed / minimum).toFixed(3)}× the minimum (${independent.elapsed.toFixed(2)} s)`,
      target: "(for comparison)",
      detail: `429s ${independent.limited}, failures ${independent.failures}, ${independent.ok} ok`
    })

    const lean = yield* Effect.promise(() =>
      startLeanServer({ forms: ["chunked"], holdMillis: 20, concurrencyLimit: 5 })
    )
    const url = lean.urls["chunked"]!
    const baseline = yield* concurrencyRun(url, 1, 5)
    yield* Effect.promise(() => lean.reset("chunked"))
    const sharedLimit = yield* concurrencyRun(url, WORKERS, 10, REDIS_URL)
    const sharedStats = yield* Effect.promise(() => lean.stats("chunked"))
    yield* Effect.promise(() => lean.reset("chunked"))
    const independentLimit = yield* concurrencyRun(url, WORKERS, 10)
    const independentStats = yield* Effect.promise(() => lean.stats("chunked"))
    // The same over 4000 GETs: four processes warming up on two cores weigh less in a longer run.
    yield* Effect.promise(() => lean.reset("chunked"))
    const longBaseline = yield* concurrencyRun(url, 1, 5, undefined, 4000)
    yield* Effect.promise(() => lean.reset("chunked"))
    const longShared = yield* concurrencyRun(url, WORKERS, 10, REDIS_URL, 4000)
    const longStats = yield* Effect.promise(() => lean.stats("chunked"))
    yield* Effect.promise(() => lean.stop())
    rows.push({
      scenario: `shared concurrent limit (Redis): ${WORKERS} processes × concurrency 10, 5 in flight × 20 ms, 1000 GETs`,
      figure: `${(sharedLimit.throughput / baseline.throughput).toFixed(3)}× the throughput of 5 in flight (${sharedLimit.throughput.toFixed(0)} vs ${baseline.throughput.toFixed(0)} req/s)`,
      target: "≥ 0.85×",
      detail: `failures ${sharedLimit.failures}, 429s ${sharedStats.limited}; worker CPU ${sharedLimit.cpuPerCall.toFixed(2)} ms a call (one process at 5: ${baseline.cpuPerCall.toFixed(2)} ms)`
    })
    rows.push({
      scenario: `…the same with ${WORKERS} independent in-memory gates`,
      figure: `${(independentLimit.throughput / baseline.throughput).toFixed(3)}× (${independentLimit.throughput.toFixed(0)} req/s)`,
      target: "(for comparison)",
      detail: `failures ${independentLimit.failures}, 429s ${independentStats.limited}; worker CPU ${independentLimit.cpuPerCall.toFixed(2)} ms a call`
    })
    rows.push({
      scenario: `…the same shared on Redis over 4000 GETs (${WORKERS} × ${4000 / WORKERS})`,
      figure: `${(longShared.throughput / longBaseline.throughput).toFixed(3)}× the throughput of 5 in flight (${longShared.throughput.toFixed(0)} vs ${longBaseline.throughput.toFixed(0)} req/s)`,
      target: "(for comparison)",
      detail: `failures ${longShared.failures}, 429s ${longStats.limited}; worker CPU ${longShared.cpuPerCall.toFixed(2)} ms a call (one process at 5: ${longBaseline.cpuPerCall.toFixed(2)} ms)`
    })
    rows.push({
      scenario: `…the same 4000 GETs in steady state (from ${WARM_UP_MS / 1000} s after the start until 90 % had ended)`,
      figure: `${(longShared.steadyThroughput / longBaseline.steadyThroughput).toFixed(3)}× the throughput of 5 in flight (${longShared.steadyThroughput.toFixed(0)} vs ${longBaseline.steadyThroughput.toFixed(0)} req/s)`,
      target: "(for comparison: without the processes' warm-up)",
      detail: "the same runs as the row above"
    })

    const killed = yield* windowRun({ redisUrl: REDIS_URL, killAfter: 5_000 })
    rows.push({
      scenario: "fault: one worker killed (SIGKILL) 5 s into the shared window run",
      figure: `the other ${killed.survivors} finished in ${killed.elapsed.toFixed(2)} s, ${killed.failures} failures`,
      target: "the others finish; leases expire within their TTL",
      detail: `leases left 7.5 s later (TTL 7 s): ${killed.leasesAfterTtl ?? "?"}; 429s ${killed.limited}`
    })

    if (!hasRedisServer()) {
      rows.push({
        scenario: "fault: Redis restarted mid-run",
        figure: "not run: redis-server is not installed",
        target: "every call succeeds",
        detail: "—"
      })
      return rows
    }
    const port = yield* Effect.promise(freePort)
    const privateUrl = `redis://127.0.0.1:${port}`
    let redis = startRedisServer(port)
    yield* Effect.promise(() => waitForRedis(privateUrl))
    const restarted = yield* windowRun({
      redisUrl: privateUrl,
      onRunning: async () => {
        await sleep(4_000)
        redis.kill("SIGKILL")
        await sleep(1_500)
        redis = startRedisServer(port)
      }
    })
    redis.kill("SIGTERM")
    rows.push({
      scenario: "fault: Redis killed 4 s into the shared window run, back 1.5 s later",
      figure: `${restarted.ok} ok, ${restarted.failures} failures in ${restarted.elapsed.toFixed(2)} s (${(restarted.elapsed / minimum).toFixed(3)}× the minimum)`,
      target: "every call succeeds",
      detail: `${restarted.fallbacks} of ${WORKERS} processes fell back to their local gate, where ${restarted.localRequests} of the ${restarted.ok} requests ran; 429s ${restarted.limited}`
    })
    return rows
  }).pipe(Effect.orDie)
