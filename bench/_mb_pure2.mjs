import { Effect, Stream, Chunk, Option, Channel, Sink } from "effect"
const mk = () => Stream.make(new Uint8Array(10))
const s = {
  runFold: () => Effect.runSync(Stream.runFold(mk(), 0, (n, c) => n + c.length)),
  runDrain: () => Effect.runSync(Stream.runDrain(mk())),
  runCollect: () => Effect.runSync(Stream.runCollect(mk())),
  toPull: () => Effect.runSync(Effect.scoped(Effect.flatMap(Stream.toPull(mk()), (pull) => { let n = 0; const loop = Effect.matchEffect(pull, { onFailure: (e) => Option.isNone(e) ? Effect.succeed(n) : Effect.fail(e), onSuccess: (c) => { for (const x of c) n += x.length; return loop } }); return loop }))),
  chanDrain: () => Effect.runSync(Channel.runDrain(Stream.toChannel(mk()))),
  runFoldChunks: () => Effect.runSync(Stream.run(mk(), Sink.foldLeftChunks(0, (n, c) => n + c.length))),
  effectScoped: () => Effect.runSync(Effect.scoped(Effect.succeed(1))),
}
const N = 3000
for (let round = 0; round < 3; round++) for (const [name, f] of Object.entries(s)) {
  for (let i = 0; i < 300; i++) f()
  const t = performance.now(), cu = process.cpuUsage()
  for (let i = 0; i < N; i++) f()
  const c = process.cpuUsage(cu)
  if (round === 2) console.log(name, ((performance.now() - t) / N * 1000).toFixed(1), "µs cpu", ((c.user + c.system) / N).toFixed(1))
}
