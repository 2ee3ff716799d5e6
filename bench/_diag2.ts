import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { createInterface } from "node:readline"
import { DEFAULT_APPS } from "effect-okta-connections/testing"
import { startLeanServer } from "./server.js"
import { Redis } from "ioredis"

const run = (url: string, workers: number, concurrency: number, redisUrl?: string) => new Promise<void>(async (done) => {
  const total = Number(process.env.TOTAL ?? 1000)
  const startAt = Math.ceil((Date.now() + Number(process.env.LEAD ?? 2500)) / 1000) * 1000 + 5
  const keyPrefix = `diag-${randomUUID()}:`
  const raw = new Redis("redis://127.0.0.1:6379"); const host = new URL(url).host
  const caps: Record<string, number> = {}; const infl: Record<string, number> = {}
  const iv = setInterval(async () => { if (Date.now() < startAt) return; const c = await raw.hget(`${keyPrefix}{${host}}:concurrency`, "cap"); const n = await raw.zcard(`${keyPrefix}{${host}}:leases`); caps[String(c)] = (caps[String(c)] ?? 0) + 1; infl[n] = (infl[n] ?? 0) + 1 }, 10)
  const res = await Promise.all(Array.from({ length: workers }, (_, i) => new Promise<any>((resolve) => {
    const child = spawn("/usr/bin/time", ["-f", "CPU %U %S", process.execPath, ...(process.env.PROF && i === 0 && (redisUrl !== undefined) ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : []), "bench/shared-worker.mjs", JSON.stringify({ url, token: "00bench", ids: Array.from({ length: total / workers }, () => DEFAULT_APPS[0]!.id), concurrency, startAt, ...(redisUrl ? { redisUrl, keyPrefix } : {}) })], { stdio: ["ignore", "pipe", "pipe"] })
    let line = ""; let cpu = ""
    createInterface({ input: child.stdout! }).on("line", (l) => (line = l))
    createInterface({ input: child.stderr! }).on("line", (l) => { if (l.startsWith("CPU")) cpu = l })
    child.once("exit", () => resolve({ ...JSON.parse(line), cpu }))
  })))
  clearInterval(iv); raw.disconnect(); if (redisUrl) console.log("caps", caps, "inflight", infl)
  const secs = (Math.max(...res.map((r) => r.finishedAt)) - startAt) / 1000
  console.log(`${workers}x c${concurrency} ${redisUrl ? "redis" : "local"}: ${(total / secs).toFixed(0)} req/s, ${res.map((r) => r.cpu).join(" | ")}`)
  done()
})
const lean = await startLeanServer({ forms: ["chunked"], holdMillis: 20, concurrencyLimit: 5 })
const url = lean.urls["chunked"]!
await run(url, 1, 5)
for (const w of (process.env.W ?? "1,2,4").split(",").map(Number)) {
  await lean.reset("chunked"); await run(url, w, 10, "redis://127.0.0.1:6379"); console.log(await lean.stats("chunked"))
}
await lean.stop()
process.exit(0)
