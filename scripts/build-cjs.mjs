// The CommonJS build (dist/cjs), beside the ESM one (dist/), as Effect 3's packages ship: a
// CommonJS application then loads Effect's CommonJS build, never two copies of Effect.
//
// tsc decides a file's module format from the nearest package.json of the *source*, so the
// sources are compiled from a copy whose package.json says "commonjs". With module NodeNext that
// keeps `import("jose")` a real dynamic import (jose is ESM-only), which a require() could not do.
import { execFileSync } from "node:child_process"
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const work = `${root}.build-cjs`
const out = `${root}dist/cjs`

rmSync(work, { recursive: true, force: true })
rmSync(out, { recursive: true, force: true })
mkdirSync(work, { recursive: true })
cpSync(`${root}src`, `${work}/src`, { recursive: true })
writeFileSync(`${work}/package.json`, JSON.stringify({ type: "commonjs" }))
writeFileSync(
  `${work}/tsconfig.json`,
  JSON.stringify({
    extends: "../tsconfig.json",
    compilerOptions: {
      noEmit: false,
      rootDir: "src",
      outDir: "../dist/cjs",
      declarationMap: false,
      sourceMap: false,
      // ESM import syntax compiled to require() is the point of this build.
      verbatimModuleSyntax: false
    },
    include: ["src"]
  })
)
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
try {
  execFileSync(process.execPath, [tsc, "-p", `${work}/tsconfig.json`], { stdio: "inherit" })
} finally {
  rmSync(work, { recursive: true, force: true })
}
writeFileSync(`${out}/package.json`, JSON.stringify({ type: "commonjs" }) + "\n")
