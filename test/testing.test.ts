/**
 * `withAdvancingClock`: client code under `it.effect` (TestClock) completes its retries and gate
 * waits without real time passing, and an effect stuck on something else fails with a hint.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit } from "effect"
import { ApplicationConnections } from "../src/index.js"
import { OktaSimulator, withAdvancingClock } from "../src/testing/index.js"

const ZSCALER = "0oasimzscaler0000001"

describe("withAdvancingClock", () => {
  it.effect("a rate-limit window wait completes under TestClock", () =>
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const sim = yield* OktaSimulator
      const get = api.getDefaultProvisioningConnectionForApplication(ZSCALER)
      const all = yield* withAdvancingClock(
        Effect.all([get, get, get], { concurrency: "unbounded" })
      )
      expect(all).toHaveLength(3)
      // Two requests per 60 s window: the third waited at the gate for the next one.
      expect((yield* sim.requests).map((r) => r.outcome)).toEqual([200, 200, 200])
    }).pipe(
      Effect.provide(OktaSimulator.layerConnections({ rateLimit: { limit: 2, windowSeconds: 60 } }))
    )
  )

  it.live("under the live clock it just runs the effect", () =>
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const connection = yield* withAdvancingClock(
        api.getDefaultProvisioningConnectionForApplication(ZSCALER)
      )
      expect(connection.status).toBe("ENABLED")
    }).pipe(Effect.provide(OktaSimulator.layerConnections()))
  )

  it.effect("an effect waiting on something no clock move brings dies with a hint", () =>
    Effect.gen(function* () {
      const never = yield* Deferred.make<void>()
      const exit = yield* Effect.exit(withAdvancingClock(Deferred.await(never)))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("no clock move brings")
    })
  )
})
