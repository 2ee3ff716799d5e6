/**
 * A full token-based setup of an Org2Org app: update → activate → get → deactivate.
 *
 *   npx tsx examples/token-setup.ts
 *   # against a real org: OKTA_EXAMPLES_WRITE=1 OKTA_APP_ID=0oa… ORG2ORG_TARGET_URL=… ORG2ORG_TOKEN=…
 */
import { Console, Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { Example, isMain, runMain, settingsFromEnv } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const example = yield* Example
  yield* example.allowWrites
  const api = yield* ApplicationConnections
  const appId = yield* example.appId("org2orgToken")
  const target = yield* settingsFromEnv({
    ORG2ORG_TARGET_URL: "https://targetorg.okta.com",
    ORG2ORG_TOKEN: "00example-target-org-token"
  })

  const saved = yield* api.updateDefaultProvisioningConnectionForApplication(appId, {
    baseUrl: target.ORG2ORG_TARGET_URL,
    profile: { authScheme: "TOKEN", token: target.ORG2ORG_TOKEN }
  })
  yield* Console.log(
    `   update     → ${saved.status}${saved._links?.activate !== undefined ? " (activate link offered)" : ""}`
  )
  yield* api.activateDefaultProvisioningConnectionForApplication(appId)
  yield* Console.log("   activate   → done")
  const active = yield* api.getDefaultProvisioningConnectionForApplication(appId)
  yield* Console.log(
    `   get        → ${active.status}, ${active.profile.authScheme}, baseUrl ${active.baseUrl ?? "-"}`
  )
  yield* api.deactivateDefaultProvisioningConnectionForApplication(appId)
  const after = yield* api.getDefaultProvisioningConnectionForApplication(appId)
  yield* Console.log(`   deactivate → ${after.status}`)
})

if (isMain(import.meta.url)) runMain(program)
