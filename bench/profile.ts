// Profiling helper (not part of npm run bench): many calls of the client on undici, against the
// simulator process. npm run build && node --cpu-prof --import tsx bench/profile.ts, with
// TSX_TSCONFIG_PATH=tsconfig.bench.json to profile the built package as users run it.
import { Effect, Layer, ManagedRuntime, Redacted } from "effect"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { ApplicationConnections, OktaClient } from "effect-okta-connections"
import { startSimulator } from "./server.js"

const sim = await startSimulator(["--rate-limit", "100000000", "--concurrency-limit", "100000"])
const runtime = ManagedRuntime.make(
  ApplicationConnections.layer.pipe(
    Layer.provide(
      OktaClient.layer({
        orgUrl: sim.url,
        apiToken: Redacted.make(sim.token),
        tracing: process.env["TRACING"] !== "0"
      })
    ),
    Layer.provide(NodeHttpClient.layerUndici)
  )
)
const once = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication(sim.apps[0]!.id)
)
await runtime.runPromise(
  Effect.forEach(Array.from({ length: 10000 }), () => once, { concurrency: 32, discard: true })
)
await runtime.dispose()
await sim.stop()
