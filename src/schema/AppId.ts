/**
 * Identifiers that end up in request paths.
 */
import * as Schema from "effect/Schema"
import { isWellFormed } from "../internal/wellFormed.js"

/**
 * The longest `appId` accepted. Okta app ids are 20 characters (`0oafxqCAJWWGELFTYASJ`); the
 * bound leaves ample room for other id formats while rejecting pasted URLs or documents.
 */
export const APP_ID_MAX_LENGTH = 100

// Characters that would change the meaning of the path if they slipped into it. The request is
// still built with `encodeURIComponent`; this check exists so that a mistake (a pasted URL, an id
// with a trailing newline) fails loudly before anything is sent instead of hitting another
// resource or a confusing 404.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const WHITESPACE = /\s/
const PATH_SYNTAX = /[/?#%\\]/
// What text around an id brings with it: quotes (typographic ones too, from a chat or a document),
// JSON's brackets and braces, a list's separators. No Okta id has one; sent, it draws a 404.
const PASTED = /["'`\u2018\u2019\u201c\u201d,;[\]{}<>]/
const QUOTE = /^["'`\u2018\u2019\u201c\u201d]$/

/** What a one-class pattern holds between its brackets. */
const classOf = (set: RegExp) => set.source.slice(1, -1)

// The id in an app's Admin Console URL (`…/admin/app/zscalerbyz/instance/0oafxqCAJWWGELFTYASJ/…`).
// Naming it is safe where the value is never named: it is an app id, not what else was pasted.
const CONSOLE_APP_ID = /\/instance\/([0-9A-Za-z]{20})(?:[/?#]|$)/

/** The rules of {@link AppId}, in the order they are checked, each with what it says when broken. */
const RULES: ReadonlyArray<
  readonly [holds: (s: string) => boolean, broken: string | ((s: string) => string)]
> = [
  [(s) => s.length > 0, "must not be empty"],
  // The app's page in the Admin Console, pasted whole: its id is in the URL.
  [
    (s) => !/^https?:\/\//i.test(s),
    (s) => {
      const id = CONSOLE_APP_ID.exec(s)?.[1]
      return id === undefined
        ? "is a URL: give the app id alone (0oa…, after /instance/ in the app's Admin Console URL)"
        : `is a URL: give the app id alone (${id}, after /instance/ in it)`
    }
  ],
  [(s) => s.length <= APP_ID_MAX_LENGTH, `must be at most ${APP_ID_MAX_LENGTH} characters long`],
  [
    (s) => s.length < 2 || !QUOTE.test(s.charAt(0)) || !QUOTE.test(s.charAt(s.length - 1)),
    "is in quotes (a JSON string, or jq without -r?): give the id alone"
  ],
  [
    (s) => !PASTED.test(s),
    'must not contain quotes, brackets, braces, "<", ">", "," or ";" (a list or JSON pasted whole?)'
  ],
  [(s) => !CONTROL.test(s), "must not contain control characters"],
  [(s) => !WHITESPACE.test(s), "must not contain whitespace"],
  [(s) => !PATH_SYNTAX.test(s), 'must not contain "/", "\\", "?", "#" or "%"'],
  [(s) => !s.includes(".."), 'must not contain ".."'],
  [(s) => s !== ".", 'must not be the dot segment "."'],
  [isWellFormed, "must be well-formed UTF-16 (it has a lone surrogate)"]
]

/**
 * An Okta application id, validated before any request is built. Rejected (each with a message
 * that names the rule, never the value): empty, a URL (an app's Admin Console URL: with the id
 * found in it), longer than {@link APP_ID_MAX_LENGTH}, in quotes, containing `/`, `\`, `?`, `#`,
 * `%`, whitespace or control characters, `..`, or what a list or JSON brings (quotes, brackets,
 * braces, `<`, `>`, `,`, `;`); the dot segment `.` (a URL drops it, so the request would go to
 * another resource); ill-formed UTF-16 (a lone surrogate).
 *
 * The brand is a type-level marker only: the JSON form is a plain string, and the operations also
 * accept plain strings (they validate with this schema).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AppId } from "effect-okta-connections"
 *
 * const id = AppId.make("0oafxqCAJWWGELFTYASJ")          // validated, throws on bad input
 * const checked = Schema.decodeUnknownEither(AppId)("a/b") // Left: must not contain "/", "?", …
 * ```
 */
export const AppId = Schema.String.pipe(
  // One check with the rules in order, not one filter each: a parse error then reads the broken
  // rule under `AppId`, where nested filters read one level of `{ string | filter }` per rule.
  Schema.filter(
    (s) => {
      const broken = RULES.find(([holds]) => !holds(s))?.[1] ?? true
      return typeof broken === "function" ? broken(s) : broken
    },
    {
      jsonSchema: {
        minLength: 1,
        maxLength: APP_ID_MAX_LENGTH,
        // The three character sets above in one class: JSON Schema's patterns are ECMA-262's.
        pattern: `^[^${WHITESPACE.source}${classOf(PATH_SYNTAX)}${classOf(CONTROL)}${classOf(PASTED)}]+$`,
        not: { anyOf: [{ const: "." }, { pattern: "\\.\\." }] }
      }
    }
  ),
  Schema.brand("OktaAppId")
).annotations({ identifier: "AppId", description: "An Okta application id" })
export type AppId = typeof AppId.Type

/**
 * `OAuthProvisioningEnabledApp`: the apps whose OAuth 2.0 consent flow ends with
 * `verifyProvisioningConnectionForApplication`. Closed: it is a path segment the caller chooses,
 * so an unknown name is rejected before sending.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { OAuthProvisioningEnabledApp } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(OAuthProvisioningEnabledApp)("office365")
 * ```
 */
export const OAuthProvisioningEnabledApp = Schema.Literal(
  "google",
  "office365",
  "slack",
  "zoomus"
).annotations({ identifier: "OAuthProvisioningEnabledApp" })
export type OAuthProvisioningEnabledApp = typeof OAuthProvisioningEnabledApp.Type
