/**
 * The Redis store's window budget as a property, against a real Redis: any requests from any
 * processes, in any interleaving of their steps (each script is atomic, so a sequence of script
 * calls is every interleaving there is), checked against a model of how Okta counts its windows.
 * `npm run test:redis`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import type { RateLimitKey, RateLimitObservation } from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"

const URL_ = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const KEY: RateLimitKey = { org: "acme.okta.com", bucket: "api" }
const LEASE_MILLIS = 60_000
/** Okta's `X-Rate-Limit-Reset` of the first window (epoch seconds); each window is a minute. */
const FIRST_RESET = 1_790_000_060

/**
 * A request as Okta sees it: admitted by the store, then counted when it reaches Okta (its answer
 * carries the window and what was left of it then). `informed`: admitted after the store had seen
 * an answer (before that it cannot know the budget, and each request is a probe).
 */
type Request =
  | { readonly phase: "admitted"; readonly informed: boolean }
  | {
      readonly phase: "counted"
      readonly informed: boolean
      readonly remaining: number
      readonly reset: number
    }

/**
 * One step of the processes or of Okta: a request is admitted (or not), reaches Okta, is answered
 * (the store observes it, maybe handing its lease on), ends without an answer (released as sent;
 * given up on before it reached Okta, it may still reach it later: `late`), or is never used;
 * Okta's window resets (`roll`: Okta starts counting again at once; the store learns of it from
 * an answer).
 */
const step = fc.record({
  kind: fc.constantFrom(
    ...([
      "acquire",
      "acquire",
      "reach",
      "reach",
      "answer",
      "answer",
      "drop",
      "unused",
      "late",
      "roll"
    ] as const)
  ),
  pick: fc.nat(),
  keep: fc.boolean()
})

/** A store under a key prefix of its own, and a raw client that deletes its keys at the end. */
const fixture = Effect.gen(function* () {
  const keyPrefix = `budget-${randomUUID()}:`
  const store = yield* RedisRateLimitStore.make({ url: URL_, keyPrefix })
  const raw = yield* Effect.acquireRelease(
    Effect.sync(() => new Redis(URL_)),
    (client) =>
      Effect.promise(async () => {
        const keys = await client.keys(`${keyPrefix}*`)
        if (keys.length > 0) await client.del(...keys)
        client.disconnect()
      })
  )
  const leases = Effect.promise(() => raw.zcard(`${keyPrefix}{${KEY.org}}:leases`))
  return { store, leases }
})

describe("the Redis store's window budget", () => {
  it.live.prop(
    "admits no request Okta would refuse for its window, and gives the budget back",
    {
      limit: fc.integer({ min: 1, max: 6 }),
      // What other callers had spent of the first window before these processes started.
      spent: fc.nat({ max: 5 }),
      steps: fc.array(step, { minLength: 20, maxLength: 120 })
    },
    ({ limit, spent, steps }) =>
      Effect.gen(function* () {
        const { store, leases } = yield* fixture
        let reset = FIRST_RESET
        let counted = Math.min(spent, limit - 1)
        let informed = false
        let rolled = false
        let unanswered = 0
        let next = 0
        const refused: Array<string> = []
        const probes: Array<string> = []
        const requests = new Map<string, Request>()
        const late: Array<string> = []
        const pick = <A>(items: ReadonlyArray<A>, n: number): A | undefined =>
          items.length === 0 ? undefined : items[n % items.length]
        const inPhase = (phase: Request["phase"]) =>
          [...requests].filter(([, request]) => request.phase === phase).map(([name]) => name)
        // The answer's headers; the store's clock stands still, so Okta's current window resets a
        // minute from now, and an earlier one has reset already.
        const answerOf = (request: { remaining: number; reset: number }): RateLimitObservation => ({
          window: {
            limit,
            remaining: request.remaining,
            reset: request.reset,
            resetInMillis: 60_000 - (reset - request.reset) * 1_000
          },
          concurrencyLimited: false
        })

        for (const { kind, pick: n, keep } of steps) {
          if (kind === "acquire") {
            const name = `r${next++}`
            const admission = yield* store.acquire(KEY, name, LEASE_MILLIS)
            if (admission._tag !== "Admitted") continue
            // Until an answer tells the budget, one request at a time probes for it.
            if (!informed && requests.size > 0) probes.push(name)
            requests.set(name, { phase: "admitted", informed })
          } else if (kind === "reach") {
            const name = pick(inPhase("admitted"), n)
            if (name === undefined) continue
            const { informed: wasInformed } = requests.get(name)!
            counted += 1
            if (counted > limit && wasInformed) refused.push(name)
            requests.set(name, {
              phase: "counted",
              informed: wasInformed,
              remaining: Math.max(0, limit - counted),
              reset
            })
          } else if (kind === "answer") {
            const name = pick(inPhase("counted"), n)
            const request = name === undefined ? undefined : requests.get(name)
            if (name === undefined || request?.phase !== "counted") continue
            const kept = yield* store.observe(KEY, name, answerOf(request), {
              adaptiveConcurrency: true,
              ...(keep ? { keepLeaseMillis: LEASE_MILLIS } : {})
            })
            informed = true
            // A lease handed on admits the process's next request.
            if (kept) requests.set(name, { phase: "admitted", informed: true })
            else requests.delete(name)
          } else if (kind === "drop") {
            const name = pick([...requests.keys()], n)
            if (name === undefined) continue
            yield* store.release(KEY, name, true)
            unanswered += 1
            if (requests.get(name)?.phase === "admitted") late.push(name)
            requests.delete(name)
          } else if (kind === "unused") {
            const name = pick(inPhase("admitted"), n)
            if (name === undefined) continue
            yield* store.release(KEY, name, false)
            requests.delete(name)
          } else if (kind === "late") {
            const name = pick(late, n)
            if (name === undefined) continue
            late.splice(late.indexOf(name), 1)
            counted += 1
          } else {
            reset += 60
            counted = 0
            rolled = true
          }
        }
        expect(refused).toEqual([])
        expect(probes).toEqual([])

        // Every request ends: no lease is left, and what Okta has left is admitted.
        for (const [name, request] of requests) {
          yield* request.phase === "counted"
            ? store.observe(KEY, name, answerOf(request), { adaptiveConcurrency: true })
            : store.release(KEY, name, false)
        }
        expect(yield* leases).toBe(0)
        // A request that ended without an answer stays charged (Okta may have counted it), and
        // after a reset the store may not have seen the new window yet: the budget is then known
        // only when neither happened.
        if (unanswered === 0 && !rolled && counted < limit) {
          expect(yield* store.acquire(KEY, "after", LEASE_MILLIS)).toEqual({ _tag: "Admitted" })
        }
      }).pipe(Effect.scoped),
    { timeout: 120_000, fastCheck: { seed: 20261204, numRuns: 600 } }
  )
})
