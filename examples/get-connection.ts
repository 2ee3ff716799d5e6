/**
 * getDefaultProvisioningConnectionForApplication: read an app's default provisioning connection.
 *
 *   npx tsx examples/get-connection.ts
 */
import { Console, Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { Example, isMain, runMain } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  const appId = yield* (yield* Example).appId("zscaler")
  const connection = yield* api.getDefaultProvisioningConnectionForApplication(appId)
  yield* Console.log(
    `   ${appId}: ${connection.status}, auth scheme ${connection.profile.authScheme}`
  )
  if (connection.baseUrl !== undefined) yield* Console.log(`     baseUrl ${connection.baseUrl}`)
  const next =
    connection._links?.activate !== undefined
      ? "activate"
      : connection._links?.deactivate !== undefined
        ? "deactivate"
        : "none"
  yield* Console.log(`     lifecycle link offered: ${next}`)
})

if (isMain(import.meta.url)) runMain(program)
