import { spawn } from "node:child_process"
import { Agent, request } from "undici"
import { Effect, Stream } from "effect"
const mode = process.argv[2] ?? "chunked"
const child = spawn(process.execPath, ["/tmp/mb/server.mjs", mode], { stdio: ["ignore", "pipe", "inherit"] })
const port: string = await new Promise((r) => child.stdout.once("data", (d) => r(String(d).trim())))
const url = `http://127.0.0.1:${port}/x`
const agent = new Agent()
const s: Record<string, () => Promise<unknown>> = {
  fetchText: async () => (await fetch(url)).text(),
  fetchReader: async () => { const r = (await fetch(url)).body!.getReader(); let n = 0; for (;;) { const x = await r.read(); if (x.done) break; n += x.value.length } return n },
  fetchEffectStream: async () => { const res = await fetch(url); return Effect.runPromise(Stream.runFold(Stream.fromReadableStream(() => res.body!, (e) => e), 0, (n, c) => n + c.length)) },
  undiciText: async () => (await request(url, { dispatcher: agent })).body.text(),
  undiciIter: async () => { const r = await request(url, { dispatcher: agent }); let n = 0; for await (const c of r.body) n += (c as Buffer).length; return n },
  pureStream: async () => Effect.runPromise(Stream.runFold(Stream.make(new Uint8Array(10)), 0, (n, c) => n + c.length)),
  pureEffect: async () => Effect.runPromise(Effect.succeed(1)),
}
const N = 2000
for (let round = 0; round < 3; round++) for (const [name, f] of Object.entries(s)) {
  for (let i = 0; i < 200; i++) await f()
  const t = performance.now(), cu = process.cpuUsage()
  for (let i = 0; i < N; i++) await f()
  const c = process.cpuUsage(cu)
  if (round === 2) console.log(name, ((performance.now() - t) / N * 1000).toFixed(1), "µs cpu", ((c.user + c.system) / N).toFixed(1))
}
await agent.close(); child.kill()
