// Cold start of this package (built dist): import it, build the layers, make one call.
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { ApplicationConnections, OktaClient } from "effect-okta-connections"

const [url, token, appId] = process.argv.slice(2)
await Effect.runPromise(
  Effect.flatMap(ApplicationConnections, (api) =>
    api.getDefaultProvisioningConnectionForApplication(appId)
  ).pipe(
    Effect.provide(
      ApplicationConnections.layer.pipe(
        Layer.provide(OktaClient.layer({ orgUrl: url, apiToken: Redacted.make(token) })),
        Layer.provide(FetchHttpClient.layer)
      )
    )
  )
)
console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }))
