/**
 * activateDefaultProvisioningConnectionForApplication: enable an app's provisioning connection.
 *
 *   npx tsx examples/activate-connection.ts
 */
import { Console, Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { Example, isMain, runMain } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const example = yield* Example
  yield* example.allowWrites
  const api = yield* ApplicationConnections
  const appId = yield* example.appId("org2orgToken")
  yield* api.activateDefaultProvisioningConnectionForApplication(appId)
  const { status } = yield* api.getDefaultProvisioningConnectionForApplication(appId)
  yield* Console.log(`   ${appId}: activated; status now ${status}`)
})

if (isMain(import.meta.url)) runMain(program)
