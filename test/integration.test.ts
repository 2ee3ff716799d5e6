/**
 * Integration over a real loopback socket: the client (FetchHttpClient, default retry policy and
 * gate; the faults also on `OktaUndici.layer` and `OktaFetch.layer`, where a timed-out attempt's
 * request is aborted rather than its fiber interrupted) against the simulator's HTTP server, on
 * the real clock with one-second windows. So these tests take real time: about 8 s per transport
 * for the faults (the default policy's backoffs and the attempt timeouts are waited out), 2 s for
 * the batch. The exact timings are unit-tested with TestClock in resilience.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import type { HttpClient } from "@effect/platform"
import { Cause, Effect, Exit, type Layer } from "effect"
import {
  ApplicationConnections,
  type OktaConfigError,
  OktaFetch,
  type OktaResponseError
} from "../src/index.js"
import {
  DEFAULT_APPS,
  generatedApps,
  OktaSimulator,
  type SimulatorFault
} from "../src/testing/index.js"
import { OktaUndici } from "../src/undici/index.js"

const ZSCALER = "0oasimzscaler0000001"
const OFFICE365 = "0oasimoffice36500001"

const unhandled: Array<unknown> = []
process.on("unhandledRejection", (reason) => unhandled.push(reason))

describe("client ⇄ loopback simulator, real time", () => {
  it.live(
    "a batch of 60 GETs at concurrency 10 under a 20-per-second limit finishes with no failure",
    () =>
      Effect.gen(function* () {
        const apps = generatedApps(60)
        const sim = yield* OktaSimulator
        const api = yield* ApplicationConnections
        const results = yield* Effect.all(
          apps.map((app) => api.getDefaultProvisioningConnectionForApplication(app.id)),
          { concurrency: 10 }
        )
        expect(results).toHaveLength(60)
        const log = yield* sim.requests
        const limited = log.filter((entry) => entry.outcome === 429).length
        // The gate keeps 429s rare; each one is retried, so none reaches the caller.
        expect(limited).toBeLessThanOrEqual(3)
        expect(log.length).toBe(60 + limited)
      }).pipe(
        Effect.scoped,
        Effect.provide(
          OktaSimulator.layerConnectionsServer({
            apps: [...DEFAULT_APPS, ...generatedApps(60)],
            rateLimit: { limit: 20, windowSeconds: 1 }
          })
        )
      ),
    30_000
  )

  type Outcome = "success" | OktaResponseError["_tag"]
  const cases: ReadonlyArray<readonly [string, SimulatorFault, Outcome, Outcome]> = [
    // [name, fault, outcome of a GET (replayable), outcome of verify (one-time)]
    ["Drop", { _tag: "Drop" }, "success", "OktaTransportError"],
    ["Hang", { _tag: "Hang" }, "success", "OktaTimeoutError"],
    ["Delay", { _tag: "Delay", millis: 50 }, "success", "success"],
    [
      "ServerError json",
      { _tag: "ServerError", status: 500, body: "json" },
      "success",
      "OktaServerError"
    ],
    [
      "ServerError html",
      { _tag: "ServerError", status: 502, body: "html" },
      "success",
      "OktaServerError"
    ],
    [
      "ServerError empty",
      { _tag: "ServerError", status: 503, body: "empty" },
      "success",
      "OktaServerError"
    ],
    ["MalformedJson", { _tag: "MalformedJson" }, "OktaDecodeError", "success"],
    ["WrongShape", { _tag: "WrongShape" }, "OktaDecodeError", "success"],
    ["ExtraFields", { _tag: "ExtraFields" }, "success", "success"],
    ["RateLimitNoDate", { _tag: "RateLimitNoDate" }, "success", "success"],
    ["DuplicateReset", { _tag: "DuplicateReset" }, "success", "success"],
    ["Redirect", { _tag: "Redirect" }, "OktaUnexpectedStatusError", "OktaUnexpectedStatusError"],
    ["Oversized", { _tag: "Oversized" }, "OktaDecodeError", "success"],
    ["ProxyPage", { _tag: "ProxyPage" }, "OktaDecodeError", "OktaUnexpectedStatusError"]
  ]

  const outcomeOf = (exit: Exit.Exit<unknown, OktaResponseError>): string => {
    if (Exit.isSuccess(exit)) return "success"
    const failure = Cause.failureOption(exit.cause)
    // A defect or an interruption would show here as its own word and fail the expectation.
    return failure._tag === "Some" ? failure.value._tag : `defect: ${Cause.pretty(exit.cause)}`
  }

  const transports: ReadonlyArray<
    readonly [string, Layer.Layer<HttpClient.HttpClient, OktaConfigError> | undefined]
  > = [
    ["FetchHttpClient", undefined],
    ["OktaUndici.layer", OktaUndici.layer()],
    ["OktaFetch.layer", OktaFetch.layer()]
  ]
  for (const [transport, httpClient] of transports) {
    it.live(
      `every fault the simulator injects ends in its documented outcome, with no defect and no unhandled rejection (${transport})`,
      () =>
        Effect.gen(function* () {
          const sim = yield* OktaSimulator
          const api = yield* ApplicationConnections
          const seen: Array<readonly [string, string, string]> = []
          for (const [name, fault] of cases) {
            yield* sim.injectFault(fault, { path: ZSCALER })
            const get = outcomeOf(
              yield* Effect.exit(api.getDefaultProvisioningConnectionForApplication(ZSCALER))
            )
            yield* sim.clearFaults
            // verify: a fresh consent each time, so only the fault decides the outcome.
            yield* api.updateDefaultProvisioningConnectionForApplication(OFFICE365, {
              profile: { authScheme: "OAUTH2" }
            })
            const { code, state } = yield* sim.consent(OFFICE365)
            yield* sim.injectFault(fault, { path: "/oauth2/callback" })
            const verify = outcomeOf(
              yield* Effect.exit(
                api.verifyProvisioningConnectionForApplication("office365", OFFICE365, {
                  code,
                  state
                })
              )
            )
            yield* sim.clearFaults
            seen.push([name, get, verify])
          }
          expect(seen).toEqual(cases.map(([name, , get, verify]) => [name, get, verify]))
          expect(unhandled).toEqual([])
        }).pipe(
          Effect.scoped,
          Effect.provide(
            OktaSimulator.layerConnectionsServer({
              rateLimit: { limit: 1000, windowSeconds: 1 },
              client: { timeout: "500 millis" },
              httpClient
            })
          )
        ),
      60_000
    )
  }
})
