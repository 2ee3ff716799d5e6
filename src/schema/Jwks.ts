/**
 * The JSON Web Key Set of an Org2Org OAuth 2.0 provisioning connection.
 */
import * as Schema from "effect/Schema"
import { otherMembers } from "./members.js"

// Declared apart: the open rest (`otherMembers`) must know which names are not its own.
const jsonWebKeyFields = {
  alg: Schema.optional(Schema.String),
  created: Schema.optional(Schema.String),
  e: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.String),
  kid: Schema.optional(Schema.String),
  kty: Schema.optional(Schema.String),
  lastUpdated: Schema.optional(Schema.String),
  n: Schema.optional(Schema.String),
  use: Schema.optional(Schema.String),
  x5c: Schema.optional(Schema.Array(Schema.String)),
  "x5t#S256": Schema.optional(Schema.String)
}

/**
 * `JsonWebKey`: a public key Okta uses to sign the Org2Org client assertion. Every member is
 * optional, as in the contract; `alg` is not declared by the contract's schema but appears in its
 * example (and is a standard JWK member). Members this schema does not name (`crv`, `x`, `y`, …)
 * are kept, typed `unknown`, so the key can be handed to a JOSE library unchanged; all but a
 * `__proto__` member, which is dropped so that it never becomes the decoded key's prototype.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { JsonWebKey } from "effect-okta-connections"
 *
 * const key = Schema.decodeUnknownSync(JsonWebKey)({ kid: "k1", kty: "RSA", use: "sig", e: "AQAB", n: "…" })
 * key.kty // "RSA"
 * ```
 */
export const JsonWebKey = Schema.Struct(jsonWebKeyFields, otherMembers(jsonWebKeyFields))
export interface JsonWebKey extends Schema.Schema.Type<typeof JsonWebKey> {}

/**
 * `AppConnectionUserProvisionJWKList`: `{ keys: JsonWebKey[] }`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AppConnectionUserProvisionJWKList } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(AppConnectionUserProvisionJWKList)({ keys: [] })
 * ```
 */
export const AppConnectionUserProvisionJWKList = Schema.Struct({
  keys: Schema.Array(JsonWebKey)
})
export interface AppConnectionUserProvisionJWKList extends Schema.Schema.Type<
  typeof AppConnectionUserProvisionJWKList
> {}

/**
 * `AppConnectionUserProvisionJWKResponse`: what `getUserProvisioningConnectionJWKS` returns.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { AppConnectionUserProvisionJWKResponse } from "effect-okta-connections"
 *
 * const { jwks } = Schema.decodeUnknownSync(AppConnectionUserProvisionJWKResponse)({ jwks: { keys: [] } })
 * ```
 */
export const AppConnectionUserProvisionJWKResponse = Schema.Struct({
  jwks: AppConnectionUserProvisionJWKList
})
export interface AppConnectionUserProvisionJWKResponse extends Schema.Schema.Type<
  typeof AppConnectionUserProvisionJWKResponse
> {}
