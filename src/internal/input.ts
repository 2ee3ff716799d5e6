/**
 * The operations' arguments, checked before anything is built: an argument that fails gets an
 * `OktaInvalidInputError` naming the rule it broke (never its value), and nothing is sent.
 *
 * @internal
 */
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { OktaInvalidInputError } from "../errors/OktaError.js"
import { AppId, OAuthProvisioningEnabledApp } from "../schema/AppId.js"
import {
  ProvisioningConnectionOauthRequest,
  ProvisioningConnectionTokenRequest,
  UpdateDefaultProvisioningConnectionForApplicationRequest
} from "../schema/Request.js"
import { describeIssue, spelling } from "./issues.js"
import { UNEXPANDED } from "./pasted.js"
import { isWellFormed } from "./wellFormed.js"

const updateOp = "updateDefaultProvisioningConnectionForApplication"

export const decodeAppId = Schema.decodeUnknownEither(AppId)
const decodeAppName = Schema.decodeUnknownEither(OAuthProvisioningEnabledApp)

/**
 * An app name as its schema takes it, or the list (its schema would print only its name), with
 * the spelling of a name given in another case. Said only when it fails.
 */
export const checkAppName = (
  operation: string,
  value: unknown
): Either.Either<OAuthProvisioningEnabledApp, OktaInvalidInputError> =>
  Either.mapLeft(decodeAppName(value), () => {
    const names = OAuthProvisioningEnabledApp.literals
    const meant =
      typeof value === "string" ? names.find((n) => n === value.toLowerCase()) : undefined
    const issues = `expected one of ${names.map((n) => `"${n}"`).join(", ")}${meant !== undefined ? ` (${spelling(meant)})` : ""}`
    return new OktaInvalidInputError({ operation, field: "appName", issues })
  })

// The body is validated by encoding it: excess members are an error rather than silently
// dropped, so a typo ("tokn") in JavaScript or behind a cast is reported instead of sending a
// body without the token.
const encodeOptions = { onExcessProperty: "error", errors: "all" } as const
const encodeAny = Schema.encodeUnknownEither(
  UpdateDefaultProvisioningConnectionForApplicationRequest,
  encodeOptions
)
const encodeToken = Schema.encodeUnknownEither(ProvisioningConnectionTokenRequest, encodeOptions)
const encodeOAuth = Schema.encodeUnknownEither(ProvisioningConnectionOauthRequest, encodeOptions)
const issuesOf = <A>(result: Either.Either<A, ParseResult.ParseError>) =>
  Either.mapLeft(result, (e) => describeIssue(e.issue))

// The variant the body's `authScheme` names reports its own issues (`profile.tokn: is not
// allowed`), not the union's attempt at the other variant too. An `authScheme` neither variant
// takes is the one issue said: what each variant makes of the other members is a guess.
const encodeBody = (body: unknown): Either.Either<unknown, string> => {
  const profile =
    typeof body === "object" && body !== null ? (body as { profile?: unknown }).profile : undefined
  if (typeof profile !== "object" || profile === null) return issuesOf(encodeAny(body))
  const scheme = (profile as { authScheme?: unknown }).authScheme
  if (scheme === "TOKEN") return issuesOf(encodeToken(body))
  if (scheme === "OAUTH2") return issuesOf(encodeOAuth(body))
  // Okta's own example spells it "OAUTH", and so does a body file copied from it (`update
  // --file`): taken as the schema decodes it, as "OAUTH2", the only spelling sent.
  if (scheme === "OAUTH") {
    return issuesOf(
      encodeOAuth({ ...(body as object), profile: { ...profile, authScheme: "OAUTH2" } })
    )
  }
  // "token" or "oauth2": said with the spelling Okta takes, and the rest checked as that variant.
  if (typeof scheme === "string" && /^(token|oauth2?)$/i.test(scheme)) {
    const meant = /^token$/i.test(scheme) ? "TOKEN" : "OAUTH2"
    const said = `profile.authScheme: expected "TOKEN" | "OAUTH2" (${spelling(meant)})`
    const rest = encodeBody({ ...(body as object), profile: { ...profile, authScheme: meant } })
    return Either.left(Either.isLeft(rest) ? `${said}; ${rest.left}` : said)
  }
  return issuesOf(encodeAny({ profile: scheme === undefined ? {} : { authScheme: scheme } }))
}

/** An argument as its schema accepts it, or `OktaInvalidInputError` naming what is wrong. */
export const check = <A>(
  operation: string,
  field: string,
  result: Either.Either<A, ParseResult.ParseError>
): Either.Either<A, OktaInvalidInputError> =>
  Either.mapLeft(
    result,
    (e) => new OktaInvalidInputError({ operation, field, issues: describeIssue(e.issue) })
  )

/** An optional query value: absent, or a non-empty, well-formed string (it goes into the URL). */
export const optionalQueryValue = (
  operation: string,
  field: string,
  value: unknown
): Either.Either<string | undefined, OktaInvalidInputError> => {
  const invalid = (issues: string) =>
    Either.left(new OktaInvalidInputError({ operation, field, issues }))
  if (value === undefined) return Either.right(undefined)
  if (typeof value !== "string") return invalid("expected a string")
  if (value.length === 0) return invalid("must not be empty (leave it out instead)")
  if (!isWellFormed(value)) return invalid("must be well-formed UTF-16 (it has a lone surrogate)")
  return Either.right(value)
}

/**
 * The update body as it will be sent. A body whose members cannot be read (a getter or a `Proxy`
 * that throws) is invalid input, not a defect.
 */
export const encodeUpdateBody = (body: unknown): Either.Either<unknown, OktaInvalidInputError> => {
  try {
    const encoded = Either.mapLeft(
      encodeBody(body),
      (issues) => new OktaInvalidInputError({ operation: updateOp, field: "body", issues })
    )
    return Either.flatMap(encoded, checkSecrets)
  } catch (error) {
    return Either.left(
      new OktaInvalidInputError({
        operation: updateOp,
        field: "body",
        issues: `could not be read (${error instanceof Error ? error.name : typeof error} thrown)`
      })
    )
  }
}

/** The write-only members of an encoded update body, by path: the app's token, O365's password. */
const secretMembers = (encoded: unknown): ReadonlyArray<readonly [string, unknown]> => {
  const profile = (encoded as { profile?: Record<string, unknown> }).profile
  const settings = profile?.["settings"] as Record<string, unknown> | undefined
  return [
    ["profile.token", profile?.["token"]],
    ["profile.settings.adminPassword", settings?.["adminPassword"]]
  ]
}

// A line break, a tab or a byte-order mark: what a file read whole (`readFileSync`, without a
// trim) adds to the secret it holds. No token or password has one.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f\ufeff]/

// `${ZSCALER_TOKEN}` from a template never filled in, or a manifest's `${env:NAME}` in a body:
// saved, the app's working credential (or its client id) is gone.
const NEVER_EXPANDED =
  "is a variable that was never expanded (${…} or $NAME): give the value it stands for"

/** What is wrong with a write-only value as it would be saved in Okta, if anything. */
const secretFault = (value: string): string | undefined =>
  value.trim() === ""
    ? "must not be empty or blank"
    : CONTROL.test(value)
      ? "must not contain line breaks or control characters (a trailing newline from a file?)"
      : UNEXPANDED.test(value)
        ? NEVER_EXPANDED
        : undefined

/**
 * The contract's schema takes any string, but an empty or blank token or admin password (an unset
 * variable, a secrets manager that wrote nothing), one read from a file with its newline, or a
 * variable's name never replaced by its value, would replace a working credential in Okta with
 * one that does not work; a client id or admin name never expanded breaks a working configuration
 * as surely.
 */
const checkSecrets = (encoded: unknown): Either.Either<unknown, OktaInvalidInputError> => {
  const profile = (encoded as { profile?: Record<string, unknown> }).profile
  const settings = profile?.["settings"] as Record<string, unknown> | undefined
  const unexpanded = (value: string) => (UNEXPANDED.test(value) ? NEVER_EXPANDED : undefined)
  const checked: ReadonlyArray<readonly [string, unknown, (value: string) => string | undefined]> =
    [
      ...secretMembers(encoded).map(([where, value]) => [where, value, secretFault] as const),
      ["profile.clientId", profile?.["clientId"], unexpanded],
      ["profile.settings.adminUsername", settings?.["adminUsername"], unexpanded]
    ]
  for (const [where, value, faultOf] of checked) {
    const fault = typeof value === "string" ? faultOf(value) : undefined
    if (fault !== undefined) {
      return Either.left(
        new OktaInvalidInputError({
          operation: updateOp,
          field: "body",
          issues: `${where}: ${fault}`
        })
      )
    }
  }
  return Either.right(encoded)
}

/** The write-only values of an encoded update body (see `secretMembers`). */
export const secretsOf = (encoded: unknown): ReadonlyArray<string> =>
  secretMembers(encoded)
    .map(([, value]) => value)
    .filter((s): s is string => typeof s === "string")
