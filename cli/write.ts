/**
 * The commands that change an org: `update`, `verify`, `apply`. Secrets come from an environment
 * variable, a file or standard input, never from argv (it shows in the process list).
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import {
  ApplicationConnections,
  OAuthProvisioningEnabledApp,
  OktaClient,
  type UpdateDefaultProvisioningConnectionForApplicationRequest
} from "effect-okta-connections"
import { readFileSync } from "node:fs"
import {
  applyStep,
  isRecord,
  org2orgSettingsIgnored,
  planFor,
  planLine,
  readManifest,
  type Step,
  yamlErrorAt,
  yamlParser
} from "./manifest.js"
import {
  appId,
  choiceOf,
  choiceOption,
  consentWay,
  EXIT,
  finish,
  forEachApp,
  refuseMalformedIds,
  sayWhileWorking,
  UsageError,
  withClient
} from "./shared.js"
import { hiddenLine, readFault, standardInput } from "./stdin.js"

/** A secret from an environment variable, a file or standard input; never from argv. */
const secretOptions = {
  secretEnv: Options.text("secret-env").pipe(
    Options.withDescription("the token (TOKEN) or admin password (OAUTH2) from this variable"),
    Options.optional
  ),
  secretFile: Options.file("secret-file").pipe(
    Options.withDescription("… from this file (- for standard input, as --secret-stdin)"),
    Options.optional
  ),
  secretStdin: Options.boolean("secret-stdin").pipe(
    Options.withDescription("… from standard input")
  )
}
/** `--secret-stdin`, or `--secret-file -` (as `--from -` and `--file -` read standard input). */
const secretFromStdin = (options: {
  readonly secretFile: Option.Option<string>
  readonly secretStdin: boolean
}) => options.secretStdin || Option.contains(options.secretFile, "-")

/**
 * Whether the secret is typed at a terminal: then it is asked for last ({@link typeSecret}), once
 * the command line and the configuration are known good, so that no refusal of either comes after
 * it was typed, to be typed again.
 */
const secretTyped = (options: {
  readonly secretFile: Option.Option<string>
  readonly secretStdin: boolean
}) => secretFromStdin(options) && process.stdin.isTTY === true

/** The secret typed at the terminal, not shown, checked as one piped in is. */
const typeSecret = (options: {
  readonly secretEnv: Option.Option<string>
  readonly secretFile: Option.Option<string>
}) =>
  Effect.flatMap(
    hiddenLine("okta-connections: the secret (not shown as it is typed; Enter ends it): "),
    (typed) => secretFrom(options, typed)
  )

/** The secret given (none when it is typed: {@link typeSecret}); more than one way is refused. */
const readSecret = (options: {
  readonly secretEnv: Option.Option<string>
  readonly secretFile: Option.Option<string>
  readonly secretStdin: boolean
}) => {
  const given = [
    Option.isSome(options.secretEnv),
    Option.isSome(options.secretFile),
    options.secretStdin
  ]
  if (given.filter(Boolean).length > 1) {
    return Effect.fail(
      new UsageError("give the secret one way: --secret-env, --secret-file or --secret-stdin")
    )
  }
  return Effect.flatMap(
    !secretFromStdin(options) || secretTyped(options)
      ? Effect.succeed(undefined)
      : Effect.mapError(
          standardInput("the secret"),
          () => new UsageError("cannot read the secret from standard input")
        ),
    (stdin) => secretFrom(options, stdin)
  )
}

const secretFrom = (
  options: {
    readonly secretEnv: Option.Option<string>
    readonly secretFile: Option.Option<string>
  },
  stdin: string | undefined
) =>
  Effect.try({
    try: () => {
      if (Option.isSome(options.secretEnv)) {
        const value = process.env[options.secretEnv.value]
        if (value === undefined || value === "") {
          throw new UsageError(
            `the environment variable ${options.secretEnv.value} is ${value === undefined ? "not set" : "empty"}`
          )
        }
        return value
      }
      if (Option.isNone(options.secretFile) && stdin === undefined) return undefined
      const source = Option.getOrElse(
        Option.filter(options.secretFile, (file) => file !== "-"),
        () => "standard input"
      )
      let value: string
      try {
        value = (stdin ?? readFileSync(source, "utf8")).trim()
      } catch (error) {
        throw new UsageError(`cannot read the secret from ${source}${readFault(error)}`)
      }
      // Nothing (a secrets manager's command that failed into the pipe) would set an empty secret.
      if (value === "") throw new UsageError(`the secret from ${source} is empty`)
      return value
    },
    catch: (error) => (error instanceof UsageError ? error : new UsageError(String(error)))
  })

/** A `--file` body with the secret put where its scheme takes it: the token, or the admin password. */
const withSecret = (body: unknown, secret: string): unknown => {
  const profile = isRecord(body) && isRecord(body["profile"]) ? body["profile"] : undefined
  if (!isRecord(body) || profile === undefined) {
    throw new UsageError("--secret-*: the body file needs a profile to take the secret")
  }
  if (profile["authScheme"] === "TOKEN") {
    if (profile["token"] !== undefined) {
      throw new UsageError("the body file has a token already: give the token one way")
    }
    return { ...body, profile: { ...profile, token: secret } }
  }
  // "OAUTH" as Okta's own example spells it, which the client sends as "OAUTH2".
  if (profile["authScheme"] === "OAUTH2" || profile["authScheme"] === "OAUTH") {
    const settings = isRecord(profile["settings"]) ? profile["settings"] : {}
    if (settings["adminPassword"] !== undefined) {
      throw new UsageError("the body file has an admin password already: give it one way")
    }
    return { ...body, profile: { ...profile, settings: { ...settings, adminPassword: secret } } }
  }
  // What it has instead, as the client says it of a body without a secret: `token` is TOKEN.
  const given = profile["authScheme"]
  const meant =
    typeof given === "string"
      ? { TOKEN: "TOKEN", OAUTH2: "OAUTH2", OAUTH: "OAUTH2" }[given.toUpperCase()]
      : undefined
  throw new UsageError(
    `--secret-*: the body file's profile.authScheme must be TOKEN or OAUTH2 to take the secret (${given === undefined ? "it has none" : meant !== undefined ? `in capitals: ${meant}` : `it has ${JSON.stringify(given)}`})`
  )
}

export const update = Command.make(
  "update",
  {
    appId,
    file: Options.file("file").pipe(
      Options.withDescription(
        "the request body, JSON or YAML (instead of the flags below; - for standard input); a --secret-* goes into it"
      ),
      Options.optional
    ),
    authScheme: choiceOption("auth-scheme", ["TOKEN", "OAUTH2"] as const).pipe(
      Options.withDescription(
        "instead of --file: TOKEN (the app's API token, from --secret-*) or OAUTH2 (Org2Org: a key pair; Google, Office 365, Slack, Zoom: an admin's consent, then verify)"
      ),
      Options.optional
    ),
    baseUrl: Options.text("base-url").pipe(
      Options.withDescription("with TOKEN: the app's base URL (Zscaler 2.0: with its Zscaler id)"),
      Options.optional
    ),
    clientId: Options.text("client-id").pipe(
      Options.withDescription(
        "with OAUTH2, Org2Org: the client id of the target org's service app"
      ),
      Options.optional
    ),
    rotation: choiceOption("rotation", ["AUTO", "MANUAL"] as const).pipe(
      Options.withDescription(
        "with OAUTH2, Org2Org: how the signing key rotates (Okta keeps MANUAL without it)"
      ),
      Options.optional
    ),
    adminUsername: Options.text("admin-username").pipe(
      Options.withDescription(
        "with OAUTH2, Office 365: the global administrator (the password from --secret-*)"
      ),
      Options.optional
    ),
    activate: Options.boolean("activate").pipe(
      Options.withDescription(
        "save and enable; without it Okta saves the connection DISABLED, an enabled one included"
      )
    ),
    ...secretOptions
  },
  (options) =>
    // The body is made, and what the command line got wrong said, before the configuration is read.
    Effect.gen(function* () {
      const bodyFromStdin = Option.getOrUndefined(options.file) === "-"
      if (bodyFromStdin && secretFromStdin(options)) {
        return yield* new UsageError(
          `--file - and ${options.secretStdin ? "--secret-stdin" : "--secret-file -"} both read standard input: give the secret with --secret-env or --secret-file PATH`
        )
      }
      yield* refuseMalformedIds([options.appId])
      const given = yield* readSecret(options)
      const typed = secretTyped(options)
      const parseYaml = Option.isSome(options.file) ? yield* yamlParser : undefined
      const stdinBody = bodyFromStdin
        ? yield* Effect.mapError(
            standardInput("the request body"),
            () => new UsageError("--file: cannot read standard input")
          )
        : undefined
      const bodyWith = (secret: string | undefined) =>
        Effect.try({
          try: (): unknown => {
            if (Option.isSome(options.file) && parseYaml !== undefined) {
              const flags = [
                options.authScheme,
                options.baseUrl,
                options.clientId,
                options.rotation,
                options.adminUsername
              ]
              if (flags.some(Option.isSome)) {
                throw new UsageError(
                  "--file is the whole body: give it without --auth-scheme, --base-url, --client-id, --rotation or --admin-username"
                )
              }
              let text: string
              try {
                text = stdinBody ?? readFileSync(options.file.value, "utf8")
              } catch (error) {
                throw new UsageError(`--file: cannot read ${options.file.value}${readFault(error)}`)
              }
              let parsed: unknown
              try {
                parsed = parseYaml(text)
              } catch (error) {
                // The body may hold the token: where it failed, never the parser's quote of it.
                throw new UsageError(`--file: not YAML or JSON${yamlErrorAt(error)}`)
              }
              if (parsed === null || parsed === undefined) {
                throw new UsageError(
                  `--file: ${bodyFromStdin ? "standard input" : options.file.value} is empty`
                )
              }
              // What `get --json` prints, edited and sent back: said as such, not as four
              // members the client does not allow.
              if (Array.isArray(parsed)) {
                throw new UsageError("--file: a list (as get --json prints): give one app's body")
              }
              const printed = isRecord(parsed)
                ? ["id", "authScheme", "status", "_links"].filter((key) => key in parsed)
                : []
              if (printed.length > 0) {
                throw new UsageError(
                  `--file: ${printed.join(", ")}: what get prints, not an update body, which has baseUrl and profile only (to enable, --activate)`
                )
              }
              // A body file without its secret, the secret given apart (kept out of the file).
              return secret === undefined ? parsed : withSecret(parsed, secret)
            }
            const scheme = Option.getOrUndefined(options.authScheme)
            if (scheme === undefined) throw new UsageError("give --file or --auth-scheme")
            // A flag the scheme does not take is refused, not dropped.
            if (scheme === "TOKEN") {
              if ([options.clientId, options.rotation, options.adminUsername].some(Option.isSome)) {
                throw new UsageError(
                  "--client-id, --rotation and --admin-username go with --auth-scheme OAUTH2"
                )
              }
              return {
                ...(Option.isSome(options.baseUrl) ? { baseUrl: options.baseUrl.value } : {}),
                profile: { authScheme: "TOKEN", ...(secret !== undefined ? { token: secret } : {}) }
              }
            }
            if (Option.isSome(options.baseUrl)) {
              throw new UsageError("--base-url goes with --auth-scheme TOKEN")
            }
            if (Option.isSome(options.adminUsername) !== (secret !== undefined)) {
              throw new UsageError(
                "--admin-username and the admin password (--secret-env, --secret-file or --secret-stdin) go together"
              )
            }
            return {
              profile: {
                authScheme: "OAUTH2",
                ...(Option.isSome(options.clientId) ? { clientId: options.clientId.value } : {}),
                ...(Option.isSome(options.rotation)
                  ? { signing: { rotationMode: options.rotation.value } }
                  : {}),
                ...(Option.isSome(options.adminUsername) && secret !== undefined
                  ? {
                      settings: {
                        adminUsername: options.adminUsername.value,
                        adminPassword: secret
                      }
                    }
                  : {})
              }
            }
          },
          catch: (error) =>
            error instanceof UsageError ? error : new UsageError(`--file: ${String(error)}`)
        }).pipe(
          // Checked by the client as it sends it.
          Effect.map((body) => body as UpdateDefaultProvisioningConnectionForApplicationRequest)
        )
      // What the command line got wrong is said now, a secret still to be typed standing in.
      const body = yield* bodyWith(typed ? "typed at the terminal" : given)
      return typed ? Effect.flatMap(typeSecret(options), bodyWith) : Effect.succeed(body)
    }).pipe(
      Effect.flatMap((makeBody) =>
        withClient(
          Effect.gen(function* () {
            const sent = yield* makeBody
            const api = yield* ApplicationConnections
            const outcome = yield* forEachApp(
              [options.appId],
              (id) =>
                api.updateDefaultProvisioningConnectionForApplication(
                  id,
                  sent,
                  options.activate ? { activate: true } : undefined
                ),
              undefined,
              true
            )
            const result = outcome[0]!.result
            // A body the client refuses (nothing was sent) is the command line's fault, as a bad
            // manifest is apply's: a usage error, exit 2.
            const invalid = Exit.isFailure(result)
              ? Cause.failureOption(result.cause)
              : Option.none()
            if (Option.isSome(invalid) && invalid.value._tag === "OktaInvalidInputError") {
              // A body file's secret written as a manifest writes it (`${env:NAME}`), or as a
              // template left it: the way the command line takes a secret.
              const variable =
                Option.isSome(options.file) && /never expanded/.test(invalid.value.message)
              return yield* new UsageError(
                variable
                  ? `${invalid.value.message}\n  update reads a secret from --secret-env NAME, --secret-file PATH or --secret-stdin, and puts it in the body (\${env:NAME} is apply's, in a manifest)`
                  : invalid.value.message
              )
            }
            if (Exit.isSuccess(result)) {
              yield* Console.log(`${options.appId}: updated, ${result.value.status}`)
              // Okta saves an update DISABLED unless it activates it, an enabled connection included:
              // a token rotated without --activate stops provisioning until someone notices. With
              // --activate, DISABLED is a refusal Okta gives no error for: said, with the way on.
              const consent = result.value._links?.authorize?.href
              if (result.value.status === "DISABLED") {
                const refused = options.activate
                  ? "still DISABLED, though --activate asked Okta to enable it"
                  : undefined
                yield* Console.error(
                  consent !== undefined
                    ? `${options.appId}: ${refused ?? "saved DISABLED"}; to finish its OAuth 2.0 connection, ${consentWay(consent)}`
                    : `${options.appId}: ${refused ?? "saved DISABLED, as Okta saves an update without --activate"}; okta-connections activate ${options.appId} enables it`
                )
              }
              // As `apply` says in its plan: Okta never returns the token, so none can be sent as
              // it is, and an update without one (a new base URL alone) may leave the app without.
              if (sent.profile.authScheme === "TOKEN" && sent.profile.token === undefined) {
                yield* Console.error(
                  `${options.appId}: no token was sent: an update replaces the configuration, and Okta may not keep the one it had; give it with --secret-env, --secret-file or --secret-stdin`
                )
              }
              const ignored = org2orgSettingsIgnored(sent, result.value)
              if (ignored !== undefined) yield* Console.error(`${options.appId}: ${ignored}`)
            }
            yield* finish(outcome)
          })
        )
      )
    )
).pipe(Command.withDescription("set an app's default provisioning connection"))

/**
 * The code and state of a consent: from Okta's continue URL, or `--code -` (standard input; the
 * code is a one-time credential, so never argv) with `--state VALUE` or `--state -` (the next line).
 */
const consentOf = (options: {
  readonly appName: string
  readonly appId: string
  readonly continueUrl: Option.Option<string>
  readonly code: Option.Option<string>
  readonly state: Option.Option<string>
}) => {
  // Standard input is read only for a request that is otherwise whole: a usage error is said at
  // once, not after waiting for input.
  const continueUrl = Option.getOrUndefined(options.continueUrl)
  const fromStdin =
    continueUrl !== undefined
      ? continueUrl === "-" && Option.isNone(options.code) && Option.isNone(options.state)
      : Option.contains(options.code, "-") && Option.isSome(options.state)
  return Effect.flatMap(
    fromStdin
      ? Effect.mapError(
          standardInput(
            continueUrl === "-"
              ? "the URL Okta continues to"
              : `the code${Option.contains(options.state, "-") ? ", then the state on the next line" : ""}`
          ),
          (error) => new UsageError(`cannot read the consent: ${String(error)}`)
        )
      : Effect.succeed(""),
    (stdin) => consentFrom(options, stdin)
  )
}

const consentFrom = (
  options: {
    readonly appName: string
    readonly appId: string
    readonly continueUrl: Option.Option<string>
    readonly code: Option.Option<string>
    readonly state: Option.Option<string>
  },
  stdin: string
) =>
  Effect.try({
    try: () => {
      const stdinLines = () => stdin.trim().split(/\r?\n/)
      if (Option.isSome(options.continueUrl)) {
        if (Option.isSome(options.code) || Option.isSome(options.state)) {
          throw new UsageError("give --continue-url, or --code and --state, not both")
        }
        const given =
          options.continueUrl.value === "-" ? stdinLines()[0]! : options.continueUrl.value
        // Copied with its quotes, from the JSON or the page that showed it.
        const raw = given.trim().replace(/^(["'])(.*)\1$/, "$2")
        let url: URL
        try {
          url = new URL(raw)
        } catch {
          throw new UsageError("--continue-url must be Okta's URL with code and state")
        }
        const code = url.searchParams.get("code")
        const state = url.searchParams.get("state")
        // The provider sends the browser back with an error, not a code, when the consent was not
        // given (RFC 6749 §4.1.2.1: an admin who clicked Deny, a scope refused): no code to verify.
        const refusal = url.searchParams.get("error")
        if (code === null && refusal !== null) {
          // The provider's words, on one line, without what a terminal would act on.
          const said = (text: string | null) =>
            (text ?? "")
              // eslint-disable-next-line no-control-regex -- the characters to take out
              .replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")
              .trim()
              .slice(0, 200)
          const description = said(url.searchParams.get("error_description"))
          throw new UsageError(
            `--continue-url says the consent was not given: ${said(refusal)}${description !== "" ? ` (${description})` : ""}; give it again at the consent link (okta-connections get ${options.appId} prints it)`
          )
        }
        if (code === null || state === null) {
          // The usual ways to lose the state: HTML's "&amp;", and a shell that ends the command
          // at an unquoted "&" (running it in the background), which leaves the code alone.
          const why = raw.includes("&amp;")
            ? ": it has &amp; where Okta's has & (copied from a page's source?)"
            : code !== null && options.continueUrl.value !== "-"
              ? ": it has a code but no state, as when a shell cuts an unquoted URL at its &; quote it ('…'), or give --continue-url - and paste it on standard input"
              : ""
          throw new UsageError(`--continue-url must be Okta's URL with code and state${why}`)
        }
        // Another app's URL fails at Okta as "code invalid", without a word of why: say it here.
        const [, urlName, urlId] =
          /\/api\/v1\/apps\/([^/]+)\/([^/]+)\/oauth2\/callback$/.exec(url.pathname) ?? []
        if (
          urlName !== undefined &&
          urlId !== undefined &&
          (urlName !== options.appName || urlId !== options.appId)
        ) {
          throw new UsageError(
            `--continue-url is Okta's URL for ${urlName} ${urlId}, not for ${options.appName} ${options.appId}`
          )
        }
        return { code, state, host: url.host }
      }
      if (Option.isNone(options.code) || Option.isNone(options.state)) {
        throw new UsageError("give --continue-url URL, or --code - and --state")
      }
      if (options.code.value !== "-") {
        throw new UsageError(
          "the code is a credential: give --code - and write it to standard input, not on the command line"
        )
      }
      const lines = stdinLines()
      const code = lines[0]?.trim() ?? ""
      const state = options.state.value === "-" ? (lines[1]?.trim() ?? "") : options.state.value
      if (code === "" || state === "") {
        throw new UsageError(
          options.state.value === "-"
            ? "standard input must hold the code, then the state on the next line"
            : "standard input must hold the code"
        )
      }
      return { code, state }
    },
    catch: (error) =>
      error instanceof UsageError
        ? error
        : new UsageError(`cannot read the consent: ${String(error)}`)
  })

// The contract's list, in its order.
const CONSENT_APPS = OAuthProvisioningEnabledApp.literals

export const verify = Command.make(
  "verify",
  {
    appName: Args.text({ name: "appName" }).pipe(
      Args.mapEffect((text) => {
        const name = choiceOf(CONSENT_APPS)(text.trim())
        return name !== undefined
          ? Effect.succeed(name)
          : Effect.fail(
              HelpDoc.p(
                `<appName> ${JSON.stringify(text)}: takes ${CONSENT_APPS.join(", ")} (the apps with a consent flow)`
              )
            )
      }),
      Args.withDescription(
        `the app's name in Okta, ${CONSENT_APPS.join(", ")} (the apps with a consent flow)`
      )
    ),
    appId,
    continueUrl: Options.text("continue-url").pipe(
      Options.withDescription(
        "the continue_oauth_flow_url Okta issued; - reads it from standard input"
      ),
      Options.optional
    ),
    code: Options.text("code").pipe(
      Options.withDescription(
        "instead of --continue-url: - reads the authorization code from standard input (never argv)"
      ),
      Options.optional
    ),
    state: Options.text("state").pipe(
      Options.withDescription(
        "with --code: the state Okta issued, or - for the line after the code on standard input"
      ),
      Options.optional
    ),
    activate: Options.boolean("activate").pipe(
      Options.withDescription("once verified, enable the connection (the consent flow's last step)")
    )
  },
  (options) =>
    Effect.flatMap(
      Effect.zipRight(refuseMalformedIds([options.appId]), consentOf(options)),
      ({ code, state, host }) =>
        withClient(
          Effect.gen(function* () {
            const api = yield* ApplicationConnections
            // Another org's URL fails there as "not found" or "code invalid". Only said, not refused:
            // an org with a custom domain answers on both its hosts.
            const orgHost = new URL((yield* OktaClient).orgUrl).host
            if (host !== undefined && host !== orgHost) {
              yield* Console.error(
                `okta-connections: --continue-url is on ${host}, the configured org is ${orgHost}: verifying at ${orgHost}`
              )
            }
            // Each step is said as it is done: an activation that fails leaves the app verified, and
            // the one-time code spent.
            const outcome = yield* forEachApp(
              [options.appId],
              (id) =>
                api
                  .verifyProvisioningConnectionForApplication(options.appName, id, { code, state })
                  .pipe(
                    Effect.zipRight(Console.log(`${id}: verified`)),
                    Effect.zipRight(
                      options.activate
                        ? Effect.zipRight(
                            api.activateDefaultProvisioningConnectionForApplication(id),
                            Console.log(`${id}: activated`)
                          )
                        : Effect.void
                    )
                  ),
              undefined,
              true
            )
            yield* finish(outcome)
            // Okta's 400 for a code says "invalid, expired or already used", most often one a verify
            // that worked has spent (run again to add --activate, say): the way on for either.
            const failure = Exit.isFailure(outcome[0]!.result)
              ? Cause.failureOption(outcome[0]!.result.cause)
              : Option.none()
            if (
              Option.isSome(failure) &&
              failure.value._tag === "OktaBadRequestError" &&
              failure.value.operation === "verifyProvisioningConnectionForApplication"
            ) {
              yield* Console.error(
                `${options.appId}: a consent's code verifies once: if it was verified already, okta-connections activate ${options.appId} enables the connection; if not, give the consent again (okta-connections get ${options.appId} prints the link)`
              )
            }
          })
        )
    )
).pipe(Command.withDescription("complete a three-legged OAuth 2.0 consent"))

export const apply = Command.make(
  "apply",
  {
    manifest: Args.file({ name: "manifest" }).pipe(
      Args.withDescription(
        "a YAML or JSON file: apps, each an id and the connection it should have (- reads it from standard input)"
      )
    ),
    dryRun: Options.boolean("dry-run").pipe(Options.withDescription("print the plan and stop")),
    resendSecrets: Options.boolean("resend-secrets").pipe(
      Options.withDescription("send write-only secrets even where nothing else changes")
    ),
    detailedExitcode: Options.boolean("detailed-exitcode").pipe(
      Options.withDescription(
        "with --dry-run, exit 4 when the plan changes anything (a drift check); 0 when it does not"
      )
    )
  },
  (options) =>
    options.detailedExitcode && !options.dryRun
      ? Effect.fail(new UsageError("--detailed-exitcode goes with --dry-run"))
      : // The manifest is read, and what it gets wrong said, before the configuration is.
        Effect.flatMap(
          Effect.mapError(readManifest(options.manifest), (error) => new UsageError(error.message)),
          (apps) =>
            withClient(
              Effect.gen(function* () {
                const api = yield* ApplicationConnections
                const current = yield* forEachApp(
                  apps.map((app) => app.id),
                  (id) => api.getDefaultProvisioningConnectionForApplication(id)
                )
                const steps: Array<Step> = []
                for (const [i, { result }] of current.entries()) {
                  if (Exit.isSuccess(result))
                    steps.push(planFor(apps[i]!, result.value, options.resendSecrets))
                }
                for (const step of steps) yield* Console.log(planLine(step))
                const count = (f: (step: Step) => boolean) => steps.filter(f).length
                const refused = count((s) => s.refused !== undefined)
                yield* Console.log(
                  `Plan: ${count((s) => s.update !== undefined)} to update, ${count((s) => s.lifecycle === "activate")} to activate, ${count((s) => s.lifecycle === "deactivate")} to deactivate, ${count((s) => s.changes.length === 0 && s.refused === undefined)} unchanged${refused > 0 ? `, ${refused} refused` : ""}`
                )
                const unreadable = current.length - steps.length
                const notRead =
                  unreadable > 0
                    ? `${unreadable} of ${current.length} ${current.length === 1 ? "app" : "apps"}`
                    : undefined
                // A manifest that cannot converge, or that was not all read, is seen to first: half of
                // it applied helps no one.
                if (refused > 0 || (notRead !== undefined && !options.dryRun)) {
                  const why = [
                    refused > 0
                      ? `${refused} ${refused === 1 ? "app is" : "apps are"} refused (above)`
                      : undefined,
                    notRead !== undefined ? `${notRead} could not be read (below)` : undefined
                  ]
                  yield* Console.error(`nothing applied: ${why.filter(Boolean).join("; ")}`)
                } else if (notRead !== undefined) {
                  yield* Console.error(
                    `the plan leaves out ${notRead}, which could not be read (below)`
                  )
                }
                if (notRead !== undefined) {
                  // An app that could not be read is the failure (1 or 3), not a change.
                  return yield* finish(current, "read")
                }
                if (refused > 0) {
                  process.exitCode = EXIT.someFailed
                  return
                }
                if (options.dryRun) {
                  if (options.detailedExitcode && steps.some((step) => step.changes.length > 0)) {
                    process.exitCode = EXIT.changes
                  }
                  return
                }
                const todo = steps.filter((step) => step.changes.length > 0)
                const done = yield* forEachApp(
                  todo.map((step) => step.app.id),
                  (id) => {
                    const step = todo.find((s) => s.app.id === id)!
                    return Effect.flatMap(applyStep(api, step), ({ consent, ignored }) =>
                      Effect.all([
                        ignored !== undefined
                          ? sayWhileWorking(`${id}: ${ignored}; remove them from the manifest`)
                          : Effect.void,
                        consent !== undefined
                          ? sayWhileWorking(
                              `${id}: Okta answered the update with a consent link: if its OAuth 2.0 consent is still to be given, ${consentWay(consent, step.app.status !== "DISABLED")}`
                            )
                          : Effect.void
                      ])
                    )
                  },
                  // Said as each app is done: a run that is stopped has said what it changed.
                  ({ id, result }) =>
                    Exit.isSuccess(result) ? Console.log(`${id}: applied`) : Effect.void,
                  true
                )
                yield* finish(done)
              })
            )
        )
).pipe(
  Command.withDescription("make the apps of a manifest (YAML or JSON) match it: plan, then apply")
)
