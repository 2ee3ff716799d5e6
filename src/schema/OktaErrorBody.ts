/**
 * Okta's `Error` response body.
 */
import * as Schema from "effect/Schema"

/**
 * `ErrorCause`: one entry of `errorCauses` (a list of objects, not a string as the Node SDK's types
 * claim, okta-sdk-nodejs#374).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { OktaErrorCause } from "effect-okta-connections"
 *
 * Schema.decodeUnknownSync(OktaErrorCause)({ errorSummary: "client_id: already exists" })
 * ```
 */
export const OktaErrorCause = Schema.Struct({
  errorSummary: Schema.optional(Schema.String)
})
export interface OktaErrorCause extends Schema.Schema.Type<typeof OktaErrorCause> {}

/**
 * `Error`: the body Okta sends with most non-2xx responses. Every member is optional, as in the
 * contract; the client also copes with empty and non-JSON bodies (see the error classes).
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { OktaErrorBody } from "effect-okta-connections"
 *
 * const body = Schema.decodeUnknownSync(OktaErrorBody)({
 *   errorCode: "E0000007",
 *   errorSummary: "Not found: Resource not found: 0oa1 (AppInstance)",
 *   errorLink: "E0000007",
 *   errorId: "oae2Ci4P_qhSZ6kjiRXpxenEA",
 *   errorCauses: []
 * })
 * ```
 */
export const OktaErrorBody = Schema.Struct({
  errorCode: Schema.optional(Schema.String),
  errorSummary: Schema.optional(Schema.String),
  errorLink: Schema.optional(Schema.String),
  errorId: Schema.optional(Schema.String),
  errorCauses: Schema.optional(Schema.Array(OktaErrorCause))
}).annotations({ identifier: "OktaErrorBody" })
export interface OktaErrorBody extends Schema.Schema.Type<typeof OktaErrorBody> {}
