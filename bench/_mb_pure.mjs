import { Effect, Stream, Chunk } from "effect"
const s = {
  pureStream: () => Effect.runPromise(Stream.runFold(Stream.make(new Uint8Array(10)), 0, (n, c) => n + c.length)),
  pureStreamSync: async () => Effect.runSync(Stream.runFold(Stream.make(new Uint8Array(10)), 0, (n, c) => n + c.length)),
  rs: async () => { const rs = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); c.close() } }); return Effect.runPromise(Stream.runFold(Stream.fromReadableStream(() => rs, (e) => e), 0, (n, c) => n + c.length)) },
  rsCollect: async () => { const rs = new ReadableStream({ start(c) { c.enqueue(new Uint8Array(10)); c.close() } }); return Effect.runPromise(Stream.runCollect(Stream.fromReadableStream(() => rs, (e) => e))) },
}
const N = 3000
for (let round = 0; round < 3; round++) for (const [name, f] of Object.entries(s)) {
  for (let i = 0; i < 300; i++) await f()
  const t = performance.now(), cu = process.cpuUsage()
  for (let i = 0; i < N; i++) await f()
  const c = process.cpuUsage(cu)
  if (round === 2) console.log(name, ((performance.now() - t) / N * 1000).toFixed(1), "µs cpu", ((c.user + c.system) / N).toFixed(1))
}
