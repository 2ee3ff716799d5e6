// Profiling helper (not part of npm run bench): CPU per call without a network, against a canned
// in-process response, so that the library's own cost is visible apart from the transport's.
// Run on the built package: npm run build && npx tsx --tsconfig tsconfig.bench.json bench/micro.ts
// (optionally a variant name as argument, EXACT=1 to match it exactly, N and C for calls and
// concurrency; add --cpu-prof to node for a profile).
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import { performance } from "node:perf_hooks"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientSettings,
  ProvisioningConnectionResponse
} from "effect-okta-connections"

const body = JSON.stringify({
  authScheme: "TOKEN",
  status: "ENABLED",
  baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
  profile: { authScheme: "TOKEN" },
  _links: {
    self: {
      href: "http://127.0.0.1:1/api/v1/apps/0oa1/connections/default",
      hints: { allow: ["GET", "POST"] }
    },
    deactivate: {
      href: "http://127.0.0.1:1/api/v1/apps/0oa1/connections/default/lifecycle/deactivate",
      hints: { allow: ["POST"] }
    }
  }
})
// WIRE=length declares the body's Content-Length; by default the body has none, as Okta's.
const declared = process.env["WIRE"] === "length"
const canned = HttpClient.make((request) =>
  Effect.sync(() =>
    HttpClientResponse.fromWeb(
      request,
      new Response(body, {
        headers: {
          "x-okta-request-id": "XowTHBXnpSvh5dJF5gJrlNoB",
          "x-rate-limit-limit": "100000000",
          "x-rate-limit-remaining": String(99_000_000 - Math.floor(Math.random() * 1000)),
          "x-rate-limit-reset": String(Math.floor(Date.now() / 1000) + 60),
          date: new Date().toUTCString(),
          "content-type": "application/json",
          ...(declared ? { "content-length": String(body.length) } : {})
        }
      })
    )
  )
)
const transport = Layer.succeed(HttpClient.HttpClient, canned)

const bare = Effect.flatMap(HttpClient.HttpClient, (client) =>
  client
    .get("http://127.0.0.1:1/api/v1/apps/0oa1/connections/default", {
      headers: { authorization: "SSWS 00abc", accept: "application/json" }
    })
    .pipe(Effect.flatMap(HttpClientResponse.schemaBodyJson(ProvisioningConnectionResponse)))
)
const oursLayer = (settings: OktaClientSettings) =>
  ApplicationConnections.layer.pipe(
    Layer.provide(
      OktaClient.layer({
        orgUrl: "http://127.0.0.1:1",
        apiToken: Redacted.make("00abc"),
        ...settings
      })
    ),
    Layer.provideMerge(transport)
  )
const ours = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication("0oa1")
)

const variants: Array<
  [string, ManagedRuntime.ManagedRuntime<never, unknown>, Effect.Effect<unknown, unknown, never>]
> = [
  ["bare", ManagedRuntime.make(transport) as never, bare as never],
  [
    "bare tracing off",
    ManagedRuntime.make(transport) as never,
    bare.pipe(Effect.withTracerEnabled(false)) as never
  ],
  ["ours", ManagedRuntime.make(oursLayer({})) as never, ours as never],
  ["ours tracing off", ManagedRuntime.make(oursLayer({ tracing: false })) as never, ours as never],
  [
    "ours tracing+metrics off",
    ManagedRuntime.make(oursLayer({ tracing: false, metrics: false })) as never,
    ours as never
  ]
]
const only = process.argv[2]
const exact = process.env["EXACT"] === "1"
const N = Number(process.env["N"] ?? 20000)
const C = Number(process.env["C"] ?? 32)
const best = new Map<string, number>()
for (let round = 0; round < 6; round++) {
  for (const [name, runtime, effect] of variants) {
    if (only !== undefined && (exact ? name !== only : !name.startsWith(only))) continue
    const started = performance.now()
    await runtime.runPromise(
      Effect.forEach(Array.from({ length: N }), () => effect, { concurrency: C, discard: true })
    )
    const us = ((performance.now() - started) * 1000) / N
    if (round > 0) best.set(name, Math.min(best.get(name) ?? Infinity, us))
  }
}
for (const [name, us] of best)
  console.log(`${name.padEnd(28)} ${us.toFixed(2)} µs/call (best of 5)`)
for (const [, runtime] of variants) await runtime.dispose()
