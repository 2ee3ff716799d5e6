/**
 * The body of `updateDefaultProvisioningConnectionForApplication`: the contract's inline `oneOf`
 * of a token-based and an OAuth 2.0-based request, told apart by `profile.authScheme`.
 */
import * as Schema from "effect/Schema"

/**
 * `Office365ProvisioningSettings`: Microsoft Office 365 global administrator credentials. Both
 * members are required when `settings` is present. `adminPassword` is a secret: this library
 * never puts it in an error message, log line or span.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Office365ProvisioningSettings } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(Office365ProvisioningSettings)({ adminUsername: "admin", adminPassword: "…" })
 * ```
 */
export const Office365ProvisioningSettings = Schema.Struct({
  adminUsername: Schema.String,
  adminPassword: Schema.String
})
export interface Office365ProvisioningSettings extends Schema.Schema.Type<
  typeof Office365ProvisioningSettings
> {}

/**
 * `Org2OrgProvisioningOAuthSigningSettings` for a request: `rotationMode` is required and closed
 * (`AUTO` or `MANUAL`). Omitting `signing` leaves an Org2Org connection on MANUAL rotation.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Org2OrgProvisioningOAuthSigningSettings } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(Org2OrgProvisioningOAuthSigningSettings)({ rotationMode: "AUTO" })
 * ```
 */
export const Org2OrgProvisioningOAuthSigningSettings = Schema.Struct({
  rotationMode: Schema.Literal("AUTO", "MANUAL")
})
export interface Org2OrgProvisioningOAuthSigningSettings extends Schema.Schema.Type<
  typeof Org2OrgProvisioningOAuthSigningSettings
> {}

// Where Okta provisions to. The contract takes any string; a URL without its scheme
// (`scim.example.com/v2`), with a pasted space or newline, or empty would be saved all the same,
// and provisioning would fail later, far from the update that broke it.
// eslint-disable-next-line no-control-regex
const SPACE_OR_CONTROL = /[\s\u0000-\u001f\u007f]/
const baseUrlFault = (s: string): string | undefined =>
  s === ""
    ? "must not be empty (leave it out instead)"
    : SPACE_OR_CONTROL.test(s)
      ? "must not contain whitespace or control characters"
      : !/^https?:\/\//i.test(s)
        ? "must be an absolute URL, starting with https://"
        : !URL.canParse(s) || new URL(s).hostname === ""
          ? "is not a valid URL"
          : // `https://${HOST}/scim` parses, its host "${host}": a template never filled in.
            /\$\{[^}]*\}/.test(s) || /[${}]/.test(new URL(s).hostname)
            ? "has a variable or placeholder never filled in (${…}, $NAME or {…})"
            : undefined

/** A request's `baseUrl`: an absolute http(s) URL (the answer's is decoded as it comes). */
const BaseUrl = Schema.String.pipe(
  Schema.filter((s) => baseUrlFault(s) ?? true, {
    // fast-check can draw a domain that WHATWG URL refuses (an ill-formed `xn--` label).
    arbitrary: () => (fc) =>
      fc.webUrl({ validSchemes: ["https"] }).filter((url) => baseUrlFault(url) === undefined),
    jsonSchema: { format: "uri", pattern: "^[hH][tT][tT][pP][sS]?://[^\\s]+$" }
  })
)

/**
 * `ProvisioningConnectionTokenRequest`: a token-based connection (Zscaler 2.0, Org2Org).
 *
 * - `baseUrl` is Zscaler-only: an absolute `https://` (or `http://`) URL; one without its scheme,
 *   with whitespace, or empty is refused before anything is sent.
 * - `profile.token` is the target app's API token (a secret; never logged or put in errors).
 * - `profile.clientId` is not declared by the contract's schema, but its Org2Org token example
 *   sends it, so it is accepted.
 *
 * @example
 * ```ts
 * import type { ProvisioningConnectionTokenRequest } from "effect-okta-connections"
 *
 * const body: ProvisioningConnectionTokenRequest = {
 *   baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
 *   profile: { authScheme: "TOKEN", token: "00NgAPZq…" }
 * }
 * ```
 */
export const ProvisioningConnectionTokenRequest = Schema.Struct({
  baseUrl: Schema.optional(BaseUrl),
  profile: Schema.Struct({
    authScheme: Schema.Literal("TOKEN"),
    token: Schema.optional(Schema.String),
    clientId: Schema.optional(Schema.String)
  })
}).annotations({ identifier: "ProvisioningConnectionTokenRequest" })
export interface ProvisioningConnectionTokenRequest extends Schema.Schema.Type<
  typeof ProvisioningConnectionTokenRequest
> {}

/**
 * The OAuth 2.0 auth scheme of a request. Decoding also accepts `"OAUTH"` and normalises it to
 * `"OAUTH2"`: the contract's own example `ProvisioningConnectionOAuthOrg2OrgWithRotationRequestEx`
 * uses `"OAUTH"`, and people copy Okta's examples into config files. What is sent is always
 * `"OAUTH2"`.
 */
const OAuthRequestAuthScheme = Schema.transform(
  Schema.Literal("OAUTH2", "OAUTH"),
  Schema.Literal("OAUTH2"),
  {
    strict: true,
    decode: () => "OAUTH2" as const,
    encode: (scheme) => scheme
  }
)

/**
 * `ProvisioningConnectionOauthRequest`: an OAuth 2.0-based connection (Google Workspace, Office 365,
 * Slack, Zoom, Org2Org).
 *
 * - `clientId` and `signing` are Org2Org-only.
 * - `settings` is Office 365-only.
 *
 * @example
 * ```ts
 * import type { ProvisioningConnectionOauthRequest } from "effect-okta-connections"
 *
 * const org2org: ProvisioningConnectionOauthRequest = {
 *   profile: { authScheme: "OAUTH2", clientId: "0oa2h6su6bVFyJzIf1d7", signing: { rotationMode: "AUTO" } }
 * }
 * ```
 */
export const ProvisioningConnectionOauthRequest = Schema.Struct({
  profile: Schema.Struct({
    authScheme: OAuthRequestAuthScheme,
    clientId: Schema.optional(Schema.String),
    settings: Schema.optional(Office365ProvisioningSettings),
    signing: Schema.optional(Org2OrgProvisioningOAuthSigningSettings)
  })
}).annotations({ identifier: "ProvisioningConnectionOauthRequest" })
export interface ProvisioningConnectionOauthRequest extends Schema.Schema.Type<
  typeof ProvisioningConnectionOauthRequest
> {}

/**
 * The update request body: `ProvisioningConnectionTokenRequest | ProvisioningConnectionOauthRequest`,
 * told apart by `profile.authScheme` (the contract's inline `oneOf` has no discriminator; this is the
 * name the SDK generators give it).
 *
 * @example
 * ```ts
 * import type { UpdateDefaultProvisioningConnectionForApplicationRequest } from "effect-okta-connections"
 *
 * const office365: UpdateDefaultProvisioningConnectionForApplicationRequest = {
 *   profile: { authScheme: "OAUTH2", settings: { adminUsername: "admin@contoso.com", adminPassword: "…" } }
 * }
 * ```
 */
export const UpdateDefaultProvisioningConnectionForApplicationRequest = Schema.Union(
  ProvisioningConnectionTokenRequest,
  ProvisioningConnectionOauthRequest
).annotations({ identifier: "UpdateDefaultProvisioningConnectionForApplicationRequest" })
export type UpdateDefaultProvisioningConnectionForApplicationRequest =
  typeof UpdateDefaultProvisioningConnectionForApplicationRequest.Type
