// Profiling helper (not part of npm run bench): many calls of the client against the lean server,
// on the transports and wire forms `npm run bench` measures. With the built package, as users run
// it:
//
//   npm run build && TSX_TSCONFIG_PATH=tsconfig.bench.json \
//     node --cpu-prof --import tsx bench/profile.ts [chunked|gzip|length] [undici|fetch|...] [calls]
//
// TRACING=0 profiles the client with `tracing: false`.
import { type Form, ours, type Transport } from "./overhead.js"
import { startLeanServer } from "./server.js"

const [form = "chunked", transport = "undici", calls = "20000"] = process.argv.slice(2)
const server = await startLeanServer({ forms: [form] })
const client = ours(server.urls[form]!, form as Form, transport as Transport, {
  tracing: process.env["TRACING"] !== "0"
})
await client.many(Number(calls), 32)
await client.dispose()
await server.stop()
