import { spawn } from "node:child_process"
const mode = process.argv[2] ?? "chunked"
const child = spawn(process.execPath, ["/tmp/mb/server.mjs", mode], { stdio: ["ignore", "pipe", "inherit"] })
const port: string = await new Promise((r) => child.stdout.once("data", (d) => r(String(d).trim())))
const url = `http://127.0.0.1:${port}/x`
const dec = new TextDecoder()
const s: Record<string, () => Promise<unknown>> = {
  fetchText: async () => (await fetch(url)).text(),
  fetchTransform: async () => { const res = await fetch(url); let n = 0; const body = res.body!.pipeThrough(new TransformStream({ transform(c, ctl) { n += c.length; if (n > 1e6) ctl.error(new Error("big")); else ctl.enqueue(c) } })); return new Response(body, { status: res.status, headers: res.headers }).text() },
  fetchReaderDecode: async () => { const r = (await fetch(url)).body!.getReader(); const chunks: Uint8Array[] = []; let n = 0; for (;;) { const x = await r.read(); if (x.done) break; n += x.value.length; if (n > 1e6) { await r.cancel(); throw new Error("big") } chunks.push(x.value) } return chunks.length === 1 ? dec.decode(chunks[0]) : dec.decode(Buffer.concat(chunks)) },
}
const N = 2000
for (let round = 0; round < 3; round++) for (const [name, f] of Object.entries(s)) {
  for (let i = 0; i < 200; i++) await f()
  const t = performance.now(), cu = process.cpuUsage()
  for (let i = 0; i < N; i++) await f()
  const c = process.cpuUsage(cu)
  if (round === 2) console.log(name, ((performance.now() - t) / N * 1000).toFixed(1), "µs cpu", ((c.user + c.system) / N).toFixed(1))
}
child.kill()
