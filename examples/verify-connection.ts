/**
 * verifyProvisioningConnectionForApplication: the last step of a three-legged OAuth 2.0 consent,
 * for the app kind in OKTA_APP_NAME (default office365). On the simulator the consent is obtained
 * through the authorize link; against a real org, pass Okta's continue_oauth_flow_url in
 * OKTA_CONTINUE_URL (with OKTA_APP_ID), or paste it when asked (on a terminal).
 *
 *   npx tsx examples/verify-connection.ts
 */
import { Console, Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import {
  appNameFromEnv,
  codeAndState,
  Example,
  ExampleError,
  isMain,
  runMain
} from "./support/Example.js"

export const program = Effect.gen(function* () {
  const example = yield* Example
  yield* example.allowWrites
  const api = yield* ApplicationConnections
  const name = yield* appNameFromEnv
  const appId = yield* example.appId(name)
  const continueUrl = process.env["OKTA_CONTINUE_URL"]
  const { code, state } =
    continueUrl !== undefined
      ? yield* codeAndState(continueUrl)
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
  yield* api.verifyProvisioningConnectionForApplication(name, appId, { code, state })
  yield* Console.log(`   ${name} ${appId}: consent verified`)
})

if (isMain(import.meta.url)) runMain(program)
