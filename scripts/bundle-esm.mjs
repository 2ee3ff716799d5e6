// The ESM build's entry points (dist/index.js, dist/testing/index.js, dist/redis/index.js,
// dist/undici/index.js) as bundles of tsc's output with their shared code in chunks
// (dist/chunks/), in place of one file per source module. Node's ES module loader costs about a
// millisecond a module: the 47 modules of the main entry took 45–75 ms to import, one bundle
// about 20 ms (bench/README.md has the cold-start figures). Code splitting keeps one copy of each
// module across the entry points, so a class or tag from `effect-okta-connections/testing` is
// the same as the main entry's. Dependencies stay imports; the type declarations stay per module.
import { build } from "esbuild"
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const dist = fileURLToPath(new URL("../dist", import.meta.url))
const work = fileURLToPath(new URL("../.build-esm", import.meta.url))
const entries = ["index", "testing/index", "redis/index", "undici/index"]

rmSync(work, { recursive: true, force: true })
await build({
  entryPoints: Object.fromEntries(entries.map((entry) => [entry, join(dist, `${entry}.js`)])),
  outdir: work,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  // effect, @effect/platform, jose, ioredis: the application's copies.
  packages: "external",
  chunkNames: "chunks/[name]-[hash]",
  // Maps to src/ (shipped with the package), through tsc's own maps.
  sourcemap: true,
  sourcesContent: false,
  logLevel: "warning"
})

// tsc's per-module JavaScript goes; its declarations stay (the exports' `types`).
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
for (const file of walk(dist)) {
  const path = relative(dist, file)
  if (/^(cjs|cli)\//.test(path)) continue
  if (/\.js(\.map)?$/.test(path)) rmSync(file)
}
for (const file of walk(work)) {
  const target = join(dist, relative(work, file))
  mkdirSync(dirname(target), { recursive: true })
  renameSync(file, target)
}
rmSync(work, { recursive: true, force: true })
