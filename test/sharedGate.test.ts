/**
 * The client over a shared rate-limit store, with the store scripted (no Redis): it asks the store
 * for every request, waits as the store says, falls back to its own gate when the store fails or
 * hangs (a call never fails for it), and goes back to the store a few seconds later.
 */
import type { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Clock,
  type Duration,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Option,
  Redacted,
  TestClock
} from "effect"
import {
  ApplicationConnections,
  OktaClient,
  OktaMetrics,
  type RateLimitAdmission,
  type RateLimitObservation,
  RateLimitStore,
  RateLimitStoreError,
  RetryPolicy,
  type OktaClientSettings,
  type RateLimitStoreService
} from "../src/index.js"
import { runToCompletion } from "./support/clock.js"
import { interruptEverywhere } from "./support/interruptAt.js"
import { json, ORG, type Reply, scriptedHttp } from "./support/TestHttp.js"

const OK = { status: "ENABLED", profile: { authScheme: "TOKEN" } }
const APP = "0oafxqCAJWWGELFTYASJ"

/** A store whose every operation is recorded and answered by `mode`. */
const scriptedStore = () => {
  const log: Array<string> = []
  let mode: "up" | "down" | "hang" | "spent" = "up"
  const answer = <A>(operation: string, value: A) =>
    Effect.suspend(() => {
      log.push(operation)
      if (mode === "down") {
        return Effect.fail(new RateLimitStoreError({ operation, reason: "connection refused" }))
      }
      if (mode === "hang") return Effect.never
      return Effect.succeed(value)
    })
  const store: RateLimitStoreService = {
    acquire: () =>
      Effect.suspend((): Effect.Effect<RateLimitAdmission, RateLimitStoreError> =>
        mode === "spent"
          ? (log.push("acquire"),
            Effect.succeed({
              _tag: "Wait" as const,
              reason: "window_exhausted" as const,
              millis: 1_000
            }))
          : answer("acquire", { _tag: "Admitted" as const })
      ),
    observe: () => answer("observe", false),
    release: () => answer("release", undefined)
  }
  return { store, log, set: (next: typeof mode) => void (mode = next) }
}

/** The API over `store`; each response takes `delay` (on the test clock) when given. */
const connections = (
  store: RateLimitStoreService,
  viaService: boolean,
  delay?: Duration.DurationInput
) => {
  const http = scriptedHttp(() =>
    delay === undefined ? json(200, OK) : Effect.as(Effect.sleep(delay), json(200, OK))
  )
  const client = OktaClient.layer({
    orgUrl: ORG,
    apiToken: Redacted.make("00abc"),
    retry: false,
    ...(viaService ? {} : { rateLimitStore: store })
  })
  const layer = ApplicationConnections.layer.pipe(
    Layer.provide(client),
    Layer.provide(http.layer),
    Layer.provide(viaService ? Layer.succeed(RateLimitStore, store) : Layer.empty)
  )
  return { layer, requests: http.requests }
}

/** The API over `http`, its gate shared through `store`; no retries unless `settings` say so. */
const overStore = (
  store: RateLimitStoreService,
  http: Layer.Layer<HttpClient.HttpClient>,
  settings: OktaClientSettings = {}
) =>
  ApplicationConnections.layer.pipe(
    Layer.provide(
      OktaClient.layer({
        orgUrl: ORG,
        apiToken: Redacted.make("00abc"),
        retry: false,
        rateLimitStore: store,
        ...settings
      })
    ),
    Layer.provide(http)
  )

/**
 * A store with one slot for the whole org: what it admits, when it was asked (test clock) and
 * what was released. `keep`: a finished request's lease is kept for the process's next one when
 * asked; `answerAfter`: the store admits (or keeps) at once but answers that much later.
 */
const oneSlotStore = (options: {
  readonly keep?: boolean
  readonly answerAfter?: {
    readonly acquire?: Duration.DurationInput
    readonly observe?: Duration.DurationInput
  }
}) => {
  const inFlight = new Set<string>()
  const asked: Array<number> = []
  const released: Array<{
    readonly lease: string
    readonly sent: boolean
    readonly tried: boolean | undefined
  }> = []
  const later = <A>(effect: Effect.Effect<A>, after: Duration.DurationInput | undefined) =>
    after === undefined ? effect : Effect.zipLeft(effect, Effect.sleep(after))
  const store: RateLimitStoreService = {
    acquire: (_, lease) =>
      later(
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.sync((): RateLimitAdmission => {
            asked.push(now)
            if (inFlight.size >= 1) {
              return { _tag: "Wait", reason: "concurrency_cap", millis: 60_000 }
            }
            inFlight.add(lease)
            return { _tag: "Admitted" }
          })
        ),
        options.answerAfter?.acquire
      ),
    observe: (_, lease, __, { keepLeaseMillis }) =>
      later(
        Effect.sync(() => {
          if (options.keep === true && keepLeaseMillis !== undefined) return true
          inFlight.delete(lease)
          return false
        }),
        options.answerAfter?.observe
      ),
    release: (_, lease, sent, tried) =>
      Effect.sync(() => {
        released.push({ lease, sent, tried })
        inFlight.delete(lease)
      })
  }
  return { store, inFlight, asked, released }
}

/**
 * A logger that keeps the warnings, and what it kept. Provided in an `Effect.provide` of its own,
 * after the client's layer (the language service flags that): a logger provides no service, so
 * nothing is built twice.
 */
const warningsLog = () => {
  const warnings: Array<string> = []
  const infos: Array<string> = []
  // The runtime's line for a fiber that failed (at Debug, seen only below Info).
  const unhandled: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") warnings.push(String(message))
    if (logLevel._tag === "Info") infos.push(String(message))
    if (String(message).includes("unhandled error")) unhandled.push(String(message))
  })
  return { warnings, infos, unhandled, logger }
}

/** An HTTP client that answers its first request with `first`, and every later one with a 200. */
const firstThenOk = (first: () => Reply) => {
  let answered = 0
  return scriptedHttp(() => (answered++ === 0 ? first() : json(200, OK)))
}

const get = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication(APP)
)

/** How many requests went through a local gate instead of the store, so far in this process. */
const localRequests = Effect.map(
  Metric.value(Metric.tagged(OktaMetrics.rateLimitStoreLocalRequests, "bucket", "api")),
  (state) => state.count
)

describe("a client over a shared rate-limit store", () => {
  for (const viaService of [false, true]) {
    it.effect(
      `asks the store for each request (${viaService ? "the RateLimitStore service" : "the rateLimitStore option"})`,
      () =>
        Effect.gen(function* () {
          const { store, log } = scriptedStore()
          const { layer } = connections(store, viaService)
          yield* Effect.all([get, get], { concurrency: 2 }).pipe(Effect.provide(layer))
          expect(log).toEqual(["acquire", "acquire", "observe", "observe"])
        })
    )
  }

  it.effect("a fallbackShare that is not a share of the budget fails the client, typed", () =>
    Effect.gen(function* () {
      for (const viaService of [false, true]) {
        const { store, log } = scriptedStore()
        // 25 meant as a percentage would let each process spend the whole budget on its own.
        for (const fallbackShare of [25, 1.5, 0, -0.25, Number.NaN]) {
          const { layer, requests } = connections({ ...store, fallbackShare }, viaService)
          const error = yield* Effect.flip(Effect.provide(get, layer))
          expect(error).toMatchObject({
            _tag: "OktaConfigError",
            field: "rateLimitStore.fallbackShare"
          })
          expect(error.message).toContain(`not a percentage; got ${fallbackShare}`)
          expect(requests).toEqual([])
        }
        expect(log).toEqual([])
        for (const fallbackShare of [1, 0.1]) {
          const { layer } = connections({ ...store, fallbackShare }, viaService)
          yield* Effect.provide(get, layer)
        }
      }
    })
  )

  it.effect("waits as long as the store says for a spent window", () =>
    Effect.gen(function* () {
      const { store, set, log } = scriptedStore()
      const { layer, requests } = connections(store, false)
      set("spent")
      const fiber = yield* Effect.fork(Effect.provide(get, layer))
      yield* TestClock.adjust("999 millis")
      expect(requests).toHaveLength(0)
      set("up")
      yield* TestClock.adjust("1 milli")
      yield* Fiber.join(fiber)
      expect(requests).toHaveLength(1)
      expect(log.filter((op) => op === "acquire")).toHaveLength(2)
    })
  )

  it.effect(
    "a store's wait longer than maxRateLimitWait is left to the local gate, which probes: no call waits for the reset",
    () =>
      Effect.gen(function* () {
        // The org's window is spent for another second (the store says so, and Okta's 429 too),
        // and the caller waits at most `maxRateLimitWait` for a reset.
        for (const maxRateLimitWait of ["500 millis", 0] as const) {
          const { store, set, log } = scriptedStore()
          set("spent")
          const http = scriptedHttp(() =>
            Effect.map(Clock.currentTimeMillis, (now) =>
              json(
                429,
                { errorCode: "E0000047", errorSummary: "API call exceeded rate limit" },
                {
                  "x-rate-limit-limit": "50",
                  "x-rate-limit-remaining": "0",
                  "x-rate-limit-reset": String(Math.floor(now / 1000) + 1)
                }
              )
            )
          )
          const layer = overStore(store, http.layer, {
            retry: RetryPolicy.make({ maxRateLimitWait })
          })
          const fiber = yield* Effect.fork(Effect.flip(Effect.provide(get, layer)))
          yield* TestClock.adjust("1 milli")
          // Not held, nor the store polled, until the reset: the process's own gate sends one
          // probe at once, and Okta's 429 (its reset past the caller's wait) ends the call.
          expect(fiber.unsafePoll()).not.toBeNull()
          expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "OktaRateLimitError" })
          expect(http.requests).toHaveLength(1)
          expect(log).toEqual(["acquire"])
        }
      })
  )

  it.effect("asks again soon when the window's budget is only held by requests in flight", () =>
    Effect.gen(function* () {
      const answers: Array<RateLimitAdmission> = [
        { _tag: "Wait", reason: "window_exhausted", millis: 60_000, inFlight: true },
        { _tag: "Admitted" }
      ]
      const store: RateLimitStoreService = {
        acquire: () => Effect.sync(() => answers.shift() ?? { _tag: "Admitted" }),
        observe: () => Effect.succeed(false),
        release: () => Effect.void
      }
      const { layer, requests } = connections(store, false)
      const fiber = yield* Effect.fork(Effect.provide(get, layer))
      yield* TestClock.adjust("1 milli")
      expect(requests).toHaveLength(0)
      // Not the minute to the reset: the first poll, 2 ms on.
      yield* TestClock.adjust("1 milli")
      yield* Fiber.join(fiber)
      expect(requests).toHaveLength(1)
    })
  )

  it.effect("a wait for a slot over many polls is one gate wait, counted once", () =>
    Effect.gen(function* () {
      const held = Metric.value(
        OktaMetrics.gateWaits.pipe(
          Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
          Metric.tagged("reason", "concurrency_cap")
        )
      )
      const before = (yield* held).count
      // Refused a slot five times (the polls, each interval doubled), then admitted at 62 ms.
      const asked: Array<number> = []
      const store: RateLimitStoreService = {
        acquire: () =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.sync((): RateLimitAdmission => {
              asked.push(now)
              return asked.length <= 5
                ? { _tag: "Wait", reason: "concurrency_cap", millis: 60_000 }
                : { _tag: "Admitted" }
            })
          ),
        observe: () => Effect.succeed(false),
        release: () => Effect.void
      }
      const { layer, requests } = connections(store, false)
      const fiber = yield* Effect.fork(Effect.provide(get, layer))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      expect(asked).toEqual([0, 2, 6, 14, 30, 62])
      expect(requests).toHaveLength(1)
      expect((yield* held).count).toBe(before + 1)
    })
  )

  it.effect("a lease outlasts its request's attempt timeout by 5 s, its TTL in the store", () =>
    Effect.gen(function* () {
      const leases: Array<number> = []
      const store: RateLimitStoreService = {
        acquire: (_, __, leaseMillis) =>
          Effect.sync((): RateLimitAdmission => {
            leases.push(leaseMillis)
            return { _tag: "Admitted" }
          }),
        observe: () => Effect.succeed(false),
        release: () => Effect.void
      }
      const http = scriptedHttp(() => json(200, OK))
      yield* Effect.provide(get, overStore(store, http.layer, { timeout: "10 seconds" }))
      // A store that ended it sooner could admit another request while this one may still reach
      // Okta; the margin covers the clocks of the processes drifting apart.
      expect(leases).toEqual([15_000])
    })
  )

  it.effect(
    "a proxy's Retry-After holds this process's calls, though the store would admit them",
    () =>
      Effect.gen(function* () {
        // The store shares Okta's windows; a gateway's 429 with Retry-After 5 s is this process's.
        const { store, log } = scriptedStore()
        const http = firstThenOk(() =>
          json(429, { message: "Too Many Requests" }, { "retry-after": "5" })
        )
        yield* Effect.gen(function* () {
          const first = yield* Effect.exit(get)
          expect(first).toMatchObject({ _tag: "Failure" })
          yield* TestClock.adjust("1 second")
          const fiber = yield* Effect.fork(get)
          yield* TestClock.adjust("3999 millis")
          expect(http.requests).toHaveLength(1)
          yield* TestClock.adjust("1 milli")
          yield* Fiber.join(fiber)
        }).pipe(Effect.provide(overStore(store, http.layer)))
        expect(http.requests.map((request) => request.at)).toEqual([0, 5_000])
        // Not asked for a slot until the hold passed.
        expect(log.filter((op) => op === "acquire")).toHaveLength(2)
      })
  )

  it.effect("a slot freed during a Retry-After hold is not handed on past the hold", () =>
    Effect.gen(function* () {
      // One slot in the org, kept for this process's next request when it asks: the answer that
      // brings the hold must not hand its slot to the call waiting for it.
      const { store } = oneSlotStore({ keep: true })
      const http = firstThenOk(() =>
        Effect.as(
          Effect.sleep("100 millis"),
          json(429, { message: "Too Many Requests" }, { "retry-after": "5" })
        )
      )
      yield* Effect.gen(function* () {
        const first = yield* Effect.fork(Effect.exit(get))
        yield* TestClock.adjust("10 millis")
        const second = yield* Effect.fork(get)
        // The 429 comes at 100 ms: the hold ends at 5.1 s.
        yield* TestClock.adjust("5089 millis")
        expect(http.requests).toHaveLength(1)
        yield* TestClock.adjust("1 milli")
        yield* Fiber.join(second)
        expect(yield* Fiber.join(first)).toMatchObject({ _tag: "Failure" })
      }).pipe(Effect.provide(overStore(store, http.layer)))
      expect(http.requests.map((request) => request.at)).toEqual([0, 5_100])
    })
  )

  it.effect("a hold past maxRateLimitWait is waited that long by one call, then dropped", () =>
    Effect.gen(function* () {
      const { store } = scriptedStore()
      const http = firstThenOk(() => json(503, {}, { "retry-after": "5" }))
      const settings = { retry: RetryPolicy.make({ maxRateLimitWait: "2 seconds" }) }
      yield* Effect.gen(function* () {
        // Given up at once: its Retry-After is past the longest wait.
        expect(yield* Effect.exit(get)).toMatchObject({ _tag: "Failure" })
        yield* TestClock.adjust("1 second")
        const fiber = yield* Effect.fork(get)
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(fiber)
        yield* get
      }).pipe(Effect.provide(overStore(store, http.layer, settings)))
      expect(http.requests.map((request) => request.at)).toEqual([0, 3_000, 3_000])
    })
  )

  it.effect("a reset the client does not believe is not shared with the store", () =>
    Effect.gen(function* () {
      const observed: Array<RateLimitObservation["window"]> = []
      const store: RateLimitStoreService = {
        acquire: () => Effect.succeed({ _tag: "Admitted" }),
        observe: (_, __, observation) =>
          Effect.sync(() => {
            observed.push(observation.window)
            return false
          }),
        release: () => Effect.void
      }
      // The server's clock at 0: a reset 30 s on is Okta's; one an hour on is a broken server's.
      let reset = 30
      const http = scriptedHttp(() =>
        json(200, OK, {
          date: new Date(0).toUTCString(),
          "x-rate-limit-limit": "50",
          "x-rate-limit-remaining": "10",
          "x-rate-limit-reset": String(reset)
        })
      )
      const layer = overStore(store, http.layer)
      yield* Effect.provide(get, layer)
      reset = 3_600
      yield* Effect.provide(get, layer)
      expect(observed).toEqual([
        { limit: 50, remaining: 10, reset: 30, resetInMillis: 30_000 },
        undefined
      ])
    })
  )

  it.effect(
    "a store whose callTimeoutMillis is 0 (none), negative or NaN is timed by the client",
    () =>
      Effect.gen(function* () {
        // 0 meant as "no timeout", as in OKTA_CLIENT_REQUESTTIMEOUT: taken as a bound of 0 ms, the
        // client would not time the store's calls, and one that never answers would hold the call.
        for (const callTimeoutMillis of [0, -1, Number.NaN]) {
          const { store, set } = scriptedStore()
          set("hang")
          const { layer, requests } = connections({ ...store, callTimeoutMillis }, false)
          const fiber = yield* Effect.fork(Effect.provide(get, layer))
          yield* TestClock.adjust("249 millis")
          expect(fiber.unsafePoll()).toBeNull()
          yield* TestClock.adjust("1 milli")
          yield* Fiber.join(fiber)
          expect(requests).toHaveLength(1)
        }
      })
  )

  it.effect(
    "an answer the gate cannot act on is a store failure: the call goes through at once",
    () =>
      Effect.gen(function* () {
        // A store of the user's own, answering what its type does not allow (a reset it computed
        // from nothing), or JavaScript that does not check types. Acting on a NaN wait would ask
        // the store again at once, for ever.
        const answers: ReadonlyArray<unknown> = [
          { _tag: "Wait", reason: "window_exhausted", millis: Number.NaN },
          { _tag: "Wait", reason: "window_exhausted", millis: Number.NaN, inFlight: true },
          { _tag: "Wait", reason: "concurrency_cap", millis: Number.NaN },
          { _tag: "Wait", reason: "concurrency_cap", millis: "250" },
          { _tag: "Wait", reason: "rate_limited", millis: 250 },
          { _tag: "admitted" },
          // Shown without `String()`, which would throw for it.
          { _tag: Object.create(null) as unknown },
          "Admitted",
          undefined
        ]
        for (const answer of answers) {
          let current = answer
          let asked = 0
          const released: Array<boolean> = []
          const store: RateLimitStoreService = {
            acquire: () => Effect.sync(() => (asked++, current as RateLimitAdmission)),
            observe: () => Effect.succeed(false),
            release: (_key, _lease, sent) => Effect.sync(() => void released.push(sent))
          }
          const { layer, requests } = connections(store, false)
          const { warnings, logger } = warningsLog()
          const before = yield* localRequests
          yield* Effect.gen(function* () {
            yield* Effect.all([get, get, get])
            expect(requests).toHaveLength(3)
            // Two failures in a row send the process to its own gate for five seconds.
            expect(asked).toBe(2)
            expect((yield* localRequests) - before).toBe(3)
            expect(warnings).toHaveLength(1)
            expect(warnings[0]).toContain(
              "rate-limit store acquire failed: answered neither Admitted nor a Wait"
            )
            if (typeof answer === "string") expect(warnings[0]).toContain(': "Admitted")')
            // Once the store answers as it should, the leases it may have taken with those
            // answers are ended as never used.
            current = { _tag: "Admitted" }
            yield* TestClock.adjust("5 seconds")
            yield* get
            expect(asked).toBe(3)
            expect(released).toEqual([false, false])
          }).pipe(
            // @effect-diagnostics-next-line multipleEffectProvide:off
            Effect.provide(layer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger))
          )
        }
      })
  )

  it.effect(
    "a store that throws or dies is a store failure: Okta's answer is returned, not a defect",
    () =>
      Effect.gen(function* () {
        // A store of the user's own with a bug. `observe` runs after Okta answered: its defect
        // would have thrown away a response (of an update Okta applied).
        const thrown = () => {
          throw new TypeError("store.eval is not a function")
        }
        const broken = [
          { operation: "acquire", fault: () => Effect.die(new Error("boom")), shown: "boom" },
          { operation: "acquire", fault: thrown, shown: "store.eval is not a function" },
          { operation: "acquire", fault: () => Effect.die("lost"), shown: '"lost"' },
          { operation: "acquire", fault: () => Effect.die(Object.create(null)), shown: "object" },
          { operation: "observe", fault: () => Effect.die(new Error("boom")) },
          { operation: "observe", fault: thrown }
        ] as const
        for (const test of broken) {
          const released: Array<boolean> = []
          const store: RateLimitStoreService = {
            acquire: () => Effect.succeed({ _tag: "Admitted" }),
            observe: () => Effect.succeed(false),
            release: (_key, _lease, sent) => Effect.sync(() => void released.push(sent)),
            [test.operation]: test.fault
          }
          const { layer, requests } = connections(store, false)
          const { warnings, logger } = warningsLog()
          const results = yield* Effect.all([get, get, get]).pipe(
            // @effect-diagnostics-next-line multipleEffectProvide:off
            Effect.provide(layer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger))
          )
          expect(results.map((connection) => connection.status)).toEqual(Array(3).fill("ENABLED"))
          expect(requests).toHaveLength(3)
          if ("shown" in test) {
            // Two failures in a row: the process falls back, as for any failing store.
            expect(warnings).toHaveLength(1)
            expect(warnings[0]).toContain(`rate-limit store acquire failed: died: ${test.shown}`)
          } else {
            // Each lease the store did not see end is ended, as sent, at its next answer.
            expect(released).toEqual([true, true])
          }
        }
      })
  )

  it.effect(
    "a process refused a slot backs off its asking, and asks at once when a slot of its own ends",
    () =>
      Effect.gen(function* () {
        // One slot in the org; each response takes a second.
        const { store, asked } = oneSlotStore({})
        const { layer, requests } = connections(store, false, "1 second")
        const calls = yield* Effect.fork(
          Effect.all([get, get, get], { concurrency: 3 }).pipe(Effect.provide(layer))
        )
        yield* TestClock.adjust("999 millis")
        expect(requests).toHaveLength(1)
        // One waiter asks for the process, at 2, 4, 8 … ms apart, up to 128 ms while the process
        // holds a slot: 13 refusals in the second, not one every 2 ms or per waiter.
        expect(asked).toHaveLength(14)
        yield* TestClock.adjust("1 milli")
        // The first response gave the slot back to the store: a waiter asked at once.
        expect(requests.map((r) => r.at)).toEqual([0, 1_000])
        yield* TestClock.adjust("2 seconds")
        expect(yield* Fiber.join(calls)).toHaveLength(3)
        expect(requests.map((r) => r.at)).toEqual([0, 1_000, 2_000])
      })
  )

  it.effect("a slot handed on keeps the process's poll interval; a new wait starts short", () =>
    Effect.gen(function* () {
      // One slot; a finished request hands it to the process's next one when one waits.
      const { store, inFlight, asked } = oneSlotStore({ keep: true })
      const { layer, requests } = connections(store, false, "1 second")
      yield* Effect.gen(function* () {
        const calls = yield* Effect.fork(Effect.all([get, get, get], { concurrency: 3 }))
        yield* TestClock.adjust("3 seconds")
        expect(yield* Fiber.join(calls)).toHaveLength(3)
        // Each slot was handed on, none came back from the store: the third call's wait (from
        // 1 s) went on at the interval the second's had reached, 128 ms.
        expect(requests.map((r) => r.at)).toEqual([0, 1_000, 2_000])
        expect(asked.filter((at) => at >= 1_000 && at < 2_000)).toEqual([
          1_022, 1_150, 1_278, 1_406, 1_534, 1_662, 1_790, 1_918
        ])
        // With nobody waiting the interval is forgotten: another process's slot, a new wait, at
        // most 32 ms apart while this process holds no lease.
        inFlight.add("another-process")
        asked.length = 0
        const next = yield* Effect.fork(get)
        yield* TestClock.adjust("100 millis")
        expect(asked).toEqual([3_000, 3_002, 3_006, 3_014, 3_030, 3_062, 3_094])
        inFlight.clear()
        yield* TestClock.adjust("2 seconds")
        yield* Fiber.join(next)
        expect(requests.map((r) => r.at)).toEqual([0, 1_000, 2_000, 3_126])
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect(
    "a call interrupted at any step, sending or waiting for the slot another holds, leaves the store no lease of its own",
    () =>
      Effect.gen(function* () {
        // One slot for the org, kept for the process's waiting call when asked; the org does not
        // answer until `answering`.
        const { store, inFlight } = oneSlotStore({ keep: true })
        let answering = false
        const http = scriptedHttp(() => (answering ? json(200, OK) : Effect.never))
        const layer = overStore(store, http.layer)
        yield* Effect.scoped(
          Effect.gen(function* () {
            // One client throughout: what an interruption leaves behind meets the next run.
            const client = yield* Layer.build(layer)
            const call = Effect.provide(get, client)
            // Alone: admitted, then sending.
            expect(yield* interruptEverywhere(call)).toBeGreaterThan(50)
            expect(inFlight.size).toBe(0)
            // Waiting for the slot a call in flight holds.
            const holder = yield* Effect.fork(call)
            yield* TestClock.adjust("1 millis")
            expect(inFlight.size).toBe(1)
            expect(yield* interruptEverywhere(call)).toBeGreaterThan(50)
            expect(inFlight.size).toBe(1)
            yield* Fiber.interrupt(holder)
            expect(inFlight.size).toBe(0)
            // The next call gets the slot at once.
            answering = true
            const next = yield* Effect.fork(call)
            yield* TestClock.adjust("10 millis")
            expect(next.unsafePoll()).not.toBeNull()
          })
        )
      })
  )

  it.effect("a call interrupted while the store admits it gives its lease back", () =>
    Effect.gen(function* () {
      // The store admits at once but answers 100 ms later (a slow round trip).
      const { store, inFlight, released } = oneSlotStore({ answerAfter: { acquire: "100 millis" } })
      const { layer, requests } = connections(store, false)
      const call = yield* Effect.fork(Effect.provide(get, layer))
      yield* TestClock.adjust("50 millis")
      expect(inFlight.size).toBe(1)
      // Interrupted before the answer: the lease the store admitted all the same is handed back
      // as never used, instead of holding a slot until its TTL.
      yield* Fiber.interrupt(call)
      expect(requests).toHaveLength(0)
      expect(inFlight.size).toBe(0)
      expect(released).toEqual([{ lease: expect.any(String), sent: false, tried: false }])
    })
  )

  it.effect("a request sent and never answered ends its lease as one Okta may have counted", () =>
    Effect.gen(function* () {
      const { store, inFlight, released } = oneSlotStore({})
      // The org never answers: the attempt times out.
      const { layer, requests } = connections(store, false, "1 hour")
      const call = yield* Effect.fork(Effect.exit(Effect.provide(get, layer)))
      yield* TestClock.adjust("5 minutes")
      const exit = yield* Fiber.join(call)
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject(
        Option.some({ _tag: "OktaTimeoutError" })
      )
      expect(requests).toHaveLength(1)
      expect(inFlight.size).toBe(0)
      expect(released).toEqual([{ lease: expect.any(String), sent: true, tried: true }])
    })
  )

  // Tried all the same: a first request refused tells the store to stop probing (one at a time
  // behind each refusal), as a lone process's gate does.
  it.effect(
    "a refused connection ends its lease as unsent (Okta cannot have counted it), tried",
    () =>
      Effect.gen(function* () {
        const { store, inFlight, released } = oneSlotStore({})
        const http = scriptedHttp(() => ({ drop: true, code: "ECONNREFUSED" }))
        const exit = yield* Effect.exit(Effect.provide(get, overStore(store, http.layer)))
        expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject(
          Option.some({ _tag: "OktaTransportError", connectFailed: true })
        )
        expect(http.requests).toHaveLength(1)
        expect(inFlight.size).toBe(0)
        expect(released).toEqual([{ lease: expect.any(String), sent: false, tried: true }])
      })
  )

  /**
   * One slot, whose store keeps a finished request's lease for a waiter and answers 100 ms later;
   * two calls of 1 s each, `whileKept` run when the first's response has arrived and the store is
   * keeping its lease for the second.
   */
  const keptForTheNext = () => {
    const slot = oneSlotStore({ keep: true, answerAfter: { observe: "100 millis" } })
    const { layer, requests } = connections(slot.store, false, "1 second")
    const whileKept = <A, E>(
      then: (
        first: Fiber.RuntimeFiber<unknown, unknown>,
        second: Fiber.RuntimeFiber<unknown, unknown>
      ) => Effect.Effect<A, E, ApplicationConnections>
    ) =>
      Effect.gen(function* () {
        const first = yield* Effect.fork(get)
        const second = yield* Effect.fork(get)
        yield* TestClock.adjust("1050 millis")
        return yield* then(first, second)
      }).pipe(Effect.provide(layer))
    return { ...slot, requests, whileKept }
  }

  it.effect("a call interrupted while the store keeps its lease for the next one ends it", () =>
    Effect.gen(function* () {
      const { released, requests, whileKept } = keptForTheNext()
      yield* whileKept((first, second) =>
        Effect.gen(function* () {
          expect(requests).toHaveLength(1)
          yield* Fiber.interrupt(first)
          expect(released.map((r) => r.sent)).toEqual([false])
          // The slot went back to the store, and the waiting call took it at once.
          yield* TestClock.adjust("2 seconds")
          yield* Fiber.join(second)
          expect(requests.map((r) => r.at)).toEqual([0, 1_050])
        })
      )
    })
  )

  it.effect("a lease kept for a waiter that left before the store answered is ended", () =>
    Effect.gen(function* () {
      const { released, inFlight, requests, whileKept } = keptForTheNext()
      yield* whileKept((first, second) =>
        Effect.gen(function* () {
          // The second call gives up before the store answers.
          yield* Fiber.interrupt(second)
          yield* TestClock.adjust("50 millis")
          yield* Fiber.join(first)
          // Nobody is left to take it: the lease is ended as unused, not held until its TTL.
          expect(requests).toHaveLength(1)
          expect(released).toEqual([{ lease: expect.any(String), sent: false, tried: false }])
          expect(inFlight.size).toBe(0)
        })
      )
    })
  )

  it.effect("one slow store call sends only its own request through the local gate", () =>
    Effect.gen(function* () {
      const { store, set, log } = scriptedStore()
      const { layer, requests } = connections(store, false)
      const { warnings, logger } = warningsLog()
      const before = yield* localRequests
      // One client for both calls: the second must find the client not fallen back.
      yield* Effect.gen(function* () {
        set("hang")
        const first = yield* Effect.fork(get)
        yield* TestClock.adjust("250 millis")
        yield* Fiber.join(first)
        set("up")
        yield* get
      }).pipe(
        // @effect-diagnostics-next-line multipleEffectProvide:off
        Effect.provide(layer),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      // No fallback: the next request asks the store again at once; the lease the store may
      // have admitted to the first after it stopped waiting is ended as never used.
      expect(requests).toHaveLength(2)
      expect(log).toEqual(["acquire", "acquire", "release", "observe"])
      expect(warnings).toEqual([])
      expect((yield* localRequests) - before).toBe(1)
    })
  )

  it.effect(
    "a lease a slow store admitted after the client stopped waiting is ended once the store answers again",
    () =>
      Effect.gen(function* () {
        // One slot for the whole org. The first admission is answered after 300 ms: the client
        // has sent its request through the local gate by then, and the store holds the lease.
        let slow = true
        const inFlight = new Set<string>()
        const released: Array<{ readonly lease: string; readonly sent: boolean }> = []
        const store: RateLimitStoreService = {
          acquire: (_, lease) =>
            Effect.suspend((): Effect.Effect<RateLimitAdmission> => {
              if (inFlight.size >= 1) {
                return Effect.succeed({ _tag: "Wait", reason: "concurrency_cap", millis: 60_000 })
              }
              inFlight.add(lease)
              const admitted = { _tag: "Admitted" } as const
              return slow
                ? Effect.as(Effect.sleep("300 millis"), admitted)
                : Effect.succeed(admitted)
            }),
          observe: (_, lease) =>
            Effect.sync(() => {
              inFlight.delete(lease)
              return false
            }),
          release: (_, lease, sent) =>
            Effect.sync(() => {
              released.push({ lease, sent })
              inFlight.delete(lease)
            })
        }
        const { layer, requests } = connections(store, false)
        yield* Effect.gen(function* () {
          const first = yield* Effect.fork(get)
          yield* TestClock.adjust("250 millis")
          yield* Fiber.join(first)
          slow = false
          // Refused at first (the slot is the orphaned lease's), then admitted once it is ended:
          // not held until the lease's TTL.
          const second = yield* Effect.fork(get)
          yield* TestClock.adjust("10 millis")
          expect(second.unsafePoll()).not.toBeNull()
          yield* Fiber.join(second)
        }).pipe(Effect.provide(layer))
        expect(requests).toHaveLength(2)
        expect(released).toEqual([{ lease: expect.any(String), sent: false }])
        expect(inFlight.size).toBe(0)
      })
  )

  it.effect("leases the store could not end are ended once it answers again, 64 at most", () =>
    Effect.gen(function* () {
      // 70 requests admitted by the store; it goes down before they answer (each takes 1 s), so
      // none of their leases can be ended then.
      const { store, log, set } = scriptedStore()
      const { layer } = connections(store, false, "1 second")
      yield* Effect.gen(function* () {
        const calls = yield* Effect.fork(
          Effect.all(
            Array.from({ length: 70 }, () => get),
            { concurrency: "unbounded" }
          )
        )
        yield* TestClock.adjust("500 millis")
        expect(log.filter((entry) => entry === "acquire")).toHaveLength(70)
        set("down")
        yield* TestClock.adjust("500 millis")
        yield* Fiber.join(calls)
        // Back up: the next call's store call ends the leases kept, the oldest dropped past 64
        // (left to their TTL), so that a store down for long holds no unbounded list.
        set("up")
        yield* TestClock.adjust("5 seconds")
        log.length = 0
        const next = yield* Effect.fork(get)
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(next)
        expect(log.filter((entry) => entry === "release")).toHaveLength(64)
      }).pipe(Effect.provide(layer))
    })
  )

  it.effect(
    "store down: the process's own gate commits at most a quarter of what Okta says is left, as the warning says",
    () =>
      Effect.gen(function* () {
        const { store, set } = scriptedStore()
        set("down")
        // Okta counts down a window of 40 that resets in a minute (no Date: the local clock);
        // each answer takes 100 ms.
        let remaining = 40
        const http = scriptedHttp(() =>
          Effect.delay(
            Effect.sync(() =>
              json(200, OK, {
                "x-rate-limit-limit": "40",
                "x-rate-limit-remaining": String(--remaining),
                "x-rate-limit-reset": "60"
              })
            ),
            "100 millis"
          )
        )
        const { warnings, logger } = warningsLog()
        yield* Effect.gen(function* () {
          const calls = yield* Effect.fork(
            Effect.all(
              Array.from({ length: 20 }, () => get),
              { concurrency: "unbounded" }
            )
          )
          yield* TestClock.adjust("150 millis")
          // The first request probes; its answer leaves 39, of which this process may have
          // floor(39 × 0.25) = 9 in flight: other processes may be counting on the rest.
          expect(http.requests).toHaveLength(10)
          expect(warnings).toHaveLength(1)
          expect(warnings[0]).toContain("with at most 25 % of what Okta reports left in flight")
          yield* TestClock.adjust("5 seconds")
          expect(yield* Fiber.join(calls)).toHaveLength(20)
        }).pipe(
          // @effect-diagnostics-next-line multipleEffectProvide:off
          Effect.provide(overStore(store, http.layer)),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )
      })
  )

  for (const failure of ["down", "hang"] as const) {
    it.effect(
      `store ${failure}: calls go through the local gate, and back to the store later`,
      () =>
        Effect.gen(function* () {
          const { store, set, log } = scriptedStore()
          const { layer, requests } = connections(store, false)
          const { warnings, infos, unhandled, logger } = warningsLog()
          const before = yield* localRequests
          set(failure)
          // One client throughout: the call after the 5 s must find it back on the store.
          yield* Effect.gen(function* () {
            const calls = yield* Effect.fork(Effect.all([get, get, get], { concurrency: 3 }))
            // A hanging store is given up after 250 ms, a call at a time; the first failure
            // sends only its own request through the local gate, the second falls back.
            yield* TestClock.adjust("250 millis")
            yield* TestClock.adjust("250 millis")
            expect(yield* Fiber.join(calls)).toHaveLength(3)
            expect(requests).toHaveLength(3)
            expect(warnings).toHaveLength(1)
            expect(warnings[0]).toContain("rate-limit store failing")
            // The store is asked twice, then left alone for 5 s; all three went through the
            // local gate.
            expect(log).toEqual(["acquire", "acquire"])
            expect((yield* localRequests) - before).toBe(3)
            // Within the 5 s a call does not ask the store.
            yield* TestClock.adjust("4 seconds")
            yield* get
            expect(log).toEqual(["acquire", "acquire"])
            // After them the store is asked again; still failing, the call goes through the
            // local gate, and no second warning is logged for the same outage.
            yield* TestClock.adjust("1 second")
            const again = yield* Effect.fork(get)
            yield* TestClock.adjust("250 millis")
            yield* Fiber.join(again)
            expect(log).toEqual(["acquire", "acquire", "acquire"])
            expect(warnings).toHaveLength(1)
            expect((yield* localRequests) - before).toBe(5)
            set("up")
            yield* TestClock.adjust("5 seconds")
            yield* get
            // Back on the store, the three leases it may have admitted unanswered are ended.
            expect(log).toEqual([
              ...["acquire", "acquire", "acquire", "acquire"],
              ...["release", "release", "release", "observe"]
            ])
            expect(infos).toEqual(["Okta rate-limit store answering again: the gate is shared"])
            expect((yield* localRequests) - before).toBe(5)
            // A store call that failed is the fallback's, not a fiber's left unhandled.
            expect(unhandled).toEqual([])
          }).pipe(
            // @effect-diagnostics-next-line multipleEffectProvide:off
            Effect.provide(layer),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
            Logger.withMinimumLogLevel(LogLevel.All)
          )
        })
    )
  }
})

describe("a shared store that fails at any moment", () => {
  type StoreStep = "ok" | "slow" | "down" | "hang" | "unanswered"

  /**
   * A store for one org with `slots` concurrency slots (no window), applying its calls in the
   * order they are made, as commands on one Redis connection are. Its first calls are answered as
   * `steps` says, one each: at once; 300 ms later (past the client's bound on a store call, applied
   * all the same); refused (not applied); never (not applied: a hung connection); or applied and
   * never answered. Then it recovers: every later call is answered at once. Leases end when their process ends them, or at their TTL (`expired`: a lease the
   * process gave up on, which narrowed every process's concurrency meanwhile).
   */
  const flakyStore = (slots: number, steps: ReadonlyArray<StoreStep>) => {
    const live = new Map<string, number>()
    const expired: Array<string> = []
    let n = 0
    let healed = false
    const call = <A>(operation: string, apply: (now: number) => A) =>
      Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<A, RateLimitStoreError> => {
        for (const [lease, until] of live) {
          if (until <= now) {
            live.delete(lease)
            expired.push(lease)
          }
        }
        const step = healed ? "ok" : (steps[n++] ?? "ok")
        switch (step) {
          case "down":
            return Effect.fail(new RateLimitStoreError({ operation, reason: "refused" }))
          case "hang":
            return Effect.never
          case "unanswered":
            apply(now)
            return Effect.never
          case "slow": {
            const answer = apply(now)
            return Effect.as(Effect.sleep("300 millis"), answer)
          }
          case "ok":
            return Effect.succeed(apply(now))
        }
      })
    const store: RateLimitStoreService = {
      acquire: (_, lease, leaseMillis) =>
        call("acquire", (now): RateLimitAdmission => {
          if (live.size >= slots) {
            const soonest = Math.min(...live.values())
            return { _tag: "Wait", reason: "concurrency_cap", millis: soonest - now }
          }
          live.set(lease, now + leaseMillis)
          return { _tag: "Admitted" }
        }),
      observe: (_, lease, __, { keepLeaseMillis }) =>
        call("observe", (now) => {
          if (keepLeaseMillis !== undefined && live.has(lease)) {
            live.set(lease, now + keepLeaseMillis)
            return true
          }
          live.delete(lease)
          return false
        }),
      release: (_, lease) => call("release", () => void live.delete(lease))
    }
    return { store, live, expired, heal: () => void (healed = true), healed: () => healed }
  }

  it.effect.prop(
    "any store faults, latencies, drops and interruptions: no call fails for the store, and once it answers again no lease is left to its TTL",
    {
      slots: fc.integer({ min: 1, max: 3 }),
      steps: fc.array(
        fc.constantFrom<StoreStep>("ok", "ok", "slow", "down", "hang", "unanswered"),
        {
          minLength: 1,
          maxLength: 16
        }
      ),
      latencies: fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 6 }),
      drops: fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }),
      // A call the application gives up on (interrupts) after so many milliseconds.
      patience: fc.array(fc.option(fc.integer({ min: 0, max: 1_500 }), { nil: undefined }), {
        minLength: 1,
        maxLength: 10
      }),
      concurrency: fc.integer({ min: 1, max: 6 })
    },
    ({ slots, steps, latencies, drops, patience, concurrency }) =>
      Effect.gen(function* () {
        const flaky = flakyStore(slots, steps)
        let n = 0
        const http = scriptedHttp(() => {
          const i = n++
          if (!flaky.healed() && drops[i % drops.length] === true) return { drop: true }
          return Effect.as(Effect.sleep(latencies[i % latencies.length]!), json(200, OK))
        })
        // Leases outlive the run: one that ends at its TTL was given up on, not timed out.
        const layer = overStore(flaky.store, http.layer, { timeout: "20 seconds" })
        const calls = patience.map((ms) =>
          Effect.exit(ms === undefined ? Effect.asSome(get) : Effect.timeoutOption(get, ms))
        )
        const fiber = yield* Effect.fork(
          Effect.gen(function* () {
            const exits = yield* Effect.all(calls, { concurrency })
            // The store answers again; past the local gate's turn, one more call finds it.
            flaky.heal()
            yield* Effect.sleep("6 seconds")
            yield* get
            return exits
          }).pipe(
            // A logger removed around the client's layer: no service, nothing built twice.
            // @effect-diagnostics-next-line multipleEffectProvide:off
            Effect.provide(layer),
            Effect.provide(Logger.remove(Logger.defaultLogger))
          )
        )
        yield* runToCompletion(fiber, 100_000)
        const exits = yield* Fiber.join(fiber)
        // A call ends in its value, or (its connection dropped) a transport error: never a
        // store's failure.
        for (const exit of exits) {
          if (Exit.isFailure(exit)) {
            expect(Cause.failureOption(exit.cause)).toMatchObject({
              value: { _tag: "OktaTransportError" }
            })
          }
        }
        expect({ live: [...flaky.live.keys()], expired: flaky.expired }).toEqual({
          live: [],
          expired: []
        })
      }),
    {
      timeout: 120_000,
      fastCheck: {
        seed: 20261204,
        numRuns: 200,
        // Found by random runs: a call interrupted while the store's answer to its response is
        // hung leaves its lease unless it is ended all the same.
        // Each example is the property's argument list: here one record (the typing says
        // otherwise).
        examples: [
          [
            {
              slots: 1,
              steps: ["hang", "ok", "ok", "hang", "ok", "hang"],
              latencies: [0],
              drops: [false],
              patience: [undefined, undefined, undefined, 500],
              concurrency: 4
            }
          ]
        ] as never
      }
    }
  )
})
