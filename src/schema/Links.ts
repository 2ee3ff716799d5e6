/**
 * HAL `_links` of a provisioning connection (`LinksSelfLifecycleAndAuthorize` in the contract).
 */
import * as Schema from "effect/Schema"
import { otherMembers } from "./members.js"
import { openEnum } from "./OpenEnum.js"

/**
 * An HTTP verb in a link's `hints.allow` (`HttpMethod`). Open: a verb Okta adds is kept as a string.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HttpMethod } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(HttpMethod)("POST") // "POST"
 * ```
 */
export const HttpMethod = openEnum("DELETE", "GET", "POST", "PUT")
export type HttpMethod = typeof HttpMethod.Type

/**
 * `HrefHints`: the verbs a link accepts.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HrefHints } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(HrefHints)({ allow: ["GET", "POST"] })
 * ```
 */
export const HrefHints = Schema.Struct({
  allow: Schema.optional(Schema.Array(HttpMethod))
})
export interface HrefHints extends Schema.Schema.Type<typeof HrefHints> {}

// Declared apart: the open rest (`otherMembers`) must know which names are not its own.
const hrefObjectFields = {
  href: Schema.String,
  hints: Schema.optional(HrefHints),
  name: Schema.optional(Schema.String),
  templated: Schema.optional(Schema.Boolean),
  type: Schema.optional(Schema.String)
}

/**
 * `HrefObject` (self, activate, deactivate links). The contract allows additional properties, so
 * unknown members are kept (typed `unknown`) rather than stripped; all but `__proto__`, which is
 * dropped so that it never becomes the decoded link's prototype.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { HrefObject } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(HrefObject)({ href: "https://example.okta.com/api/v1/apps/0oa1/connections/default" })
 * ```
 */
export const HrefObject = Schema.Struct(hrefObjectFields, otherMembers(hrefObjectFields))
export interface HrefObject extends Schema.Schema.Type<typeof HrefObject> {}

/**
 * `HrefObjectAuthorizeLink`: the third-party consent URL of a three-legged OAuth 2.0 connection,
 * with `hints.guidance` (human instructions).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AuthorizeLink } from "effect-okta-connections"
 *
 * const link = Schema.decodeUnknownSync(AuthorizeLink)({
 *   href: "https://login.microsoftonline.com/tenant/oauth2/authorize?state=abc",
 *   hints: { allow: ["GET"], guidance: ["Open in a browser"] }
 * })
 * ```
 */
export const AuthorizeLink = Schema.Struct({
  href: Schema.String,
  hints: Schema.optional(
    Schema.Struct({
      allow: Schema.optional(Schema.Array(HttpMethod)),
      guidance: Schema.optional(Schema.Array(Schema.String))
    })
  ),
  /**
   * The schema puts `guidance` inside `hints`; the contract's own Office 365 example puts it beside
   * `hints`. Both places are read, so the instructions are not lost whichever Okta sends.
   */
  guidance: Schema.optional(Schema.Array(Schema.String))
})
export interface AuthorizeLink extends Schema.Schema.Type<typeof AuthorizeLink> {}

/**
 * `_links` of a connection: `self`, then `activate` or `deactivate` depending on the status, and
 * `authorize` for consent-flow apps. Every member is optional because real orgs omit `_links`
 * parts (and, for apps without provisioning, `_links` altogether).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ConnectionLinks } from "effect-okta-connections"
 *
 * const links = Schema.decodeUnknownSync(ConnectionLinks)({
 *   self: { href: "https://example.okta.com/api/v1/apps/0oa1/connections/default" }
 * })
 * links.deactivate // undefined
 * ```
 */
export const ConnectionLinks = Schema.Struct({
  self: Schema.optional(HrefObject),
  activate: Schema.optional(HrefObject),
  deactivate: Schema.optional(HrefObject),
  authorize: Schema.optional(AuthorizeLink)
})
export interface ConnectionLinks extends Schema.Schema.Type<typeof ConnectionLinks> {}
