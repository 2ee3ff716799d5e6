/**
 * The Redis store's window budget as a property, against a real Redis: any requests from any
 * processes, in any interleaving of their steps (each script is atomic, so a sequence of script
 * calls is every interleaving there is), checked against a model of how Okta counts its windows
 * (`test/support/windowModel.ts`). `npm run test:redis`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { RateLimitObservation } from "effect-okta-connections"
import { type ModelAnswer, modelArbitraries, runModel } from "../support/windowModel.js"
import { fixture, KEY } from "./fixture.js"

const LEASE_MILLIS = 60_000

/**
 * The answer's headers as the client passes them on. Redis's clock stands still here, so Okta's
 * current window resets a minute from now, and an earlier one has reset already.
 */
const observation = ({
  concurrencyLimited,
  limit,
  remaining,
  reset,
  current
}: ModelAnswer): RateLimitObservation =>
  concurrencyLimited
    ? { concurrencyLimited }
    : {
        window: { limit, remaining, reset, resetInMillis: 60_000 - (current - reset) * 1_000 },
        concurrencyLimited
      }

describe("the Redis store's window budget", () => {
  it.live.prop(
    "admits no request Okta would refuse for its window, and gives the budget back",
    modelArbitraries,
    (arbitraries) =>
      Effect.gen(function* () {
        const { store, leases, raw, keyPrefix } = yield* fixture
        const run = yield* runModel(
          {
            acquire: (name) =>
              Effect.map(store.acquire(KEY, name, LEASE_MILLIS), (a) => a._tag === "Admitted"),
            answer: (name, answer, handOn) =>
              store.observe(KEY, name, observation(answer), {
                adaptiveConcurrency: true,
                ...(handOn ? { keepLeaseMillis: LEASE_MILLIS } : {})
              }),
            release: (name, ending) => store.release(KEY, name, ending === "dropped"),
            roll: Effect.void
          },
          arbitraries
        ).pipe(Effect.orDie)
        expect(run.refused).toEqual([])
        // Probes go one at a time, until one is sent and gets no answer (or is refused: the
        // model does not tell the two apart), as in a lone process.
        if (!run.failedBlind) expect(run.probes).toEqual([])
        expect(yield* leases).toBe(0)
        // A concurrent-request 429 never takes the org's level below one request.
        const level = yield* Effect.promise(() =>
          raw.hget(`${keyPrefix}{${KEY.org}}:concurrency`, "cap")
        )
        if (level !== null) expect(Number(level)).toBeGreaterThanOrEqual(1)
        // A request sent that ended without an answer stays charged (Okta may have counted it;
        // one whose connection was refused is not), and after a reset the store may not have
        // seen the new window yet: the budget is then known only when neither happened.
        if (!run.unanswered && !run.rolled && run.counted < arbitraries.limit) {
          expect(yield* store.acquire(KEY, "after", LEASE_MILLIS)).toEqual({ _tag: "Admitted" })
        }
      }).pipe(Effect.scoped),
    { timeout: 120_000, fastCheck: { seed: 20261204, numRuns: 600 } }
  )
})
