// Cold start baseline: bare Effect + @effect/platform with deep imports, one GET + schema decode.
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"

const [url, token, appId] = process.argv.slice(2)
const Connection = Schema.Struct({
  status: Schema.String,
  profile: Schema.Struct({ authScheme: Schema.String })
})
await Effect.runPromise(
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client
      .get(`${url}/api/v1/apps/${appId}/connections/default`, {
        headers: { authorization: `SSWS ${token}`, accept: "application/json" }
      })
      .pipe(Effect.flatMap((response) => HttpClientResponse.schemaBodyJson(Connection)(response)))
  ).pipe(Effect.provide(FetchHttpClient.layer))
)
console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS }))
