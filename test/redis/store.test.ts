/**
 * The Redis rate-limit store against a real Redis (REDIS_URL, default redis://127.0.0.1:6379):
 * its scripts (window roll-over, stale and reordered observations, resets one window apart,
 * lease expiry, the concurrency level, state expiry), the store's defaults and connection, and
 * several clients sharing one budget and one concurrent-request limit in one process. Each test
 * has its own key prefix. `npm run test:redis`; CI starts Redis if it must.
 */
import { describe, expect, it } from "@effect/vitest"
import { inject, vi } from "vitest"
import {
  ConfigProvider,
  type Context,
  Effect,
  Either,
  Layer,
  Logger,
  Metric,
  Redacted
} from "effect"
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import {
  ApplicationConnections,
  OktaClient,
  OktaMetrics,
  type RateLimitStoreService,
  RetryPolicy
} from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"
import { OktaSimulator, type SimulatedRateLimit } from "effect-okta-connections/testing"
import { fixture, KEY, rawClient, REDIS_URL } from "./fixture.js"
import { runNode } from "../support/subprocess.js"

const adaptive = { adaptiveConcurrency: true }

// The suite's project (vitest.redis.config.ts) names the ioredis major it loads: this checks that
// the module really is that major, not the one installed as `ioredis`. Only 6 speaks RESP3 by
// default.
it("runs on the ioredis major its project names", () => {
  const client = new Redis(REDIS_URL, { lazyConnect: true })
  const { protocol } = client.options as { readonly protocol?: number }
  expect(protocol === 3 ? 6 : 5).toBe(inject("ioredisMajor"))
})

/** The response to `lease`: Okta's rate-limit headers for a window of 50 (reset 1000). */
const answer = (
  store: RateLimitStoreService,
  lease: string,
  remaining: number,
  { reset = 1_000, resetInMillis = 30_000 } = {}
) =>
  store.observe(
    KEY,
    lease,
    { window: { limit: 50, remaining, reset, resetInMillis }, concurrencyLimited: false },
    adaptive
  )

/** The first response of a fresh store: after it, requests go side by side. */
const started = (store: RateLimitStoreService, remaining = 40, resetInMillis = 30_000) =>
  Effect.gen(function* () {
    expect(yield* store.acquire(KEY, "probe", 60_000)).toEqual({ _tag: "Admitted" })
    yield* answer(store, "probe", remaining, { resetInMillis })
  })

describe("the Redis store's scripts", () => {
  it.live("until a response tells the budget, one request at a time probes", () =>
    Effect.gen(function* () {
      const { store } = yield* fixture
      expect(yield* store.acquire(KEY, "a", 60_000)).toEqual({ _tag: "Admitted" })
      expect(yield* store.acquire(KEY, "b", 60_000)).toMatchObject({
        _tag: "Wait",
        reason: "concurrency_cap"
      })
      yield* answer(store, "a", 49)
      for (const lease of ["b", "c", "d"]) {
        expect(yield* store.acquire(KEY, lease, 60_000)).toEqual({ _tag: "Admitted" })
      }
    }).pipe(Effect.scoped)
  )

  // Otherwise, while Okta cannot be reached, every process's calls queue one behind the other,
  // each waiting out the one before's connect timeout.
  it.live(
    "a probe tried and unanswered (timed out, or its connection refused) ends the probing, as in a lone process; an unused lease does not",
    () =>
      Effect.gen(function* () {
        for (const [sent, tried] of [
          [true, true],
          [true, undefined],
          [false, true]
        ] as const) {
          const { store, window, raw, keyPrefix } = yield* fixture
          expect(yield* store.acquire(KEY, "unused", 60_000)).toEqual({ _tag: "Admitted" })
          yield* store.release(KEY, "unused", false, false)
          expect(yield* store.acquire(KEY, "probe", 60_000)).toEqual({ _tag: "Admitted" })
          expect(yield* store.acquire(KEY, "b", 60_000)).toMatchObject({ _tag: "Wait" })
          yield* store.release(KEY, "probe", sent, tried)
          for (const lease of ["b", "c", "d"]) {
            expect(yield* store.acquire(KEY, lease, 60_000)).toEqual({ _tag: "Admitted" })
          }
          // Charged only when it may have reached Okta; the state expires like any other.
          const state = yield* window()
          expect(Number(state["lost"] ?? 0)).toBe(sent ? 1 : 0)
          const ttl = yield* Effect.promise(() =>
            raw.pttl(`${keyPrefix}{${KEY.org}}:${KEY.bucket}:window`)
          )
          expect(ttl).toBeGreaterThan(0)
        }
      }).pipe(Effect.scoped)
  )

  it.live("a spent window (a 429, or Remaining 0) holds everyone until its reset", () =>
    Effect.gen(function* () {
      const { store } = yield* fixture
      yield* started(store, 0, 30_000)
      const wait = yield* store.acquire(KEY, "x", 60_000)
      expect(wait).toMatchObject({ _tag: "Wait", reason: "window_exhausted" })
      const millis = wait._tag === "Wait" ? wait.millis : 0
      expect(millis).toBeGreaterThan(29_000)
      expect(millis).toBeLessThanOrEqual(30_000)
    }).pipe(Effect.scoped)
  )

  it.live("a window whose reset has passed rolls over to the limit's budget", () =>
    Effect.gen(function* () {
      const { store, window } = yield* fixture
      // Spent, with a reset already past on Redis's clock.
      yield* started(store, 0, -10)
      expect(yield* store.acquire(KEY, "x", 60_000)).toEqual({ _tag: "Admitted" })
      const state = yield* window()
      expect(Number(state["remaining"])).toBe(50)
      expect(Number(state["reset"])).toBeGreaterThan(Number(state["observed"]))
    }).pipe(Effect.scoped)
  )

  it.live(
    "windows that passed unobserved roll over to the one now under way; unrefreshed, state expires",
    () =>
      Effect.gen(function* () {
        const { store, window, raw, keyPrefix } = yield* fixture
        // Spent, with a reset two windows and more past (no process called meanwhile).
        yield* started(store, 0, -130_000)
        // Window state nobody refreshes expires (three windows after the last answer).
        const ttl = yield* Effect.promise(() =>
          raw.pttl(`${keyPrefix}{${KEY.org}}:${KEY.bucket}:window`)
        )
        expect(ttl).toBeGreaterThan(170_000)
        expect(ttl).toBeLessThanOrEqual(180_000)
        expect(yield* store.acquire(KEY, "x", 60_000)).toEqual({ _tag: "Admitted" })
        const [seconds, micros] = yield* Effect.promise(() => raw.time())
        const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
        const untilReset = Number((yield* window())["reset"]) - now
        expect(untilReset).toBeGreaterThan(0)
        expect(untilReset).toBeLessThanOrEqual(60_000)
      }).pipe(Effect.scoped)
  )

  it.live("a window without a Limit header rolls over to an unknown budget, not to none", () =>
    Effect.gen(function* () {
      const { store } = yield* fixture
      expect(yield* store.acquire(KEY, "probe", 60_000)).toEqual({ _tag: "Admitted" })
      yield* store.observe(
        KEY,
        "probe",
        { window: { remaining: 0, reset: 1_000, resetInMillis: -10 }, concurrencyLimited: false },
        adaptive
      )
      expect(yield* store.acquire(KEY, "x", 60_000)).toEqual({ _tag: "Admitted" })
    }).pipe(Effect.scoped)
  )

  it.live(
    "the server is authoritative: newer windows replace, the lower count wins, late answers are ignored",
    () =>
      Effect.gen(function* () {
        const { store, window } = yield* fixture
        yield* started(store, 20, 30_000)
        const observe = (remaining: number, reset: number, resetInMillis: number) =>
          Effect.zipRight(
            store.acquire(KEY, `l${remaining}`, 60_000),
            answer(store, `l${remaining}`, remaining, { reset, resetInMillis })
          )
        // Reordered: a response that left this window with more budget arrives late.
        yield* observe(25, 1_000, 30_000)
        expect(Number((yield* window())["remaining"])).toBe(20)
        // The same window reported by another process, whose clock estimate is a second off.
        yield* observe(12, 1_000, 30_900)
        expect(Number((yield* window())["remaining"])).toBe(12)
        // Each process's time to reset errs late: the earliest reported is kept, whoever sent it.
        const kept = Number((yield* window())["reset"])
        yield* observe(12, 1_000, 20_000)
        expect(Number((yield* window())["reset"])).toBeLessThan(kept - 5_000)
        // A late answer from the window before changes nothing.
        yield* observe(48, 940, -30_000)
        expect(Number((yield* window())["remaining"])).toBe(12)
        // The next window, 30 s after (a window shorter than the 60 s assumed).
        yield* observe(45, 1_030, 60_000)
        const state = yield* window()
        expect(Number(state["remaining"])).toBe(45)
        // Its length is learnt from the distance between resets.
        expect(Number(state["length"])).toBe(30_000)
      }).pipe(Effect.scoped)
  )

  it.live(
    "the budget is Okta's lowest Remaining less the requests in flight: it comes back as they answer",
    () =>
      Effect.gen(function* () {
        const { store } = yield* fixture
        yield* started(store, 5, 30_000)
        for (const lease of ["a", "b", "c", "d"]) {
          expect(yield* store.acquire(KEY, lease, 60_000)).toEqual({ _tag: "Admitted" })
        }
        // Okta counted a, b and c; c's answer comes first: a, b and d are in flight.
        yield* answer(store, "c", 2)
        expect(yield* store.acquire(KEY, "e", 60_000)).toMatchObject({
          _tag: "Wait",
          reason: "window_exhausted",
          inFlight: true
        })
        // a and b were counted already: with their answers one slot is free again.
        yield* answer(store, "a", 4)
        yield* answer(store, "b", 3)
        expect(yield* store.acquire(KEY, "e", 60_000)).toEqual({ _tag: "Admitted" })
        // d and e take the last two: the window is spent, until its reset.
        yield* answer(store, "d", 1)
        yield* answer(store, "e", 0)
        const spent = yield* store.acquire(KEY, "f", 60_000)
        expect(spent).toMatchObject({ _tag: "Wait", reason: "window_exhausted" })
        expect(spent._tag === "Wait" && spent.inFlight).not.toBe(true)
      }).pipe(Effect.scoped)
  )

  it.live(
    "a request that ended without an answer is charged to its window; an unused lease is not",
    () =>
      Effect.gen(function* () {
        const { store, window } = yield* fixture
        yield* started(store, 3, 30_000)
        expect(yield* store.acquire(KEY, "timed-out", 60_000)).toEqual({ _tag: "Admitted" })
        yield* store.release(KEY, "timed-out", true)
        expect((yield* window())["lost"]).toBe("1")
        // A lease handed on and never used costs nothing.
        expect(yield* store.acquire(KEY, "unused", 60_000)).toEqual({ _tag: "Admitted" })
        yield* store.release(KEY, "unused", false)
        expect((yield* window())["lost"]).toBe("1")
        // Okta may have counted it: 3 - 1 may still be sent.
        for (const lease of ["a", "b"]) {
          expect(yield* store.acquire(KEY, lease, 60_000)).toEqual({ _tag: "Admitted" })
        }
        expect(yield* store.acquire(KEY, "c", 60_000)).toMatchObject({ _tag: "Wait" })
      }).pipe(Effect.scoped)
  )

  it.live(
    "the charge stays until a window that starts more than a second after it, and is kept from before the first answer",
    () =>
      Effect.gen(function* () {
        const { store, raw, window, keyPrefix } = yield* fixture
        const windowKey = `${keyPrefix}{${KEY.org}}:${KEY.bucket}:window`
        // Redis's clock cannot be moved: the charge is moved back in time instead.
        const chargedSecondsAgo = (seconds: number) =>
          Effect.promise(async () => {
            const lostAt = Number(await raw.hget(windowKey, "lostAt"))
            await raw.hset(windowKey, "lostAt", lostAt - seconds * 1_000)
          })
        const resetPassed = Effect.promise(async () => {
          const [seconds, micros] = await raw.time()
          await raw.hset(windowKey, "reset", Number(seconds) * 1_000 + Number(micros) / 1_000 - 100)
        })
        // The first request gets no answer, and may yet reach Okta after the next one's count.
        expect(yield* store.acquire(KEY, "first", 60_000)).toEqual({ _tag: "Admitted" })
        yield* store.release(KEY, "first", true)
        yield* started(store, 10, 30_000)
        expect((yield* window())["lost"]).toBe("1")
        // Okta's next window began half a second ago: the request may have been counted in it.
        yield* store.acquire(KEY, "b", 60_000)
        yield* answer(store, "b", 40, { reset: 1_060, resetInMillis: 59_500 })
        expect((yield* window())["lost"]).toBe("1")
        // A window that began more than a second after the charge does not carry it.
        yield* chargedSecondsAgo(5)
        yield* store.acquire(KEY, "c", 60_000)
        yield* answer(store, "c", 40, { reset: 1_120, resetInMillis: 60_000 })
        expect((yield* window())["lost"]).toBe("0")
        // The same when the store sees the reset pass on its own clock.
        yield* store.acquire(KEY, "d", 60_000)
        yield* store.release(KEY, "d", true)
        yield* resetPassed
        expect(yield* store.acquire(KEY, "e", 60_000)).toEqual({ _tag: "Admitted" })
        expect((yield* window())["lost"]).toBe("1")
        yield* chargedSecondsAgo(5)
        yield* resetPassed
        expect(yield* store.acquire(KEY, "f", 60_000)).toEqual({ _tag: "Admitted" })
        expect((yield* window())["lost"]).toBe("0")
      }).pipe(Effect.scoped)
  )

  it.live("a command Redis does not answer within 250 ms fails: the client falls back", () =>
    Effect.gen(function* () {
      const { store, raw } = yield* fixture
      // The store bounds its own commands, so the client does not time them again.
      expect(store.callTimeoutMillis).toBe(250)
      yield* started(store)
      // Redis stops answering every client for 600 ms.
      yield* Effect.promise(() => raw.call("CLIENT", "PAUSE", "600"))
      const before = Date.now()
      const result = yield* Effect.either(store.acquire(KEY, "paused", 60_000))
      expect(Either.isLeft(result) && result.left.reason).toContain("timed out")
      expect(Date.now() - before).toBeLessThan(550)
    }).pipe(Effect.scoped)
  )

  it.live("leases expire on their own: a dead worker's slot comes back after its TTL", () =>
    Effect.gen(function* () {
      const { store, window } = yield* fixture
      yield* started(store)
      // A concurrent-request 429 with nothing in flight sets the level to 1.
      yield* store.acquire(KEY, "c", 60_000)
      yield* store.observe(KEY, "c", { concurrencyLimited: true }, adaptive)
      // A worker takes the slot with a long lease, and dies.
      expect(yield* store.acquire(KEY, "dead", 60_000)).toEqual({ _tag: "Admitted" })
      const wait = yield* store.acquire(KEY, "next", 60_000)
      expect(wait).toMatchObject({ _tag: "Wait", reason: "concurrency_cap" })
      expect(wait._tag === "Wait" && wait.millis > 59_000).toBe(true)
      // A lease whose TTL has passed (0 here) no longer counts.
      yield* store.release(KEY, "dead", true)
      expect(yield* store.acquire(KEY, "short", 0)).toEqual({ _tag: "Admitted" })
      const lostBefore = Number((yield* window())["lost"])
      expect(yield* store.acquire(KEY, "after", 60_000)).toEqual({ _tag: "Admitted" })
      // Its request may have reached Okta and been counted: the lease's end is charged to the
      // window, as a request that ended without an answer is.
      expect(Number((yield* window())["lost"])).toBe(lostBefore + 1)
    }).pipe(Effect.scoped)
  )

  it.live("a concurrent-request 429 lowers the org's level; successes raise it again", () =>
    Effect.gen(function* () {
      const { store, raw, keyPrefix } = yield* fixture
      yield* started(store)
      for (const lease of ["a", "b", "c", "d"]) yield* store.acquire(KEY, lease, 60_000)
      // The 429 of "d": three still in flight.
      yield* store.observe(KEY, "d", { concurrencyLimited: true }, adaptive)
      const cap = () =>
        Effect.promise(() => raw.hget(`${keyPrefix}{${KEY.org}}:concurrency`, "cap"))
      expect(yield* cap()).toBe("3")
      expect(yield* store.acquire(KEY, "e", 60_000)).toMatchObject({ reason: "concurrency_cap" })
      // The token bucket shares the org's leases: the level is per org.
      expect(yield* store.acquire({ ...KEY, bucket: "token" }, "t", 60_000)).toMatchObject({
        reason: "concurrency_cap"
      })
      // Four rounds of successes at level 3 raise it to 4.
      for (let i = 0; i < 12; i++) {
        yield* answer(store, ["a", "b", "c"][i % 3]!, 30)
        if (i % 3 === 2 && i < 11) {
          for (const lease of ["a", "b", "c"]) yield* store.acquire(KEY, lease, 60_000)
        }
      }
      expect(yield* cap()).toBe("4")
    }).pipe(Effect.scoped)
  )

  it.live("a failed probe doubles the rounds before the next; one that holds halves them", () =>
    Effect.gen(function* () {
      const { store, raw, keyPrefix } = yield* fixture
      yield* started(store)
      const field = (name: "cap" | "rounds") =>
        Effect.promise(() => raw.hget(`${keyPrefix}{${KEY.org}}:concurrency`, name))
      // Requests one after another, each answered: successes at the current level.
      const succeed = (count: number) =>
        Effect.forEach(
          Array.from({ length: count }, (_, i) => `s${i}`),
          (lease) =>
            Effect.gen(function* () {
              expect(yield* store.acquire(KEY, lease, 60_000)).toEqual({ _tag: "Admitted" })
              yield* answer(store, lease, 30)
            }),
          { discard: true }
        )
      // Three in flight: the last draws the 429 (the level drops to 2), the other two succeed.
      const limited = (leases: ReadonlyArray<string>) =>
        Effect.gen(function* () {
          for (const lease of leases) yield* store.acquire(KEY, lease, 60_000)
          yield* store.observe(KEY, leases[2]!, { concurrencyLimited: true }, adaptive)
          yield* answer(store, leases[0]!, 30)
          yield* answer(store, leases[1]!, 30)
        })
      // Not a probe's 429: the rounds stay at 4, and level 3 is probed after 8 successes.
      yield* limited(["a", "b", "c"])
      expect([yield* field("cap"), yield* field("rounds")]).toEqual(["2", "4"])
      yield* succeed(6)
      expect(yield* field("cap")).toBe("3")
      // The probe fails: back to 2, and the next probe waits for 8 rounds (16 successes).
      yield* limited(["x", "y", "z"])
      expect([yield* field("cap"), yield* field("rounds")]).toEqual(["2", "8"])
      yield* succeed(13)
      expect(yield* field("cap")).toBe("2")
      yield* succeed(1)
      expect(yield* field("cap")).toBe("3")
      // This probe holds until the next (8 rounds at 3): the rounds halve.
      yield* succeed(8 * 3 - 1)
      expect(yield* field("cap")).toBe("3")
      yield* succeed(1)
      expect([yield* field("cap"), yield* field("rounds")]).toEqual(["4", "4"])
    }).pipe(Effect.scoped)
  )
})

describe("clients sharing one store", () => {
  const simulated = (rateLimit: SimulatedRateLimit, latencyMillis?: number) =>
    OktaSimulator.layer({ tokens: [{ token: "t" }], rateLimit, latencyMillis })

  /** Two clients (two gates), one simulated org, optionally one shared store. */
  const twoClients = (store: RateLimitStoreService | undefined) =>
    Effect.gen(function* () {
      const client = () =>
        Layer.build(
          ApplicationConnections.layer.pipe(
            Layer.provide(
              OktaClient.layer({
                orgUrl: "https://simulator.okta.test",
                apiToken: Redacted.make("t"),
                retry: RetryPolicy.make({ resetJitter: 0 }),
                ...(store !== undefined ? { rateLimitStore: store } : {})
              })
            ),
            Layer.provide(OktaSimulator.layerHttpClient)
          )
        )
      return [yield* client(), yield* client()] as const
    })

  /** `count` GETs through one of the clients, `concurrency` at a time. */
  const gets = (
    client: Context.Context<ApplicationConnections>,
    count: number,
    concurrency: number
  ) =>
    Effect.forEach(
      Array.from({ length: count }),
      () =>
        Effect.flatMap(ApplicationConnections, (api) =>
          api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
        ).pipe(Effect.provide(client)),
      { concurrency }
    )

  /** Both clients over one Redis store, `count` GETs each: how the org answered them. */
  const together = (count: number, concurrency: number) =>
    Effect.gen(function* () {
      const { store } = yield* fixture
      const [a, b] = yield* twoClients(store)
      yield* Effect.all([gets(a, count, concurrency), gets(b, count, concurrency)], {
        concurrency: 2
      })
      const outcomes = (yield* (yield* OktaSimulator).requests).map((r) => r.outcome)
      return {
        succeeded: outcomes.filter((o) => o === 200).length,
        limited: outcomes.filter((o) => o === 429).length
      }
    })

  it.live("draw on one budget: together they stay under the window", () =>
    Effect.gen(function* () {
      const { succeeded, limited } = yield* together(15, 5)
      expect(succeeded).toBe(30)
      // One budget of 10 a second for both: at most the first probe's window is guessed.
      expect(limited).toBeLessThanOrEqual(2)
    }).pipe(Effect.provide(simulated({ limit: 10, windowSeconds: 1 })), Effect.scoped)
  )

  it.live("share the org's concurrent-request limit: after the first burst, one 429 a probe", () =>
    Effect.gen(function* () {
      const { succeeded, limited } = yield* together(40, 6)
      expect(succeeded).toBe(80)
      // The first request probes alone; then all 12 fibers go, and the org refuses 9. From then
      // on the level they share is what was in flight at each 429, and it goes past the limit
      // only when probed one higher, after at least 4 rounds (12 successes) at the limit.
      expect(limited).toBeLessThanOrEqual(9 + Math.floor(80 / 12))
    }).pipe(
      // Each request held 10 ms in the org, three at most.
      Effect.provide(simulated({ limit: 10_000, windowSeconds: 60, concurrencyLimit: 3 }, 10)),
      Effect.scoped
    )
  )

  it.live(
    "an ioredis client of one's own that returns numbers as strings: the store decides as ever",
    () =>
      Effect.gen(function* () {
        const keyPrefix = `test-${randomUUID()}:`
        yield* rawClient(keyPrefix)
        const own = yield* Effect.acquireRelease(
          Effect.sync(() => new Redis(REDIS_URL, { stringNumbers: true })),
          (client) => Effect.sync(() => client.disconnect())
        )
        const store = yield* RedisRateLimitStore.make({ client: own, keyPrefix })
        // The probe goes alone; its answer lets the next one go, and that one's hands its slot on.
        expect(yield* store.acquire(KEY, "a", 60_000)).toEqual({ _tag: "Admitted" })
        expect(yield* store.acquire(KEY, "b", 60_000)).toMatchObject({
          _tag: "Wait",
          reason: "concurrency_cap"
        })
        expect(yield* answer(store, "a", 40)).toBe(false)
        expect(yield* store.acquire(KEY, "b", 60_000)).toEqual({ _tag: "Admitted" })
        const kept = store.observe(
          KEY,
          "b",
          {
            window: { limit: 50, remaining: 39, reset: 1_000, resetInMillis: 30_000 },
            concurrencyLimited: false
          },
          { ...adaptive, keepLeaseMillis: 60_000 }
        )
        expect(yield* kept).toBe(true)
        // And the calls of a client over it go by the store, without falling back.
        const fallbacks = Metric.value(
          Metric.tagged(OktaMetrics.rateLimitStoreFallbacks, "bucket", "api")
        )
        const before = (yield* fallbacks).count
        const [client] = yield* twoClients(store)
        expect(yield* gets(client, 6, 3)).toHaveLength(6)
        expect((yield* fallbacks).count).toBe(before)
      }).pipe(Effect.provide(simulated({ limit: 50, windowSeconds: 60 })), Effect.scoped)
  )

  it.live(
    "keys under okta-connections: by default, the leases expiring; fallbackShare passed on; the connection closed with the scope",
    () =>
      Effect.gen(function* () {
        const org = `default-prefix-${randomUUID()}.okta.com`
        const raw = yield* rawClient(`okta-connections:{${org}}`)
        const named = () =>
          Effect.promise(async () =>
            String(await raw.call("CLIENT", "LIST"))
              .split("\n")
              .filter((line) => line.includes(" name=effect-okta-connections "))
          )
        const before = (yield* named()).length
        yield* Effect.scoped(
          Effect.gen(function* () {
            const store = yield* RedisRateLimitStore.make({ url: REDIS_URL, fallbackShare: 0.5 })
            expect(store.fallbackShare).toBe(0.5)
            expect(yield* store.acquire({ org, bucket: "api" }, "a", 60_000)).toEqual({
              _tag: "Admitted"
            })
            const leases = `okta-connections:{${org}}:leases`
            expect(yield* Effect.promise(() => raw.zcard(leases))).toBe(1)
            // Gone by itself after the lease and a window: a dead worker's set does not stay.
            const ttl = yield* Effect.promise(() => raw.pttl(leases))
            expect(ttl).toBeGreaterThan(60_000)
            expect(ttl).toBeLessThanOrEqual(120_000)
            expect((yield* named()).length).toBe(before + 1)
          })
        )
        // Disconnected when its scope closed: no connection left to keep a process alive. (Redis
        // notices the close a moment later: asked every 20 ms, for a second at most.)
        let left = (yield* named()).length
        for (let asked = 0; asked < 50 && left > before; asked++) {
          yield* Effect.sleep("20 millis")
          left = (yield* named()).length
        }
        expect(left).toBe(before)
      }).pipe(Effect.scoped)
  )

  it.live(
    "a Redis that lost its scripts (a restart, a failover, SCRIPT FLUSH) is given them again",
    () =>
      Effect.gen(function* () {
        const keyPrefix = `test-${randomUUID()}:`
        const raw = yield* rawClient(keyPrefix)
        const own = yield* Effect.acquireRelease(
          Effect.sync(() => new Redis(REDIS_URL)),
          (client) => Effect.sync(() => client.disconnect())
        )
        const store = yield* RedisRateLimitStore.make({ client: own, keyPrefix })
        // As Redis answers EVALSHA for a script it no longer holds (flushing the shared server's
        // script cache for real would pull it from under the other tests).
        let refused = 0
        Object.assign(own, {
          evalsha: () => {
            refused += 1
            return Promise.reject(new Error("NOSCRIPT No matching script. Please use EVAL."))
          }
        })
        expect(yield* store.acquire(KEY, "probe", 60_000)).toEqual({ _tag: "Admitted" })
        yield* answer(store, "probe", 40)
        expect(refused).toBe(2)
        // The scripts ran: the window is in Redis.
        const window = yield* Effect.promise(() =>
          raw.hgetall(`${keyPrefix}{${KEY.org}}:${KEY.bucket}:window`)
        )
        expect(window).toMatchObject({ limit: "50", remaining: "40" })
      }).pipe(Effect.scoped)
  )

  it.live("a TLS Redis (rediss://, as managed services give) is taken, not refused", () =>
    Effect.gen(function* () {
      // Nothing listens there: the store is built, and its calls fail over as for any Redis down.
      const store = yield* Effect.either(RedisRateLimitStore.make({ url: "rediss://127.0.0.1:1" }))
      expect(Either.isRight(store)).toBe(true)
    }).pipe(Effect.scoped)
  )

  it.live("a reply that is not the script's numbers fails the store call, typed", () =>
    Effect.gen(function* () {
      const own = yield* Effect.acquireRelease(
        Effect.sync(() => new Redis(REDIS_URL)),
        (client) => Effect.sync(() => client.disconnect())
      )
      const store = yield* RedisRateLimitStore.make({ client: own, keyPrefix: "never-written:" })
      // As a proxy or a Redis-compatible server might answer.
      for (const reply of [null, "OK", ["1", "x"], [{}]]) {
        Object.assign(own, { evalsha: () => Promise.resolve(reply) })
        for (const operation of [
          store.acquire(KEY, "a", 60_000),
          answer(store, "a", 40),
          store.release(KEY, "a", true)
        ]) {
          // A failure (a defect, or a success, would fail the test here).
          expect(yield* Effect.flip(operation)).toMatchObject({
            _tag: "RateLimitStoreError",
            reason: "the script's reply is not numbers"
          })
        }
      }
    }).pipe(Effect.scoped)
  )

  it.live(
    "Redis unreachable: every call still succeeds, on the local gate, logged and counted (not printed by ioredis)",
    () =>
      Effect.gen(function* () {
        // ioredis prints each failed reconnection to the console unless someone listens for it.
        const printed = yield* Effect.acquireRelease(
          Effect.sync(() => vi.spyOn(console, "error")),
          (spy) => Effect.sync(() => spy.mockRestore())
        )
        const store = yield* RedisRateLimitStore.make({ url: "redis://127.0.0.1:1" })
        const [a] = yield* twoClients(store)
        const warnings: Array<string> = []
        const logger = Logger.make(({ logLevel, message }) => {
          if (logLevel._tag === "Warning") warnings.push(String(message))
        })
        const fallbacks = Metric.value(
          Metric.tagged(OktaMetrics.rateLimitStoreFallbacks, "bucket", "api")
        )
        const localRequests = Metric.value(
          Metric.tagged(OktaMetrics.rateLimitStoreLocalRequests, "bucket", "api")
        )
        const before = (yield* fallbacks).count
        const localBefore = (yield* localRequests).count
        const results = yield* Effect.forEach(
          Array.from({ length: 5 }),
          () =>
            Effect.flatMap(ApplicationConnections, (api) =>
              api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
            ),
          { concurrency: 5 }
        ).pipe(Effect.provide(a), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        expect(results).toHaveLength(5)
        expect((yield* fallbacks).count - before).toBeGreaterThanOrEqual(1)
        // Every one of them went through the local gate.
        expect((yield* localRequests).count - localBefore).toBe(5)
        expect(warnings.join("\n")).toContain("rate-limit store failing")
        // Why, in words: not ioredis's "Stream isn't writeable and enableOfflineQueue …".
        expect(warnings.join("\n")).toContain(
          "not connected to Redis (connect ECONNREFUSED 127.0.0.1:1)"
        )
        expect(warnings.join("\n")).not.toContain("enableOfflineQueue")
        expect(printed.mock.calls.flat().join("\n")).not.toContain("[ioredis]")
      }).pipe(Effect.provide(simulated({ limit: 50, windowSeconds: 60 })), Effect.scoped)
  )
})

describe("a Redis that refuses the connection", () => {
  it.live("holds neither the start of a short script nor its exit", () =>
    Effect.gen(function* () {
      // Real time, on purpose: the waits in question were real timers of 2 s (the first
      // connection's, and ioredis's before it drops a connection it closes), which no TestClock
      // moves; each bound leaves a wide margin on both sides.
      const script = [
        'import { Effect } from "effect"',
        'import { RedisRateLimitStore } from "effect-okta-connections/redis"',
        "const start = performance.now()",
        'await Effect.runPromise(Effect.scoped(RedisRateLimitStore.make({ url: "redis://127.0.0.1:1" })))',
        "const closed = performance.now()",
        'console.log(Math.round(closed - start), "ms to build and close")',
        'process.on("exit", () => console.log(Math.round(performance.now() - closed), "ms to exit"))'
      ].join("\n")
      const run = yield* runNode(["--input-type=module", "-e", script], {
        PATH: process.env["PATH"]
      })
      expect([run.code, run.stderr]).toEqual([0, ""])
      const [built, exited] = run.stdout
        .trim()
        .split("\n")
        .map((line) => parseInt(line, 10))
      expect(built).toBeLessThan(1_000)
      expect(exited).toBeLessThan(1_000)
    })
  )
})

describe("layerConfig with REDIS_URL", () => {
  it.live("shares the gate through the Redis it names, under REDIS_KEY_PREFIX", () =>
    Effect.gen(function* () {
      const keyPrefix = `test-config-${randomUUID()}:`
      const raw = yield* rawClient(keyPrefix)
      const env = new Map([
        ["OKTA_CLIENT_ORGURL", "https://simulator.okta.test"],
        ["OKTA_CLIENT_TOKEN", "t"],
        ["REDIS_URL", REDIS_URL],
        ["REDIS_KEY_PREFIX", keyPrefix]
      ])
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(OktaClient.layerConfig()),
            Layer.provide(OktaSimulator.layerHttpClient),
            Layer.provide(OktaSimulator.layer({ tokens: [{ token: "t" }] }))
          )
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(env))
      )
      const window = yield* Effect.promise(() =>
        raw.hgetall(`${keyPrefix}{simulator.okta.test}:api:window`)
      )
      expect(window["seen"]).toBe("1")
      expect(Number(window["limit"])).toBe(50)
    }).pipe(Effect.scoped)
  )
})
