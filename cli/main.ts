/**
 * `okta-connections`: the Application Connections API from a shell, on this library.
 *
 *   okta-connections get 0oa1 0oa2 --json
 *   okta-connections apply connections.yaml --dry-run
 *   okta-connections jwks 0oa1 --pem
 *   okta-connections simulator --port 8080
 *
 * Credentials come from Okta's variables (OKTA_CLIENT_ORGURL, OKTA_CLIENT_TOKEN, or the
 * PrivateKey service-app mode) or okta.yaml (./okta.yaml, ~/.okta/okta.yaml), never from the
 * command line. Exit codes: 0 all succeeded, 1 some apps failed, 2 usage error, 3 configuration
 * or authentication error, 4 changes planned (apply --dry-run --detailed-exitcode), 130
 * interrupted, 141 the reader of the output went away.
 *
 * Bundled (dist/cli/main.mjs and its chunks, `npm run build`) with @effect/cli and the Node platform
 * bundled in, so that they are not dependencies of the library.
 */
import * as Command from "@effect/cli/Command"
import * as Descriptor from "@effect/cli/CommandDescriptor"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { ApplicationConnections, VERSION } from "effect-okta-connections"
import { createPublicKey, type JsonWebKey } from "node:crypto"
import { stripVTControlCharacters } from "node:util"
import { setFlagsFromString } from "node:v8"
import { nearest } from "../src/internal/nearest.js"
import {
  appId,
  appIds,
  BUILT_IN_OPTIONS,
  builtInValueFault,
  commandLineFault,
  consentWay,
  EXIT,
  finish,
  forEachApp,
  refuseMalformedIds,
  from,
  idsOf,
  json,
  ndjson,
  root,
  UsageError,
  withClient
} from "./shared.js"
import { manifestText } from "./manifest.js"
import { filesWithoutSection, yamlOrigin } from "./oktaYaml.js"
import { simulatorCommand } from "./simulator.js"
import { apply, update, verify } from "./write.js"

const manifest = Options.boolean("manifest").pipe(
  Options.withDescription("a manifest of the connections as they are, for apply (YAML)")
)

/**
 * `program` over the app ids given, with the client. The ids (arguments, `--from`, standard input)
 * are read first: a missing one, or a file that cannot be read, is a usage error whatever the
 * configuration; so is, when the program `changes` the apps, an id that is no app id.
 */
const withAppIds = <A, E, R>(
  options: { readonly appIds: ReadonlyArray<string>; readonly from: Option.Option<string> },
  program: (ids: ReadonlyArray<string>) => Effect.Effect<A, E, R>,
  changes = false
) =>
  Effect.flatMap(idsOf(options.appIds, options.from), (ids) =>
    Effect.zipRight(changes ? refuseMalformedIds(ids) : Effect.void, withClient(program(ids)))
  )

const get = Command.make("get", { appIds, from, json, ndjson, manifest }, (options) =>
  // What the command line got wrong is said before the configuration is read.
  Effect.zipRight(
    [options.json, options.ndjson, options.manifest].filter(Boolean).length > 1
      ? Effect.fail(new UsageError("give one output format: --json, --ndjson or --manifest"))
      : Effect.void,
    withAppIds(options, (ids) =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const outcomes = yield* forEachApp(
          ids,
          (id) => api.getDefaultProvisioningConnectionForApplication(id),
          // NDJSON streams: each app as its call ends, so a long run can be piped and read as it goes.
          ({ id, result }) =>
            options.ndjson && Exit.isSuccess(result)
              ? Console.log(JSON.stringify({ id, ...result.value }))
              : Effect.void
        )
        const rows = outcomes.flatMap(({ id, result }) =>
          Exit.isSuccess(result) ? [{ id, ...result.value }] : []
        )
        if (options.json) yield* Console.log(JSON.stringify(rows, null, 2))
        else if (options.manifest) {
          const apps = rows.map(({ id, ...connection }) => ({ id, connection }))
          const unread = outcomes.flatMap(({ id, result }) =>
            Exit.isFailure(result)
              ? [
                  {
                    id,
                    why: Option.match(Cause.failureOption(result.cause), {
                      onNone: () => "stopped",
                      onSome: (error) => error._tag
                    })
                  }
                ]
              : []
          )
          yield* Console.log(yield* manifestText(apps, unread))
        }
        // No table with --ndjson (printed as the calls ended), nor without a row: every app
        // failed, and each failure is on standard error.
        else if (!options.ndjson && rows.length > 0) {
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
          // Awaiting an admin's consent reads DISABLED like any other connection: the table has
          // no room for the URL to consent at, so standard error gives it, and both ways on (Okta
          // may keep the link once the consent is given, as its own examples show).
          for (const row of rows) {
            const consent = row._links?.authorize?.href
            if (row.status === "DISABLED" && consent !== undefined) {
              yield* Console.error(
                `${row.id}: DISABLED; if its OAuth 2.0 consent is still to be given, ${consentWay(consent)}; if it was given, okta-connections activate ${row.id} enables it`
              )
            }
            // Okta's answer for an app without provisioning (a bookmark app): a table of UNKNOWN
            // says nothing more, and activating it answers 204 all the same.
            if (row.status === "UNKNOWN" && row.profile.authScheme === "UNKNOWN") {
              yield* Console.error(
                `${row.id}: UNKNOWN, as Okta shows an app without provisioning (a bookmark app, say): there is no connection to set, and activating it changes nothing`
              )
            }
          }
        }
        yield* finish(outcomes)
      })
    )
  )
).pipe(Command.withDescription("the default provisioning connection of each app"))

const lifecycle = (name: "activate" | "deactivate") =>
  Command.make(name, { appIds, from }, (options) =>
    withAppIds(
      options,
      (ids) =>
        Effect.gen(function* () {
          const api = yield* ApplicationConnections
          // Each change is said as it is made: a run that is stopped has said what it changed.
          const outcomes = yield* forEachApp(
            ids,
            (id) =>
              name === "activate"
                ? api.activateDefaultProvisioningConnectionForApplication(id)
                : api.deactivateDefaultProvisioningConnectionForApplication(id),
            ({ id, result }) =>
              Exit.isSuccess(result) ? Console.log(`${id}: ${name}d`) : Effect.void,
            true
          )
          yield* finish(outcomes)
        }),
      true
    )
  ).pipe(Command.withDescription(`${name} the default provisioning connection of each app`))

const jwks = Command.make(
  "jwks",
  {
    appId,
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

const subcommands = [
  get,
  update,
  lifecycle("activate"),
  lifecycle("deactivate"),
  jwks,
  verify,
  apply,
  simulatorCommand
] as const
const command = root.pipe(
  Command.withDescription(
    "Okta Application Connections: provisioning connections from a shell. okta-connections help <command> (or <command> --help) gives the command's options."
  ),
  Command.withSubcommands(subcommands)
)

const cli = Command.run(command, { name: "okta-connections", version: VERSION })

const CREDENTIAL_VARIABLES = new Set([
  "OKTA_CLIENT_ORGURL",
  "OKTA_CLIENT_TOKEN",
  "OKTA_CLIENT_AUTHORIZATIONMODE",
  "OKTA_CLIENT_CLIENTID",
  "OKTA_CLIENT_SCOPES",
  "OKTA_CLIENT_PRIVATEKEY",
  "OKTA_CLIENT_KEYID"
])

/**
 * A configuration error in the command line's words: which variables are not set or not valid, and
 * what it reads, rather than `Config`'s "Expected OKTA_CLIENT_TOKEN to exist in the process context".
 */
const describeConfigError = (error: ConfigError.ConfigError): string => {
  // A variable missing from the environment and from each okta.yaml is missing once.
  const missing = new Set<string>()
  const invalid = new Set<string>()
  const invalidNames = new Set<string>()
  // The library's word on what is set in a missing variable's place (`OKTA_API_TOKEN is set, …`).
  const others = new Set<string>()
  const walk = (e: ConfigError.ConfigError): void => {
    if (e._op === "And" || e._op === "Or") {
      walk(e.left)
      walk(e.right)
    } else if (e._op === "MissingData") {
      const name = e.path.join(".")
      missing.add(name === "OKTA_CLIENT_ORGURL" ? `${name} (or --org-url)` : name)
      for (const part of e.message.split("; ")) {
        if (/^OKTA_\w+( and OKTA_\w+)* (is|are) set[,:] /.test(part)) others.add(`  ${part}`)
      }
    } else {
      const name = e.path.join(".")
      invalidNames.add(name)
      // The library names the variable in its message too; here it is named first, or the
      // okta.yaml key it was read from is.
      const says = e.message.startsWith(`${name} `) ? e.message.slice(name.length + 1) : e.message
      invalid.add(`${yamlOrigin(name) ?? name}: ${says}`)
    }
  }
  walk(error)
  // Set in okta.yaml but not in the environment: the value is there, only not valid.
  for (const name of invalidNames) missing.delete(name)
  return [
    ...(missing.size > 0 ? [`not set: ${[...missing].join(", ")}`] : []),
    ...(invalid.size > 0 ? [`not valid: ${[...invalid].join("; ")}`] : []),
    ...others,
    ...(missing.size > 0
      ? filesWithoutSection().map(
          (path) =>
            `  ${path} has nothing under okta.client: its keys go under okta:, then client:, indented.`
        )
      : []),
    // Where the org and the credentials come from, unless only another setting (a proxy's port,
    // the retry settings) is wrong.
    ...(missing.size > 0 || [...invalidNames].some((name) => CREDENTIAL_VARIABLES.has(name))
      ? [
          "  The org's URL comes from OKTA_CLIENT_ORGURL, the credential from OKTA_CLIENT_TOKEN (an SSWS",
          "  API token) or, with OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey, a service app's",
          "  OKTA_CLIENT_CLIENTID, OKTA_CLIENT_SCOPES and OKTA_CLIENT_PRIVATEKEY (OKTA_CLIENT_KEYID optional);",
          "  or from the okta.client section of ./okta.yaml or ~/.okta/okta.yaml, as Okta's SDKs read it."
        ]
      : [])
  ].join("\n")
}

// @effect/cli colours its help and some usage errors whatever the output is: a pipe, a file, or
// NO_COLOR (https://no-color.org) gets them plain.
const colours = (stream: NodeJS.WriteStream) =>
  stream.isTTY === true && (process.env["NO_COLOR"] ?? "") === ""
const plainWhere = (
  keep: boolean,
  print: (...args: ReadonlyArray<unknown>) => Effect.Effect<void>
) =>
  keep
    ? print
    : (...args: ReadonlyArray<unknown>) =>
        print(...args.map((arg) => (typeof arg === "string" ? stripVTControlCharacters(arg) : arg)))
// @effect/cli prints a value it refuses (`--timeout 5x`) as a paragraph of its help, ending in a
// line break (the commands' own lines never do), which makes a blank line: said as the command
// line's other usage errors are, after its name, on one line.
const asUsageLine = (arg: unknown) =>
  typeof arg === "string" && arg.endsWith("\n") ? `okta-connections: ${arg.trim()}` : arg
// @effect/cli heads every text option's help with "A user-defined piece of text.", our options whose
// values are parsed (`--timeout seconds`) too, before the description that says what it takes (a
// flag's with "A true or false value.", a file's with "A file."): left out of the help printed. And a command's help gives its usage as `$ get …`, which no shell runs:
// said with the program's name. Help only: a command's own output (Okta's values) is left as it is.
const helpAsWeSayIt = (arg: unknown) =>
  typeof arg === "string" && arg.includes("USAGE")
    ? arg
        .replace(
          /^ {2}(?:A user-defined piece of text|A true or false value|A file)\.\r?\n\r?\n/gm,
          ""
        )
        // Nothing said here: the name as a heading above the name and version; under each
        // option "This setting is optional." (every one is) and its choices again (its usage
        // lists them); "zero or more" app ids, where one at least is needed. (The heading is
        // in colour codes on a terminal.)
        // eslint-disable-next-line no-control-regex
        .replace(/^(?:\u001b\[[\d;]*m)*okta-connections(?:\u001b\[[\d;]*m)*\r?\n\r?\n/, "")
        .replace(
          /\r?\n\r?\n {2}(?:This setting is optional\.|One of the following: .*|This argument may be repeated zero or more times\.)$/gm,
          ""
        )
        // The tool's own usage leaves out the command that follows its options.
        .replace(/^(\$ okta-connections \[.*\])$/m, "$1 <command> [its options]")
        .replace(USAGE_LINE, "$$ okta-connections ")
        // The commands' list gives each command's usage whole, and its description after the
        // longest (some 230 columns in all): the command with its arguments, the description
        // under it, as git lists its commands; `help <command>` has the options.
        .replace(
          /^ {2}- (\S+)(.*?) {2,}(\S.*)$/gm,
          (_, name: string, usage: string, about: string) =>
            [
              `  - ${[name, ...usage.split(" ").filter((word) => word.startsWith("<"))].join(" ")}`,
              `    ${about}`
            ].join("\n")
        )
    : arg
const withPlainOutput = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.consoleWith((console) => {
    const error = plainWhere(colours(process.stderr), console.error)
    const log = plainWhere(colours(process.stdout), console.log)
    return Effect.withConsole(effect, {
      ...console,
      // @effect/cli prints `--version` as a paragraph, ending in a line break: a blank line after.
      log: (...args) =>
        log(...args.map((arg) => (arg === `${VERSION}\n` ? VERSION : helpAsWeSayIt(arg)))),
      info: plainWhere(colours(process.stdout), console.info),
      error: (...args) => error(...args.map(asUsageLine)),
      warn: plainWhere(colours(process.stderr), console.warn)
    })
  })

/**
 * @effect/cli stops reading a command's options at an argument that starts with "-", so after a
 * positional `-` (standard input) `get - --json` would take `--json` for an app id. Such a `-`
 * goes last; a `-` that is an option's value (`--from -`, `--code -`) stays where it is.
 */
const STDIN_COMMANDS = new Set(["get", "activate", "deactivate", "apply"])
const stdinLast = (argv: ReadonlyArray<string>): ReadonlyArray<string> => {
  const command = argv.findIndex((arg, i) => i >= 2 && STDIN_COMMANDS.has(arg))
  if (command < 0) return argv
  const rest = argv.slice(command + 1)
  const positional = (arg: string, i: number) => arg === "-" && rest[i - 1] !== "--from"
  if (!rest.some(positional)) return argv
  return [
    ...argv.slice(0, command + 1),
    ...rest.filter((arg, i) => !positional(arg, i)),
    ...rest.filter(positional)
  ]
}

/**
 * The global options, and whether each takes a value. `get ID --org-url URL` reads as naturally as
 * `--org-url URL get ID`, but @effect/cli gives a command's repeated app ids every argument after
 * them, the option and its value too: such options are moved before the command. Given twice
 * (before the command and after it, say), the later one counts, where @effect/cli would take the
 * command for a value and refuse it as a subcommand.
 */
const GLOBAL_OPTIONS = new Map([
  ["--org-url", true],
  ["--concurrency", true],
  ["--timeout", true],
  ["--deadline", true],
  ["--transport", true],
  ["--verbose", false]
])
// The simulator takes none of them.
const COMMANDS = new Set(["get", "update", "activate", "deactivate", "jwks", "verify", "apply"])
// A command's usage line in its help, `$ get …`.
const USAGE_LINE = new RegExp(`^\\$ (?=(?:${[...COMMANDS, "simulator"].join("|")}) )`, "m")

/** `argv` with the global options before the command, or what is wrong with them. */
const globalsFirst = (argv: ReadonlyArray<string>): ReadonlyArray<string> | UsageError => {
  const command = argv.findIndex((arg, i) => i >= 2 && COMMANDS.has(arg))
  if (command < 0) return argv
  const globals = new Map<string, ReadonlyArray<string>>()
  // Everything else, in its order: the command, its options and its arguments.
  const rest: Array<string> = []
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!
    // After "--" every argument is the command's own.
    if (arg === "--") {
      rest.push(...argv.slice(i))
      break
    }
    const name = arg.split("=")[0]!
    const takesValue = i === command ? undefined : GLOBAL_OPTIONS.get(name)
    if (takesValue === undefined) {
      rest.push(arg)
      continue
    }
    const inline = !takesValue || arg.includes("=")
    if (!inline && (i + 1 === argv.length || i + 1 === command)) {
      return new UsageError(`${name} needs a value`)
    }
    globals.delete(name)
    globals.set(name, inline ? [arg] : [arg, argv[++i]!])
  }
  return [...argv.slice(0, 2), ...[...globals.values()].flat(), ...rest]
}

/** Exit code 3 for what the configuration or the credentials got wrong. */
const isConfigOrAuth = (error: unknown) =>
  ConfigError.isConfigError(error) ||
  (typeof error === "object" &&
    error !== null &&
    "_tag" in error &&
    ["OktaConfigError", "OktaAuthError", "OktaYamlError"].includes(String(error._tag)))

// Node's HTTP clients (fetch and undici) parse responses with a WebAssembly module. V8 compiles it
// with its baseline compiler, then again, optimised, on background threads, and the process waits
// for those threads before it exits (bench/README.md has the cost). A command line parses a few
// responses: the baseline code is enough.
setFlagsFromString("--liftoff-only")
/**
 * What is wrong before the command: an option that is no global one (`--verbos get …`), or a word
 * that is no command (`gte`), said with the one meant; @effect/cli says "Invalid subcommand" for
 * both, without the word. Once the command is found, the rest is its own.
 */
const beforeCommand = (
  argv: ReadonlyArray<string>,
  commands: ReadonlyArray<string>
): UsageError | undefined => {
  const known = new Map([...GLOBAL_OPTIONS, ...BUILT_IN_OPTIONS])
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") return undefined
    if (arg.startsWith("-") && arg !== "-") {
      const name = arg.split("=")[0]!
      const takesValue = known.get(name)
      if (takesValue === undefined) {
        const meant = nearest(name, [...GLOBAL_OPTIONS.keys()])
        const command = argv.find((later, j) => j > i && commands.includes(later))
        return new UsageError(
          meant !== undefined || command === undefined
            ? `unknown option ${arg}${meant !== undefined ? ` (did you mean ${meant}?)` : ""}`
            : `${name} goes after the command, with its own options: ${command} … ${name}`
        )
      }
      const valueFault = builtInValueFault(arg, argv[i + 1])
      if (valueFault !== undefined) return valueFault
      if (takesValue && !arg.includes("=")) {
        if (i + 1 === argv.length) return new UsageError(`${name} needs a value`)
        i++
      }
      continue
    }
    if (commands.includes(arg)) return undefined
    const meant = nearest(arg, commands)
    return new UsageError(
      `unknown command ${JSON.stringify(arg)}${meant !== undefined ? ` (did you mean ${meant}?)` : ""}; the commands: ${commands.join(", ")}`
    )
  }
  return undefined
}

/** What the command given cannot take (an option, one argument too many), before it runs. */
const commandLineChecked = (argv: ReadonlyArray<string>) => {
  const commands = subcommands.map(
    ({ descriptor }: { descriptor: Descriptor.Command<unknown> }) => ({
      name: [...Descriptor.getNames(descriptor)][0]!,
      usage: Descriptor.getUsage(descriptor)
    })
  )
  const names = commands.map(({ name }) => name)
  const before = beforeCommand(argv, names)
  if (before !== undefined) return before
  const at = argv.findIndex((arg, i) => i >= 2 && names.includes(arg))
  const subcommand = commands.find(({ name }) => name === argv[at])
  if (subcommand === undefined) return argv
  const globals = COMMANDS.has(subcommand.name) ? [...GLOBAL_OPTIONS.keys()] : []
  // `update` sets one app's connection; several are a manifest's work.
  const tooMany =
    subcommand.name === "update" ? "; several apps are apply's work, with a manifest" : ""
  const fault = commandLineFault(
    subcommand.name,
    subcommand.usage,
    argv.slice(at + 1),
    globals,
    tooMany
  )
  return fault ?? argv
}
// `okta-connections help [command]`, as git and npm take it: the help of the tool or the command.
const helpWord = (argv: ReadonlyArray<string>): ReadonlyArray<string> =>
  argv[2] === "help" ? [...argv.slice(0, 2), ...argv.slice(3, 4), "--help"] : argv
const globalsMoved = globalsFirst(helpWord(process.argv))
const argv = globalsMoved instanceof UsageError ? globalsMoved : commandLineChecked(globalsMoved)
const main = Effect.runFork(
  (argv instanceof UsageError ? Effect.fail(argv) : cli(stdinLast(argv))).pipe(
    withPlainOutput,
    Effect.provide(NodeContext.layer)
  )
)
// Ctrl-C interrupts the run: calls in flight are cancelled and the summary printed (exit 130).
process.once("SIGINT", () => {
  main.unsafeInterruptAsFork(main.id())
})
// A reader that goes away (`| head -1`) is no crash: the run stops as for Ctrl-C, and ends with a
// broken pipe's exit code (141, as a program killed by SIGPIPE), without a stack trace.
let brokenPipe = false
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error
    if (brokenPipe) return
    brokenPipe = true
    main.unsafeInterruptAsFork(main.id())
  })
}
Effect.runPromiseExit(Fiber.join(main)).then((exit) => {
  if (Exit.isSuccess(exit)) return
  if (Cause.isInterruptedOnly(exit.cause)) {
    process.exitCode = brokenPipe ? EXIT.brokenPipe : 130
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
    const message = ConfigError.isConfigError(error)
      ? describeConfigError(error)
      : typeof error === "object" && error !== null && "message" in error
        ? // The client names the variable a bad value was read from: okta.yaml's key, if from there.
          String(error.message).replace(
            /\((OKTA_CLIENT_\w+)\)$/,
            (_, name: string) => `(${yamlOrigin(name) ?? name})`
          )
        : String(error)
    console.error(`okta-connections: ${message}`)
    process.exitCode = isConfigOrAuth(error) ? EXIT.config : EXIT.someFailed
  } else {
    console.error(Cause.pretty(exit.cause))
    process.exitCode = EXIT.someFailed
  }
})
