/**
 * `okta-connections apply`: a manifest of apps and the connection each should have, the plan of
 * what must change, and the changes. Secrets are references (`${env:NAME}`, `${file:PATH}`),
 * resolved before any call; a write-only secret is sent only with an update the plan needs anyway,
 * or when the user asks to re-send secrets.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import {
  AppId,
  type ApplicationConnectionsService,
  type OktaResponseError,
  type ProvisioningConnectionResponse,
  ProvisioningConnectionTokenRequest,
  type UpdateDefaultProvisioningConnectionForApplicationRequest
} from "effect-okta-connections"
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { nearest } from "../src/internal/nearest.js"
import { UNEXPANDED } from "../src/internal/pasted.js"
import { readFault, standardInput } from "./stdin.js"

/** A manifest that cannot be used: nothing is sent. */
export class ManifestError extends Data.TaggedError("ManifestError")<{ readonly message: string }> {
  constructor(message: string) {
    super({ message })
  }
}

const Status = Schema.Literal("ENABLED", "DISABLED")
const RotationMode = Schema.Literal("AUTO", "MANUAL")

// An id no app can have (a pasted Admin Console URL, a space) is the manifest's fault, refused
// with the rest of it before any call, not one failed read that stops the apply; so is a base URL
// the update would refuse.
const TokenApp = Schema.Struct({
  id: AppId,
  authScheme: Schema.Literal("TOKEN"),
  baseUrl: ProvisioningConnectionTokenRequest.fields.baseUrl,
  token: Schema.optional(Schema.String),
  status: Schema.optional(Status)
})

// A variable, or a reference anywhere in it, where no secret goes would be sent as its own text:
// the client id or the admin's name saved as "${env:…}".
const Plain = Schema.String.pipe(
  Schema.filter((s) =>
    UNEXPANDED.test(s) || /\$\{[^}]*\}/.test(s)
      ? "is a variable or a reference: ${env:NAME} and ${file:PATH} stand for token and adminPassword only"
      : true
  )
)

const OAuthApp = Schema.Struct({
  id: AppId,
  authScheme: Schema.Literal("OAUTH2"),
  clientId: Schema.optional(Plain),
  rotationMode: Schema.optional(RotationMode),
  adminUsername: Schema.optional(Plain),
  adminPassword: Schema.optional(Schema.String),
  status: Schema.optional(Status)
})

// An app whose connection is left as it is, and only enabled or disabled: no authScheme to get
// wrong (one that differs from Okta's would plan an update switching the scheme).
const StatusApp = Schema.Struct({ id: AppId, status: Status })

export type ManifestApp = typeof TokenApp.Type | typeof OAuthApp.Type | typeof StatusApp.Type

const options = { onExcessProperty: "error", errors: "all" } as const
const decodeList = Schema.decodeUnknownEither(
  Schema.Struct({ apps: Schema.Array(Schema.Unknown) }),
  options
)
const decodeApp = Schema.decodeUnknownEither(Schema.Union(TokenApp, OAuthApp), options)
const decodeStatusApp = Schema.decodeUnknownEither(StatusApp, options)

/**
 * Each entry by its own schema: an id and a status alone is a status-only entry; anything else is
 * a connection, told by its authScheme. (One union of the three would answer a misspelt member of
 * a TOKEN app with what the status-only entry makes of it too.)
 */
const decode = (
  raw: unknown
): Either.Either<ReadonlyArray<ManifestApp>, ReadonlyArray<ParseResult.ArrayFormatterIssue>> => {
  const list = decodeList(raw)
  if (Either.isLeft(list)) return Either.left(ParseResult.ArrayFormatter.formatErrorSync(list.left))
  const apps: Array<ManifestApp> = []
  const issues: Array<ParseResult.ArrayFormatterIssue> = []
  for (const [i, entry] of list.right.apps.entries()) {
    const statusOnly =
      isRecord(entry) &&
      "status" in entry &&
      Object.keys(entry).every((key) => key === "id" || key === "status")
    const app: Either.Either<ManifestApp, ParseResult.ParseError> = statusOnly
      ? decodeStatusApp(entry)
      : decodeApp(entry)
    if (Either.isRight(app)) apps.push(app.right)
    else {
      // A field no entry has, first: without an authScheme the union says only that it is missing,
      // and a misspelt one (`auth_scheme`) is why.
      const keys = isRecord(entry) ? Object.keys(entry) : []
      for (const key of keys) {
        if (!FIELDS.includes(key))
          issues.push({ _tag: "Unexpected", path: ["apps", i, key], message: "" })
      }
      // Nor is an authScheme missing where the fields meant have it, or are a status alone
      // (`statu: DISABLED`): that misspelt field is all there is to mend.
      const meant = new Set(keys.map((key) => fieldMeant(key) ?? key))
      const schemeMeant =
        meant.has("authScheme") ||
        (meant.has("status") && [...meant].every((key) => key === "id" || key === "status"))
      for (const issue of ParseResult.ArrayFormatter.formatErrorSync(app.left)) {
        if (schemeMeant && issue._tag === "Missing" && issue.path.join() === "authScheme") continue
        issues.push({ ...issue, path: ["apps", i, ...issue.path] })
      }
    }
  }
  return issues.length > 0 ? Either.left(issues) : Either.right(apps)
}

const oneOf = (literals: ReadonlyArray<string>) => literals.join(" or ")

/** Every field an entry may have. */
const FIELDS: ReadonlyArray<string> = [
  ...new Set([...Object.keys(TokenApp.fields), ...Object.keys(OAuthApp.fields)])
]
/** The field meant by one no entry has: in another case or spelling (`auth_scheme`), or a typo. */
const fieldMeant = (field: string): string | undefined => {
  const fold = (name: string) => name.toLowerCase().replace(/[-_ ]/g, "")
  return FIELDS.find((known) => fold(known) === fold(field)) ?? nearest(field, FIELDS)
}

// The fields whose values are a closed list, said when one is wrong or missing (the list is the
// schema's; the value is never shown).
const ALLOWED: Readonly<Record<string, ReadonlyArray<string>>> = {
  authScheme: [...TokenApp.fields.authScheme.literals, ...OAuthApp.fields.authScheme.literals],
  status: Status.literals,
  rotationMode: RotationMode.literals
}

/** A place in the manifest as its errors name it: `apps[0].status`. */
const placeOf = (path: ReadonlyArray<PropertyKey>): string =>
  path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : `${i > 0 ? "." : ""}${String(key)}`))
    .join("")

/** The value at a path of the parsed manifest. */
const valueAt = (raw: unknown, path: ReadonlyArray<PropertyKey>): unknown =>
  path.reduce<unknown>(
    (value, key) =>
      typeof value === "object" && value !== null
        ? (value as Record<PropertyKey, unknown>)[key]
        : undefined,
    raw
  )

/**
 * What is wrong at one place: its rule or its closed list, never the value (secrets may be). A
 * value of the list in the wrong case (`status: enabled`) is named by the list's spelling.
 */
const describeManifestIssue = (issue: ParseResult.ArrayFormatterIssue, raw: unknown): string => {
  const field = issue.path.at(-1)
  const allowed =
    typeof field === "string" && Object.hasOwn(ALLOWED, field) ? ALLOWED[field] : undefined
  if (issue._tag === "Unexpected") {
    // A setting of the other scheme (a rotationMode left on an app turned TOKEN): which one.
    const token = typeof field === "string" && Object.hasOwn(TokenApp.fields, field)
    const oauth = typeof field === "string" && Object.hasOwn(OAuthApp.fields, field)
    if (token !== oauth)
      return `is not allowed: only authScheme ${token ? "TOKEN" : "OAUTH2"} takes it`
    // Okta's request body pasted in: its settings sit in `profile` (`settings`, `signing`).
    if (field === "profile" || field === "settings" || field === "signing") {
      return `is not allowed: an entry is flat (${FIELDS.join(", ")}), not Okta's request body`
    }
    const meant = typeof field === "string" ? fieldMeant(field) : undefined
    return `is not allowed${meant !== undefined && meant !== field ? ` (did you mean ${meant}?)` : ""}`
  }
  if (issue._tag === "Missing") {
    if (allowed === undefined) return "is missing"
    // An id alone: a status alone would do too, to enable or disable the app as it is.
    const entry = valueAt(raw, issue.path.slice(0, -1))
    const idAlone = field === "authScheme" && isRecord(entry) && Object.keys(entry).join() === "id"
    return `is missing (${oneOf(allowed)})${idAlone ? `, or give a status alone (${oneOf(Status.literals)})` : ""}`
  }
  // An id's or a base URL's rule is said: their schemas name the rule, not the value; so are the
  // client id's and the admin's name's.
  if (
    issue._tag === "Refinement" &&
    (field === "id" || field === "baseUrl" || field === "clientId" || field === "adminUsername")
  ) {
    return issue.message
  }
  if (issue.path.length === 1 && field === "apps") return "must be a list of apps"
  if (issue.path.length === 2) return "must be a mapping, an app's id and its settings"
  if (allowed === undefined) return "is not valid"
  const value = valueAt(raw, issue.path)
  const meant =
    typeof value === "string" ? allowed.find((a) => a === value.toUpperCase()) : undefined
  return `must be ${oneOf(allowed)}${meant !== undefined ? ` (in capitals: ${meant})` : ""}`
}

/** `${env:NAME}` or `${file:PATH}` (relative to the manifest); any other text is refused. */
const resolveSecret = (field: string, value: string, base: string): string => {
  const reference = /^\$\{(env|file):([^}]+)\}$/.exec(value.trim())
  if (reference === null) {
    throw new ManifestError(
      `${field} must be a reference, \${env:NAME} or \${file:PATH}, not the secret itself`
    )
  }
  const [, kind, name] = reference
  if (kind === "env") {
    const found = process.env[name!]
    if (found === undefined || found === "") {
      throw new ManifestError(
        `${field}: the environment variable ${name} is ${found === undefined ? "not set" : "empty"}`
      )
    }
    return found
  }
  let text: string
  try {
    text = readFileSync(resolve(base, name!), "utf8").trim()
  } catch (error) {
    throw new ManifestError(`${field}: cannot read ${name}${readFault(error)}`)
  }
  // An empty file (a secrets manager that wrote nothing) would set an empty secret in Okta.
  if (text === "") throw new ManifestError(`${field}: ${name} is empty`)
  return text
}

/** Reads, validates and resolves a manifest (YAML or JSON). */
export const readManifest = (
  path: string
): Effect.Effect<ReadonlyArray<ManifestApp>, ManifestError> =>
  Effect.flatMap(yamlParser, (parseYaml) =>
    Effect.flatMap(
      path === "-"
        ? Effect.mapError(standardInput("the manifest"), () => new ManifestError("cannot read -"))
        : Effect.succeed(undefined),
      (stdin) => readWith(path, parseYaml, stdin)
    )
  )

/** The YAML module, loaded only by the commands that read or write YAML (most never do). */
const yamlModule = Effect.promise(() => import("yaml")).pipe(
  // yaml is CommonJS: in the bundle its exports arrive as the default export only.
  Effect.map((yaml) =>
    "parse" in yaml ? yaml : (yaml as { readonly default: typeof yaml }).default
  )
)

/** The YAML parser. */
export const yamlParser: Effect.Effect<(text: string) => unknown> = Effect.map(
  yamlModule,
  ({ parse }) =>
    (text: string): unknown =>
      parse(text)
)

const checkBaseUrl = Schema.decodeUnknownEither(
  Schema.Struct({ baseUrl: ProvisioningConnectionTokenRequest.fields.baseUrl })
)

/** What is wrong with a base URL, by the rule an update checks it with; none when absent. */
const baseUrlFault = (baseUrl: string | undefined): string | undefined => {
  const checked = checkBaseUrl({ baseUrl })
  return Either.isLeft(checked)
    ? ParseResult.ArrayFormatter.formatErrorSync(checked.left)[0]?.message
    : undefined
}

/**
 * One app as a manifest has it, from what Okta has now: `apply` with it plans no change. What a
 * manifest cannot hold (a scheme other than TOKEN and OAUTH2, with a status other than ENABLED
 * and DISABLED, a base URL an update refuses) is left out; an app with nothing it can hold is
 * `undefined`.
 */
export const manifestAppOf = (
  id: string,
  current: ProvisioningConnectionResponse
): Record<string, string> | undefined => {
  const profile = current.profile as { clientId?: string; signing?: { rotationMode?: string } }
  const status = Status.literals.find((s) => s === current.status)
  const rotationMode = RotationMode.literals.find((m) => m === profile.signing?.rotationMode)
  const settings =
    current.profile.authScheme === "TOKEN"
      ? {
          ...(current.baseUrl !== undefined && baseUrlFault(current.baseUrl) === undefined
            ? { baseUrl: current.baseUrl }
            : {})
        }
      : current.profile.authScheme === "OAUTH2"
        ? {
            ...(profile.clientId !== undefined ? { clientId: profile.clientId } : {}),
            ...(rotationMode !== undefined ? { rotationMode } : {})
          }
        : undefined
  // A scheme the manifest cannot hold: its status alone, which apply sets without touching the
  // connection; an app without provisioning (status UNKNOWN too) has nothing a manifest can hold.
  if (settings === undefined) return status !== undefined ? { id, status } : undefined
  return {
    id,
    authScheme: current.profile.authScheme,
    ...settings,
    ...(status !== undefined ? { status } : {})
  }
}

/**
 * The connections of `apps` as a manifest, YAML with a word on the secrets it cannot hold, and on
 * each app of `unread` (its id and why) that could not be read: a file kept for later says so.
 */
export const manifestText = (
  apps: ReadonlyArray<{ readonly id: string; readonly connection: ProvisioningConnectionResponse }>,
  unread: ReadonlyArray<{ readonly id: string; readonly why: string }> = []
): Effect.Effect<string> =>
  Effect.map(yamlModule, ({ stringify }) => {
    const held = apps.map((entry) => ({ ...entry, app: manifestAppOf(entry.id, entry.connection) }))
    const kept = held.flatMap(({ app }) => (app === undefined ? [] : [app]))
    const left = held.filter(({ app }) => app === undefined)
    return [
      "# The connections as Okta has them now (okta-connections get --manifest): apply plans no",
      "# change from it. Tokens and admin passwords are write-only, and Okta returns neither: to",
      "# send one, add it as a reference, ${env:NAME} or ${file:PATH} (adminPassword with",
      "# adminUsername).",
      ...left.map(
        ({ connection, id }) =>
          `# Left out: ${id}, which shows no connection a manifest can hold (authScheme ${connection.profile.authScheme}, status ${connection.status}: an app without provisioning?).`
      ),
      ...unread.map(
        ({ id, why }) =>
          `# Left out: ${id}, which could not be read (${why}); apply leaves an app the manifest does not name as it is.`
      ),
      // Quoted: Okta's value, which may hold anything, a line break included.
      ...held.flatMap(({ app, connection, id }) => {
        const token = app !== undefined && connection.profile.authScheme === "TOKEN"
        const fault = token ? baseUrlFault(connection.baseUrl) : undefined
        return fault === undefined
          ? []
          : [
              `# Left out: the baseUrl of ${id}, ${JSON.stringify(connection.baseUrl)}, which an update refuses (it ${fault}): give the one meant.`
            ]
      }),
      stringify({ apps: kept }).trimEnd()
    ].join("\n")
  })

/** A parsed YAML or JSON value that is a mapping. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

// The YAML mistakes of a file edited by hand, by the parser's error code: its message is not
// shown, since it quotes the line.
const YAML_MISTAKES: Readonly<Record<string, string>> = {
  DUPLICATE_KEY: "a key given twice",
  TAB_AS_INDENT: "a tab as indentation; YAML indents with spaces",
  MULTIPLE_DOCS: "more than one document (---)",
  MISSING_CHAR: "a quote or bracket not closed"
}

/**
 * Where a YAML parse failed, as ` (line L, column C)`, with what for the common mistakes, never
 * the parser's own message: it quotes the line, which may hold a secret (an okta.yaml token, a
 * literal pasted into a manifest).
 */
export const yamlErrorAt = (error: unknown): string => {
  const { code, linePos } = error as {
    readonly code?: unknown
    readonly linePos?: ReadonlyArray<{ readonly line: number; readonly col: number }>
  }
  const mistake =
    typeof code === "string" && Object.hasOwn(YAML_MISTAKES, code) ? YAML_MISTAKES[code] : undefined
  const at = linePos?.[0] === undefined ? [] : [`line ${linePos[0].line}, column ${linePos[0].col}`]
  const said = [...at, ...(mistake === undefined ? [] : [mistake])]
  return said.length > 0 ? ` (${said.join(": ")})` : ""
}

const readWith = (
  path: string,
  parseYaml: (text: string) => unknown,
  stdin: string | undefined
): Effect.Effect<ReadonlyArray<ManifestApp>, ManifestError> =>
  Effect.try({
    try: () => {
      // Every mistake is said with the manifest it is in.
      const source = path === "-" ? "standard input" : path
      let text: string
      try {
        text = stdin ?? readFileSync(path, "utf8")
      } catch (error) {
        throw new ManifestError(`cannot read ${path}${readFault(error)}`)
      }
      let raw: unknown
      try {
        raw = parseYaml(text)
      } catch (error) {
        throw new ManifestError(`${source} is not YAML or JSON${yamlErrorAt(error)}`)
      }
      if (!isRecord(raw)) {
        throw new ManifestError(
          `${source}: ${raw === null || raw === undefined ? "is empty" : Array.isArray(raw) ? "is a list" : "is not a mapping"}; a manifest is a mapping with an apps list${Array.isArray(raw) ? " (apps: above the list, its entries indented under it)" : ""}`
        )
      }
      const decoded = decode(raw)
      if (Either.isLeft(decoded)) {
        // Each place once, by its first issue: the union's members (and `optional`'s, whose
        // `undefined` member refuses a base URL its refinement has already said) each report it.
        const issues = new Map<string, string>()
        for (const issue of decoded.left) {
          const place = placeOf(issue.path)
          if (!issues.has(place)) issues.set(place, describeManifestIssue(issue, raw))
        }
        const said = [...issues].map(([place, issue]) => `${place}: ${issue}`)
        throw new ManifestError(`${source}: ${said.slice(0, 8).join("; ")}`)
      }
      const seen = new Set<string>()
      // `${file:…}` references are relative to the manifest, or to the working directory.
      const base = path === "-" ? process.cwd() : dirname(resolve(path))
      return decoded.right.map((app, i) => {
        if (seen.has(app.id)) {
          throw new ManifestError(`${source}: apps[${i}]: ${app.id} appears twice`)
        }
        seen.add(app.id)
        if (!("authScheme" in app)) return app
        if (app.authScheme === "TOKEN") {
          return app.token !== undefined
            ? { ...app, token: resolveSecret(`${source}: apps[${i}].token`, app.token, base) }
            : app
        }
        // Okta takes Office 365's settings whole; one without the other was dropped unsaid.
        if ((app.adminUsername === undefined) !== (app.adminPassword === undefined)) {
          throw new ManifestError(
            `${source}: apps[${i}]: adminUsername and adminPassword go together (Okta takes both or neither)`
          )
        }
        return app.adminPassword !== undefined
          ? {
              ...app,
              adminPassword: resolveSecret(
                `${source}: apps[${i}].adminPassword`,
                app.adminPassword,
                base
              )
            }
          : app
      })
    },
    catch: (error) => (error instanceof ManifestError ? error : new ManifestError(String(error)))
  })

/** What apply will do for one app. */
export interface Step {
  readonly app: ManifestApp
  /** The update body, when the connection's configuration must change (or secrets re-sent). */
  readonly update: UpdateDefaultProvisioningConnectionForApplicationRequest | undefined
  readonly lifecycle: "activate" | "deactivate" | undefined
  /**
   * Send the update with `activate=true`: the app should be ENABLED, or is and the manifest leaves
   * its status alone (Okta saves an updated connection DISABLED unless the update activates it).
   */
  readonly activateWithUpdate: boolean
  /** Human-readable changes, secrets named, never shown. */
  readonly changes: ReadonlyArray<string>
  /** The manifest's secrets no update carries (nothing else to change, no `--resend-secrets`). */
  readonly unsent?: ReadonlyArray<string>
  /**
   * Why the manifest cannot hold for this app as written (nothing is sent for any app then): a
   * setting Okta keeps only for another kind of app would be planned again on every run.
   */
  readonly refused?: string | undefined
}

/**
 * What to tell when an OAuth update asked for Org2Org-only settings and Okta's answer shows no
 * signing settings: the app is not an Org2Org app, and Okta ignored them.
 */
export const org2orgSettingsIgnored = (
  sent: UpdateDefaultProvisioningConnectionForApplicationRequest,
  answer: ProvisioningConnectionResponse
): string | undefined =>
  // Not `=== "OAUTH2"`: a body file may say "OAUTH", as Okta's own example does.
  sent.profile.authScheme !== "TOKEN" &&
  (sent.profile.clientId !== undefined || sent.profile.signing !== undefined) &&
  answer.profile.signing === undefined
    ? "Okta kept no clientId or rotationMode: only Okta Org2Org apps take them"
    : undefined

/** The lifecycle call that takes a connection from its status to the one wanted, if any. */
const lifecycleOf = (
  wanted: ManifestApp["status"],
  status: ProvisioningConnectionResponse["status"]
): "activate" | "deactivate" | undefined =>
  wanted === "ENABLED" && status !== "ENABLED"
    ? "activate"
    : wanted === "DISABLED" && status !== "DISABLED"
      ? "deactivate"
      : undefined

/**
 * A lifecycle call as the plan says it. Activating a connection Okta still offers its consent link
 * for may enable one no admin has consented to (Okta documents neither way): the plan says how to
 * find out, as `get` does for such a connection.
 */
const lifecycleChange = (
  lifecycle: "activate" | "deactivate",
  app: ManifestApp,
  current: ProvisioningConnectionResponse
): string =>
  `${lifecycle} (${current.status} → ${app.status})${
    lifecycle === "activate" && current._links?.authorize !== undefined
      ? `; Okta offers a consent link for it: if its OAuth 2.0 consent is still to be given, give it first (okta-connections get ${app.id} prints the link)`
      : ""
  }`

/** A step that sends nothing, and why the manifest cannot hold for the app. */
const refusedStep = (app: ManifestApp, refused: string): Step => ({
  app,
  update: undefined,
  lifecycle: undefined,
  activateWithUpdate: false,
  changes: [],
  refused
})

/** The plan for one app, from what Okta has now. */
export const planFor = (
  app: ManifestApp,
  current: ProvisioningConnectionResponse,
  resendSecrets: boolean
): Step => {
  if (!("authScheme" in app)) {
    // Okta answers an app without provisioning (a bookmark app) UNKNOWN twice, and takes activate
    // and deactivate without error or change: the plan would ask for them again on every run.
    if (current.status === "UNKNOWN" && current.profile.authScheme === "UNKNOWN") {
      return refusedStep(
        app,
        "Okta shows no provisioning connection for it (status and authScheme UNKNOWN: an app without provisioning, such as a bookmark app), and activate and deactivate leave it so; remove it from the manifest"
      )
    }
    const lifecycle = lifecycleOf(app.status, current.status)
    return {
      app,
      update: undefined,
      lifecycle,
      activateWithUpdate: false,
      changes: lifecycle === undefined ? [] : [lifecycleChange(lifecycle, app, current)]
    }
  }
  const changes: Array<string> = []
  const scheme = current.profile.authScheme
  if (scheme !== app.authScheme) changes.push(`authScheme ${scheme} → ${app.authScheme}`)
  let body: UpdateDefaultProvisioningConnectionForApplicationRequest
  const secrets: Array<string> = []
  if (app.authScheme === "TOKEN") {
    if (app.baseUrl !== undefined && app.baseUrl !== current.baseUrl) {
      changes.push(`baseUrl ${current.baseUrl ?? "(none)"} → ${app.baseUrl}`)
    }
    if (app.token !== undefined) secrets.push("token")
    // An update replaces the configuration: what the manifest leaves out is sent as it is.
    const kept = app.baseUrl ?? (scheme === "TOKEN" ? current.baseUrl : undefined)
    body = {
      ...(kept !== undefined ? { baseUrl: kept } : {}),
      profile: {
        authScheme: "TOKEN",
        ...(app.token !== undefined ? { token: app.token } : {})
      }
    }
  } else {
    const profile = current.profile as { clientId?: string; signing?: { rotationMode?: string } }
    // Okta shows `signing` on every Org2Org OAuth connection and on no other: an OAuth connection
    // without it ignores `clientId` and `rotationMode`, so asking for them would never converge.
    const org2orgOnly = (["clientId", "rotationMode"] as const).filter((k) => app[k] !== undefined)
    if (scheme === "OAUTH2" && profile.signing === undefined && org2orgOnly.length > 0) {
      return refusedStep(
        app,
        `${org2orgOnly.join(" and ")}: only Okta Org2Org apps take ${org2orgOnly.length > 1 ? "them" : "it"}, and this app's OAuth connection is not one (Okta shows no signing settings for it); remove ${org2orgOnly.length > 1 ? "them" : "it"} from the manifest`
      )
    }
    if (app.clientId !== undefined && app.clientId !== profile.clientId) {
      changes.push(`clientId ${profile.clientId ?? "(none)"} → ${app.clientId}`)
    }
    if (app.rotationMode !== undefined && app.rotationMode !== profile.signing?.rotationMode) {
      changes.push(
        `rotationMode ${profile.signing?.rotationMode ?? "(none)"} → ${app.rotationMode}`
      )
    }
    if (app.adminPassword !== undefined) secrets.push("adminPassword")
    // An update replaces the configuration (Okta sets rotation MANUAL when it is left out, and
    // by the same rule drops the client id): what the manifest leaves out is sent as it is.
    const oauth = scheme === "OAUTH2"
    const keptClientId = app.clientId ?? (oauth ? profile.clientId : undefined)
    const keptRotation = app.rotationMode ?? (oauth ? profile.signing?.rotationMode : undefined)
    body = {
      profile: {
        authScheme: "OAUTH2",
        ...(keptClientId !== undefined ? { clientId: keptClientId } : {}),
        ...(keptRotation === "AUTO" || keptRotation === "MANUAL"
          ? { signing: { rotationMode: keptRotation } }
          : {}),
        ...(app.adminUsername !== undefined && app.adminPassword !== undefined
          ? { settings: { adminUsername: app.adminUsername, adminPassword: app.adminPassword } }
          : {})
      }
    }
  }
  const update = changes.length > 0 || (resendSecrets && secrets.length > 0)
  // A base URL sent as Okta has it, which the update would refuse (one saved without https:// by
  // another tool): refused here, before any app is changed, not when this app's turn comes.
  const keptUrlFault = update && "baseUrl" in body ? baseUrlFault(body.baseUrl) : undefined
  if (keptUrlFault !== undefined) {
    return refusedStep(
      app,
      `the update would send the baseUrl Okta has, which the update refuses (it ${keptUrlFault}); give the one meant as baseUrl in the manifest`
    )
  }
  if (update) {
    for (const secret of secrets) changes.push(`${secret} (write-only) will be sent`)
    // Okta never returns the token, so it cannot be sent as it is, as the other settings are.
    if (app.authScheme === "TOKEN" && app.token === undefined) {
      changes.push(
        scheme === "TOKEN"
          ? "token not in the manifest: the update replaces the configuration, and Okta may not keep the one it has"
          : // A connection made a token one now: there is no token of its own to keep.
            "token not in the manifest: the connection becomes a token one without the app's API token; give it as token: ${env:NAME}"
      )
    }
  }
  const status = current.status
  const lifecycle = lifecycleOf(app.status, status)
  if (lifecycle !== undefined) changes.push(lifecycleChange(lifecycle, app, current))
  return {
    app,
    update: update ? body : undefined,
    lifecycle,
    activateWithUpdate:
      update && (app.status === "ENABLED" || (app.status === undefined && status === "ENABLED")),
    changes,
    ...(!update && secrets.length > 0 ? { unsent: secrets } : {})
  }
}

/** A step as the plan prints it: the app, then what changes, or that nothing does. */
export const planLine = (step: Step): string => {
  const what =
    step.refused !== undefined
      ? `refused: ${step.refused}`
      : step.changes.length === 0
        ? "no change"
        : step.changes.join("; ")
  // A secret given for the first time looks like one given again: Okta never returns it. Said, so
  // that a first apply of one is not taken for done.
  const unsent = step.unsent ?? []
  const them = unsent.length > 1 ? "them" : "it"
  return `${step.app.id}  ${what}${unsent.length > 0 ? ` (${unsent.join(" and ")} not sent: Okta never returns ${them}, so no plan can tell a change; --resend-secrets sends ${them})` : ""}`
}

/** What Okta's answer to an update told that the plan could not know. */
export interface Applied {
  /** What Okta ignored of the update. */
  readonly ignored?: string | undefined
  /** The link Okta answered with for an admin's OAuth 2.0 consent, still to be given. */
  readonly consent?: string | undefined
}

/**
 * Carries out one app's step of a plan: the update (activating with it when the plan says so),
 * then the lifecycle call still needed.
 */
export const applyStep = (
  api: ApplicationConnectionsService,
  step: Step
): Effect.Effect<Applied, OktaResponseError> =>
  Effect.gen(function* () {
    const id = step.app.id
    let status: string | undefined
    let ignored: string | undefined
    let consent: string | undefined
    if (step.update !== undefined) {
      const updated = yield* api.updateDefaultProvisioningConnectionForApplication(
        id,
        step.update,
        step.activateWithUpdate ? { activate: true } : undefined
      )
      status = updated.status
      // Planned from a connection that was not OAuth yet: Okta's answer tells.
      ignored = org2orgSettingsIgnored(step.update, updated)
      // New OAuth 2.0 settings (an Office 365 admin's, say) that await an admin's consent.
      if (updated.status === "DISABLED") consent = updated._links?.authorize?.href
    }
    // An update sent with activate=true that Okta answers DISABLED (it gives no error for it)
    // leaves the app disabled, even one that was enabled: activated as the plan meant it.
    const refused = step.activateWithUpdate && status === "DISABLED"
    if (
      (step.app.status === "ENABLED" && status !== "ENABLED" && step.lifecycle === "activate") ||
      refused
    ) {
      yield* api.activateDefaultProvisioningConnectionForApplication(id)
    }
    if (
      step.app.status === "DISABLED" &&
      (status ?? "") !== "DISABLED" &&
      (step.lifecycle === "deactivate" || status === "ENABLED")
    ) {
      yield* api.deactivateDefaultProvisioningConnectionForApplication(id)
    }
    return { ignored, consent }
  })
