/**
 * `okta-connections`: the Application Connections API from a shell, on this library.
 *
 *   okta-connections get 0oa1 0oa2 --json
 *   okta-connections activate --from apps.txt
 *   okta-connections jwks 0oa1 --pem
 *   okta-connections simulator --port 8080
 *
 * Credentials come from Okta's variables (OKTA_CLIENT_ORGURL, OKTA_CLIENT_TOKEN, or the
 * PrivateKey service-app mode), never from the command line. Exit codes: 0 all succeeded, 1 some
 * apps failed, 2 usage error, 3 configuration or authentication error.
 *
 * Built into a single file (dist/cli.mjs, `npm run build`) with @effect/cli and the Node platform
 * bundled in, so that they are not dependencies of the library.
 */
import { Args, Command, Options, ValidationError } from "@effect/cli"
import { FetchHttpClient } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Cause, Config, ConfigError, Console, Effect, Exit, Layer, Option } from "effect"
import {
  ApplicationConnections,
  OktaClient,
  type OktaResponseError,
  VERSION
} from "effect-okta-connections"
import { createPublicKey, type JsonWebKey } from "node:crypto"
import { readFileSync } from "node:fs"
import { simulatorCommand } from "./simulator.js"

/** Exit codes the README documents. */
const EXIT = { ok: 0, someFailed: 1, usage: 2, config: 3 } as const

class UsageError extends Error {}

// Global options: where and how to call Okta.
const orgUrl = Options.text("org-url").pipe(
  Options.withDescription("the org URL (default OKTA_CLIENT_ORGURL)"),
  Options.optional
)
const concurrency = Options.integer("concurrency").pipe(
  Options.withDescription("calls in flight at once, for commands over many apps"),
  Options.withDefault(5)
)
const timeout = Options.integer("timeout").pipe(
  Options.withDescription("seconds per attempt (default 30)"),
  Options.optional
)
const deadline = Options.integer("deadline").pipe(
  Options.withDescription("seconds per call, retries and rate-limit waits included"),
  Options.optional
)
const transport = Options.choice("transport", ["fetch", "undici"]).pipe(
  Options.withDefault("fetch" as const)
)
const root = Command.make("okta-connections", {
  orgUrl,
  concurrency,
  timeout,
  deadline,
  transport
})

/** The client the global options describe. */
const clientLayer = Effect.map(root, (global) =>
  ApplicationConnections.layer.pipe(
    Layer.provide(
      OktaClient.layerConfig({
        ...(Option.isSome(global.orgUrl) ? { orgUrl: Config.succeed(global.orgUrl.value) } : {}),
        ...(Option.isSome(global.timeout) ? { timeout: `${global.timeout.value} seconds` } : {}),
        ...(Option.isSome(global.deadline) ? { deadline: `${global.deadline.value} seconds` } : {})
      })
    ),
    Layer.provide(
      global.transport === "undici" ? NodeHttpClient.layerUndici : FetchHttpClient.layer
    )
  )
)

/** App ids from the arguments, `--from FILE`, or standard input (`-`). */
const appIds = Args.text({ name: "appId" }).pipe(Args.repeated)
const from = Options.file("from").pipe(
  Options.withDescription("read app ids from a file, one per line"),
  Options.optional
)
const idsOf = (args: ReadonlyArray<string>, file: Option.Option<string>) =>
  Effect.try({
    try: () => {
      const lines = (text: string) =>
        text
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter((line) => line !== "" && !line.startsWith("#"))
      const ids = args.flatMap((arg) => (arg === "-" ? lines(readFileSync(0, "utf8")) : [arg]))
      if (Option.isSome(file)) ids.push(...lines(readFileSync(file.value, "utf8")))
      if (ids.length === 0) throw new UsageError("give at least one app id (or --from FILE, or -)")
      return ids
    },
    catch: (error) =>
      error instanceof UsageError ? error : new UsageError(`cannot read app ids: ${String(error)}`)
  })

const json = Options.boolean("json").pipe(Options.withDescription("one JSON array"))
const ndjson = Options.boolean("ndjson").pipe(Options.withDescription("one JSON object per line"))

/** How a failed app is reported: its error tag, summary and request id; never a secret. */
const describeFailure = (error: OktaResponseError) => {
  const requestId = "requestId" in error ? error.requestId : undefined
  const message = error.message
  return requestId !== undefined && !message.includes(requestId)
    ? `${error._tag}: ${message} (request id ${requestId})`
    : `${error._tag}: ${message}`
}

/** Failures that say the credentials are wrong: the same for every app, so exit code 3. */
const isAuthFailure = (error: OktaResponseError) =>
  error._tag === "OktaUnauthorizedError" || error._tag === "OktaAuthError"

interface Outcome<A> {
  readonly id: string
  readonly result: Exit.Exit<A, OktaResponseError>
}

/** Runs `call` for every id at the global concurrency; a failure is one app's, not the run's. */
const forEachApp = <A, R>(
  ids: ReadonlyArray<string>,
  call: (id: string) => Effect.Effect<A, OktaResponseError, R>
) =>
  Effect.flatMap(root, (global) =>
    Effect.forEach(ids, (id) => Effect.map(Effect.exit(call(id)), (result) => ({ id, result })), {
      concurrency: global.concurrency
    })
  )

/** Prints failures to standard error; the exit code says whether any app failed. */
const finish = <A>(outcomes: ReadonlyArray<Outcome<A>>) =>
  Effect.gen(function* () {
    let failed = 0
    let authFailures = 0
    for (const { id, result } of outcomes) {
      if (Exit.isFailure(result)) {
        failed += 1
        const error = Cause.failureOption(result.cause)
        if (Option.isSome(error) && isAuthFailure(error.value)) authFailures += 1
        yield* Console.error(
          `${id}: ${Option.isSome(error) ? describeFailure(error.value) : Cause.pretty(result.cause)}`
        )
      }
    }
    if (outcomes.length > 1 || failed > 0) {
      yield* Console.error(`${outcomes.length - failed} of ${outcomes.length} apps succeeded`)
    }
    if (failed > 0) {
      process.exitCode = authFailures === failed ? EXIT.config : EXIT.someFailed
    }
  })

const withClient = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.flatMap(clientLayer, (layer) => Effect.provide(program, layer))

const get = Command.make("get", { appIds, from, json, ndjson }, (options) =>
  withClient(
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const ids = yield* idsOf(options.appIds, options.from)
      const outcomes = yield* forEachApp(ids, (id) =>
        api.getDefaultProvisioningConnectionForApplication(id)
      )
      const rows = outcomes.flatMap(({ id, result }) =>
        Exit.isSuccess(result) ? [{ id, ...result.value }] : []
      )
      if (options.json) yield* Console.log(JSON.stringify(rows, null, 2))
      else if (options.ndjson) for (const row of rows) yield* Console.log(JSON.stringify(row))
      else {
        const lines = rows.map((row) => [
          row.id,
          row.status,
          row.profile.authScheme,
          row.baseUrl ?? ""
        ])
        const header = ["APP ID", "STATUS", "AUTH", "BASE URL"]
        const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
        for (const line of [header, ...lines]) {
          yield* Console.log(
            line
              .map((cell, i) => cell.padEnd(widths[i]!))
              .join("  ")
              .trimEnd()
          )
        }
      }
      yield* finish(outcomes)
    })
  )
).pipe(Command.withDescription("the default provisioning connection of each app"))

const lifecycle = (name: "activate" | "deactivate") =>
  Command.make(name, { appIds, from }, (options) =>
    withClient(
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const ids = yield* idsOf(options.appIds, options.from)
        const outcomes = yield* forEachApp(ids, (id) =>
          name === "activate"
            ? api.activateDefaultProvisioningConnectionForApplication(id)
            : api.deactivateDefaultProvisioningConnectionForApplication(id)
        )
        for (const { id, result } of outcomes) {
          if (Exit.isSuccess(result)) yield* Console.log(`${id}: ${name}d`)
        }
        yield* finish(outcomes)
      })
    )
  ).pipe(Command.withDescription(`${name} the default provisioning connection of each app`))

const jwks = Command.make(
  "jwks",
  {
    appId: Args.text({ name: "appId" }),
    pem: Options.boolean("pem").pipe(Options.withDescription("print the keys as PEM"))
  },
  (options) =>
    withClient(
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const outcome = yield* forEachApp([options.appId], (id) =>
          api.getUserProvisioningConnectionJWKS(id)
        )
        const result = outcome[0]!.result
        if (Exit.isSuccess(result)) {
          for (const key of result.value.jwks.keys) {
            if (!options.pem) {
              yield* Console.log(JSON.stringify(key))
              continue
            }
            const pem = yield* Effect.try(() =>
              createPublicKey({ key: key as JsonWebKey, format: "jwk" }).export({
                type: "spki",
                format: "pem"
              })
            ).pipe(
              Effect.orElseSucceed(() => `# ${key.kid ?? "a key"}: not a public key PEM can hold\n`)
            )
            yield* Console.log(`# kid ${key.kid ?? "-"}\n${String(pem).trimEnd()}`)
          }
        }
        yield* finish(outcome)
      })
    )
).pipe(Command.withDescription("the JWKS of an Org2Org OAuth 2.0 connection"))

const command = root.pipe(
  Command.withDescription("Okta Application Connections: provisioning connections from a shell"),
  Command.withSubcommands([
    get,
    lifecycle("activate"),
    lifecycle("deactivate"),
    jwks,
    simulatorCommand
  ])
)

const cli = Command.run(command, { name: "okta-connections", version: VERSION })

/** Exit code 3 for what the configuration or the credentials got wrong. */
const isConfigOrAuth = (error: unknown) =>
  ConfigError.isConfigError(error) ||
  (typeof error === "object" &&
    error !== null &&
    "_tag" in error &&
    ["OktaConfigError", "OktaAuthError"].includes(String(error._tag)))

Effect.runPromiseExit(cli(process.argv).pipe(Effect.provide(NodeContext.layer))).then((exit) => {
  if (Exit.isSuccess(exit)) return
  if (Cause.isInterruptedOnly(exit.cause)) {
    process.exitCode = 130
    return
  }
  const error = Cause.squash(exit.cause)
  if (ValidationError.isValidationError(error)) {
    // @effect/cli has printed what was wrong.
    process.exitCode = EXIT.usage
  } else if (error instanceof UsageError) {
    console.error(`okta-connections: ${error.message}`)
    process.exitCode = EXIT.usage
  } else if (isConfigOrAuth(error) || Cause.isFailType(exit.cause)) {
    const message =
      typeof error === "object" && error !== null && "message" in error
        ? String(error.message)
        : String(error)
    console.error(`okta-connections: ${message}`)
    process.exitCode = isConfigOrAuth(error) ? EXIT.config : EXIT.someFailed
  } else {
    console.error(Cause.pretty(exit.cause))
    process.exitCode = EXIT.someFailed
  }
})
