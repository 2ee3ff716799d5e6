// The README's "Testing your code" examples, verbatim (the last test checks the README still holds
// exactly this text), so the docs a user copies cannot rot.
// --- README: first example ---
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator, withAdvancingClock } from "effect-okta-connections/testing"

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
// --- end ---
// --- README: second example (its imports are the first one's) ---
it.effect("a 503 is retried, and the retry says so", () =>
  Effect.gen(function* () {
    const api = yield* ApplicationConnections
    const sim = yield* OktaSimulator
    yield* sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { times: 1 })
    const connection = yield* withAdvancingClock(
      api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
    )
    expect(connection.status).toBe("ENABLED")
    const requests = yield* sim.requests
    expect(requests.map((r) => r.outcome)).toEqual([503, 200])
    expect(requests[1]?.headers["x-okta-retry-count"]).toBe("1")
  }).pipe(Effect.provide(OktaSimulator.layerConnections()))
)
// --- end ---

// The third example's imports, beside the first's (the README's block has them all).
import { Layer } from "effect"
import { OktaNotFoundError } from "effect-okta-connections"
// --- README: third example (its imports are above) ---
// The code under test: an app Okta does not know counts as "MISSING".
const statusOf = (appId: string) =>
  Effect.flatMap(ApplicationConnections, (api) =>
    api.getDefaultProvisioningConnectionForApplication(appId)
  ).pipe(
    Effect.map((connection) => connection.status),
    Effect.catchTag("OktaNotFoundError", () => Effect.succeed("MISSING"))
  )

// Only the methods the code calls: any other one dies (UnimplementedError) if called.
const Fake = Layer.mock(ApplicationConnections, {
  getDefaultProvisioningConnectionForApplication: (appId) =>
    appId === "0oamissing0000000001"
      ? Effect.fail(
          new OktaNotFoundError({
            operation: "getDefaultProvisioningConnectionForApplication",
            method: "GET",
            path: `/api/v1/apps/${appId}/connections/default`,
            status: 404,
            // As Okta sends it: without its code, the message says the 404 was not Okta's.
            errorCode: "E0000007",
            errorSummary: `Not found: Resource not found: ${appId} (AppInstance)`
          })
        )
      : Effect.succeed({ status: "ENABLED", profile: { authScheme: "TOKEN" } })
})

it.effect("an app Okta does not know is MISSING", () =>
  Effect.gen(function* () {
    expect(yield* statusOf("0oamissing0000000001")).toBe("MISSING")
    expect(yield* statusOf("0oafxqCAJWWGELFTYASJ")).toBe("ENABLED")
  }).pipe(Effect.provide(Fake))
)
// --- end ---

// The regions above must appear in the README as they are here.
import { readFileSync } from "node:fs"

describe("the README", () => {
  it("holds these examples verbatim", () => {
    const source = readFileSync(new URL(import.meta.url), "utf8")
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const regions = [...source.matchAll(/\/\/ --- README: [^\n]*\n([\s\S]*?)\/\/ --- end ---/g)]
    expect(regions).toHaveLength(3)
    for (const [, text] of regions) {
      // The first example's import of withAdvancingClock belongs to the second.
      const expected = text!.replace(", withAdvancingClock }", " }")
      expect(readme).toContain(expected.trim())
    }
  })
})
