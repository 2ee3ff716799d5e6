/**
 * `npm run simulator`: the Okta simulator as a standalone loopback server.
 *
 *   npm run simulator -- [--port N] [--token T] [--rate-limit N] [--window-seconds S]
 *                        [--concurrency-limit N] [--latency-ms MS] [--batch-apps N]
 *                        [--content-length] [--fault SPEC]… [--oauth-client ID=KEYFILE]…
 *
 * Bodies are chunked, and gzip-compressed when the request accepts it, as Okta's are;
 * `--content-length` declares every body's length instead. Each `--fault` arms one of the
 * simulator's faults before the first request (cli/faultSpec.ts has the grammar); each
 * `--oauth-client` registers a service app with its authorization server (cli/oauthClientSpec.ts).
 *
 * The first line printed is one JSON object, `{"url","token","apps":[{"id","name"}…]}`, for
 * scripts; then human-readable lines, one per request. Ctrl-C stops it.
 */
import { Cause, Effect, Either, Fiber } from "effect"
import { parseArgs } from "node:util"
import { FAULT_SPEC_HELP, parseFaultSpec } from "../cli/faultSpec.js"
import { OAUTH_CLIENT_SPEC_HELP, parseOAuthClientSpec } from "../cli/oauthClientSpec.js"
import { runSimulator } from "../cli/simulatorRun.js"

const usage = `usage: npm run simulator -- [--port N] [--token T] [--rate-limit N] [--window-seconds S] [--concurrency-limit N] [--latency-ms MS] [--batch-apps N] [--content-length] [--fault SPEC]… [--oauth-client ID=KEYFILE]…
  --fault SPEC: ${FAULT_SPEC_HELP}
  --oauth-client ${OAUTH_CLIENT_SPEC_HELP}`

const fail = (message: string): never => {
  console.error(`${message}\n${usage}`)
  process.exit(2)
}

const parse = (): Record<string, string | boolean | Array<string> | undefined> => {
  try {
    return parseArgs({
      options: {
        port: { type: "string" },
        token: { type: "string" },
        "rate-limit": { type: "string" },
        "window-seconds": { type: "string" },
        "concurrency-limit": { type: "string" },
        "latency-ms": { type: "string" },
        "batch-apps": { type: "string" },
        "content-length": { type: "boolean" },
        fault: { type: "string", multiple: true },
        "oauth-client": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" }
      }
    }).values
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
}
const values = parse()
if (values["help"] === true) {
  console.log(usage)
  process.exit(0)
}

const integer = (name: string, min: number): number | undefined => {
  const raw = values[name]
  if (raw === undefined || typeof raw !== "string") return undefined
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    fail(`--${name} must be an integer ≥ ${min} (got ${raw})`)
  return Number(raw)
}

// Said here, as the CLI's `simulator` says it, rather than by Node's listen error.
const port = integer("port", 0)
if (port !== undefined && port > 65_535) fail(`--port must be between 0 and 65535 (got ${port})`)
const limit = integer("rate-limit", 1)
const windowSeconds = integer("window-seconds", 1)
const concurrencyLimit = integer("concurrency-limit", 1)
const latencyMillis = integer("latency-ms", 0)
const batchApps = integer("batch-apps", 0) ?? 0
/** Every value of a repeatable option, each read by `parse`: the first it refuses exits 2. */
const each = <A>(name: string, parse: (text: string) => Either.Either<A, string>) => {
  const given = values[name]
  return (Array.isArray(given) ? given : []).map((text) =>
    Either.getOrElse(parse(text), (reason) => fail(reason))
  )
}
const faults = each("fault", parseFaultSpec)
const oauthClients = each("oauth-client", parseOAuthClientSpec)
const program = runSimulator({
  port,
  token: typeof values["token"] === "string" ? values["token"] : undefined,
  limit,
  windowSeconds,
  concurrencyLimit,
  latencyMillis,
  batchApps,
  contentLength: values["content-length"] === true,
  faults,
  oauthClients
})

const fiber = Effect.runFork(program)
fiber.addObserver((exit) => {
  if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause)) {
    const failure = Cause.failureOption(exit.cause)
    // A port in use (or not allowed) is a usage problem: one line, exit 2, no stack trace.
    if (failure._tag === "Some" && failure.value._tag === "SimulatorServeError") {
      console.error(`npm run simulator: ${failure.value.message}`)
      process.exitCode = 2
      return
    }
    console.error(Cause.pretty(exit.cause))
    process.exitCode = 1
  }
})
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    Effect.runFork(Fiber.interrupt(fiber))
  })
}
