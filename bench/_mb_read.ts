import { FetchHttpClient, HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Chunk, Effect, ManagedRuntime, Stream } from "effect"
import { spawn } from "node:child_process"
const mode = process.argv[2] ?? "chunked"
const transport = process.argv[3] ?? "fetch"
const child = spawn(process.execPath, ["/tmp/mb/server.mjs", mode], { stdio: ["ignore", "pipe", "inherit"] })
const port: string = await new Promise((r) => child.stdout.once("data", (d) => r(String(d).trim())))
const url = `http://127.0.0.1:${port}/x`
const rt = ManagedRuntime.make(transport === "fetch" ? FetchHttpClient.layer : NodeHttpClient.layerUndici)
const dec = new TextDecoder()
const strategies: Record<string, Effect.Effect<unknown, unknown, HttpClient.HttpClient>> = {
  text: Effect.flatMap(HttpClient.get(url), (r) => r.text),
  streamFold: Effect.flatMap(HttpClient.get(url), (r) => Stream.runFold(r.stream, 0, (n, c) => n + c.length)),
  streamCollect: Effect.flatMap(HttpClient.get(url), (r) => Effect.map(Stream.runCollect(r.stream), (c) => dec.decode(Chunk.unsafeGet(c, 0)))),
  toAsync: Effect.flatMap(HttpClient.get(url), (r) => Effect.promise(async () => { let n = 0; for await (const c of Stream.toAsyncIterable(r.stream)) n += c.length; return n })),
  rs: Effect.flatMap(HttpClient.get(url), (r) => Effect.promise(async () => { const rd = Stream.toReadableStream(r.stream).getReader(); let n = 0; for(;;){ const x = await rd.read(); if (x.done) break; n += x.value.length }; return n })),
}
const N = 3000
for (let round = 0; round < 3; round++) {
  for (const [name, eff] of Object.entries(strategies)) {
    for (let i = 0; i < 300; i++) await rt.runPromise(eff)
    const t = performance.now()
    for (let i = 0; i < N; i++) await rt.runPromise(eff)
    console.log(round, name, ((performance.now() - t) / N * 1000).toFixed(1), "µs")
  }
}
await rt.dispose(); child.kill()
