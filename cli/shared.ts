/**
 * What every command shares: the global options and the client they describe, app ids from
 * arguments, a file or standard input, per-app outcomes and the exit code they make.
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import type * as Usage from "@effect/cli/Usage"
import * as ValidationError from "@effect/cli/ValidationError"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import {
  AppId,
  ApplicationConnections,
  OktaClient,
  OktaFetch,
  type OktaResponseError
} from "effect-okta-connections"
import { createPrivateKey } from "node:crypto"
import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import { nearest } from "../src/internal/nearest.js"
import { configProvider, yamlOrigin } from "./oktaYaml.js"
import { readFault, standardInput } from "./stdin.js"

/** Exit codes the README documents. */
export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  config: 3,
  changes: 4,
  brokenPipe: 141
} as const

/**
 * The way on for a connection awaiting an admin's OAuth 2.0 consent, at `url` (Okta's authorize
 * link): said by `get`, `update` and `apply` alike. `activate: false` where the connection is meant
 * to stay disabled (a manifest that says DISABLED): verified, not enabled.
 */
export const consentWay = (url: string, activate = true) =>
  activate
    ? `consent in a browser at ${url}, then verify and activate it (okta-connections verify --activate, with the URL Okta continues to)`
    : `consent in a browser at ${url}, then verify it (okta-connections verify, with the URL Okta continues to); the manifest keeps it DISABLED`

/** A command line that cannot be run as given: nothing is sent. */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

/**
 * An option read by `parse` (given the value trimmed), in the command line's words where
 * @effect/cli's own would be "'5s' is not a float" without the option's name: `--timeout "5s":
 * takes …`. `takes` says what the option takes; `pseudoName` stands for the value in the help.
 */
export const parsedOption = <A>(
  name: string,
  pseudoName: string,
  takes: string,
  parse: (text: string) => A | undefined
) =>
  Options.text(name).pipe(
    Options.withPseudoName(pseudoName),
    Options.mapEffect((text) => {
      const value = parse(text.trim())
      return value !== undefined
        ? Effect.succeed(value)
        : Effect.fail(
            ValidationError.invalidValue(
              HelpDoc.p(`--${name} ${JSON.stringify(text)}: takes ${takes}`)
            )
          )
    })
  )

/** One of `choices`, in any case (`--auth-scheme token`): none is another's in another case. */
export const choiceOf =
  <C extends string>(choices: ReadonlyArray<C>) =>
  (text: string) =>
    choices.find((choice) => choice.toLowerCase() === text.toLowerCase())

/** An option taking one of `choices`, in any case. */
export const choiceOption = <C extends string>(name: string, choices: ReadonlyArray<C>) =>
  parsedOption(name, choices.join(" | "), choices.join(" or "), choiceOf(choices))

/** A whole number from `min` to `max`: 0 or less for a count is a usage error, not a default. */
export const wholeNumber = (name: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  parsedOption(
    name,
    "integer",
    max === Number.MAX_SAFE_INTEGER
      ? `a whole number, ${min} or more`
      : `a whole number from ${min} to ${max}`,
    (text) =>
      /^\d+$/.test(text) && Number(text) >= min && Number(text) <= max ? Number(text) : undefined
  )

// Global options: where and how to call Okta.
const orgUrl = Options.text("org-url").pipe(
  Options.withDescription("the org URL (default OKTA_CLIENT_ORGURL, or orgUrl in okta.yaml)"),
  Options.optional
)
const concurrency = wholeNumber("concurrency", 1).pipe(
  Options.withDescription("calls in flight at once, for commands over many apps (default 5)"),
  Options.withDefault(5)
)
const UNIT_MILLIS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 }
/**
 * Seconds, a fraction allowed (`--timeout 0.5`), or with a unit (`30s`, `500ms`, `2m`), as a user
 * of `Duration` would write it: more than 0, and finite.
 */
const positiveSeconds = (name: string) =>
  parsedOption(
    name,
    "seconds",
    "seconds (30, 0.5) or a duration (30s, 500ms, 2m), more than 0",
    (text) => {
      const [, amount, unit] = /^(\d+(?:\.\d*)?|\.\d+) *(ms|s|m)?$/.exec(text) ?? []
      const millis = Number(amount) * UNIT_MILLIS[unit ?? "s"]!
      return millis > 0 && Number.isFinite(millis) ? Duration.millis(millis) : undefined
    }
  )
/** The client's own default attempt timeout, which the command line keeps. */
const DEFAULT_TIMEOUT_SECONDS = 30
const timeout = positiveSeconds("timeout").pipe(
  Options.withDescription(
    `seconds per attempt, or 500ms, 30s, 2m (default ${DEFAULT_TIMEOUT_SECONDS})`
  ),
  Options.optional
)
const deadline = positiveSeconds("deadline").pipe(
  Options.withDescription(
    "seconds per call, retries and rate-limit waits included, or 500ms, 30s, 2m (default OKTA_CLIENT_REQUESTTIMEOUT)"
  ),
  Options.optional
)
const transport = choiceOption("transport", ["fetch", "undici"] as const).pipe(
  Options.withDescription(
    "fetch (the default), or undici; with HTTPS_PROXY or HTTP_PROXY set, undici through that proxy"
  ),
  Options.optional
)

/** A proxy in the environment, which Node's fetch would ignore and undici can use. */
const PROXY_VARIABLES = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("log retries, rate-limit waits and request ids to standard error")
)
export const root = Command.make("okta-connections", {
  orgUrl,
  concurrency,
  timeout,
  deadline,
  transport,
  verbose
})

/** Where the progress goes: standard error and the wall clock, unless a test gives its own. */
export interface ProgressOutput {
  readonly write: (text: string) => void
  readonly tty: boolean
  readonly now: () => number
  /** Runs `f` once, later; never what keeps the process alive. */
  readonly later: (millis: number, f: () => void) => void
}

const standardError: ProgressOutput = {
  write: (text) => process.stderr.write(text),
  tty: process.stderr.isTTY === true,
  now: () => Date.now(),
  later: (millis, f) => void setTimeout(f, millis).unref()
}

/** How often a terminal's progress line counts a rate-limit wait down. */
const COUNTDOWN_MILLIS = 250

/** Waits ending this close together are one wait, seen by calls held at slightly different times. */
const SAME_WAIT_MILLIS = 250

/**
 * What the progress line says of a rate-limit wait with this much of it left: nothing once under
 * 0.05 s, which would read "waiting 0.0 s". The gate's release and the progress line's clock differ
 * by a few milliseconds, so the calls released by a wait finish while a sliver of it is still left.
 */
const waitingNote = (remainingMillis: number): string =>
  remainingMillis >= 50
    ? `waiting ${(remainingMillis / 1000).toFixed(1)} s for Okta's rate-limit window`
    : ""

/**
 * Progress of work over several apps, on standard error: one line rewritten in place on a
 * terminal, plain lines otherwise. It says when the calls wait for Okta's rate-limit window.
 */
export class Progress {
  private done = 0
  private failed = 0
  private notSent = 0
  private waitingUntil = 0
  private countingDown = false
  /** On a terminal: the line is on screen, with the cursor at its end. */
  private drawn = false
  constructor(
    private readonly total: number,
    private readonly out: ProgressOutput = standardError
  ) {}

  private line(): string {
    const wait = waitingNote(this.waitingUntil - this.out.now())
    return `[${String(this.done).padStart(String(this.total).length)}/${this.total}] ${this.failed} failed${this.notSent > 0 ? ` · ${this.notSent} not sent` : ""}${wait === "" ? "" : ` · ${wait}`}`
  }

  private show(final = false) {
    if (this.out.tty) {
      this.out.write(`\r\x1b[2K${this.line()}${final ? "\n" : ""}`)
      this.drawn = !final
    } else if (final || this.done % Math.max(1, Math.ceil(this.total / 10)) === 0) {
      this.out.write(`${this.line()}\n`)
    }
  }

  waiting(millis: number) {
    const now = this.out.now()
    const until = now + millis
    if (until <= this.waitingUntil) return
    // Every call a window holds reports its wait, a few milliseconds apart: one line says them.
    const announced = this.waitingUntil > now && until - this.waitingUntil < SAME_WAIT_MILLIS
    this.waitingUntil = until
    const note = waitingNote(millis)
    if (this.out.tty) this.countDown()
    else if (note !== "" && !announced) this.out.write(`${note}\n`)
  }

  /** On a terminal, the wait counts down (Okta's window is a minute: a still line looks hung). */
  private countDown() {
    if (this.countingDown) return
    this.countingDown = true
    const step = () => {
      if (this.done === this.total) return
      this.show()
      const left = this.waitingUntil - this.out.now()
      if (left >= 50) this.out.later(Math.min(COUNTDOWN_MILLIS, left), step)
      else this.countingDown = false
    }
    step()
  }

  /**
   * On a terminal, takes the line off the screen, for a line of other output (an app's result, a
   * log line) to start where it was instead of after it; the next `tick` or `aside` draws it.
   */
  lift() {
    if (!this.drawn) return
    this.out.write("\r\x1b[2K")
    this.drawn = false
  }

  /** Writes a line of other output with `print`, the progress line stepping aside and back. */
  aside(print: () => void) {
    const drawn = this.drawn
    this.lift()
    print()
    if (drawn) this.show()
  }

  tick(outcome: "succeeded" | "failed" | "not sent") {
    this.done += 1
    if (outcome === "failed") this.failed += 1
    if (outcome === "not sent") this.notSent += 1
    this.show(this.done === this.total)
  }
}

let progress: Progress | undefined

/** A line on standard error while apps are worked on: the progress line steps aside for it. */
const aside = (line: string) => {
  const write = () => void process.stderr.write(line)
  if (progress !== undefined) progress.aside(write)
  else write()
}

/** A line on standard error from within an app's call (see `aside`). */
export const sayWhileWorking = (text: string): Effect.Effect<void> =>
  Effect.sync(() => aside(`${text}\n`))

/**
 * The CLI's logger: rate-limit waits go to the progress line (a line of their own for one app);
 * with --verbose every debug line of the client (retries, gate waits) goes to standard error with
 * its annotations. The client never logs a secret. Without --verbose, the first attempt that timed
 * out is said as its retry begins: else a terminal shows nothing while attempt after attempt
 * waits out its timeout (30 s each by default).
 */
const cliLogger = (verbose: boolean, timeoutSeconds: number) => {
  let saidTimeout = false
  return Logger.make(({ message, annotations, logLevel }) => {
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    const fields = Object.fromEntries(HashMap.toEntries(annotations))
    if (
      !verbose &&
      !saidTimeout &&
      text === "Okta call retried" &&
      fields["reason"] === "timeout"
    ) {
      saidTimeout = true
      aside(
        `okta-connections: no answer from Okta within ${timeoutSeconds} s; trying again (--timeout sets how long an attempt waits, --verbose shows each retry)\n`
      )
    }
    // A wait for Okta's window: held at the gate, or a 429 retried at its reset.
    const delay = fields["delay_ms"]
    const windowWait =
      typeof delay === "number" &&
      delay > 0 &&
      (text === "Okta call held at the rate-limit gate" ||
        (text === "Okta call retried" &&
          (fields["reason"] === "rate_limit" || fields["reason"] === "rate_limit_no_reset")))
    if (windowWait && progress !== undefined) progress.waiting(delay)
    // One app has no progress line: a wait of a second or more (up to Okta's minute) is said.
    else if (windowWait && !verbose && delay >= 1000)
      aside(`okta-connections: ${waitingNote(delay)}\n`)
    if (verbose || logLevel._tag === "Warning" || logLevel._tag === "Error") {
      const detail = Object.entries(fields)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(" ")
      aside(`okta: ${text}${detail !== "" ? ` ${detail}` : ""}\n`)
    }
  })
}

/**
 * --verbose: a line for each answer Okta gives, with its status and request id (the path only: a
 * verify request's query carries the consent's code).
 */
const logAnswers = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.tap(client, (response) => {
    const path = new URL(response.request.url, "http://path.only").pathname
    const requestId = response.headers["x-okta-request-id"] ?? "none"
    return Effect.logDebug(
      `${response.request.method} ${path} → ${response.status} (request id ${requestId})`
    )
  })

/**
 * OKTA_CLIENT_PRIVATEKEY (or okta.yaml's privateKey) as Okta's Python SDK takes it: the key, or
 * the path of a file holding it. A PKCS#1 or SEC1 PEM (what `openssl genrsa` long wrote) becomes
 * the PKCS#8 the library takes; anything else goes to the library as it is, to be judged there.
 */
export const privateKeyConfig = Config.mapOrFail(
  Config.string("OKTA_CLIENT_PRIVATEKEY"),
  (value) => {
    let text = value.trim()
    // Only what reads as a path is one (a key's bare base64 is not, and must never be named): one
    // line, spaces allowed (`C:\Users\Jane Doe\okta.pem`), as the library tells a path.
    if (
      !/[\r\n]/.test(text) &&
      (/^(\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/.test(text) || /\.(pem|key|json|jwk)$/i.test(text))
    ) {
      const path = text.startsWith("~/") ? `${homedir()}${text.slice(1)}` : text
      try {
        text = readFileSync(path, "utf8").trim()
      } catch (error) {
        return Either.left(
          ConfigError.InvalidData([], `cannot read the key file ${path}${readFault(error)}`)
        )
      }
    }
    if (/-----BEGIN (RSA|EC) PRIVATE KEY-----/.test(text)) {
      try {
        text = createPrivateKey(text.replace(/\\n/g, "\n"))
          .export({ type: "pkcs8", format: "pem" })
          .toString()
      } catch {
        // Not a key Node can read: the library says what is wrong with it, never what it is.
      }
    }
    return Either.right(Redacted.make(text))
  }
)

/** The client the global options describe. */
export const clientLayer = Effect.map(root, (global) =>
  ApplicationConnections.layer.pipe(
    Layer.provideMerge(
      OktaClient.layerConfig({
        privateKey: privateKeyConfig,
        ...(Option.isSome(global.orgUrl) ? { orgUrl: Config.succeed(global.orgUrl.value) } : {}),
        ...(Option.isSome(global.timeout) ? { timeout: global.timeout.value } : {}),
        ...(Option.isSome(global.deadline) ? { deadline: global.deadline.value } : {}),
        ...(global.verbose ? { transformClient: logAnswers } : {})
      })
    ),
    Layer.provide(transportLayer(global.transport))
  )
)

/**
 * The Okta SDKs' proxy setting, `OKTA_CLIENT_PROXY_HOST` (with `_PORT`, `_USERNAME`, `_PASSWORD`)
 * or okta.yaml's `okta.client.proxy`, as a proxy URL; none when the host is not set (or empty).
 */
const sdkProxy = Config.all({
  host: Config.withDefault(Config.string("OKTA_CLIENT_PROXY_HOST"), ""),
  port: Config.option(Config.integer("OKTA_CLIENT_PROXY_PORT")),
  username: Config.option(Config.string("OKTA_CLIENT_PROXY_USERNAME")),
  password: Config.option(Config.redacted("OKTA_CLIENT_PROXY_PASSWORD"))
}).pipe(
  Config.mapOrFail(({ host, port, username, password }) => {
    const invalid = (name: string, why: string) =>
      Either.left(ConfigError.InvalidData([`OKTA_CLIENT_PROXY_${name}`], why))
    if (host.trim() === "") return Either.right(Option.none<string>())
    // A host, as the SDKs take it; a URL (http://proxy.internal:3128) too.
    const raw = /^[a-z][a-z0-9+.-]*:\/\//i.test(host.trim()) ? host.trim() : `http://${host.trim()}`
    const url = URL.canParse(raw) ? new URL(raw) : undefined
    if (url?.protocol !== "http:" && url?.protocol !== "https:") {
      return invalid("HOST", "must be a host name, or an http:// or https:// URL")
    }
    // `${PROXY_HOST}` parses as a host: each call would try to resolve it, and retry.
    if (/[${}]/.test(url.hostname)) {
      return invalid("HOST", "is a variable or placeholder never filled in (${…}, $NAME or {…})")
    }
    if (Option.isSome(port)) {
      if (port.value < 1 || port.value > 65535) return invalid("PORT", "must be 1 to 65535")
      url.port = String(port.value)
    }
    if (Option.isSome(password) && Option.isNone(username)) {
      return invalid("PASSWORD", "goes with a username (OKTA_CLIENT_PROXY_USERNAME)")
    }
    // The setters percent-encode what a URL cannot hold as it is.
    if (Option.isSome(username)) url.username = username.value
    if (Option.isSome(password)) url.password = Redacted.value(password.value)
    return Either.right(Option.some(url.href))
  })
)

/**
 * fetch, unless undici is asked for or a proxy is set: then undici, through the Okta SDKs' proxy
 * setting if there is one, else through the environment's proxy (HTTPS_PROXY, HTTP_PROXY,
 * NO_PROXY), as curl would go.
 */
const transportLayer = (chosen: Option.Option<"fetch" | "undici">) =>
  Layer.unwrapEffect(
    Effect.map(sdkProxy, (fromSdk) => {
      const proxy = Option.isSome(fromSdk)
        ? (yamlOrigin("OKTA_CLIENT_PROXY_HOST") ?? "OKTA_CLIENT_PROXY_HOST")
        : PROXY_VARIABLES.find((name) => (process.env[name] ?? "") !== "")
      const proxied = proxy !== undefined
      const undici = Option.getOrElse(chosen, () => (proxied ? "undici" : "fetch")) === "undici"
      if (!undici && proxied) {
        // Asked for fetch behind a proxy: said once, so that a failure to connect is not a mystery.
        process.stderr.write(
          `okta-connections: ${proxy} is set, but --transport fetch does not use it\n`
        )
      }
      return undici
        ? // undici, the bundle's largest part, is loaded only when it is used.
          Layer.unwrapEffect(
            Effect.map(
              Effect.promise(() => import("effect-okta-connections/undici")),
              (module) =>
                module.OktaUndici.layer(
                  Option.isSome(fromSdk)
                    ? { proxy: fromSdk.value }
                    : proxied
                      ? { proxy: "environment" }
                      : {}
                )
            )
          )
        : OktaFetch.layer()
    })
  )

/** One app id, as an argument. */
export const appId = Args.text({ name: "appId" }).pipe(
  Args.withDescription("the app's id in Okta, e.g. 0oafxqCAJWWGELFTYASJ")
)

/** App ids from the arguments, `--from FILE`, or standard input (`-`). */
export const appIds = Args.text({ name: "appId" }).pipe(
  Args.withDescription(
    "app ids in Okta (- reads them from standard input, separated by lines, spaces or commas)"
  ),
  Args.repeated
)
export const from = Options.file("from").pipe(
  Options.withDescription(
    "read app ids from a file, separated by lines, spaces or commas (- for standard input)"
  ),
  Options.optional
)
const unknownOption = (command: string, option: string, known: ReadonlyArray<string>) => {
  const name = option.split("=")[0]!
  const meant = nearest(name, known)
  // Known, but after "--", where nothing is an option.
  const hint =
    meant === name
      ? ` (options go before "--")`
      : meant !== undefined
        ? ` (did you mean ${meant}?)`
        : ""
  return new UsageError(`unknown option ${option} for ${command}${hint}`)
}

/**
 * What a command's usage names: its options, each with whether it takes a value, and its
 * arguments (`<appId>`), `variadic` when one of them repeats, `required` those it cannot go
 * without.
 */
interface Shape {
  readonly options: Map<string, boolean>
  readonly args: Array<string>
  readonly required: Array<string>
  variadic: boolean
}
const shapeOf = (usage: Usage.Usage, shape: Shape, repeated = false, optional = false): Shape => {
  if (usage._tag === "Named") {
    for (const name of usage.names) {
      if (name.startsWith("-")) shape.options.set(name, Option.isSome(usage.acceptedValues))
      else if (name.startsWith("<")) {
        shape.args.push(name)
        shape.variadic ||= repeated
        if (!repeated && !optional) shape.required.push(name)
      }
    }
  } else if (usage._tag === "Optional" || usage._tag === "Repeated") {
    shapeOf(
      usage.usage,
      shape,
      repeated || usage._tag === "Repeated",
      optional || usage._tag === "Optional"
    )
  } else if (usage._tag === "Concat" || usage._tag === "Alternation") {
    shapeOf(usage.left, shape, repeated, optional)
    shapeOf(usage.right, shape, repeated, optional)
  }
  return shape
}

// What @effect/cli takes as a flag's value when it follows the flag.
const FLAG_VALUES = new Set(["true", "1", "y", "yes", "on", "false", "0", "n", "no", "off"])

/**
 * @effect/cli's own options, each with whether it takes a value, which every command takes (and
 * the tool before its command); all but --log-level run instead of the command.
 */
export const BUILT_IN_OPTIONS: ReadonlyArray<readonly [string, boolean]> = [
  ["--help", false],
  ["-h", false],
  ["--version", false],
  ["--wizard", false],
  ["--completions", true],
  ["--log-level", true]
]

// The values @effect/cli takes for its options that take one. Given another, it reads neither the
// option nor its value, and passes both to the command: `get 0oa… --log-level loud` would ask
// Okta for apps "--log-level" and "loud".
const BUILT_IN_CHOICES = new Map([
  ["--completions", ["sh", "bash", "fish", "zsh"]],
  ["--log-level", ["all", "trace", "debug", "info", "warning", "error", "fatal", "none"]]
])

/**
 * What is wrong with the value given to one of @effect/cli's own options, `arg` (`--completions`,
 * or `--completions=nope`), followed by `next`: a value it does not take, or none.
 */
export const builtInValueFault = (
  arg: string,
  next: string | undefined
): UsageError | undefined => {
  const [name = "", ...rest] = arg.split("=")
  const choices = BUILT_IN_CHOICES.get(name)
  if (choices === undefined) return undefined
  const value = arg.includes("=") ? rest.join("=") : next
  if (value === undefined) return new UsageError(`${name} needs a value`)
  return choices.includes(value)
    ? undefined
    : new UsageError(
        `${name} ${JSON.stringify(value)}: takes ${choices.slice(0, -1).join(", ")} or ${choices.at(-1)}`
      )
}

/**
 * What is wrong in `args` (what follows the command's name), said before anything is parsed or
 * read: the first option before any "--" that the command does not take, or one where an app id
 * goes after it, with the nearest one it
 * or `also` (the global options) has (@effect/cli says only "Received unknown argument", and for a
 * command that repeats its app ids takes the option for one); an argument past those the
 * command takes (`update 0oa1 0oa2`), with `tooMany`, the way to do what it was meant for; or one
 * it cannot go without (@effect/cli's "Missing argument <appId>" names neither command nor tool).
 */
export const commandLineFault = (
  command: string,
  usage: Usage.Usage,
  args: ReadonlyArray<string>,
  also: ReadonlyArray<string>,
  tooMany = ""
): UsageError | undefined => {
  const shape = shapeOf(usage, {
    options: new Map(BUILT_IN_OPTIONS),
    args: [],
    required: [],
    variadic: false
  })
  const positional: Array<string> = []
  let builtIn = false
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!
    if (arg === "--") {
      positional.push(...args.slice(i + 1))
      break
    }
    if (arg === "-" || !arg.startsWith("-")) {
      positional.push(arg)
      continue
    }
    const takesValue = shape.options.get(arg.split("=")[0]!)
    if (takesValue === undefined) {
      return unknownOption(command, arg, [...shape.options.keys(), ...also])
    }
    const valueFault = builtInValueFault(arg, args[i + 1])
    if (valueFault !== undefined) return valueFault
    builtIn ||= BUILT_IN_OPTIONS.some(
      ([name]) => name !== "--log-level" && name === arg.split("=")[0]
    )
    // A value that starts with "-" (`--from -`) is the option's; so is a flag's `true` or `no`
    // (`--activate true`), which @effect/cli reads as the flag's value.
    if (!arg.includes("=") && (takesValue || FLAG_VALUES.has(args[i + 1] ?? ""))) i++
  }
  // After "--" an option is taken for an argument; an app id never starts with "-", so one where
  // an app id goes is an option all the same (`deactivate -- 0oa… --verbose`).
  const option = positional.find(
    (arg, i) =>
      arg.startsWith("-") &&
      arg !== "-" &&
      shape.args[Math.min(i, shape.args.length - 1)] === "<appId>" &&
      (shape.variadic || i < shape.args.length)
  )
  if (option !== undefined) {
    return unknownOption(command, option, [...shape.options.keys(), ...also])
  }
  const extra = positional[shape.args.length]
  if (!shape.variadic && extra !== undefined) {
    return new UsageError(
      `${command} takes ${shape.args.length > 0 ? shape.args.join(" ") : "no argument"}: ${JSON.stringify(extra)} is one too many${tooMany}`
    )
  }
  const missing = shape.required.slice(positional.length)
  return missing.length > 0 && !builtIn
    ? new UsageError(
        `${command} takes ${shape.args.join(" ")}: ${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} missing (${command} --help says more)`
      )
    : undefined
}

export const idsOf = (args: ReadonlyArray<string>, file: Option.Option<string>) => {
  const failed = (error: unknown) =>
    error instanceof UsageError ? error : new UsageError(`cannot read app ids: ${String(error)}`)
  // One per line, or several (`echo $IDS`, a pasted CSV row): no id holds a space, a comma or a
  // "#", which starts a comment to the end of its line.
  const lines = (text: string) =>
    text
      .split(/\r?\n/)
      .flatMap((line) => line.replace(/#.*$/, "").split(/[\s,]+/))
      .filter((id) => id !== "")
  return Effect.flatMap(
    args.includes("-") || Option.contains(file, "-")
      ? Effect.mapError(standardInput("app ids (one per line, or separated by spaces)"), failed)
      : Effect.succeed(""),
    // Standard input is read once, for "-" and "--from -" alike.
    (stdin) =>
      Effect.try({
        try: () => {
          const ids = args.flatMap((arg) => (arg === "-" ? lines(stdin) : [arg]))
          if (Option.isSome(file)) {
            let text = stdin
            try {
              if (file.value !== "-") text = readFileSync(file.value, "utf8")
            } catch (error) {
              throw new UsageError(`--from: cannot read ${file.value}${readFault(error)}`)
            }
            ids.push(...lines(text))
          }
          if (ids.length === 0) {
            throw new UsageError("give at least one app id (or --from FILE, or -)")
          }
          // An id listed twice (in a file and as an argument, say) is one app: one call, one line.
          return [...new Set(ids)]
        },
        catch: failed
      })
  )
}

const appIdFault = Schema.validateEither(AppId)

/**
 * For a command that changes apps: the ids that are no app id, each as the client would refuse it,
 * refused together before anything is sent, so that a mistyped list changes none of its apps
 * rather than the others (as `apply` refuses such a manifest).
 */
export const refuseMalformedIds = (ids: ReadonlyArray<string>): Effect.Effect<void, UsageError> => {
  const faults = ids.flatMap((id) =>
    Either.match(appIdFault(id), {
      onLeft: (error) => {
        const cut = id.length > 60 ? `${id.slice(0, 59)}…` : id
        // As given, unless a space or a control character would not show: then as a JSON string.
        const shown = /[\s\p{C}]/u.test(cut) ? JSON.stringify(cut) : cut
        const why = ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "not valid"
        return [`${shown}: ${why}`]
      },
      onRight: () => []
    })
  )
  return faults.length === 0
    ? Effect.void
    : Effect.fail(
        new UsageError(
          faults.length === 1
            ? `not an app id, so nothing was sent: ${faults[0]}`
            : `${faults.length} are not app ids, so nothing was sent:\n  ${faults.join("\n  ")}`
        )
      )
}

export const json = Options.boolean("json").pipe(Options.withDescription("one JSON array"))
export const ndjson = Options.boolean("ndjson").pipe(
  Options.withDescription("one JSON object per line, each app as its call ends")
)

// The client's hints name its layers; on the command line the same remedy is a flag.
const REMEDIES: ReadonlyArray<readonly [string, string]> = [
  ["use another port, or OktaUndici.layer", "use another port, or --transport undici"],
  [
    'use OktaUndici.layer({ proxy: "environment" }) from effect-okta-connections/undici',
    "leave out --transport fetch"
  ],
  // The Okta SDKs' OKTA_CLIENT_PROXY_HOST, which the library does not read and the command line
  // does, except with --transport fetch.
  [
    'but this client does not read it: if Okta is reached through that proxy, use OktaUndici.layer({ proxy: "http://host:port" }) from effect-okta-connections/undici',
    "but --transport fetch does not use it: leave that out"
  ],
  // The one proxy the command line gives undici as an option.
  ["(the proxy option)", "(OKTA_CLIENT_PROXY_HOST, or okta.client.proxy in okta.yaml)"]
]

// Okta's invalid_client for a key the service app does not have, or a key id it has no key of:
// which of the command line's settings to mend.
const clientHint = (description: string) =>
  description.includes("signature is invalid")
    ? "; the private key (OKTA_CLIENT_PRIVATEKEY, or privateKey in okta.yaml) is not the one whose public key the service app has: add its public key to the app's Public Keys, or give the private key of one there"
    : description.includes("kid is invalid")
      ? "; give the key id the service app's Public Keys list for this key as OKTA_CLIENT_KEYID (or keyId in okta.yaml)"
      : ""

/** How a failed app is reported: its error tag, summary and request id; never a secret. */
export const describeFailure = (error: OktaResponseError) => {
  const requestId = "requestId" in error ? error.requestId : undefined
  // The token was asked for without the scope (one the service app was not granted is refused at
  // the token request, as invalid_scope): the remedy is the command line's configuration.
  // And one asked for that the service app was not granted: granted, or not asked for.
  const scope =
    error._tag === "OktaForbiddenError" && error.challenge?.error === "insufficient_scope"
      ? `; ask for ${error.challenge.scope ?? "the scope it needs"} too: add it to OKTA_CLIENT_SCOPES (or scopes in okta.yaml)`
      : error._tag === "OktaAuthError" && error.error === "invalid_scope"
        ? "; grant the service app each scope of OKTA_CLIENT_SCOPES (or scopes in okta.yaml) in its Okta API Scopes tab, or leave out the ones it does not need"
        : error._tag === "OktaAuthError" && error.error === "invalid_client"
          ? clientHint(error.errorDescription ?? "")
          : ""
  const message =
    REMEDIES.reduce((text, [api, flag]) => text.replace(api, flag), error.message) + scope
  return requestId !== undefined && !message.includes(requestId)
    ? `${error._tag}: ${message} (request id ${requestId})`
    : `${error._tag}: ${message}`
}

/**
 * Failures that say the credentials are wrong, or lack a scope: the same for every app, so exit
 * code 3. (A 403 without `insufficient_scope` may be one app's: an admin role's limits.)
 */
export const isAuthFailure = (error: OktaResponseError) =>
  error._tag === "OktaUnauthorizedError" ||
  error._tag === "OktaAuthError" ||
  (error._tag === "OktaForbiddenError" && error.challenge?.error === "insufficient_scope")

/**
 * No connection to the org after the client's retries: its host name does not resolve, the host
 * (or the proxy) refused the connection, or fetch does not connect to its port. Okta does none of
 * that; the org URL or the network is wrong for every app alike.
 */
const isUnreachable = (error: OktaResponseError) =>
  error._tag === "OktaTransportError" &&
  error.connectFailed &&
  /\b(?:ENOTFOUND|ECONNREFUSED|bad port)\b/.test(error.reason)

/** Why the apps not started yet are not sent. */
type Stop = "credentials" | "unreachable"
const STOPPED: Record<Stop, string> = {
  credentials: "the credentials being refused",
  unreachable: "the org being unreachable"
}

export interface Outcome<A> {
  readonly id: string
  readonly result: Exit.Exit<A, OktaResponseError>
  /** Not sent: the credentials had been refused, or the org found unreachable, by its turn. */
  readonly skipped?: Stop
}

/**
 * Runs `call` for every id at the global concurrency; a failure is one app's, not the run's,
 * except refused credentials (a 401, a refused token request) and an org it cannot connect to:
 * they are every app's, so the apps not started yet are not sent, rather than spending the org's
 * rate limit on one 401 each, or seconds of retries each on a host name with a typo.
 */
export const forEachApp = <A, R>(
  ids: ReadonlyArray<string>,
  call: (id: string) => Effect.Effect<A, OktaResponseError, R>,
  /** Runs as each app's call ends, in the order they end (streamed output). */
  onEach: (outcome: Outcome<A>) => Effect.Effect<void> = () => Effect.void,
  /** The calls change the apps: one stopped in flight may have changed its app all the same. */
  changes = false
) =>
  Effect.flatMap(root, (global) => {
    const shown = ids.length > 1 ? new Progress(ids.length) : undefined
    progress = shown
    const started = new Set<string>()
    const finished = new Map<string, boolean>()
    let stopped: Stop | undefined
    return Effect.forEach(
      ids,
      (id): Effect.Effect<Outcome<A>, never, R> => {
        const stop = stopped
        return stop !== undefined
          ? Effect.sync(() => {
              shown?.tick("not sent")
              return { id, result: Exit.interrupt(FiberId.none), skipped: stop }
            })
          : Effect.flatMap(
              Effect.exit(
                Effect.suspend(() => {
                  started.add(id)
                  return call(id)
                })
              ),
              (result) => {
                finished.set(id, Exit.isSuccess(result))
                const error = Exit.isFailure(result) ? Cause.failureOption(result.cause) : undefined
                if (error !== undefined && Option.isSome(error)) {
                  if (isAuthFailure(error.value)) stopped = "credentials"
                  else if (isUnreachable(error.value)) stopped ??= "unreachable"
                }
                // What the app's end prints (a line of output) goes where the progress line was,
                // which is drawn again below it.
                shown?.lift()
                return Effect.as(onEach({ id, result }), { id, result }).pipe(
                  Effect.ensuring(
                    Effect.sync(() => shown?.tick(Exit.isSuccess(result) ? "succeeded" : "failed"))
                  )
                )
              }
            )
      },
      { concurrency: global.concurrency }
    ).pipe(
      // Ctrl-C: the calls in flight are interrupted; say what was done and what was not, and
      // which calls were stopped in flight: a change may have reached Okta before its answer.
      Effect.onInterrupt(() =>
        Effect.sync(() => {
          const count = (which: ReadonlyArray<string>, what: string) =>
            `, ${which.length} ${what} (${which.slice(0, 10).join(", ")}${which.length > 10 ? ", …" : ""})`
          const succeeded = ids.filter((id) => finished.get(id) === true)
          const failed = ids.filter((id) => finished.get(id) === false)
          const inFlight = ids.filter((id) => started.has(id) && !finished.has(id))
          const notStarted = ids.filter((id) => !started.has(id))
          process.stderr.write(
            `\ninterrupted: ${succeeded.length} succeeded, ${failed.length} failed${inFlight.length > 0 ? count(inFlight, "stopped in flight") : ""}${notStarted.length > 0 ? count(notStarted, "not started") : ""}\n`
          )
          if (changes && inFlight.length > 0) {
            process.stderr.write(
              `a change stopped in flight may have reached Okta before its answer: okta-connections get ${inFlight.length > 1 ? "shows where they stand" : "shows where it stands"}\n`
            )
          }
        })
      )
    )
  })

/** An id as a failure line shows it: quoted when it is empty or has spaces or control characters. */
const shownId = (id: string) => (/^[\x21-\x7e]+$/.test(id) ? id : JSON.stringify(id))

/**
 * Prints failures to standard error, and how many apps `done` (of several, or with a failure); the
 * exit code says whether any app failed.
 */
export const finish = <A>(outcomes: ReadonlyArray<Outcome<A>>, done = "succeeded") =>
  Effect.gen(function* () {
    let failed = 0
    let authFailures = 0
    const skipped = (stop: Stop) =>
      outcomes.filter((outcome) => outcome.skipped === stop).map(({ id }) => id)
    for (const { id, result, ...outcome } of outcomes) {
      if (outcome.skipped !== undefined) {
        failed += 1
        if (outcome.skipped === "credentials") authFailures += 1
      } else if (Exit.isFailure(result)) {
        failed += 1
        const error = Cause.failureOption(result.cause)
        if (Option.isSome(error) && isAuthFailure(error.value)) authFailures += 1
        yield* Console.error(
          `${shownId(id)}: ${Option.isSome(error) ? describeFailure(error.value) : Cause.pretty(result.cause)}`
        )
      }
    }
    for (const stop of ["credentials", "unreachable"] as const) {
      const ids = skipped(stop)
      if (ids.length > 0) {
        yield* Console.error(
          `${ids.length} ${ids.length === 1 ? "app" : "apps"} not sent, ${STOPPED[stop]}: ${ids.slice(0, 10).join(", ")}${ids.length > 10 ? ", …" : ""}`
        )
      }
    }
    if (outcomes.length > 1 || failed > 0) {
      yield* Console.error(
        `${outcomes.length - failed} of ${outcomes.length} ${outcomes.length === 1 ? "app" : "apps"} ${done}`
      )
    }
    if (failed > 0) {
      process.exitCode = authFailures === failed ? EXIT.config : EXIT.someFailed
    }
  })

export const withClient = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.all([clientLayer, root, configProvider]), ([layer, global, provider]) =>
    Effect.provide(program, layer).pipe(
      Effect.provide(
        Logger.replace(
          Logger.defaultLogger,
          cliLogger(
            global.verbose,
            Option.match(global.timeout, {
              onNone: () => DEFAULT_TIMEOUT_SECONDS,
              onSome: (timeout) => Duration.toMillis(timeout) / 1000
            })
          )
        )
      ),
      Logger.withMinimumLogLevel(LogLevel.Debug),
      // The variables, then okta.yaml as Okta's SDKs read it.
      Effect.withConfigProvider(provider)
    )
  )
