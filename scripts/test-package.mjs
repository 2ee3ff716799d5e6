// The package as users get it: `npm pack`, its file list and size, then a fresh consumer project
// that installs the tarball with the peer versions, typechecks strictly (NodeNext, ESM and CommonJS
// files, bundler and node10 resolution with TypeScript 5.9; NodeNext, bundler and a CommonJS
// project's default with TypeScript 6 and 7), and runs from ESM and CommonJS; then again at the
// lowest versions the peer ranges allow, and beside ioredis 6. With --runtimes it also runs the
// consumer's programs on Node 22, 24 and 26, and a smoke program (get, update, a typed 404 against
// the loopback simulator) on Bun and Deno, all installed from npm, and installs from git with
// npm 12. Prints what it checks; exits 1 on the first failure.
import { execFileSync, spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const runtimes = process.argv.includes("--runtimes")
const work = mkdtempSync(join(tmpdir(), "effect-okta-connections-package-"))
const npm = process.platform === "win32" ? "npm.cmd" : "npm"
/** With --runtimes: the Node lines users run beside the one CI runs on (binaries from npm). */
const NODE_LINES = [22, 24, 26]

const step = (title) => console.log(`::: ${title}`)
const fail = (message) => {
  console.error(`test-package: ${message}`)
  process.exitCode = 1
  throw new Error(message)
}
const run = (command, args, cwd) =>
  execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" })
const versionOf = (name) =>
  JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version
/** A fresh ESM project in the work directory, `packages` installed at the versions given. */
const consumer = (name, packages) => {
  const dir = join(work, name)
  mkdirSync(dir)
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name, private: true, type: "module" }, null, 2)
  )
  run(
    npm,
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--save-exact", ...packages],
    dir
  )
  return dir
}
/** Writes a consumer's tsconfig, as strict as an application's may be, plus `options`. */
const tsconfig = (dir, name, options, files) =>
  writeFileSync(
    join(dir, name),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        target: "ES2022",
        lib: ["ES2022"],
        types: ["node"],
        skipLibCheck: false,
        ...options
      },
      files
    })
  )

/** Compiles `<name>.mts` (NodeNext, strict) with the project's own TypeScript; runs it; its output. */
const compileAndRun = (dir, name) => {
  tsconfig(
    dir,
    "tsconfig.json",
    { module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" },
    [`${name}.mts`]
  )
  run(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "-p", "."], dir)
  return run(process.execPath, [`out/${name}.mjs`], dir).trim()
}

try {
  // 1. The tarball: what is in it, and how big it is.
  step("npm pack")
  const [packed] = JSON.parse(run(npm, ["pack", "--json", "--pack-destination", work], root))
  const files = packed.files.map((file) => file.path)
  const required = [
    "package.json",
    "README.md",
    "LICENSE",
    "dist/index.js",
    "dist/index.d.ts",
    "dist/testing/index.js",
    "dist/cjs/package.json",
    "dist/cjs/index.js",
    "dist/cjs/index.d.ts",
    "dist/cjs/testing/index.js",
    "dist/redis/index.js",
    "dist/cli/main.mjs",
    "dist/cjs/redis/index.js",
    "dist/undici/index.js",
    "dist/cjs/undici/index.js",
    "docs/resilience.md"
  ]
  for (const file of required) if (!files.includes(file)) fail(`the tarball lacks ${file}`)
  const unwanted = files.filter((file) =>
    /^(test|bench|examples|scripts|\.ci|\.build-cjs|node_modules)\//.test(file)
  )
  if (unwanted.length > 0) fail(`the tarball holds ${unwanted.slice(0, 5).join(", ")}`)
  const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`
  console.log(
    `    ${packed.filename}: ${files.length} files, ${kib(packed.size)} packed, ${kib(packed.unpackedSize)} unpacked`
  )
  // Bounds with room to grow, to catch a stray directory or bundle, not to pin the size.
  if (packed.size > 1024 * 1024) fail(`the tarball is ${kib(packed.size)} (bound 1 MiB)`)
  // The CLI bundle (about 1.4 MiB, Effect included) is most of it.
  if (packed.unpackedSize > 4 * 1024 * 1024) {
    fail(`the package unpacks to ${kib(packed.unpackedSize)} (bound 4 MiB)`)
  }

  // 2. A consumer project with the peer versions this repository is tested with.
  step("install the tarball into a fresh project")
  const tarball = join(work, packed.filename)
  const app = consumer("consumer", [
    tarball,
    ...[
      "effect",
      "@effect/platform",
      "@effect/platform-node",
      "ioredis",
      "typescript",
      "@types/node"
    ].map((name) => `${name}@${versionOf(name)}`),
    // What `npm install -D typescript` gives since July 2026 (the native compiler), and the line
    // before it, which projects linting with typescript-eslint stay on.
    "typescript7@npm:typescript@7",
    "typescript6@npm:typescript@6"
  ])

  const program = (importLine) => `${importLine}
const Live = ApplicationConnections.layer.pipe(
  Layer.provideMerge(OktaSimulator.layerConnections())
)
const program = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  const connection = yield* api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
  const missing = yield* Effect.flip(
    api.getDefaultProvisioningConnectionForApplication("0oanosuchapp00000001")
  )
  return \`\${connection.status} \${missing._tag}\`
})
Effect.runPromise(Effect.provide(program, OktaSimulator.layerConnections())).then((line) => {
  console.log(line)
})
void Live
`
  writeFileSync(
    join(app, "esm.mts"),
    program(`import { Effect, Layer } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"`)
  )
  writeFileSync(
    join(app, "cjs.cts"),
    program(`import { Effect, Layer } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"`)
  )
  // This package's transports (`OktaUndici`, `OktaFetch`) over a loopback simulator, from ESM
  // and from CommonJS alike.
  const overLoopback = (
    name,
    imports,
    transport
  ) => `import { Effect, Layer, Redacted } from "effect"
import { ApplicationConnections, OktaClient } from "effect-okta-connections"
import { OktaSimulator, serve } from "effect-okta-connections/testing"
${imports}
const program = Effect.gen(function* () {
  const { url } = yield* serve()
  const Live = ApplicationConnections.layer.pipe(
    Layer.provide(OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("smoke-token") })),
    Layer.provide(${transport})
  )
  const api = Effect.flatMap(ApplicationConnections, (connections) =>
    connections.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
  )
  return yield* Effect.provide(api, Live)
}).pipe(Effect.scoped, Effect.provide(OktaSimulator.layer({ tokens: [{ token: "smoke-token" }] })))
Effect.runPromise(program).then((connection) => {
  console.log(\`${name} \${connection.status}\`)
})
`
  const transports = {
    undici: overLoopback(
      "undici",
      `import { OktaUndici } from "effect-okta-connections/undici"`,
      "OktaUndici.layer()"
    ),
    fetch: overLoopback(
      "fetch",
      `import { OktaFetch } from "effect-okta-connections"`,
      "OktaFetch.layer()"
    )
  }
  for (const [name, source] of Object.entries(transports)) {
    writeFileSync(join(app, `${name}.mts`), source)
    writeFileSync(join(app, `${name}.cts`), source)
  }
  writeFileSync(
    join(app, "bundler.ts"),
    program(`import { Effect, Layer } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"`)
  )
  // TypeScript's older resolution (a CommonJS project's `"module": "commonjs"` without
  // `moduleResolution`) reads no `exports`: the subpaths resolve through `typesVersions`.
  writeFileSync(
    join(app, "node10.ts"),
    program(`import { Effect, Layer } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"
import { OktaSimulator } from "effect-okta-connections/testing"
import { OktaUndici } from "effect-okta-connections/undici"
void [RedisRateLimitStore.layer, OktaUndici.layer]`)
  )
  tsconfig(
    app,
    "tsconfig.nodenext.json",
    { module: "NodeNext", moduleResolution: "NodeNext", outDir: "out" },
    ["esm.mts", "cjs.cts", "undici.mts", "undici.cts", "fetch.mts", "fetch.cts"]
  )
  tsconfig(
    app,
    "tsconfig.bundler.json",
    { module: "ESNext", moduleResolution: "Bundler", noEmit: true },
    ["bundler.ts"]
  )
  tsconfig(
    app,
    "tsconfig.node10.json",
    { module: "commonjs", moduleResolution: "node10", outDir: "out10" },
    ["node10.ts"]
  )
  // The same CommonJS project as TypeScript 6 and 7 see it with its `moduleResolution` unset.
  tsconfig(app, "tsconfig.commonjs.json", { module: "commonjs", noEmit: true }, ["node10.ts"])
  const tsc = join(app, "node_modules/typescript/bin/tsc")
  step("typecheck a consumer, strict: NodeNext (ESM and CommonJS files), bundler, node10")
  run(process.execPath, [tsc, "-p", "tsconfig.nodenext.json"], app)
  run(process.execPath, [tsc, "-p", "tsconfig.bundler.json"], app)
  run(process.execPath, [tsc, "-p", "tsconfig.node10.json"], app)
  // TypeScript 7 (the native compiler) and 6 (the line typescript-eslint still requires) have no
  // node10 resolution (6 deprecates it: an error without `ignoreDeprecations`); a `"module":
  // "commonjs"` project without `moduleResolution` resolves through `exports` on both.
  for (const alias of ["typescript7", "typescript6"]) {
    const newer = join(app, "node_modules", alias, "bin/tsc")
    step(
      `typecheck the NodeNext, bundler and commonjs projects with ${run(process.execPath, [newer, "--version"], app).trim()}`
    )
    for (const project of ["nodenext", "bundler", "commonjs"]) {
      run(process.execPath, [newer, "-p", `tsconfig.${project}.json`, "--noEmit"], app)
    }
  }
  writeFileSync(join(app, "out10", "package.json"), JSON.stringify({ type: "commonjs" }))

  step("run from ESM and from CommonJS, in memory and over OktaUndici and OktaFetch")
  runPrograms(app, process.execPath)
  // A CommonJS application loads Effect's CommonJS build, once.
  const copies = run(
    process.execPath,
    [
      "-e",
      `require("effect-okta-connections"); console.log(Object.keys(require.cache).filter((k) => /node_modules\\/effect\\/dist\\/cjs\\/Effect\\.js$/.test(k)).length)`
    ],
    app
  ).trim()
  if (copies !== "1") fail(`a CommonJS app loaded ${copies} copies of effect/Effect`)
  console.log("    CommonJS: one copy of Effect (its CommonJS build)")
  // The ESM entry points are bundles sharing chunks (scripts/bundle-esm.mjs): an error the
  // testing entry's client fails with is an instance of the main entry's class.
  const shared = run(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { Effect } from "effect"
import { ApplicationConnections, OktaNotFoundError } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"
const missing = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication("0oanosuchapp00000001"))
const error = await Effect.runPromise(Effect.flip(Effect.provide(missing, OktaSimulator.layerConnections())))
console.log(error instanceof OktaNotFoundError)`
    ],
    app
  ).trim()
  if (shared !== "true") fail("the ESM entry points hold two copies of the error classes")
  console.log("    ESM: one copy of each module across the entry points")

  step("the okta-connections bin")
  const version = run(join(app, "node_modules/.bin/okta-connections"), ["--version"], app).trim()
  if (version !== packed.version) fail(`okta-connections --version printed ${version}`)
  console.log(`    okta-connections --version: ${version}`)

  lowestPeers(tarball)
  ioredis6(tarball)
  if (runtimes) await otherRuntimes(app)
  console.log("test-package: ok")
} catch (error) {
  if (process.exitCode !== 1) {
    // A command that failed (tsc, a smoke program) printed why on the standard output it captured.
    const printed = typeof error?.stdout === "string" ? error.stdout.trim() : ""
    if (printed !== "") console.error(printed)
    console.error(`test-package: ${error instanceof Error ? error.message : String(error)}`)
    process.exitCode = 1
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

/**
 * The consumer's compiled programs, on `node`: in memory from ESM, CommonJS and node10, and over
 * this package's undici and fetch transports from ESM and CommonJS.
 */
function runPrograms(app, node) {
  for (const file of ["out/esm.mjs", "out/cjs.cjs", "out10/node10.js"]) {
    const output = run(node, [file], app).trim()
    if (output !== "ENABLED OktaNotFoundError") fail(`${file} printed ${JSON.stringify(output)}`)
    console.log(`    ${file}: ${output}`)
  }
  for (const name of ["undici", "fetch"]) {
    for (const file of [`out/${name}.mjs`, `out/${name}.cjs`]) {
      const output = run(node, [file], app).trim()
      if (output !== `${name} ENABLED`) fail(`${file} printed ${JSON.stringify(output)}`)
      console.log(`    ${file}: ${output}`)
    }
  }
}

/**
 * A project already on ioredis 6 (the current major; with no `@effect/platform-node`, whose own
 * peers hold ioredis at 5) installs the package beside it, passes its own client to the Redis
 * store (typed by ioredis 6), and makes a call through that store: against REDIS_URL's Redis when
 * it answers (CI's does, and must then hold the store's keys), else on the client's own gate.
 */
function ioredis6(tarball) {
  step("install, typecheck and run beside ioredis 6")
  const version = versionOf("ioredis-6")
  // ioredis 6's declarations export error classes built on `redis-errors`, which ships no types:
  // a project that checks library types (skipLibCheck off, as here) adds them.
  const app = consumer("ioredis6", [
    tarball,
    `ioredis@${version}`,
    "@types/redis-errors@1",
    ...["effect", "@effect/platform", "typescript", "@types/node"].map(
      (name) => `${name}@${versionOf(name)}`
    )
  ])
  writeFileSync(
    join(app, "ioredis6.mts"),
    `import { Effect, Logger } from "effect"
import { Redis } from "ioredis"
import { ApplicationConnections } from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"
import { OktaSimulator } from "effect-okta-connections/testing"
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
  enableOfflineQueue: false,
  commandTimeout: 250,
  retryStrategy: () => null
})
redis.on("error", () => {})
await new Promise((resolve) => {
  redis.once("ready", resolve)
  redis.once("end", resolve)
})
const keyPrefix = \`ioredis6-\${process.pid}:\`
const program = Effect.gen(function* () {
  const rateLimitStore = yield* RedisRateLimitStore.make({ client: redis, keyPrefix })
  const get = Effect.flatMap(ApplicationConnections, (api) =>
    api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001"))
  return yield* Effect.provide(get, OktaSimulator.layerConnections({ client: { rateLimitStore } }))
}).pipe(Effect.scoped, Effect.provide(Logger.remove(Logger.defaultLogger)))
const connection = await Effect.runPromise(program)
const keys = redis.status === "ready" ? await redis.keys(\`\${keyPrefix}*\`) : []
if (keys.length > 0) await redis.del(...keys)
redis.disconnect()
console.log(\`\${connection.status} RESP\${redis.options.protocol ?? 2} \${keys.length > 0 ? "redis" : "local"}\`)
`
  )
  const output = compileAndRun(app, "ioredis6")
  const expected = process.env.REDIS_URL ? /^ENABLED RESP3 redis$/ : /^ENABLED RESP3 (redis|local)$/
  if (!expected.test(output)) fail(`ioredis6.mjs printed ${JSON.stringify(output)}`)
  console.log(`    ioredis@${version}: out/ioredis6.mjs: ${output}`)
}

/**
 * Node 22, 24 and 26 run the consumer's programs; Bun and Deno, from npm, run a smoke program
 * against the loopback simulator (run by Node).
 */
async function otherRuntimes(app) {
  step(`install Node ${NODE_LINES.join(", ")}, Bun, Deno and npm 12 from npm`)
  // The platform's binary package itself, not the `node` package, whose install script fetches it.
  const platform = process.platform === "win32" ? "win" : process.platform
  const nodes = NODE_LINES.map((line) => `node${line}@npm:node-${platform}-${process.arch}@${line}`)
  run(
    npm,
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--no-save",
      "bun",
      "deno",
      "npm12@npm:npm@12",
      ...nodes
    ],
    app
  )
  for (const line of NODE_LINES) {
    const node = join(app, "node_modules", `node${line}`, "bin", "node")
    step(`run the programs on Node ${run(node, ["--version"], app).trim()}`)
    runPrograms(app, node)
  }
  writeFileSync(
    join(app, "simulator.mjs"),
    `import { Effect, Layer } from "effect"
import { OktaSimulator, serve } from "effect-okta-connections/testing"
const program = Effect.gen(function* () {
  const { url } = yield* serve()
  console.log(JSON.stringify({ url }))
  return yield* Effect.never
}).pipe(Effect.scoped, Effect.provide(OktaSimulator.layer({ tokens: [{ token: "smoke-token" }] })))
Effect.runFork(program)
`
  )
  writeFileSync(
    join(app, "smoke.mjs"),
    `import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"
import { ApplicationConnections, OktaClient } from "effect-okta-connections"
const [url] = (globalThis.Deno?.args ?? process.argv.slice(2))
const Live = ApplicationConnections.layer.pipe(
  Layer.provide(OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("smoke-token") })),
  Layer.provide(FetchHttpClient.layer)
)
const program = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  const id = "0oasimzscaler0000001"
  const before = yield* api.getDefaultProvisioningConnectionForApplication(id)
  const updated = yield* api.updateDefaultProvisioningConnectionForApplication(id, {
    baseUrl: "https://scim.example.com/v2",
    profile: { authScheme: "TOKEN", token: "00smoke" }
  })
  const missing = yield* Effect.flip(api.getDefaultProvisioningConnectionForApplication("0oanosuchapp00000001"))
  return [typeof before.status === "string" ? "get" : "?", updated.baseUrl, missing._tag].join(" ")
})
Effect.runPromise(Effect.provide(program, Live)).then(
  (line) => console.log(line),
  (error) => { console.error(String(error)); globalThis.Deno ? Deno.exit(1) : process.exit(1) }
)
`
  )
  const simulator = spawn(process.execPath, ["simulator.mjs"], {
    cwd: app,
    stdio: ["ignore", "pipe", "inherit"]
  })
  try {
    const { url } = JSON.parse(
      await new Promise((resolve) =>
        createInterface({ input: simulator.stdout }).once("line", resolve)
      )
    )
    const bin = (name) => join(app, "node_modules/.bin", name)
    for (const [name, command, args] of [
      ["bun", bin("bun"), ["smoke.mjs", url]],
      ["deno", bin("deno"), ["run", "--allow-net", "--allow-read", "--allow-env", "smoke.mjs", url]]
    ]) {
      step(`smoke on ${name} ${run(command, ["--version"], app).split("\n")[0].trim()}`)
      const output = run(command, args, app).trim()
      const expected = "get https://scim.example.com/v2 OktaNotFoundError"
      if (output !== expected) fail(`${name} printed ${JSON.stringify(output)}`)
      console.log(`    ${output}`)
    }
  } finally {
    simulator.kill()
  }
  fromGit(app)
}

/**
 * The README's install from git, with npm 12 (on the newest Node line above: npm 12 needs 22 or
 * later), which fetches git dependencies only with --allow-git: npm clones this repository's HEAD
 * and builds it (its `prepare`) before it installs it.
 */
function fromGit(app) {
  const node = join(app, "node_modules", `node${NODE_LINES.at(-1)}`, "bin", "node")
  const npm12 = join(app, "node_modules", "npm12", "bin", "npm-cli.js")
  step(
    `install from git with npm ${run(node, [npm12, "--version"], app).trim()}, as the README says`
  )
  const dir = join(work, "from-git")
  mkdirSync(dir)
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "from-git", private: true }))
  run(
    node,
    [
      npm12,
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--allow-git=root",
      `git+${pathToFileURL(root).href.replace(/\/$/, "")}`,
      ...["effect", "@effect/platform"].map((name) => `${name}@${versionOf(name)}`)
    ],
    dir
  )
  writeFileSync(
    join(dir, "get.mjs"),
    `import { Effect } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"
const get = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001"))
console.log((await Effect.runPromise(Effect.provide(get, OktaSimulator.layerConnections()))).status)
`
  )
  const output = run(node, ["get.mjs"], dir).trim()
  if (output !== "ENABLED") fail(`get.mjs printed ${JSON.stringify(output)}`)
  console.log(`    get.mjs: ${output}`)
}

/**
 * A second consumer at the lowest version each peer range allows (`^5.3.0` → 5.3.0), exactly: a
 * range is a promise that those versions work. `@effect/platform-node` is left at the first
 * consumer's version: its own peer `@effect/cluster` resolves to a release that needs a higher
 * `@effect/platform` than our range's floor, so npm cannot install the two floors together.
 */
function lowestPeers(tarball) {
  step("install, typecheck and run at the lowest peer versions")
  const { peerDependencies } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const lowest = Object.entries(peerDependencies)
    .filter(([name]) => name !== "@effect/platform-node")
    .map(([name, range]) => {
      // The first alternative's floor: `^5.3.0 || ^6.0.0` → 5.3.0.
      const floors = range.split("||").map((part) => /^\^(\d+\.\d+\.\d+)$/.exec(part.trim())?.[1])
      if (floors.includes(undefined)) fail(`the peer range ${name}@${range} is not ^x.y.z (|| …)`)
      return [name, floors[0]]
    })
  const app = consumer("lowest", [
    tarball,
    ...lowest.map(([name, floor]) => `${name}@${floor}`),
    ...["typescript", "@types/node"].map((name) => `${name}@${versionOf(name)}`)
  ])
  for (const [name, floor] of lowest) {
    const installed = JSON.parse(
      readFileSync(join(app, "node_modules", name, "package.json"), "utf8")
    ).version
    if (installed !== floor) fail(`npm installed ${name}@${installed}, not the floor ${floor}`)
  }
  console.log(`    ${lowest.map(([name, floor]) => `${name}@${floor}`).join(", ")}`)
  // Every entry point that needs no platform-node: in memory, an OAuth 2.0 service app with DPoP
  // (jose), and the Redis store's module (ioredis), loaded and typed.
  writeFileSync(
    join(app, "lowest.mts"),
    `import { createPublicKey, generateKeyPairSync } from "node:crypto"
import { Effect, Redacted } from "effect"
import { ApplicationConnections } from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"
import { OktaSimulator } from "effect-okta-connections/testing"
const key = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" }
})
const publicKey = createPublicKey(key.publicKey).export({ format: "jwk" })
const get = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001"))
const oauth = OktaSimulator.layerConnections({
  oauthClients: [{ clientId: "0oaservice", publicKey, requireDpop: true }],
  credentials: {
    oauth: { clientId: "0oaservice", privateKey: Redacted.make(key.privateKey), scopes: ["okta.apps.read"], dpop: true }
  }
})
const token = await Effect.runPromise(Effect.provide(get, OktaSimulator.layerConnections()))
const dpop = await Effect.runPromise(Effect.provide(get, oauth))
const store = RedisRateLimitStore.layer({ keyPrefix: "lowest:" })
console.log(\`\${token.status} \${dpop.status} \${typeof store}\`)
`
  )
  const output = compileAndRun(app, "lowest")
  if (output !== "ENABLED ENABLED object") fail(`lowest.mjs printed ${JSON.stringify(output)}`)
  console.log(`    out/lowest.mjs: ${output}`)
}
