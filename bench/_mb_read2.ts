import { FetchHttpClient, HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Effect, ManagedRuntime, Stream } from "effect"
import { spawn } from "node:child_process"
const mode = process.argv[2] ?? "chunked"
const transport = process.argv[3] ?? "fetch"
const child = spawn(process.execPath, ["/tmp/mb/server.mjs", mode], { stdio: ["ignore", "pipe", "inherit"] })
const port: string = await new Promise((r) => child.stdout.once("data", (d) => r(String(d).trim())))
const url = `http://127.0.0.1:${port}/x`
const rt = ManagedRuntime.make(transport === "fetch" ? FetchHttpClient.layer : NodeHttpClient.layerUndici)
const strategies: Record<string, Effect.Effect<unknown, unknown, HttpClient.HttpClient>> = {
  text: Effect.flatMap(HttpClient.get(url), (r) => r.text),
  streamFold: Effect.flatMap(HttpClient.get(url), (r) => Stream.runFold(r.stream, 0, (n, c) => n + c.length)),
  toPull: Effect.flatMap(HttpClient.get(url), (r) => Effect.scoped(Effect.flatMap(Stream.toPull(r.stream), (pull) => { let n = 0; const loop: Effect.Effect<number, unknown> = Effect.matchEffect(pull, { onFailure: (e) => e._tag === "None" ? Effect.succeed(n) : Effect.fail(e), onSuccess: (c) => { for (const x of c) n += x.length; return loop } }); return loop }))),
  forEachChunk: Effect.flatMap(HttpClient.get(url), (r) => { let n = 0; return Effect.as(Stream.runForEachChunk(r.stream, (c) => Effect.sync(() => { for (const x of c) n += x.length })), n) }),
  arrayBuffer: Effect.flatMap(HttpClient.get(url), (r) => r.arrayBuffer),
}
const N = 1500
for (let round = 0; round < 4; round++) {
  for (const [name, eff] of Object.entries(strategies)) {
    const c0 = Number(await (await fetch(`http://127.0.0.1:${port}/stats`)).text())
    for (let i = 0; i < 200; i++) await rt.runPromise(eff)
    const t = performance.now(); const cu = process.cpuUsage()
    for (let i = 0; i < N; i++) await rt.runPromise(eff)
    const c1 = Number(await (await fetch(`http://127.0.0.1:${port}/stats`)).text())
    const cpu = process.cpuUsage(cu); console.log(round, name, ((performance.now() - t) / N * 1000).toFixed(1), "µs", "cpu", ((cpu.user+cpu.system)/N).toFixed(1), "conns", c1 - c0)
  }
}
await rt.dispose(); child.kill()
