/**
 * verifyProvisioningConnectionForApplication: the last step of a three-legged OAuth 2.0 consent
 * (Office 365 here). On the simulator the consent is obtained through the authorize link; against
 * a real org, pass Okta's continue_oauth_flow_url in OKTA_CONTINUE_URL (with OKTA_APP_ID).
 *
 *   npx tsx examples/verify-connection.ts
 */
import { Console, Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { Example, ExampleError, isMain, runMain } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const example = yield* Example
  yield* example.allowWrites
  const api = yield* ApplicationConnections
  const appId = yield* example.appId("office365")
  const continueUrl = process.env["OKTA_CONTINUE_URL"]
  const { code, state } =
    continueUrl !== undefined
      ? (() => {
          const url = new URL(continueUrl)
          return {
            code: url.searchParams.get("code") ?? "",
            state: url.searchParams.get("state") ?? ""
          }
        })()
      : yield* Effect.gen(function* () {
          const connection = yield* api.getDefaultProvisioningConnectionForApplication(appId)
          const href = connection._links?.authorize?.href
          if (href === undefined) {
            return yield* new ExampleError({
              message: `${appId} has no pending consent (no authorize link)`
            })
          }
          return yield* example.consent(href)
        })
  yield* api.verifyProvisioningConnectionForApplication("office365", appId, { code, state })
  yield* Console.log(`   ${appId}: consent verified`)
})

if (isMain(import.meta.url)) runMain(program)
