/**
 * `withAdvancingClock`: client code under `it.effect` (TestClock) completes its retries and gate
 * waits without real time passing, and an effect stuck on something else fails with a hint.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Redacted } from "effect"
import { createPublicKey, generateKeyPairSync } from "node:crypto"
import { ApplicationConnections } from "../src/index.js"
import { isPending, tracked } from "../src/internal/pendingWork.js"
import { OktaSimulator, withAdvancingClock } from "../src/testing/index.js"

const ZSCALER = "0oasimzscaler0000001"

// A large key: each signature takes milliseconds of real time, many event-loop turns.
const slowKey = generateKeyPairSync("rsa", {
  modulusLength: 4096,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" }
})
const SERVICE_APP = "0oaserviceapp0000001"

describe("withAdvancingClock", () => {
  it("holds the clock only while work is pending: work that fails, even at once, ends", async () => {
    const failsAtOnce = tracked<never>(() => {
      throw new Error("no key")
    })
    const pending = failsAtOnce()
    expect(isPending()).toBe(true)
    await expect(pending).rejects.toThrow("no key")
    expect(isPending()).toBe(false)
    await expect(tracked(() => Promise.reject(new Error("refused")))()).rejects.toThrow("refused")
    expect(isPending()).toBe(false)
  })

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

  it.effect(
    "with OAuth, the clock moves from backoff to backoff, never while a signature is being made or checked",
    () =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const sim = yield* OktaSimulator
        yield* sim.injectFault(
          { _tag: "ServerError", status: 503, body: "json" },
          { times: 2, path: "/oauth2/v1/token" }
        )
        const started = yield* Clock.currentTimeMillis
        const connection = yield* withAdvancingClock(
          api.getDefaultProvisioningConnectionForApplication(ZSCALER)
        )
        expect(connection.status).toBe("ENABLED")
        expect((yield* sim.requests).map((r) => [r.path.split("/")[1], r.outcome])).toEqual([
          ["oauth2", 503],
          ["oauth2", 503],
          ["oauth2", 200],
          ["api", 200]
        ])
        // Two backoffs of a few hundred milliseconds; not to the 30 s timeout of an attempt that
        // was over (its timer's sleep stays listed on the TestClock) or one still waiting.
        expect((yield* Clock.currentTimeMillis) - started).toBeLessThan(5_000)
      }).pipe(
        Effect.provide(
          OktaSimulator.layerConnections({
            oauthClients: [
              {
                clientId: SERVICE_APP,
                publicKey: createPublicKey(slowKey.publicKey).export({ format: "jwk" })
              }
            ],
            credentials: {
              oauth: {
                clientId: SERVICE_APP,
                scopes: ["okta.apps.read"],
                privateKey: Redacted.make(slowKey.privateKey)
              }
            }
          })
        )
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
