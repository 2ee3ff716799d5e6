import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Clock,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Fiber,
  HashMap,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Random,
  Schedule,
  Schema,
  TestClock
} from "effect"
import {
  ApplicationConnections,
  OktaError,
  OktaMetrics,
  OktaRateLimitError,
  OktaFetch,
  OktaServerError,
  type OktaTimeoutError,
  RetryPolicy,
  type OktaClientSettings,
  type OktaResponseError
} from "../src/index.js"
import { runToCompletion } from "./support/clock.js"
import { recordingTracer } from "./support/tracing.js"
import {
  brokenBody,
  connectionsOn,
  connectionsWith,
  empty,
  json,
  type Handler,
  type WireRequest
} from "./support/TestHttp.js"
import { failureOf } from "./support/exit.js"
import { interruptEverywhere } from "./support/interruptAt.js"
import { OPERATIONS } from "./support/operations.js"

const APP = "0oafxqCAJWWGELFTYASJ"
const OK = { status: "ENABLED", profile: { authScheme: "TOKEN" } }

/** Deterministic policy for exact timings: no jitter, fixed backoffs. */
const exact = (options: RetryPolicy.RetryPolicyOptions = {}) =>
  RetryPolicy.make({
    resetJitter: 0,
    backoff: Schedule.spaced("200 millis"),
    concurrencyBackoff: Schedule.spaced("50 millis"),
    adaptiveConcurrency: false,
    ...options
  })

const httpDate = (millis: number) => new Date(millis).toUTCString()

/**
 * The one-minute window Okta's clock is in at `serverMillis`, windows starting `phase` seconds
 * past the minute: its number, and its reset in server milliseconds (always a whole second).
 */
const oktaWindow = (serverMillis: number, phase: number) => {
  const index = Math.floor((serverMillis - phase * 1000) / 60_000)
  return { index, resetMillis: phase * 1000 + (index + 1) * 60_000 }
}

const limited = (reset: string | undefined, extra: Record<string, string> = {}, id = "req-429") =>
  json(
    429,
    {
      errorCode: "E0000047",
      errorSummary: "API call exceeded rate limit due to too many requests."
    },
    {
      "x-okta-request-id": id,
      "x-rate-limit-limit": "50",
      "x-rate-limit-remaining": "0",
      ...(reset !== undefined ? { "x-rate-limit-reset": reset } : {}),
      ...extra
    }
  )

/** Answers the n-th request with `replies[n]` (the last one repeats). */
const sequence = (
  ...replies: ReadonlyArray<(request: WireRequest) => ReturnType<Handler>>
): Handler => {
  let n = 0
  return (request) => replies[Math.min(n++, replies.length - 1)]!(request)
}

type Op = (api: ApplicationConnections["Type"]) => Effect.Effect<unknown, OktaResponseError>
const get: Op = (api) => api.getDefaultProvisioningConnectionForApplication(APP)
const verify: Op = (api) =>
  api.verifyProvisioningConnectionForApplication("office365", APP, { code: "c", state: "s" })

const start = (handler: Handler, op: Op = get, settings: OktaClientSettings = {}) =>
  Effect.gen(function* () {
    const { requests, layer } = connectionsWith(handler, { retry: exact(), ...settings })
    const fiber = yield* Effect.fork(
      Effect.exit(Effect.provide(Effect.flatMap(ApplicationConnections, op), layer))
    )
    return { requests, fiber }
  })

/**
 * Five calls `op`, each on a new client from a later start, whose first request `first` answers
 * with a window reset `resetMillis` after that start (a resetJitter of 100 ms): when each next
 * request went, from its start, checked within [reset, reset + jitter].
 */
const sentAfterReset = (
  first: (start: number) => ReturnType<Handler>,
  op: Op,
  resetMillis: number
) =>
  Effect.gen(function* () {
    const offsets = new Set<number>()
    for (let i = 0; i < 5; i++) {
      const start = 10_000 * i
      yield* TestClock.setTime(start)
      const { requests, layer } = connectionsWith(
        sequence(
          () => first(start),
          () => json(200, OK)
        ),
        { retry: exact({ resetJitter: "100 millis" }) }
      )
      const fiber = yield* Effect.fork(
        Effect.provide(Effect.flatMap(ApplicationConnections, op), layer)
      )
      yield* TestClock.adjust(resetMillis - 1)
      expect(requests).toHaveLength(1)
      yield* TestClock.adjust(101)
      yield* Fiber.join(fiber)
      const at = requests[1]!.at - start
      expect(at).toBeGreaterThanOrEqual(resetMillis)
      expect(at).toBeLessThanOrEqual(resetMillis + 100)
      offsets.add(at)
    }
    return offsets
  })

const errorOf = (exit: Exit.Exit<unknown, unknown>) =>
  failureOf(exit) as { _tag: string; [k: string]: unknown }

describe("a window 429", () => {
  it.effect(
    "waits until X-Rate-Limit-Reset on the server's clock (Date ahead of ours), with no extra second",
    () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(
          sequence(
            () => limited("130", { date: httpDate(100_000) }),
            () => json(200, OK)
          )
        )
        yield* TestClock.adjust("29999 millis")
        expect(requests).toHaveLength(1)
        yield* TestClock.adjust("1 milli")
        expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
        expect(requests.map((r) => r.at)).toEqual([0, 30_000])
      })
  )

  it.effect("…and with the server's clock behind ours", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(500_000)
      const { requests, fiber } = yield* start(
        sequence(
          () => limited("130", { date: httpDate(100_000) }),
          () => json(200, OK)
        )
      )
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(fiber)
      expect(requests.map((r) => r.at)).toEqual([500_000, 530_000])
    })
  )

  it.effect("without a Date header, the local clock is used", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        sequence(
          () => limited("20"),
          () => json(200, OK)
        )
      )
      yield* TestClock.adjust("20 seconds")
      yield* Fiber.join(fiber)
      expect(requests.map((r) => r.at)).toEqual([0, 20_000])
    })
  )

  it.effect("a duplicated X-Rate-Limit-Reset waits for the later value", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        sequence(
          () => limited("130, 160", { date: httpDate(100_000) }),
          () => json(200, OK)
        )
      )
      yield* TestClock.adjust("59999 millis")
      expect(requests).toHaveLength(1)
      yield* TestClock.adjust("1 milli")
      yield* Fiber.join(fiber)
      expect(requests.map((r) => r.at)).toEqual([0, 60_000])
    })
  )

  it.effect("a reset beyond maxRateLimitWait fails at once, saying when the limit resets", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(limitedForever("200", 100_000))
      const error = errorOf(yield* Fiber.join(fiber))
      expect(error._tag).toBe("OktaRateLimitError")
      expect(String(error["message"])).toContain("resets at 1970-01-01T00:03:20.000Z")
      expect(requests).toHaveLength(1)
    })
  )

  it.effect("jitter stays within [reset, reset + resetJitter], and is there", () =>
    Effect.gen(function* () {
      // Okta's clock stands at 0 for each call: its reset, at 10 s, is 10 s after the start.
      const offsets = yield* sentAfterReset(() => limited("10", { date: httpDate(0) }), get, 10_000)
      // The jitter is drawn anew for each wait (five draws of 0–100 ms all alike: about one
      // chance in 10^8), so calls held by one reset do not all come back at once.
      expect(offsets.size).toBeGreaterThan(1)
    })
  )

  it.effect(
    "the gate's wait for a spent window has the jitter too: [reset, reset + resetJitter]",
    () =>
      Effect.gen(function* () {
        // A 200 that spends the window: the next call waits at the gate, drawing no 429.
        const spent = (start: number) =>
          json(200, OK, {
            date: httpDate(start),
            "x-rate-limit-limit": "50",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": String(start / 1000 + 5)
          })
        const bothCalls: Op = (api) => Effect.zip(get(api), get(api))
        expect((yield* sentAfterReset(spent, bothCalls, 5_000)).size).toBeGreaterThan(1)
      })
  )
})

describe("any window, any clock skew", () => {
  // Okta's one-minute windows on the server's clock, which is up to three hours ahead of or
  // behind ours (a VM after sleep, a time zone mix-up; a `Date` that far off is believed with the
  // reset it comes with, and not alone: hostile.test.ts). Calls one after another, at any
  // gaps; each answer a 200 with some budget left (none, at times) or a 429, with or without its
  // `Date` (the first always has one, as Okta's do), whatever the policy's jitter and longest wait
  // and the call's deadline.
  const MAX_RETRIES = 3
  const answer = fc.record({
    limited: fc.boolean(),
    remaining: fc.constantFrom(0, 1, 7, 49),
    date: fc.oneof(
      { weight: 3, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) }
    )
  })

  it.effect.prop(
    "after a spent window the next request goes at its reset on the server's clock, never before and at most a second (and the jitter) after; a 429 is retried unless its reset is past the longest wait or the deadline, which no call outlives",
    {
      start: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
      skew: fc.oneof(
        fc.integer({ min: -2_000, max: 2_000 }),
        fc.integer({ min: -3_000_000, max: 3_000_000 }),
        fc.integer({ min: -10_800_000, max: 10_800_000 })
      ),
      phase: fc.integer({ min: 0, max: 59 }),
      answers: fc.array(answer, { minLength: 1, maxLength: 6 }),
      gaps: fc.array(fc.integer({ min: 0, max: 90_000 }), { minLength: 1, maxLength: 5 }),
      jitter: fc.constantFrom(0, 50, 400),
      maxWait: fc.constantFrom(5_000, 30_000, 70_000),
      deadline: fc.constantFrom(undefined, 2_000, 20_000, 45_000)
    },
    ({ start, skew, phase, answers, gaps, jitter, maxWait, deadline }) =>
      Effect.gen(function* () {
        /** Each request as the server saw it, and its answer's reset, in server millis. */
        const seen: Array<{
          at: number
          server: number
          reset: number
          limited: boolean
          spent: boolean
        }> = []
        const { requests, layer } = connectionsWith(
          (request) => {
            const { limited: refused, remaining, date } = answers[seen.length % answers.length]!
            const server = request.at + skew
            const reset = oktaWindow(server, phase).resetMillis
            seen.push({
              at: request.at,
              server,
              reset,
              limited: refused,
              spent: refused || remaining === 0
            })
            const headers = date || seen.length === 1 ? { date: httpDate(server) } : {}
            return refused
              ? limited(String(reset / 1000), headers, `req-${seen.length}`)
              : json(200, OK, {
                  ...headers,
                  "x-rate-limit-limit": "50",
                  "x-rate-limit-remaining": String(remaining),
                  "x-rate-limit-reset": String(reset / 1000)
                })
          },
          {
            retry: exact({
              maxRetries: MAX_RETRIES,
              resetJitter: Duration.millis(jitter),
              maxRateLimitWait: Duration.millis(maxWait)
            }),
            ...(deadline !== undefined ? { deadline: Duration.millis(deadline) } : {})
          }
        )
        yield* TestClock.setTime(start)
        // Each call: when it started and ended, the index of its first request, how it ended.
        const calls = yield* Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const calls: Array<{
            at: number
            ended: number
            first: number
            exit: Exit.Exit<unknown, unknown>
          }> = []
          for (const gap of gaps) {
            yield* TestClock.adjust(gap)
            const at = yield* Clock.currentTimeMillis
            const first = requests.length
            const fiber = yield* Effect.fork(
              Effect.zip(Effect.exit(get(api)), Clock.currentTimeMillis)
            )
            yield* runToCompletion(fiber)
            const [exit, ended] = yield* Fiber.join(fiber)
            calls.push({ at, ended, first, exit })
          }
          return calls
        }).pipe(Effect.provide(layer))

        calls.forEach((call, c) => {
          const end = calls[c + 1]?.first ?? seen.length
          const sent = end - call.first
          expect(sent).toBeLessThanOrEqual(MAX_RETRIES + 1)
          if (deadline !== undefined) expect(call.ended).toBeLessThanOrEqual(call.at + deadline)
          for (let j = call.first; j < end; j++) {
            if (j === 0) continue
            const prev = seen[j - 1]!
            const now = seen[j]!
            // The wait began at the previous answer (a retry) or at the call's start.
            const from = Math.max(prev.at, call.at)
            if (!prev.spent) {
              expect(now.at).toBe(from)
              continue
            }
            // Never early: only a wait cut at the longest one the policy allows goes before it.
            if (now.at - from < maxWait) expect(now.server).toBeGreaterThanOrEqual(prev.reset)
            // Never late by more than `Date`'s one second and the jitter.
            expect(now.at).toBeLessThanOrEqual(Math.max(from, prev.reset - skew + 1000 + jitter))
            // A 429 retried had its reset within the longest wait.
            if (j > call.first) expect(prev.reset - prev.server).toBeLessThanOrEqual(maxWait)
          }
          // The answer the call ended on, or (a call held at the gate) the one before it.
          expect(end).toBeGreaterThan(0)
          const last = seen[end - 1]!
          if (sent > 0 && !last.limited) {
            expect(Exit.isSuccess(call.exit)).toBe(true)
            return
          }
          const error = errorOf(call.exit)
          if (error._tag === "OktaTimeoutError") {
            // Past the deadline: only for a wait that, as far as the client could tell, ends at
            // or after it. The call ends as soon as it sees so.
            expect(error["kind"]).toBe("deadline")
            expect(last.spent).toBe(true)
            const deadlineAt = call.at + deadline!
            const wake = last.reset - skew
            expect(wake + 1000 + jitter).toBeGreaterThanOrEqual(deadlineAt)
            expect(call.ended).toBe(Math.max(call.at, last.at))
            return
          }
          expect(error._tag).toBe("OktaRateLimitError")
          expect(sent > 0 && last.limited).toBe(true)
          // Given up before the retries ran out only for a reset further than the longest wait
          // (as far as the client can tell: its estimate of the server's clock may lag a second).
          if (sent <= MAX_RETRIES) expect(last.reset - last.server + 1000).toBeGreaterThan(maxWait)
        })
      }),
    { timeout: 60_000, fastCheck: { seed: 20261203, numRuns: 100 } }
  )
})

/** The success answer of whichever operation was called. */
function success(request: WireRequest) {
  return request.path.endsWith("/jwks")
    ? json(200, { jwks: { keys: [] } })
    : request.path.endsWith("/default")
      ? json(200, OK)
      : empty(204)
}

function limitedForever(reset: string, dateMillis: number): Handler {
  return () => limited(reset, { date: httpDate(dateMillis) })
}

describe("Retry-After, as a proxy or load balancer sends it", () => {
  /** When the call's requests went out (from the first), answered `first` and then 200. */
  const retriedAt = (first: () => Response, wait: Duration.DurationInput) =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(sequence(first, () => json(200, OK)))
      yield* TestClock.adjust(wait)
      expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
      return requests.map((r) => r.at - requests[0]!.at)
    })

  it.effect("a 429 without Okta's reset waits for its Retry-After, not the 200 ms backoff", () =>
    Effect.gen(function* () {
      const answer = () => limited(undefined, { "retry-after": "7" })
      expect(yield* retriedAt(answer, "7 seconds")).toEqual([0, 7000])
    })
  )

  it.effect("a 503 waits at least its Retry-After, in seconds or as a date against its Date", () =>
    Effect.gen(function* () {
      const seconds = () => json(503, {}, { "retry-after": "3" })
      expect(yield* retriedAt(seconds, "3 seconds")).toEqual([0, 3000])
      const date = () =>
        json(503, {}, { date: httpDate(100_000), "retry-after": httpDate(105_000) })
      expect(yield* retriedAt(date, "5 seconds")).toEqual([0, 5000])
      // A Retry-After shorter than the backoff does not shorten it.
      const short = () => json(503, {}, { "retry-after": "0" })
      expect(yield* retriedAt(short, "200 millis")).toEqual([0, 200])
    })
  )

  it.effect("sent twice (two proxies, joined as one header), the longest counts", () =>
    Effect.gen(function* () {
      const twice = () => json(503, {}, { "retry-after": "5, 5" })
      expect(yield* retriedAt(twice, "5 seconds")).toEqual([0, 5000])
      const differing = () => limited(undefined, { "retry-after": "3,7" })
      expect(yield* retriedAt(differing, "7 seconds")).toEqual([0, 7000])
    })
  )

  it.effect("holds the client's other calls until it passes, then one request probes", () =>
    Effect.gen(function* () {
      // A gateway's 429 with Retry-After 7 s and no window of Okta's, to the call sent at 0; the
      // calls started at 2 s and 3 s would meet the same limit: they wait with it.
      const { requests, layer } = connectionsWith(
        sequence(
          () => json(429, { message: "Too Many Requests" }, { "retry-after": "7" }),
          () => json(200, OK)
        ),
        { retry: exact() }
      )
      const exits = yield* Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const first = yield* Effect.fork(Effect.exit(get(api)))
        yield* TestClock.adjust("2 seconds")
        const second = yield* Effect.fork(Effect.exit(get(api)))
        yield* TestClock.adjust("1 second")
        const third = yield* Effect.fork(Effect.exit(get(api)))
        yield* TestClock.adjust("3999 millis")
        expect(requests).toHaveLength(1)
        yield* TestClock.adjust("1 milli")
        return yield* Fiber.join(Fiber.zip(first, Fiber.zip(second, third)))
      }).pipe(Effect.provide(layer))
      const [first, [second, third]] = exits
      expect([first, second, third].every(Exit.isSuccess)).toBe(true)
      expect(requests.map((r) => r.at)).toEqual([0, 7000, 7000, 7000])
    })
  )

  it.effect("a 503's holds the gate too; a 200's, or one longer than two minutes, does not", () =>
    Effect.gen(function* () {
      for (const [first, held] of [
        [() => json(503, {}, { "retry-after": "5" }), true],
        [() => json(200, OK, { "retry-after": "5" }), false],
        [() => json(503, {}, { "retry-after": "121" }), false]
      ] as const) {
        yield* TestClock.setTime(0)
        const { requests, layer } = connectionsWith(
          sequence(first, () => json(200, OK)),
          { retry: exact({ maxRateLimitWait: "5 minutes" }) }
        )
        yield* Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const answered = yield* Effect.fork(Effect.exit(get(api)))
          yield* TestClock.adjust("1 second")
          const later = yield* Effect.fork(get(api))
          yield* TestClock.adjust("4 seconds")
          yield* Fiber.join(later)
          yield* TestClock.adjust("2 minutes")
          yield* Fiber.join(answered)
        }).pipe(Effect.provide(layer))
        // The later call's request: at 5 s when held, at once (1 s) otherwise.
        expect(requests[1]!.at).toBe(held ? 5000 : 1000)
      }
    })
  )

  it.effect("one past the longest wait ends the call at once with the error, which says it", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(() => json(503, {}, { "retry-after": "3600" }))
      const error = errorOf(yield* Fiber.join(fiber))
      expect(error).toMatchObject({ _tag: "OktaServerError", retryAfterMillis: 3_600_000 })
      // The body, `{}`, is not Okta's error: the message says so before the Retry-After.
      expect(String(error["message"])).toContain(
        "failed with HTTP 503 with a JSON body not in Okta's error format (application/json); Retry-After 3600 s"
      )
      expect(requests).toHaveLength(1)
    })
  )
})

describe("degraded rate-limit headers fall back to backoff, never a tight loop", () => {
  for (const [name, reset] of [
    ["missing", undefined],
    ["unparsable", "soon"],
    ["negative", "-5"],
    ["already past on the server clock", "50"]
  ] as const) {
    it.effect(`reset ${name} → the backoff schedule (200 ms), not an immediate retry`, () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(
          sequence(
            () => limited(reset, { date: httpDate(100_000) }),
            () => json(200, OK)
          )
        )
        yield* TestClock.adjust("199 millis")
        expect(requests).toHaveLength(1)
        yield* TestClock.adjust("1 milli")
        expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
        expect(requests.map((r) => r.at)).toEqual([0, 200])
      })
    )
  }

  it.effect(
    "the concurrent-request 429 (Limit 0, Remaining 0) backs off briefly, never until its reset",
    () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(
          sequence(
            () => limited("160", { date: httpDate(100_000), "x-rate-limit-limit": "0" }),
            () => json(200, OK)
          )
        )
        yield* TestClock.adjust("50 millis")
        expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
        expect(requests.map((r) => r.at)).toEqual([0, 50])
      })
  )

  it.effect(
    "the default backoff is jittered exponential: 250 ms ±20 %, then about twice that",
    () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(
          sequence(
            () => json(503, {}),
            () => json(503, {}),
            () => json(200, OK)
          ),
          get,
          { retry: RetryPolicy.make({ resetJitter: 0 }) }
        )
        // Each wake-up schedules the next sleep at a random time: follow them one by one.
        yield* runToCompletion(fiber)
        expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
        const [first, second, third] = requests.map((r) => r.at)
        expect(first).toBe(0)
        expect(second! - first!).toBeGreaterThanOrEqual(200)
        expect(second! - first!).toBeLessThanOrEqual(300)
        expect(third! - second!).toBeGreaterThanOrEqual(400)
        expect(third! - second!).toBeLessThanOrEqual(600)
      })
  )
})

describe("retries", () => {
  it.effect(
    "carry X-Okta-Retry-For (the first failure's request id) and X-Okta-Retry-Count, set not appended",
    () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(
          sequence(
            () => limited("10", { date: httpDate(0) }, "first-id"),
            () => json(503, { errorCode: "E0000009" }, { "x-okta-request-id": "second-id" }),
            () => json(200, OK)
          )
        )
        yield* TestClock.adjust("10 seconds")
        yield* TestClock.adjust("200 millis")
        expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
        expect(requests).toHaveLength(3)
        expect(requests[0]!.headers["x-okta-retry-for"]).toBeUndefined()
        expect(requests[0]!.headers["x-okta-retry-count"]).toBeUndefined()
        expect(requests[1]!.headers).toMatchObject({
          "x-okta-retry-for": "first-id",
          "x-okta-retry-count": "1"
        })
        expect(requests[2]!.headers).toMatchObject({
          "x-okta-retry-for": "first-id",
          "x-okta-retry-count": "2"
        })
      })
  )

  it.effect(
    "stop after maxRetries with the last error, which says how many requests were sent",
    () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(() => json(503, { errorCode: "E0000009" }), get, {
          retry: exact({ maxRetries: 2 })
        })
        yield* TestClock.adjust("1 second")
        const error = errorOf(yield* Fiber.join(fiber))
        expect(error).toMatchObject({ _tag: "OktaServerError", status: 503, attempts: 3 })
        // It read "failed with HTTP 503", as if it had not been retried.
        expect(error.message).toContain("failed with HTTP 503: E0000009, after 3 attempts")
        expect(error).toBeInstanceOf(OktaServerError)
        expect(requests.map((r) => r.at)).toEqual([0, 200, 400])
      })
  )

  it.effect(
    "a dropped connection retried, then given up on, says so; one attempt says nothing",
    () =>
      Effect.gen(function* () {
        const dropped = yield* start(() => ({ drop: true, code: "ECONNRESET" }), get, {
          retry: exact({ maxRetries: 1 })
        })
        yield* TestClock.adjust("1 second")
        const transport = errorOf(yield* Fiber.join(dropped.fiber))
        expect(transport).toMatchObject({ _tag: "OktaTransportError", attempts: 2 })
        expect(transport.message).toMatch(/ECONNRESET.*\), after 2 attempts$/)
        // Not retried (a 404): the error is Okta's alone.
        const missing = yield* start(() => json(404, { errorCode: "E0000007" }), get)
        const notFound = errorOf(yield* Fiber.join(missing.fiber))
        expect(notFound._tag).toBe("OktaNotFoundError")
        expect("attempts" in notFound).toBe(false)
        expect(notFound.message).not.toContain("attempts")
      })
  )

  it.effect("maxRetries NaN (a Number() of an unset variable) retries nothing, not for ever", () =>
    Effect.gen(function* () {
      const made = exact({ maxRetries: Number(undefined) })
      expect(made.maxRetries).toBe(0)
      // And a policy built by hand, not by `make`.
      for (const retry of [made, { ...exact(), maxRetries: Number.NaN }]) {
        const { requests, fiber } = yield* start(() => json(503, { errorCode: "E0000009" }), get, {
          retry
        })
        yield* runToCompletion(fiber, 1_000)
        expect(errorOf(yield* Fiber.join(fiber))).toMatchObject({ status: 503 })
        expect(requests).toHaveLength(1)
      }
    })
  )

  it.effect("a backoff schedule that is done stops the retries", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(() => json(500, {}), get, {
        retry: exact({
          backoff: Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(1)))
        })
      })
      yield* TestClock.adjust("1 second")
      expect(errorOf(yield* Fiber.join(fiber))._tag).toBe("OktaServerError")
      expect(requests).toHaveLength(2)
    })
  )

  for (const [name, reply] of [
    ["500", () => json(500, {})],
    [
      "502 HTML",
      () =>
        new Response("<html>bad gateway</html>", {
          status: 502,
          headers: { "content-type": "text/html" }
        })
    ],
    ["503", () => empty(503)],
    ["504", () => empty(504)],
    ["a dropped connection", () => ({ drop: true as const })]
  ] as const) {
    it.effect(`GET, activate, deactivate and update are replayed after ${name}`, () =>
      Effect.gen(function* () {
        const body = { profile: { authScheme: "TOKEN" as const, token: "t" } }
        for (const op of [
          get,
          (api: ApplicationConnections["Type"]) =>
            api.activateDefaultProvisioningConnectionForApplication(APP),
          (api: ApplicationConnections["Type"]) =>
            api.deactivateDefaultProvisioningConnectionForApplication(APP),
          (api: ApplicationConnections["Type"]) =>
            api.updateDefaultProvisioningConnectionForApplication(APP, body),
          (api: ApplicationConnections["Type"]) => api.getUserProvisioningConnectionJWKS(APP)
        ] as ReadonlyArray<Op>) {
          const { requests, fiber } = yield* start(sequence(reply, success), op)
          yield* TestClock.adjust("200 millis")
          expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
          expect(requests).toHaveLength(2)
          expect(requests[1]!.rawBody).toBe(requests[0]!.rawBody)
        }
      })
    )
  }

  it.effect("a 501, 4xx or decode failure is not retried", () =>
    Effect.gen(function* () {
      for (const reply of [
        () => json(501, {}),
        () => json(404, {}),
        () => json(400, {}),
        () => json(200, { status: 1 })
      ]) {
        const { requests, fiber } = yield* start(sequence(reply, () => json(200, OK)))
        yield* TestClock.adjust("1 second")
        expect(Exit.isFailure(yield* Fiber.join(fiber))).toBe(true)
        expect(requests).toHaveLength(1)
      }
    })
  )

  it.effect("an attempt that times out is retried (safe replay) with the attempt timeout", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        sequence(
          () => Effect.never,
          () => json(200, OK)
        ),
        get,
        {
          timeout: "5 seconds"
        }
      )
      yield* TestClock.adjust("5 seconds")
      expect(requests).toHaveLength(1)
      yield* TestClock.adjust("200 millis")
      expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
      expect(requests.map((r) => r.at)).toEqual([0, 5200])
    })
  )
})

describe("verify (a one-time OAuth code) is never replayed once it may have reached Okta", () => {
  for (const [name, reply] of [
    ["a dropped connection", () => ({ drop: true as const })],
    ["a 503", () => json(503, {})],
    ["a 500", () => json(500, {})]
  ] as const) {
    it.effect(`after ${name}: one request, the error`, () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(
          sequence(reply, () => empty(204)),
          verify
        )
        yield* TestClock.adjust("10 seconds")
        expect(Exit.isFailure(yield* Fiber.join(fiber))).toBe(true)
        expect(requests).toHaveLength(1)
      })
    )
  }

  it.effect("after an attempt timeout: one request, OktaTimeoutError", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        sequence(
          () => Effect.never,
          () => empty(204)
        ),
        verify,
        {
          timeout: "1 second"
        }
      )
      yield* TestClock.adjust("10 seconds")
      expect(errorOf(yield* Fiber.join(fiber))).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "attempt"
      })
      expect(requests).toHaveLength(1)
    })
  )

  // The answer came, so the code reached Okta; its body broke off as it was read. On fetch the
  // client reads the body itself, on another transport through the platform: the same either way.
  it.effect(
    "after an answer whose body broke off: one request, on fetch and on any transport",
    () =>
      Effect.gen(function* () {
        const broken = () => brokenBody(502, '{"errorCode":')
        let fetched = 0
        const fetch: typeof globalThis.fetch = () => {
          fetched += 1
          return Promise.resolve(fetched === 1 ? broken() : new Response(null, { status: 204 }))
        }
        const overFetch = yield* Effect.fork(
          Effect.exit(
            Effect.provide(
              Effect.flatMap(ApplicationConnections, verify),
              connectionsOn(OktaFetch.layer({ fetch }), { retry: exact() })
            )
          )
        )
        const scripted = yield* start(
          sequence(broken, () => empty(204)),
          verify
        )
        yield* TestClock.adjust("10 seconds")
        const errors = [
          errorOf(yield* Fiber.join(overFetch)),
          errorOf(yield* Fiber.join(scripted.fiber))
        ]
        expect([fetched, scripted.requests.length]).toEqual([1, 1])
        for (const error of errors) {
          expect(error).toMatchObject({
            _tag: "OktaTransportError",
            afterResponse: true,
            connectFailed: false,
            status: 502
          })
          expect(error.message).toContain(
            "failed: the response body could not be read (UND_ERR_SOCKET: other side closed)"
          )
        }
      })
  )

  it.effect("but after a 429 (a rejection) it is retried at the reset", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        sequence(
          () => limited("5", { date: httpDate(0) }),
          () => empty(204)
        ),
        verify
      )
      yield* TestClock.adjust("5 seconds")
      expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
      expect(requests.map((r) => [r.at, r.query["code"]])).toEqual([
        [0, "c"],
        [5000, "c"]
      ])
    })
  )

  // Every failure to connect: refused, a name that does not resolve yet (EAI_AGAIN, DNS that is
  // briefly down), no route, undici's connect timeout.
  it.effect.each([
    "ECONNREFUSED",
    "EAI_AGAIN",
    "ENETUNREACH",
    "EHOSTUNREACH",
    "UND_ERR_CONNECT_TIMEOUT"
  ])("and after a connection that failed, %s (it never left)", (code) =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        sequence(
          () => ({ drop: true as const, code }),
          () => empty(204)
        ),
        verify
      )
      yield* TestClock.adjust("200 millis")
      expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
      expect(requests).toHaveLength(2)
    })
  )
})

describe("replays, whatever the org answers", () => {
  const answers = fc.array(
    fc.constantFrom("ok", "429", "503", "500", "502", "401", "drop", "refused", "hang"),
    { minLength: 1, maxLength: 7 }
  )
  // Answers after which Okta has not acted on the request: it was refused, or never left.
  const untouched = new Set(["429", "refused"])
  // What each answer is counted as: its request's `status` tag (an answer that never came has
  // one of these, the others their HTTP status), and its retry's `reason`.
  const UNANSWERED: Record<string, string> = {
    drop: "transport",
    refused: "transport",
    hang: "timeout"
  }
  const statusOf = (kind: string, noBody: boolean) =>
    kind === "ok" ? (noBody ? "204" : "200") : (UNANSWERED[kind] ?? kind)
  const reasonOf = (kind: string) =>
    kind === "429" ? "rate_limit" : (UNANSWERED[kind] ?? "server_error")
  const STATUSES = ["200", "204", "401", "429", "500", "502", "503", "transport", "timeout"]
  const REASONS = ["rate_limit", "server_error", "transport", "timeout"]
  /** The client's counts for one operation, read as a dashboard reads them. */
  const counts = (operationId: string) => {
    const countsOf = (metric: Metric.Metric.Counter<number>, tag: string, values: Array<string>) =>
      Effect.forEach(values, (value) =>
        Effect.map(
          Metric.value(
            metric.pipe(Metric.tagged("operation", operationId), Metric.tagged(tag, value))
          ),
          (state) => [value, state.count] as const
        )
      )
    return Effect.all({
      requests: countsOf(OktaMetrics.requests, "status", STATUSES),
      retries: countsOf(OktaMetrics.retries, "reason", REASONS),
      timed: Effect.map(
        Metric.value(OktaMetrics.requestDuration.pipe(Metric.tagged("operation", operationId))),
        (state) => state.count
      )
    })
  }
  const tally = (keys: ReadonlyArray<string>) =>
    keys.reduce<Record<string, number>>((acc, key) => ({ ...acc, [key]: (acc[key] ?? 0) + 1 }), {})
  const delta = (
    before: ReadonlyArray<readonly [string, number]>,
    after: ReadonlyArray<readonly [string, number]>
  ) =>
    Object.fromEntries(
      after.flatMap(([key, count], i) => {
        const more = count - before[i]![1]
        return more === 0 ? [] : [[key, more]]
      })
    )

  it.effect.prop(
    "every operation: a replay is the same request; verify is replayed only after a 429 or a refused connection, the others after any transient failure; each request and retry is counted as what it met",
    { operation: fc.constantFrom(...OPERATIONS), answers },
    ({ operation, answers }) =>
      Effect.gen(function* () {
        const before = yield* counts(operation.operationId)
        const given: Array<string> = []
        const { requests, layer } = connectionsWith(
          (request) => {
            const kind = answers[Math.min(given.length, answers.length - 1)]!
            given.push(kind)
            const date = { date: httpDate(request.at) }
            switch (kind) {
              case "ok":
                return operation.noBody ? empty(204, date) : json(200, OK, date)
              case "429":
                return limited(String(Math.ceil(request.at / 1000) + 2), date)
              case "401":
                return json(401, { errorCode: "E0000011", errorSummary: "Invalid token" }, date)
              case "drop":
                return { drop: true }
              case "refused":
                return { drop: true, code: "ECONNREFUSED" }
              case "hang":
                return Effect.never
              default:
                return json(Number(kind), { errorCode: "E0000009" }, date)
            }
          },
          { retry: exact({ maxRetries: 4 }), timeout: "1 second" }
        )
        const fiber = yield* Effect.fork(
          Effect.exit(
            Effect.provide(
              Effect.flatMap(ApplicationConnections, (api) => operation.call(api, APP)),
              layer
            )
          )
        )
        yield* runToCompletion(fiber, 10_000)
        const exit = yield* Fiber.join(fiber)
        expect(requests.length).toBeLessThanOrEqual(5)
        const [first, ...replays] = requests
        for (const replay of replays) {
          expect([replay.method, replay.url.href, replay.rawBody]).toEqual([
            first!.method,
            first!.url.href,
            first!.rawBody
          ])
        }
        given.slice(0, -1).forEach((kind) => {
          expect(kind).not.toBe("ok")
          expect(kind).not.toBe("401")
          if (operation.name === "verify") expect(untouched.has(kind)).toBe(true)
        })
        // It ends in the value of an answer, or the error of the last one, once the policy (or
        // verify's rule) lets that end it: never giving up on a failure it may replay.
        const last = given[given.length - 1]!
        const replayable =
          operation.name === "verify" ? untouched.has(last) : last !== "ok" && last !== "401"
        if (replayable) expect(given).toHaveLength(5)
        expect(Exit.isSuccess(exit)).toBe(last === "ok" && operation.name !== "jwks")
        const after = yield* counts(operation.operationId)
        expect(delta(before.requests, after.requests)).toEqual(
          tally(given.map((kind) => statusOf(kind, operation.noBody)))
        )
        expect(delta(before.retries, after.retries)).toEqual(
          tally(given.slice(0, -1).map(reasonOf))
        )
        // Only an answered attempt is timed; the others are counted as `transport` or `timeout`.
        expect(after.timed - before.timed).toBe(
          given.filter((kind) => !(kind in UNANSWERED)).length
        )
      }),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 150 } }
  )
})

describe("the overall deadline", () => {
  /** The call failed with its 10 s deadline at once (no time passed), after one request. */
  const failedAtOnce = (exit: Exit.Exit<unknown, unknown>, requests: ReadonlyArray<WireRequest>) =>
    Effect.gen(function* () {
      expect(errorOf(exit)).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline",
        timeoutMillis: 10_000
      })
      expect(yield* Clock.currentTimeMillis).toBe(0)
      expect(requests).toHaveLength(1)
    })

  it.effect(
    "a rate-limit wait that would pass it fails at once with OktaTimeoutError (deadline)",
    () =>
      Effect.gen(function* () {
        const { requests, fiber } = yield* start(limitedForever("30", 0), get, {
          deadline: "10 seconds"
        })
        const exit = yield* Fiber.join(fiber)
        yield* failedAtOnce(exit, requests)
        // The 429 it gave up on is its cause, so the rate limit is not hidden behind the deadline.
        const error = failureOf(exit) as OktaTimeoutError
        expect(error.attempts).toBe(1)
        expect(error.cause).toBeInstanceOf(OktaRateLimitError)
        expect(error.cause).toMatchObject({ status: 429, rateLimit: { remaining: 0, reset: 30 } })
        // It failed before its deadline, by a wait known to pass it: the wait is said.
        expect(error.waitMillis).toBe(30_000)
        expect(error.message).toContain(
          "would not complete within its 10000 ms deadline (retries and rate-limit waits included) after 1 attempt, with 30.0 s still to wait; the last failure (OktaRateLimitError)"
        )
      })
  )

  it.effect(
    "a backoff or a rate-limit wait that would end right at it fails at once: nothing is sent for the deadline to cut off",
    () =>
      Effect.gen(function* () {
        // A 503 whose Retry-After is the whole deadline, then a 429 whose window resets right at it.
        for (const answer of [
          () => json(503, { errorCode: "E0000009" }, { "retry-after": "10" }),
          () => limited("10", { date: httpDate(0) })
        ]) {
          const { requests, fiber } = yield* start(
            sequence(answer, () => json(200, OK)),
            get,
            {
              deadline: "10 seconds"
            }
          )
          // Ended with no time passing (a call sleeping into its deadline would still be running).
          yield* Effect.repeatN(Effect.yieldNow(), 20)
          expect(fiber.unsafePoll()).not.toBeNull()
          yield* failedAtOnce(yield* Fiber.join(fiber), requests)
        }
      })
  )

  it.effect("a call that would wait at the rate-limit gate past it fails at once, unsent", () =>
    Effect.gen(function* () {
      // The first call spends the window's last request; the window resets in 30 s.
      const { layer, requests } = connectionsWith(
        () =>
          json(200, OK, {
            date: httpDate(0),
            "x-rate-limit-limit": "50",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "30"
          }),
        { retry: exact(), deadline: "10 seconds" }
      )
      const exit = yield* Effect.exit(
        Effect.provide(
          Effect.flatMap(ApplicationConnections, (api) => Effect.zipRight(get(api), get(api))),
          layer
        )
      )
      yield* failedAtOnce(exit, requests)
      // The call that failed never sent anything, and nothing had failed: the gate held it.
      const error = failureOf(exit) as OktaTimeoutError
      expect(error).toMatchObject({
        attempts: 0,
        cause: undefined,
        heldBy: "window_exhausted",
        waitMillis: 30_000
      })
      expect(error.message).toMatch(
        /would not complete within its 10000 ms deadline \(retries and rate-limit waits included\) before its first attempt, waiting 30\.0 s at the rate-limit gate for the window to reset$/
      )
      // Serialized and back (a worker's error, a log line), it says the same.
      const wire = JSON.parse(JSON.stringify(Schema.encodeSync(OktaError)(error)))
      expect(Schema.decodeUnknownSync(OktaError)(wire).message).toBe(error.message)
    })
  )

  it.effect("a call waiting at the gate for a slot when it passes says so", () =>
    Effect.gen(function* () {
      // Until a first response tells the budget, one request at a time: this one never answers.
      const { fiber } = yield* start(
        () => Effect.never,
        (api) => Effect.all([get(api), get(api)], { concurrency: 2, mode: "either" }),
        { deadline: "3 seconds", timeout: "30 seconds" }
      )
      yield* TestClock.adjust("3 seconds")
      const exit = yield* Fiber.join(fiber)
      const [first, second] = Exit.isSuccess(exit)
        ? (exit.value as ReadonlyArray<Either.Either<unknown, OktaResponseError>>).map((either) =>
            Either.isLeft(either) ? either.left : undefined
          )
        : []
      expect(first).toMatchObject({ _tag: "OktaTimeoutError", attempts: 1, heldBy: undefined })
      const held = second as OktaTimeoutError | undefined
      expect(held).toMatchObject({
        _tag: "OktaTimeoutError",
        attempts: 0,
        heldBy: "concurrency_cap"
      })
      expect(held?.message).toMatch(
        /before its first attempt, waiting at the rate-limit gate for a request in flight to end$/
      )
    })
  )

  it.effect("a call the gate held, then let through, is not said to be waiting at it", () =>
    Effect.gen(function* () {
      // The first request answers after a second, freeing the one slot; the second never does.
      const { requests, fiber } = yield* start(
        sequence(
          () => Effect.delay(Effect.succeed(json(200, OK)), "1 second"),
          () => Effect.never
        ),
        (api) => Effect.all([get(api), get(api)], { concurrency: 2, mode: "either" }),
        { deadline: "3 seconds", timeout: "30 seconds" }
      )
      yield* TestClock.adjust("3 seconds")
      const exit = yield* Fiber.join(fiber)
      expect(requests.map((request) => request.at)).toEqual([0, 1000])
      const second = Exit.isSuccess(exit)
        ? (exit.value as ReadonlyArray<Either.Either<unknown, OktaResponseError>>)[1]
        : undefined
      const error = second !== undefined && Either.isLeft(second) ? second.left : undefined
      expect(error).toMatchObject({ _tag: "OktaTimeoutError", attempts: 1, heldBy: undefined })
      expect(error?.message).toMatch(
        /deadline \(retries and rate-limit waits included\) after 1 attempt$/
      )
    })
  )

  it.effect("a backoff that would pass it fails at once, after the attempts that fit", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(() => json(503, {}), get, {
        deadline: "10 seconds",
        retry: exact({ backoff: Schedule.spaced("4 seconds"), maxRetries: 10 })
      })
      yield* TestClock.adjust("8 seconds")
      const exit = yield* Fiber.join(fiber)
      expect(errorOf(exit)).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline",
        attempts: 3,
        cause: { _tag: "OktaServerError", status: 503 },
        waitMillis: 4000
      })
      expect(requests.map((r) => r.at)).toEqual([0, 4000, 8000])
    })
  )

  it.effect("it also bounds a hung attempt whose own timeout is longer", () =>
    Effect.gen(function* () {
      const { fiber } = yield* start(() => Effect.never, get, {
        deadline: "3 seconds",
        timeout: "30 seconds"
      })
      yield* TestClock.adjust("3 seconds")
      expect(errorOf(yield* Fiber.join(fiber))).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline",
        attempts: 1,
        cause: undefined,
        waitMillis: undefined
      })
    })
  )

  it.effect("one call's effect run again counts only that run's attempts and failures", () =>
    Effect.gen(function* () {
      // A user's Effect.retry or repeat runs the same effect value again.
      const { layer } = connectionsWith(
        sequence(
          () => json(503, {}),
          () => json(503, {}),
          () => Effect.never
        ),
        { retry: exact({ backoff: Schedule.spaced("1 second") }), deadline: "3 seconds" }
      )
      const call = Effect.provide(Effect.flip(Effect.flatMap(ApplicationConnections, get)), layer)
      const first = yield* Effect.fork(call)
      yield* TestClock.adjust("3 seconds")
      expect(yield* Fiber.join(first)).toMatchObject({ attempts: 3, cause: { status: 503 } })
      const again = yield* Effect.fork(call)
      yield* TestClock.adjust("3 seconds")
      expect(yield* Fiber.join(again)).toMatchObject({ attempts: 1, cause: undefined })
    })
  )
})

/** A scripted Okta with a fixed-window limit on the test clock: `limit` per `windowMillis`. */
const windowedOkta = (limit: number, windowMillis: number, spentByOthers = 0): Handler => {
  const counts = new Map<number, number>()
  return () =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const window = Math.floor(now / windowMillis)
      const count = (counts.get(window) ?? (window === 0 ? spentByOthers : 0)) + 1
      counts.set(window, count)
      const headers = {
        date: httpDate(now),
        "x-rate-limit-limit": String(limit),
        "x-rate-limit-remaining": String(Math.max(0, limit - count)),
        "x-rate-limit-reset": String(((window + 1) * windowMillis) / 1000)
      }
      return count > limit ? json(429, { errorCode: "E0000047" }, headers) : json(200, OK, headers)
    })
}

describe("the shared rate-limit gate", () => {
  it.live(
    "a call interrupted at any step of its start gives its slot back: the next goes at once",
    () =>
      Effect.gen(function* () {
        let hang = true
        // Remaining 1: a slot still held by an interrupted call leaves no budget for the next
        // call, which then waits at the gate for the window's reset, a minute away. The window
        // starts two seconds after the answer's `Date`: interrupted calls that were sent stay
        // charged (Okta may have counted them) only until a window starting more than a second
        // after them, and a start one second on would leave them charged when the last of them
        // ends in the same millisecond as the answer arrives.
        const transport = HttpClient.make((request) =>
          hang
            ? Effect.async<never>(() => {})
            : Effect.sync(() => {
                const now = Date.now()
                return HttpClientResponse.fromWeb(
                  request,
                  Response.json(OK, {
                    headers: {
                      date: new Date(now).toUTCString(),
                      "x-rate-limit-limit": "100",
                      "x-rate-limit-remaining": "1",
                      "x-rate-limit-reset": String(Math.floor(now / 1000) + 62)
                    }
                  })
                )
              })
        )
        yield* Effect.gen(function* () {
          const api = yield* ApplicationConnections
          expect(yield* interruptEverywhere(get(api))).toBeGreaterThan(50)
          hang = false
          for (const _ of [1, 2]) {
            const next = yield* Effect.either(
              Effect.timeoutFail(get(api), { duration: "2 seconds", onTimeout: () => "held" })
            )
            expect(next).toMatchObject({ _tag: "Right" })
          }
        }).pipe(Effect.provide(connectionsOn(Layer.succeed(HttpClient.HttpClient, transport))))
      }),
    30_000
  )

  it.effect(
    "holds concurrent fibers at the window's budget: no 429, never more than the limit per window",
    () =>
      Effect.gen(function* () {
        const { requests, layer } = connectionsWith(windowedOkta(3, 10_000), { retry: exact() })
        const fiber = yield* Effect.fork(
          Effect.provide(
            Effect.flatMap(ApplicationConnections, (api) =>
              Effect.all(
                Array.from({ length: 9 }, () => get(api)),
                { concurrency: 9 }
              )
            ),
            layer
          )
        )
        yield* TestClock.adjust("10 seconds")
        yield* TestClock.adjust("10 seconds")
        const results = yield* Fiber.join(fiber)
        expect(results).toHaveLength(9)
        expect(requests).toHaveLength(9)
        const perWindow = requests.map((r) => Math.floor(r.at / 10_000))
        expect(perWindow).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2])
      })
  )

  it.effect(
    "a budget spent by someone else: the others wait for the reset instead of drawing 429s",
    () =>
      Effect.gen(function* () {
        // Another client already used 48 of 50: after the probe (49th) one more fits, the rest wait.
        const { requests, layer } = connectionsWith(windowedOkta(50, 60_000, 48), {
          retry: exact()
        })
        const fiber = yield* Effect.fork(
          Effect.provide(
            Effect.flatMap(ApplicationConnections, (api) =>
              Effect.all(
                Array.from({ length: 5 }, () => get(api)),
                { concurrency: 5 }
              )
            ),
            layer
          )
        )
        yield* TestClock.adjust("59 seconds")
        expect(requests).toHaveLength(2)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toHaveLength(5)
        expect(requests.map((r) => r.at)).toEqual([0, 0, 60_000, 60_000, 60_000])
      })
  )

  it.effect("after a 429 every fiber waits for the same reset", () =>
    Effect.gen(function* () {
      let n = 0
      const { requests, layer } = connectionsWith(
        (): ReturnType<Handler> =>
          n++ === 1 ? limited("30", { date: httpDate(0) }) : json(200, OK, { date: httpDate(0) }),
        { retry: exact() }
      )
      const fiber = yield* Effect.fork(
        Effect.provide(
          Effect.flatMap(ApplicationConnections, (api) =>
            Effect.zipRight(
              get(api),
              Effect.all(
                Array.from({ length: 3 }, () => get(api)),
                { concurrency: 3 }
              )
            )
          ),
          layer
        )
      )
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.join(fiber)
      // The probe, then 3 at once: one draws the 429 (another client spent the window) …
      expect(requests.slice(0, 4).map((r) => r.at)).toEqual([0, 0, 0, 0])
      // … and nobody sends again before the reset.
      expect(requests.slice(4).every((r) => r.at === 30_000)).toBe(true)
      expect(requests).toHaveLength(5)
    })
  )

  /**
   * An org whose window Okta counts as each request arrives, in one-minute windows of its own
   * clock (`skew` off the client's, starting `phase` seconds past the minute), `spentByOthers` of
   * the first spent already. Each answer travels back in the next of `latencies`, so answers
   * overtake one another; a request whose turn in `drops` is true is counted and its connection
   * dropped. `refused` counts the 429s, `informedRefused` those of requests sent after an answer
   * had reached the client.
   */
  const countingOrg = (o: {
    readonly skew: number
    readonly phase: number
    readonly limit: number
    readonly spentByOthers: number
    readonly latencies: ReadonlyArray<number>
    readonly drops?: ReadonlyArray<boolean>
  }) => {
    const counts = new Map<number, number>()
    const state = { refused: 0, informedRefused: 0 }
    let first: number | undefined
    let answeredAt = Infinity
    let n = 0
    const handler: Handler = (request) => {
      const server = request.at + o.skew
      const { index: window, resetMillis } = oktaWindow(server, o.phase)
      first ??= window
      const count = (counts.get(window) ?? (window === first ? o.spentByOthers : 0)) + 1
      counts.set(window, count)
      const i = n++
      if (count > o.limit) {
        state.refused += 1
        if (request.at > answeredAt) state.informedRefused += 1
      } else if (o.drops?.[i % o.drops.length] === true) {
        return { drop: true }
      }
      const headers = {
        date: httpDate(server),
        "x-rate-limit-limit": String(o.limit),
        "x-rate-limit-remaining": String(Math.max(0, o.limit - count)),
        "x-rate-limit-reset": String(resetMillis / 1000)
      }
      const answer =
        count > o.limit ? json(429, { errorCode: "E0000047" }, headers) : json(200, OK, headers)
      const latency = o.latencies[(i + 1) % o.latencies.length]!
      answeredAt = Math.min(answeredAt, request.at + latency)
      return Effect.as(Effect.sleep(Duration.millis(latency)), answer)
    }
    return { handler, state }
  }

  const windowArbitraries = {
    start: fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }),
    skew: fc.integer({ min: -3_000_000, max: 3_000_000 }),
    phase: fc.integer({ min: 0, max: 59 }),
    limit: fc.integer({ min: 2, max: 20 }),
    spentByOthers: fc.integer({ min: 0, max: 25 }),
    latencies: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 8 }),
    calls: fc.integer({ min: 1, max: 16 }),
    concurrency: fc.integer({ min: 1, max: 16 })
  }

  /** `calls` GETs at `concurrency` against `handler`'s org, from `start`, until all have ended. */
  const callsAgainst = (
    handler: Handler,
    retry: RetryPolicy.RetryPolicy,
    { start, calls, concurrency }: { start: number; calls: number; concurrency: number }
  ) =>
    Effect.gen(function* () {
      const { layer } = connectionsWith(handler, { retry })
      yield* TestClock.setTime(start)
      const fiber = yield* Effect.fork(
        Effect.flatMap(ApplicationConnections, (api) =>
          Effect.all(
            Array.from({ length: calls }, () => Effect.exit(get(api))),
            { concurrency }
          )
        ).pipe(Effect.provide(layer))
      )
      yield* runToCompletion(fiber, 200_000)
      return yield* Fiber.join(fiber)
    })

  it.effect.prop(
    "any number of fibers, any budget, answers in any order: no 429 but the first request's, when others spent the window",
    windowArbitraries,
    (arbitraries) =>
      Effect.gen(function* () {
        const org = countingOrg(arbitraries)
        const exits = yield* callsAgainst(org.handler, exact(), arbitraries)
        expect(exits.filter(Exit.isFailure)).toEqual([])
        // Only the first request, sent before anything was known, may find the window spent.
        expect(org.state.refused).toBe(arbitraries.spentByOthers >= arbitraries.limit ? 1 : 0)
      }),
    { timeout: 60_000, fastCheck: { seed: 20261203, numRuns: 30 } }
  )

  it.effect.prop(
    "… and connections dropped after Okta counted their requests: no 429 once an answer came",
    { ...windowArbitraries, drops: fc.array(fc.boolean(), { minLength: 1, maxLength: 12 }) },
    (arbitraries) =>
      Effect.gen(function* () {
        const org = countingOrg(arbitraries)
        // Enough retries that every call ends in its value: a GET dropped is sent again.
        yield* callsAgainst(org.handler, exact({ maxRetries: 12 }), arbitraries)
        // Requests sent blind (before any answer, after a probe that got none) may be refused;
        // once an answer has told the budget, the requests dropped stay charged to it.
        expect(org.state.informedRefused).toBe(0)
      }),
    { timeout: 120_000, fastCheck: { seed: 20261204, numRuns: 40 } }
  )

  it.effect(
    "a refused connection is not charged to the window: after an outage the budget Okta told goes at once",
    () =>
      Effect.gen(function* () {
        // Two requests left in a window that resets in a minute; then five refused connections
        // (the request never left: Okta did not count it), then Okta answers again.
        const window = (remaining: number) => ({
          date: httpDate(0),
          "x-rate-limit-limit": "50",
          "x-rate-limit-remaining": String(remaining),
          "x-rate-limit-reset": "60"
        })
        const refused = () => ({ drop: true as const, code: "ECONNREFUSED" })
        const { requests, layer } = connectionsWith(
          sequence(
            () => json(200, OK, window(2)),
            refused,
            refused,
            refused,
            refused,
            refused,
            () => json(200, OK, window(1))
          ),
          { retry: exact({ maxRetries: 4 }) }
        )
        const fiber = yield* Effect.fork(
          Effect.provide(
            Effect.flatMap(ApplicationConnections, (api) =>
              Effect.all([get(api), Effect.exit(get(api)), get(api)])
            ),
            layer
          )
        )
        yield* runToCompletion(fiber, 1_000)
        const [, outage] = yield* Fiber.join(fiber)
        expect(errorOf(outage)).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
        // The second call's five attempts were refused (four backoffs of 200 ms); the third call
        // is sent at once, on the budget of two, rather than at the reset.
        expect(requests.map((r) => r.at)).toEqual([0, 0, 200, 400, 600, 800, 800])
      })
  )

  it.effect.prop(
    "any concurrent-request limit, any number of fibers over it: every call succeeds, and after the first burst each 429 is a probe's",
    {
      limit: fc.integer({ min: 1, max: 8 }),
      latencies: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
      calls: fc.integer({ min: 1, max: 60 }),
      concurrency: fc.integer({ min: 1, max: 20 })
    },
    ({ limit, latencies, calls, concurrency }) =>
      Effect.gen(function* () {
        // Okta's concurrent-request limit: a request that arrives while `limit` are in flight is
        // refused at once (Limit 0, Remaining 0); the window itself never runs out.
        const NOW = 4_000_000_000_000
        const headers = (ceiling: number, remaining: number) => ({
          "x-rate-limit-limit": String(ceiling),
          "x-rate-limit-remaining": String(remaining),
          "x-rate-limit-reset": String(NOW / 1000 + 60)
        })
        let inFlight = 0
        let n = 0
        let refused = 0
        const handler: Handler = () => {
          const latency = latencies[n++ % latencies.length]!
          if (inFlight >= limit) {
            refused += 1
            return json(429, { errorCode: "E0000047" }, headers(0, 0))
          }
          inFlight += 1
          return Effect.as(
            Effect.sleep(Duration.millis(latency)),
            json(200, OK, headers(1_000_000, 999_999))
          ).pipe(Effect.ensuring(Effect.sync(() => (inFlight -= 1))))
        }
        const exits = yield* callsAgainst(handler, RetryPolicy.make(), {
          start: NOW,
          calls,
          concurrency
        })
        expect(exits.filter(Exit.isFailure)).toEqual([])
        // The first request goes alone; its answer lets the others go at once, and the org refuses
        // those over its limit, which sets the level to the limit. After that, the level goes over
        // the limit only when probed one higher: one 429 each, after 4 rounds of successes at the
        // limit, then 8, 16, 32, 64, 64… (each failed probe doubles the rounds before the next).
        const burst = Math.max(0, Math.min(calls - 1, concurrency) - limit)
        let probes = 0
        for (let spent = 0; ; probes++) {
          spent += Math.min(64, 4 * 2 ** probes) * limit
          if (spent > calls) break
        }
        expect(refused).toBeLessThanOrEqual(burst + probes)
      }),
    { timeout: 60_000, fastCheck: { seed: 20261203, numRuns: 30 } }
  )
})

describe("visibility", () => {
  /** A logger that keeps every line it is given, with its annotations. */
  const recordingLogger = () => {
    const lines: Array<{ message: string; annotations: Record<string, unknown> }> = []
    const logger = Logger.make(({ message, annotations }) => {
      lines.push({
        message: String(Array.isArray(message) ? message.join(" ") : message),
        annotations: Object.fromEntries(HashMap.toEntries(annotations))
      })
    })
    return { lines, logger }
  }

  it.effect(
    "each retry logs at debug with reason and delay, adds a span event and counts in the metrics",
    () =>
      Effect.gen(function* () {
        const { lines, logger } = recordingLogger()
        const { spans, tracer } = yield* recordingTracer
        const retried = Metric.tagged(
          Metric.tagged(
            OktaMetrics.retries,
            "operation",
            "getDefaultProvisioningConnectionForApplication"
          ),
          "reason",
          "rate_limit"
        )
        const before = (yield* Metric.value(retried)).count
        const { layer } = connectionsWith(
          sequence(
            () => limited("7", { date: httpDate(0) }),
            () => json(200, OK)
          ),
          {
            retry: exact()
          }
        )
        const run = yield* Effect.fork(
          Effect.provide(Effect.flatMap(ApplicationConnections, get), layer).pipe(
            Effect.withTracer(tracer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
            Logger.withMinimumLogLevel(LogLevel.Debug)
          )
        )
        yield* TestClock.adjust("7 seconds")
        yield* Fiber.join(run)
        const retryLine = lines.find((l) => l.message === "Okta call retried")
        expect(retryLine?.annotations).toMatchObject({
          operation: "getDefaultProvisioningConnectionForApplication",
          reason: "rate_limit",
          delay_ms: 7000,
          attempt: 1,
          status: 429
        })
        const span = spans.find(
          (s) => s.name === "ApplicationConnections.getDefaultProvisioningConnectionForApplication"
        )
        const events = (
          span as unknown as { events: Array<[string, bigint, Record<string, unknown>]> }
        ).events
        expect(events.map((e) => e[0])).toContain("okta.retry")
        expect((yield* Metric.value(retried)).count).toBe(before + 1)
      })
  )

  it.effect(
    "each gate wait logs at debug with reason and delay, adds a span event and counts in the metrics",
    () =>
      Effect.gen(function* () {
        const { lines, logger } = recordingLogger()
        const { spans, tracer } = yield* recordingTracer
        const held = OktaMetrics.gateWaits.pipe(
          Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
          Metric.tagged("reason", "window_exhausted")
        )
        const before = (yield* Metric.value(held)).count
        // The first answer spends the window, which resets 7 s on: the second call waits for it.
        const { requests, layer } = connectionsWith(
          sequence(
            () =>
              json(200, OK, {
                "x-rate-limit-limit": "50",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": "7",
                date: httpDate(0)
              }),
            () => json(200, OK)
          ),
          { retry: exact() }
        )
        const run = yield* Effect.fork(
          Effect.flatMap(ApplicationConnections, (api) => Effect.zipRight(get(api), get(api))).pipe(
            Effect.provide(layer),
            Effect.withTracer(tracer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
            Logger.withMinimumLogLevel(LogLevel.Debug)
          )
        )
        yield* TestClock.adjust("7 seconds")
        yield* Fiber.join(run)
        expect(requests.map((r) => r.at)).toEqual([0, 7_000])
        const heldLine = lines.find((l) => l.message === "Okta call held at the rate-limit gate")
        expect(heldLine?.annotations).toMatchObject({
          operation: "getDefaultProvisioningConnectionForApplication",
          reason: "window_exhausted",
          delay_ms: 7000
        })
        expect(heldLine?.annotations).not.toHaveProperty("probing")
        const events = spans
          .filter(
            (s) =>
              s.name === "ApplicationConnections.getDefaultProvisioningConnectionForApplication"
          )
          .flatMap(
            (s) =>
              (s as unknown as { events: Array<[string, bigint, Record<string, unknown>]> }).events
          )
        expect(events.map((e) => e[0])).toEqual(["okta.gate_wait"])
        expect((yield* Metric.value(held)).count).toBe(before + 1)
      })
  )

  it.effect(
    "a call held while the first one learns the org's limits says so: probing, not a cap it was given",
    () =>
      Effect.gen(function* () {
        const { lines, logger } = recordingLogger()
        const { requests, layer } = connectionsWith(() => json(200, OK), { retry: exact() })
        yield* Effect.flatMap(ApplicationConnections, (api) =>
          Effect.all([get(api), get(api)], { concurrency: 2 })
        ).pipe(
          Effect.provide(Layer.merge(layer, Logger.replace(Logger.defaultLogger, logger))),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
        expect(requests).toHaveLength(2)
        const held = lines.filter((l) => l.message === "Okta call held at the rate-limit gate")
        expect(held.map((l) => l.annotations)).toEqual([
          {
            operation: "getDefaultProvisioningConnectionForApplication",
            reason: "concurrency_cap",
            probing: "true"
          }
        ])
      })
  )

  it.effect(
    "requests are counted by operation and status, timed to their answer; the last Remaining is a gauge",
    () =>
      Effect.gen(function* () {
        const ok = Metric.tagged(
          Metric.tagged(
            OktaMetrics.requests,
            "operation",
            "getDefaultProvisioningConnectionForApplication"
          ),
          "status",
          "200"
        )
        const durations = Metric.tagged(
          OktaMetrics.requestDuration,
          "operation",
          "getDefaultProvisioningConnectionForApplication"
        )
        const before = (yield* Metric.value(ok)).count
        const timedBefore = yield* Metric.value(durations)
        // Okta takes 300 ms (on the test clock) to answer.
        const { fiber } = yield* start(() =>
          Effect.delay(
            Effect.sync(() => json(200, OK, { "x-rate-limit-remaining": "41" })),
            "300 millis"
          )
        )
        yield* TestClock.adjust("300 millis")
        yield* Fiber.join(fiber)
        expect((yield* Metric.value(ok)).count).toBe(before + 1)
        expect((yield* Metric.value(OktaMetrics.rateLimitRemaining)).value).toBe(41)
        const timed = yield* Metric.value(durations)
        expect(timed.count).toBe(timedBefore.count + 1)
        expect(timed.sum - timedBefore.sum).toBe(300)
      })
  )

  it.effect("labels set with Effect.tagMetrics follow the client's tags on every count", () =>
    Effect.gen(function* () {
      // A user's own labels follow the client's tags; read in that order, the counts are there.
      const operation = "getDefaultProvisioningConnectionForApplication"
      const counted = (status: string) =>
        OktaMetrics.requests.pipe(
          Metric.tagged("operation", operation),
          Metric.tagged("status", status),
          Metric.tagged("team", "identity")
        )
      const retried = OktaMetrics.retries.pipe(
        Metric.tagged("operation", operation),
        Metric.tagged("reason", "server_error"),
        Metric.tagged("team", "identity")
      )
      const durations = OktaMetrics.requestDuration.pipe(
        Metric.tagged("operation", operation),
        Metric.tagged("team", "identity")
      )
      const before = {
        ok: (yield* Metric.value(counted("200"))).count,
        failed: (yield* Metric.value(counted("503"))).count,
        retried: (yield* Metric.value(retried)).count,
        timed: (yield* Metric.value(durations)).count
      }
      for (let call = 0; call < 2; call++) {
        const { fiber } = yield* start(
          sequence(
            () => json(503, { errorCode: "E0000009", errorSummary: "Internal Server Error" }),
            () =>
              json(200, OK, {
                "x-rate-limit-limit": "600",
                "x-rate-limit-remaining": String(577 - call),
                "x-rate-limit-reset": "60"
              })
          )
        ).pipe(Effect.tagMetrics("team", "identity"))
        yield* TestClock.adjust("200 millis")
        expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
      }
      expect((yield* Metric.value(counted("200"))).count).toBe(before.ok + 2)
      expect((yield* Metric.value(counted("503"))).count).toBe(before.failed + 2)
      expect((yield* Metric.value(retried)).count).toBe(before.retried + 2)
      expect((yield* Metric.value(durations)).count).toBe(before.timed + 4)
      // The gauge of the last Remaining seen carries the user's labels too.
      const remaining = OktaMetrics.rateLimitRemaining.pipe(Metric.tagged("team", "identity"))
      expect((yield* Metric.value(remaining)).value).toBe(576)
    })
  )
})

describe("requests that got no answer are counted", () => {
  const unanswered = (status: "transport" | "timeout") =>
    Metric.value(
      Metric.tagged(
        Metric.tagged(
          OktaMetrics.requests,
          "operation",
          "getDefaultProvisioningConnectionForApplication"
        ),
        "status",
        status
      )
    ).pipe(Effect.map((state) => state.count))

  it.effect("a dropped connection as transport, an attempt timeout as timeout, once each", () =>
    Effect.gen(function* () {
      const transport = yield* unanswered("transport")
      const timeout = yield* unanswered("timeout")
      const { fiber } = yield* start(
        sequence(
          () => ({ drop: true as const }),
          () => Effect.never,
          () => json(200, OK)
        ),
        get,
        { timeout: "5 seconds" }
      )
      yield* TestClock.adjust("200 millis")
      yield* TestClock.adjust("5 seconds")
      yield* TestClock.adjust("200 millis")
      expect(Exit.isSuccess(yield* Fiber.join(fiber))).toBe(true)
      expect(yield* unanswered("transport")).toBe(transport + 1)
      expect(yield* unanswered("timeout")).toBe(timeout + 1)
    })
  )

  it.effect("an answered request is not, nor one never sent", () =>
    Effect.gen(function* () {
      const transport = yield* unanswered("transport")
      const timeout = yield* unanswered("timeout")
      const { fiber } = yield* start(() => json(404, {}))
      expect(errorOf(yield* Fiber.join(fiber))._tag).toBe("OktaNotFoundError")
      const invalid = yield* start(
        () => json(200, OK),
        (api) => api.getDefaultProvisioningConnectionForApplication("not an id")
      )
      expect(errorOf(yield* Fiber.join(invalid.fiber))._tag).toBe("OktaInvalidInputError")
      expect(yield* unanswered("transport")).toBe(transport)
      expect(yield* unanswered("timeout")).toBe(timeout)
    })
  )
})

describe("replacing or disabling the policy", () => {
  it.effect("per client: retry false, or RetryPolicy.disabled", () =>
    Effect.gen(function* () {
      for (const retry of [false as const, RetryPolicy.disabled]) {
        const { requests, fiber } = yield* start(() => json(503, {}), get, { retry })
        expect(errorOf(yield* Fiber.join(fiber))._tag).toBe("OktaServerError")
        expect(requests).toHaveLength(1)
      }
    })
  )

  it.effect("per call: RetryPolicy.withRetryPolicy", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* start(
        () => json(503, {}),
        (api) => get(api).pipe(RetryPolicy.withRetryPolicy(RetryPolicy.disabled))
      )
      expect(errorOf(yield* Fiber.join(fiber))._tag).toBe("OktaServerError")
      expect(requests).toHaveLength(1)
      const more = yield* start(
        () => json(503, {}),
        (api) => get(api).pipe(RetryPolicy.withRetryPolicy(exact({ maxRetries: 1 }))),
        { retry: false }
      )
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(more.fiber)
      expect(more.requests).toHaveLength(2)
      // Its options instead of a policy (from JavaScript): a defect that says so, nothing sent.
      const options = { maxRetries: 0 } as unknown as RetryPolicy.RetryPolicy
      const wrong = yield* start(
        () => json(503, {}),
        (api) => get(api).pipe(RetryPolicy.withRetryPolicy(options))
      )
      const exit = yield* Fiber.join(wrong.fiber)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
        "RetryPolicy.withRetryPolicy takes a RetryPolicy (RetryPolicy.make({ … }), or RetryPolicy.disabled), not its options"
      )
      expect(wrong.requests).toHaveLength(0)
    })
  )
})

describe("the default policy", () => {
  it.effect(
    "is what the docs say: 4 retries, rate-limit waits up to 70 s with 50 ms of reset jitter, jittered backoffs of 250 ms ×2 up to 8 s and 50 ms ×2 up to 1 s",
    () =>
      Effect.gen(function* () {
        const policy = RetryPolicy.defaultPolicy
        expect(policy.maxRetries).toBe(4)
        expect(Duration.toMillis(policy.maxRateLimitWait)).toBe(70_000)
        expect(Duration.toMillis(policy.resetJitter)).toBe(50)
        expect(policy.adaptiveConcurrency).toBe(true)
        const failures = Array<RetryPolicy.RetryableError>(9).fill(
          new OktaServerError({ operation: "get", method: "GET", path: "/", status: 503 })
        )
        for (const [schedule, base, cap] of [
          [policy.backoff, 250, 8000],
          [policy.concurrencyBackoff, 50, 1000]
        ] as const) {
          // A seeded Random: the same draws on every run.
          const delays = yield* Schedule.run(Schedule.delays(schedule), 0, failures).pipe(
            Effect.map((chunk) => Chunk.toReadonlyArray(chunk).map(Duration.toMillis)),
            Effect.withRandom(Random.make("effect-okta-connections"))
          )
          const nominal = delays.map((_, n) => base * 2 ** n)
          // Each within ±20 % of its doubling, and never over the cap, which the last ones reach.
          delays.forEach((delay, n) => {
            expect(delay).toBeGreaterThanOrEqual(Math.min(nominal[n]! * 0.8, cap))
            expect(delay).toBeLessThanOrEqual(Math.min(nominal[n]! * 1.2, cap))
          })
          expect(delays.at(-1)).toBe(cap)
          // Jittered: clients that failed together do not all come back together.
          expect(delays.slice(0, 4)).not.toEqual(nominal.slice(0, 4))
        }
        // A count a program computed: a fraction is rounded down, a negative one or NaN is none.
        expect(RetryPolicy.make({ maxRetries: 2.7 }).maxRetries).toBe(2)
        expect(RetryPolicy.make({ maxRetries: -3 }).maxRetries).toBe(0)
        expect(RetryPolicy.make({ maxRetries: Number.NaN }).maxRetries).toBe(0)
      })
  )

  it("isRetryPolicy takes what make returns, and nothing with a member of the wrong kind", () => {
    const policy = RetryPolicy.make({ maxRetries: 2 })
    expect(RetryPolicy.isRetryPolicy(policy)).toBe(true)
    expect(RetryPolicy.isRetryPolicy(RetryPolicy.disabled)).toBe(true)
    // Options where a policy belongs: each member as the options would give it.
    const asOptions: Record<keyof RetryPolicy.RetryPolicy, unknown> = {
      maxRetries: "2",
      maxRateLimitWait: "70 seconds",
      resetJitter: 50,
      backoff: "exponential",
      concurrencyBackoff: undefined,
      adaptiveConcurrency: "true"
    }
    for (const [key, value] of Object.entries(asOptions)) {
      expect([key, RetryPolicy.isRetryPolicy({ ...policy, [key]: value })]).toEqual([key, false])
    }
    for (const u of [null, undefined, 2, "policy"]) expect(RetryPolicy.isRetryPolicy(u)).toBe(false)
  })
})

describe("response body cap", () => {
  it.effect("a declared Content-Length over maxResponseBytes fails without reading the body", () =>
    Effect.gen(function* () {
      const big = JSON.stringify({ ...OK, padding: "x".repeat(5000) })
      const { fiber } = yield* start(
        () =>
          new Response(big, {
            status: 200,
            headers: { "content-type": "application/json", "content-length": String(big.length) }
          }),
        get,
        { maxResponseBytes: 1000 }
      )
      expect(errorOf(yield* Fiber.join(fiber))).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "TooLarge"
      })
    })
  )

  it.effect("an endless streamed body stops at the cap", () =>
    Effect.gen(function* () {
      let pulled = 0
      const endless = () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              pulled += 1
              controller.enqueue(new Uint8Array(1024).fill(32))
            }
          }),
          { status: 200, headers: { "content-type": "application/json" } }
        )
      const { fiber } = yield* start(endless, get, { maxResponseBytes: 64 * 1024 })
      expect(errorOf(yield* Fiber.join(fiber))).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "TooLarge"
      })
      expect(pulled).toBeLessThan(200)
    })
  )

  it.effect("a Content-Length that is not one number does not lift the cap", () =>
    Effect.gen(function* () {
      const big = JSON.stringify({ ...OK, padding: "x".repeat(5000) })
      // Two lengths joined as one header (a duplicated header), or not a number at all.
      for (const declared of [`${big.length}, ${big.length}`, "unknown"]) {
        const { fiber } = yield* start(
          () =>
            new Response(big, {
              status: 200,
              headers: { "content-type": "application/json", "content-length": declared }
            }),
          get,
          { maxResponseBytes: 1000 }
        )
        expect(errorOf(yield* Fiber.join(fiber))).toMatchObject({
          _tag: "OktaDecodeError",
          kind: "TooLarge",
          issues: "more than 1000 bytes, the maxResponseBytes limit"
        })
      }
    })
  )

  it.effect("an oversized error body still gives the status's error", () =>
    Effect.gen(function* () {
      const { fiber } = yield* start(
        () => json(404, { errorCode: "E0000007", padding: "x".repeat(5000) }),
        get,
        {
          maxResponseBytes: 1000
        }
      )
      const error = errorOf(yield* Fiber.join(fiber))
      expect(error._tag).toBe("OktaNotFoundError")
      expect(error).not.toHaveProperty("errorCode")
    })
  )
})
