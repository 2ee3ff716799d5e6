/**
 * updateDefaultProvisioningConnectionForApplication: configure a token-based connection
 * (Zscaler 2.0: base URL and API token), saved without activating it.
 *
 *   npx tsx examples/update-connection.ts
 *   # against a real org: OKTA_EXAMPLES_WRITE=1 OKTA_APP_ID=0oa… ZSCALER_BASE_URL=… ZSCALER_TOKEN=…
 */
import { Console, Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { Example, isMain, runMain, settingsFromEnv } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const example = yield* Example
  yield* example.allowWrites
  const api = yield* ApplicationConnections
  const appId = yield* example.appId("zscaler")
  const zscaler = yield* settingsFromEnv({
    ZSCALER_BASE_URL: "https://scim.zscalerbeta.net/1234567/890/scim",
    ZSCALER_TOKEN: "00example-zscaler-token"
  })
  const connection = yield* api.updateDefaultProvisioningConnectionForApplication(appId, {
    baseUrl: zscaler.ZSCALER_BASE_URL,
    profile: { authScheme: "TOKEN", token: zscaler.ZSCALER_TOKEN }
  })
  yield* Console.log(
    `   ${appId}: saved; status ${connection.status}, auth scheme ${connection.profile.authScheme}`
  )
})

if (isMain(import.meta.url)) runMain(program)
