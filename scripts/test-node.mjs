// The whole vitest suite on another Node line than the one running this script: CI's machine has
// Node 20, which is past its end of life, while users run the LTS lines after it, whose built-in
// fetch (undici) answers a dropped connection or a malformed body in its own way. The line's binary
// comes from npm (the platform's `node-<os>-<arch>` package, which npm has for Linux x64 and arm64
// and for macOS x64, not arm64) into a temporary directory.
//
//   node scripts/test-node.mjs <line> [vitest arguments …]     e.g. npm run test:node -- 26
//
// Expects the build `npm test` makes (the CLI and docs tests run dist/). Exits with vitest's code.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const [line, ...vitestArgs] = process.argv.slice(2)
if (line === undefined || !/^\d+$/.test(line)) {
  console.error("usage: node scripts/test-node.mjs <node major line> [vitest arguments]")
  process.exit(2)
}
const root = fileURLToPath(new URL("..", import.meta.url))
const binary = `node-${process.platform}-${process.arch}@${line}`
const dir = mkdtempSync(join(tmpdir(), "effect-okta-connections-node-"))
try {
  writeFileSync(join(dir, "package.json"), JSON.stringify({ private: true }))
  execFileSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", `node@npm:${binary}`],
    {
      cwd: dir,
      stdio: ["ignore", "ignore", "inherit"]
    }
  )
  const node = join(dir, "node_modules", "node", "bin", "node")
  if (!existsSync(node)) throw new Error(`test-node: ${binary} from npm has no bin/node`)
  const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim()
  console.log(`::: vitest on Node ${version}`)
  const vitest = spawnSync(
    node,
    [join(root, "node_modules/vitest/vitest.mjs"), "run", ...vitestArgs],
    // The tests start their processes with process.execPath: this line too.
    { cwd: root, stdio: "inherit" }
  )
  process.exitCode = vitest.status ?? 1
} catch (error) {
  // npm printed why an install failed (no such package for this platform, no registry).
  console.error(error instanceof Error ? error.message : String(error))
  process.exitCode = 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
