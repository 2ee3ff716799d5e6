// The command line (cli/main.ts) as dist/cli/main.mjs (the package's `bin`) and its chunks:
// @effect/cli, its printers, the Node platform, Effect and the library itself, bundled and
// minified, so that @effect/cli and the Node platform are not dependencies of the library, and so
// that the CLI starts fast (bench/README.md has the figures). The CLI is a program, not a library:
// its own copy of Effect is shared with nothing. jose and ioredis stay optional imports.
// cli/ imports Effect and @effect/cli by module ("effect/Effect", not the "effect" barrel): through
// a barrel, every module of the package is kept and evaluated at start-up.
import { build } from "esbuild"
import { chmodSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const outdir = `${root}dist/cli`

// @effect/cli keeps YAML, TOML and INI parsers in one table for its file options, which this CLI
// does not use. The parsers' packages do not declare themselves free of side effects, so without
// this the bundle would load all three on every start; with it, the unused table is dropped and
// YAML is loaded only where the CLI imports it itself.
const parsersWithoutSideEffects = {
  name: "parsers-without-side-effects",
  setup(build) {
    build.onResolve({ filter: /^(yaml|toml|ini)$/ }, async (args) => {
      if (args.pluginData === "resolved") return undefined
      const result = await build.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        importer: args.importer,
        pluginData: "resolved"
      })
      return { ...result, sideEffects: false }
    })
  }
}

// Chunk names carry content hashes: start from an empty directory, so no stale chunk ships.
rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: { main: `${root}cli/main.ts` },
  outdir,
  outExtension: { ".js": ".mjs" },
  // What is loaded only on demand stays in its own chunk: the Redis store (and its ioredis
  // import) only when REDIS_URL is set, the simulator only for `simulator`.
  splitting: true,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Bundled CommonJS dependencies require() Node built-ins: give the ESM bundle a require.
  banner: {
    js: '#!/usr/bin/env node\nimport { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);'
  },
  minify: true,
  external: ["ioredis", "jose"],
  // The library from its sources (this repository), as the bundle's own copy.
  alias: {
    "effect-okta-connections/testing": `${root}src/testing/index.ts`,
    "effect-okta-connections/undici": `${root}src/undici/index.ts`,
    "effect-okta-connections": `${root}src/index.ts`
  },
  plugins: [parsersWithoutSideEffects],
  logLevel: "warning"
})
chmodSync(`${outdir}/main.mjs`, 0o755)
