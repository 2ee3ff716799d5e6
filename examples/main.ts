/**
 * `npm start`: the end-to-end demo, on the embedded Okta simulator (a real HTTP server on
 * loopback, started and stopped by this script). Nothing outside this machine is contacted.
 * Each example also runs on its own, and against a real org: see "Examples" in the README. The
 * demo injects the faults it recovers from (three 503s in the batch).
 */
import { Console, Effect } from "effect"
import { ApplicationConnections, type OktaResponseError } from "effect-okta-connections"
import { program as batch } from "./batch.js"
import { program as consentFlow } from "./consent-flow.js"
import { program as jwks } from "./get-jwks.js"
import { Example, isMain, SimulatorTarget } from "./support/Example.js"
import { program as tokenSetup } from "./token-setup.js"

const section = (title: string) => Console.log(`\n${title}`)

/** Typed errors a caller can `catchTag` on: shown by tag and message. */
const typedErrors = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  const forbidden = "0oasimforbidden00001"
  const calls: ReadonlyArray<readonly [string, Effect.Effect<unknown, OktaResponseError>]> = [
    ["unknown app  ", api.getDefaultProvisioningConnectionForApplication("0oanosuchapp00000001")],
    ["forbidden app", api.activateDefaultProvisioningConnectionForApplication(forbidden)],
    ["bad appId    ", api.getDefaultProvisioningConnectionForApplication("../users")]
  ]
  for (const [label, call] of calls) {
    const result = yield* Effect.either(call)
    yield* Console.log(
      result._tag === "Left"
        ? `   ${label} → ${result.left._tag}: ${result.left.message}`
        : `   ${label} → unexpectedly succeeded`
    )
  }
})

export const demo = Effect.gen(function* () {
  const example = yield* Example
  yield* Console.log(`effect-okta-connections demo, on ${example.describeTarget}`)
  yield* section(`1. Token-based setup of an Org2Org app (${yield* example.appId("org2orgToken")})`)
  yield* tokenSetup
  yield* section("2. Three-legged OAuth 2.0 consent flows")
  yield* consentFlow
  yield* section("3. JWKS of the Org2Org OAuth 2.0 connection")
  yield* jwks
  yield* section(
    "4. Batch: 120 apps at concurrency 10 under a limit of 40 requests per second,\n   with three 503s injected by the simulator (each retried)"
  )
  yield* batch
  yield* section("5. Typed errors")
  yield* typedErrors
  yield* Console.log("\nDone.")
})

if (isMain(import.meta.url)) {
  Effect.runPromiseExit(demo.pipe(Effect.scoped, Effect.provide(SimulatorTarget()))).then(
    (exit) => {
      if (exit._tag === "Failure") {
        console.error(
          `demo failed: ${exit.cause._tag === "Fail" ? exit.cause.error.message : String(exit.cause)}`
        )
        process.exitCode = 1
      }
    }
  )
}
