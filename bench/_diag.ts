import { Effect } from "effect"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createInterface } from "node:readline"
import { Redis } from "ioredis"
import { DEFAULT_APPS, generatedApps, OktaSimulator, serve } from "effect-okta-connections/testing"

const WORKERS = 4
const arrivals: Array<{ t: number; outcome: unknown }> = []
const prog = Effect.gen(function* () {
  const apps = generatedApps(WORKERS * 300)
  const sim = yield* OktaSimulator
  const { url } = yield* serve()
  const startAt = Math.ceil((Date.now() + 2500) / 1000) * 1000 + 5
  const keyPrefix = `diag-${randomUUID()}:`
  const raw = new Redis("redis://127.0.0.1:6379")
  const host = new URL(url).host
  const states: Array<string> = []
  const iv = setInterval(async () => { const w = await raw.hgetall(`${keyPrefix}{${host}}:api:window`); const n = await raw.zcard(`${keyPrefix}{${host}}:leases`); const t = Date.now(); if (t % 1000 > 550 && t % 1000 < 650) states.push(`${Math.floor(t/1000) - Math.floor(startAt/1000)}: rem=${w.remaining} lost=${w.lost} inflight=${n} rolled=${w.rolled ?? ""}`) }, 50)
  const results = yield* Effect.promise(() => Promise.all(Array.from({ length: WORKERS }, (_, i) => new Promise<string>((resolve) => {
    const child = spawn(process.execPath, ["bench/shared-worker.mjs", JSON.stringify({ url, token: sim.token, ids: apps.slice(i * 300, (i + 1) * 300).map((a) => a.id), concurrency: 10, startAt, timeout: "2 seconds", redisUrl: process.env.NO_REDIS ? undefined : "redis://127.0.0.1:6379", keyPrefix })], { stdio: ["ignore", "pipe", "inherit"] })
    let line = ""
    createInterface({ input: child.stdout! }).on("line", (l) => (line = l))
    child.once("exit", () => resolve(line))
  }))))
  clearInterval(iv); raw.disconnect()
  console.log(results)
  console.log(states.join("\n"))
  console.log("429s", arrivals.filter((a) => a.outcome === 429).length)
  const perWindow = new Map<number, Array<number>>()
  for (const a of arrivals) { const w = Math.floor(a.t / 1000); (perWindow.get(w) ?? perWindow.set(w, []).get(w)!).push(a.t % 1000) }
  for (const [w, ts] of [...perWindow].sort((a, b) => a[0] - b[0])) {
    ts.sort((a, b) => a - b)
    console.log(`${w - Math.floor(startAt / 1000)}: n=${ts.length} first=${ts[0]} 10th=${ts[9]} 50th=${ts[49]} last=${ts.at(-1)}`)
  }
  console.log("elapsed", (Date.now() - startAt) / 1000)
}).pipe(Effect.scoped, Effect.provide(OktaSimulator.layer({
  apps: [...DEFAULT_APPS, ...generatedApps(WORKERS * 300)],
  rateLimit: { limit: 50, windowSeconds: 1, concurrencyLimit: 10_000 },
  onRequest: (entry) => Effect.sync(() => void arrivals.push({ t: Date.now(), outcome: entry.outcome }))
})))
Effect.runPromise(prog).then(() => process.exit(0))
