// The command line (cli/main.ts) as one file, dist/cli.mjs, the package's `bin`. @effect/cli, its
// printers and the Node platform are bundled in, so they are not dependencies of the library;
// Effect, @effect/platform and the library itself stay imports of the installed packages (the
// peers the library needs anyway), so a CLI process loads one copy of Effect.
import { build } from "esbuild"
import { chmodSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const outfile = `${root}dist/cli.mjs`

await build({
  entryPoints: [`${root}cli/main.ts`],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Bundled CommonJS dependencies require() Node built-ins: give the ESM bundle a require.
  banner: {
    js: '#!/usr/bin/env node\nimport { createRequire as __createRequire } from "node:module";\nconst require = __createRequire(import.meta.url);'
  },
  minify: true,
  external: ["effect", "@effect/platform", "effect-okta-connections", "ioredis", "jose"],
  logLevel: "warning"
})
chmodSync(outfile, 0o755)
