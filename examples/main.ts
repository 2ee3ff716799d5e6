/**
 * `npm start`: the end-to-end demo. Against a real org it reads the default provisioning
 * connection of the app named by OKTA_APP_ID (read-only: nothing is changed).
 *
 *   OKTA_CLIENT_ORGURL=https://acme.okta.com OKTA_CLIENT_TOKEN=00… OKTA_APP_ID=0oa… npm start
 */
import { FetchHttpClient } from "@effect/platform"
import { Console, Effect, Layer } from "effect"
import { ApplicationConnections, OktaClient } from "effect-okta-connections"

const needed = ["OKTA_CLIENT_ORGURL", "OKTA_CLIENT_TOKEN", "OKTA_APP_ID"] as const
const missing = needed.filter((name) => (process.env[name] ?? "") === "")

const program = Effect.gen(function* () {
  const connections = yield* ApplicationConnections
  const appId = process.env["OKTA_APP_ID"]!
  const connection = yield* connections.getDefaultProvisioningConnectionForApplication(appId)
  yield* Console.log(
    `app ${appId}: provisioning ${connection.status}, auth scheme ${connection.profile.authScheme}`
  )
})

const Live = ApplicationConnections.layer.pipe(
  Layer.provide(OktaClient.layerConfig()),
  Layer.provide(FetchHttpClient.layer)
)

if (missing.length > 0) {
  console.log(
    `npm start needs a real Okta org until the simulator lands: set ${missing.join(", ")}.`
  )
} else {
  Effect.runPromise(program.pipe(Effect.provide(Live))).catch((error: unknown) => {
    console.error(String(error))
    process.exitCode = 1
  })
}
