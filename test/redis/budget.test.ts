/**
 * The Redis store's window budget as a property, against a real Redis: any requests from any
 * processes, in any interleaving of their steps (each script is atomic, so a sequence of script
 * calls is every interleaving there is), checked against a model of how Okta counts its windows
 * (`test/support/windowModel.ts`). `npm run test:redis`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import type { RateLimitKey, RateLimitObservation } from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"
import { type ModelAnswer, modelArbitraries, runModel } from "../support/windowModel.js"

const URL_ = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
const KEY: RateLimitKey = { org: "acme.okta.com", bucket: "api" }
const LEASE_MILLIS = 60_000

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

/**
 * The answer's headers as the client passes them on. Redis's clock stands still here, so Okta's
 * current window resets a minute from now, and an earlier one has reset already.
 */
const observation = ({ limit, remaining, reset, current }: ModelAnswer): RateLimitObservation => ({
  window: { limit, remaining, reset, resetInMillis: 60_000 - (current - reset) * 1_000 },
  concurrencyLimited: false
})

describe("the Redis store's window budget", () => {
  it.live.prop(
    "admits no request Okta would refuse for its window, and gives the budget back",
    modelArbitraries,
    (arbitraries) =>
      Effect.gen(function* () {
        const { store, leases } = yield* fixture
        const run = yield* runModel(
          {
            acquire: (name) =>
              Effect.map(store.acquire(KEY, name, LEASE_MILLIS), (a) => a._tag === "Admitted"),
            answer: (name, answer, handOn) =>
              store.observe(KEY, name, observation(answer), {
                adaptiveConcurrency: true,
                ...(handOn ? { keepLeaseMillis: LEASE_MILLIS } : {})
              }),
            release: (name, sent) => store.release(KEY, name, sent),
            roll: Effect.void
          },
          arbitraries
        ).pipe(Effect.orDie)
        expect(run.refused).toEqual([])
        expect(run.probes).toEqual([])
        expect(yield* leases).toBe(0)
        // A request that ended without an answer stays charged (Okta may have counted it), and
        // after a reset the store may not have seen the new window yet: the budget is then known
        // only when neither happened.
        if (!run.unanswered && !run.rolled && run.counted < arbitraries.limit) {
          expect(yield* store.acquire(KEY, "after", LEASE_MILLIS)).toEqual({ _tag: "Admitted" })
        }
      }).pipe(Effect.scoped),
    { timeout: 120_000, fastCheck: { seed: 20261204, numRuns: 600 } }
  )
})
