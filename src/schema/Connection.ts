/**
 * The provisioning connection as Okta returns it (`ProvisioningConnectionResponse`).
 */
import * as Schema from "effect/Schema"
import { ConnectionLinks } from "./Links.js"
import { openEnum } from "./OpenEnum.js"

/**
 * `ProvisioningConnectionStatus`: `ENABLED`, `DISABLED` or `UNKNOWN` (provisioning not supported).
 * Open: any other status Okta adds decodes as that string.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ProvisioningConnectionStatus } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(ProvisioningConnectionStatus)("ENABLED")
 * ```
 */
export const ProvisioningConnectionStatus = openEnum("DISABLED", "ENABLED", "UNKNOWN")
export type ProvisioningConnectionStatus = typeof ProvisioningConnectionStatus.Type

/**
 * `ProvisioningConnectionAuthScheme`: `TOKEN`, `OAUTH2` or `UNKNOWN`. Open, like every response enum.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ProvisioningConnectionAuthScheme } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(ProvisioningConnectionAuthScheme)("OAUTH2")
 * ```
 */
export const ProvisioningConnectionAuthScheme = openEnum("OAUTH2", "TOKEN", "UNKNOWN")
export type ProvisioningConnectionAuthScheme = typeof ProvisioningConnectionAuthScheme.Type

/**
 * `ConnectionsSigningRotationMode`: `AUTO` (Okta rotates the Org2Org signing key) or `MANUAL`.
 * Open in responses; the request schema uses the closed form.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { SigningRotationMode } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(SigningRotationMode)("AUTO")
 * ```
 */
export const SigningRotationMode = openEnum("AUTO", "MANUAL")
export type SigningRotationMode = typeof SigningRotationMode.Type

/**
 * `Org2OrgProvisioningOAuthSigningSettings` as returned by Okta (open rotation mode).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { Org2OrgSigningSettingsResponse } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(Org2OrgSigningSettingsResponse)({ rotationMode: "AUTO" })
 * ```
 */
export const Org2OrgSigningSettingsResponse = Schema.Struct({
  rotationMode: SigningRotationMode
})
export interface Org2OrgSigningSettingsResponse extends Schema.Schema.Type<
  typeof Org2OrgSigningSettingsResponse
> {}

/**
 * `ProvisioningConnectionResponseProfile`. `clientId` is not declared by the contract's schema but
 * appears in its Org2Org OAuth 2.0 example (and in real responses), so it is modelled as optional
 * instead of being silently stripped.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ProvisioningConnectionResponseProfile } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(ProvisioningConnectionResponseProfile)({ authScheme: "TOKEN" })
 * ```
 */
export const ProvisioningConnectionResponseProfile = Schema.Struct({
  authScheme: ProvisioningConnectionAuthScheme,
  clientId: Schema.optional(Schema.String),
  signing: Schema.optional(Org2OrgSigningSettingsResponse)
})
export interface ProvisioningConnectionResponseProfile extends Schema.Schema.Type<
  typeof ProvisioningConnectionResponseProfile
> {}

/**
 * `ProvisioningConnectionResponse`: what `get…` and `update…` return.
 *
 * Decoding is deliberately looser than the contract, because real orgs are:
 * - the top-level `authScheme` is typed `[TOKEN]` by the spec but Okta returns `OAUTH2` there for
 *   Org2Org OAuth connections, so it uses the open auth-scheme enum;
 * - `status` and `profile.authScheme` accept `UNKNOWN` and any future value (kept as a string);
 * - `_links` may be missing (apps without provisioning support);
 * - members the schema does not know are ignored, so an Okta release that adds fields never
 *   breaks a call.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { ProvisioningConnectionResponse } from "effect-okta-connections"
 *
 * const connection = Schema.decodeUnknownSync(ProvisioningConnectionResponse)({
 *   status: "UNKNOWN",
 *   profile: { authScheme: "UNKNOWN" }
 * })
 * connection.status // "UNKNOWN"
 * ```
 */
export const ProvisioningConnectionResponse = Schema.Struct({
  authScheme: Schema.optional(ProvisioningConnectionAuthScheme),
  baseUrl: Schema.optional(Schema.String),
  profile: ProvisioningConnectionResponseProfile,
  status: ProvisioningConnectionStatus,
  _links: Schema.optional(ConnectionLinks)
})
export interface ProvisioningConnectionResponse extends Schema.Schema.Type<
  typeof ProvisioningConnectionResponse
> {}
