/**
 * The README's recipe for several orgs in one process, verbatim: one client per org, built in a
 * scope, against two loopback simulator orgs that each accept only their own token.
 */
import { FetchHttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { readFileSync } from "node:fs"
import { ApplicationConnections, OktaClient } from "effect-okta-connections"
import { OktaSimulator, SimulatorServer } from "effect-okta-connections/testing"

// --- README: several orgs (its imports as above) ---
export const connectionsOf = (orgUrl: string, apiToken: Redacted.Redacted) =>
  Effect.map(
    Layer.build(
      ApplicationConnections.layer.pipe(
        Layer.provide(OktaClient.layer({ orgUrl, apiToken })),
        Layer.provide(FetchHttpClient.layer)
      )
    ),
    (context) => Context.get(context, ApplicationConnections)
  )

interface Org {
  readonly url: string // e.g. https://acme.okta.com, https://acme.oktapreview.com
  readonly token: Redacted.Redacted
}

export const compare = (appId: string, prodOrg: Org, previewOrg: Org) =>
  Effect.scoped(
    Effect.gen(function* () {
      const prod = yield* connectionsOf(prodOrg.url, prodOrg.token)
      const preview = yield* connectionsOf(previewOrg.url, previewOrg.token)
      return yield* Effect.all(
        [
          prod.getDefaultProvisioningConnectionForApplication(appId),
          preview.getDefaultProvisioningConnectionForApplication(appId)
        ],
        { concurrency: 2 }
      )
    })
  )
// --- end ---

/** A loopback simulator org that accepts only `token`. */
const org = (token: string) =>
  Effect.map(
    Layer.build(
      OktaSimulator.layerServer().pipe(
        Layer.provideMerge(OktaSimulator.layer({ tokens: [{ token }] }))
      )
    ),
    (context) => ({
      sim: Context.get(context, OktaSimulator),
      url: Context.get(context, SimulatorServer).url
    })
  )

describe("several orgs in one process (the README's recipe)", () => {
  it.live("each org is called with its own client and token", () =>
    Effect.gen(function* () {
      const prod = yield* org("00prod-token")
      const preview = yield* org("00preview-token")
      const [fromProd, fromPreview] = yield* compare(
        "0oasimzscaler0000001",
        { url: prod.url, token: Redacted.make("00prod-token") },
        { url: preview.url, token: Redacted.make("00preview-token") }
      )
      expect([fromProd.status, fromPreview.status]).toEqual(["ENABLED", "ENABLED"])
      // Each org accepts only its own token: one sent to the other org would have been a 401.
      expect((yield* prod.sim.requests).map((r) => r.outcome)).toEqual([200])
      expect((yield* preview.sim.requests).map((r) => r.outcome)).toEqual([200])
    }).pipe(Effect.scoped)
  )

  it("is the README's text", () => {
    const source = readFileSync(new URL(import.meta.url), "utf8")
    const region = /\/\/ --- README: several orgs[^\n]*\n([\s\S]*?)\/\/ --- end ---/.exec(source)
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    expect(readme).toContain(region?.[1]?.trim())
  })
})
