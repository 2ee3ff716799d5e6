// The README's "Testing your code with the simulator" example, verbatim, so the docs cannot rot.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"

describe("my provisioning job", () => {
  it.effect(
    "activates what it configured",
    () =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const sim = yield* OktaSimulator
        yield* api.updateDefaultProvisioningConnectionForApplication(
          "0oasimorg2orgtoken01",
          { profile: { authScheme: "TOKEN", token: "00t" } },
          { activate: true }
        )
        const { connection } = yield* sim.inspect("0oasimorg2orgtoken01")
        expect(connection).toMatchObject({ status: "ENABLED", token: "00t" })
        expect((yield* sim.requests).map((r) => `${r.method} ${r.path}`)).toEqual([
          "POST /api/v1/apps/0oasimorg2orgtoken01/connections/default"
        ])
      }).pipe(Effect.provide(OktaSimulator.layerConnections())) // a fresh org per test
  )
})
