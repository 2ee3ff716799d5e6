/**
 * The typed errors of every operation. Users `Effect.catchTag` on these tags.
 *
 * Every error is a `Schema.TaggedError`: serializable, with a human `message`, holding only plain
 * data copied from the response (never the live response object, never a token, never a request
 * body or query value).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { OktaErrorCause } from "../schema/OktaErrorBody.js"

const IDENTIFIER = "effect-okta-connections"

/**
 * The parsed `X-Rate-Limit-*` headers of a response. `reset` is the absolute UTC epoch in seconds
 * at which the window resets. When a header arrives duplicated (okta-sdk-java#259) the most
 * conservative value wins: the smallest limit/remaining and the latest reset.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections } from "effect-okta-connections"
 *
 * const program = Effect.flatMap(ApplicationConnections, (api) =>
 *   api.getDefaultProvisioningConnectionForApplication("0oafxqCAJWWGELFTYASJ")
 * ).pipe(
 *   Effect.catchTag("OktaRateLimitError", (e) =>
 *     Effect.logWarning(`rate limited until ${e.rateLimit?.reset}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const RateLimitInfo = Schema.Struct({
  limit: Schema.optional(Schema.Number),
  remaining: Schema.optional(Schema.Number),
  reset: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface RateLimitInfo extends Schema.Schema.Type<typeof RateLimitInfo> {}

/**
 * The first challenge of a `WWW-Authenticate` header, parsed. Okta carries OAuth scope and DPoP
 * failures here, often with an empty body (`error="insufficient_scope"`, `scope="okta.apps.manage"`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections } from "effect-okta-connections"
 *
 * const program = Effect.flatMap(ApplicationConnections, (api) =>
 *   api.activateDefaultProvisioningConnectionForApplication("0oafxqCAJWWGELFTYASJ")
 * ).pipe(
 *   Effect.catchTag("OktaForbiddenError", (e) =>
 *     Effect.logError(`missing scope: ${e.challenge?.scope ?? "unknown"}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const AuthChallenge = Schema.Struct({
  scheme: Schema.String,
  error: Schema.optional(Schema.String),
  errorDescription: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthChallenge extends Schema.Schema.Type<typeof AuthChallenge> {}

/** Where a request was going: the operation and the path (never the query, which may hold an OAuth code). */
const RequestFields = {
  operation: Schema.String,
  method: Schema.String,
  path: Schema.String
}

/** Everything an HTTP error response tells, copied out of it. */
const HttpErrorFields = {
  ...RequestFields,
  status: Schema.Number,
  errorCode: Schema.optional(Schema.String),
  errorSummary: Schema.optional(Schema.String),
  errorLink: Schema.optional(Schema.String),
  errorId: Schema.optional(Schema.String),
  errorCauses: Schema.optional(Schema.Array(OktaErrorCause)),
  requestId: Schema.optional(Schema.String),
  rateLimit: Schema.optional(RateLimitInfo),
  /** The response's `Date` header, epoch milliseconds (the server's clock). */
  serverDate: Schema.optional(Schema.Number),
  wwwAuthenticate: Schema.optional(Schema.String),
  challenge: Schema.optional(AuthChallenge),
  /** The `Content-Type` of the body when it was not Okta's JSON `Error` (an HTML page from a proxy). */
  contentType: Schema.optional(Schema.String)
}

interface HttpErrorLike {
  readonly operation: string
  readonly method: string
  readonly path: string
  readonly status: number
  readonly errorCode?: string | undefined
  readonly errorSummary?: string | undefined
  readonly errorId?: string | undefined
  readonly errorCauses?: ReadonlyArray<OktaErrorCause> | undefined
  readonly requestId?: string | undefined
  readonly rateLimit?: RateLimitInfo | undefined
  readonly challenge?: AuthChallenge | undefined
  readonly contentType?: string | undefined
}

const where = (e: { readonly operation: string; readonly method: string; readonly path: string }) =>
  `${e.operation} (${e.method} ${e.path})`

const httpMessage = (e: HttpErrorLike, extra?: string): string => {
  const parts: Array<string> = [`${where(e)} failed with HTTP ${e.status}`]
  if (e.errorCode !== undefined || e.errorSummary !== undefined) {
    parts.push(`: ${[e.errorCode, e.errorSummary].filter((s) => s !== undefined).join(" ")}`)
  }
  const causes = (e.errorCauses ?? [])
    .map((c) => c.errorSummary)
    .filter((s): s is string => s !== undefined && s.length > 0)
  if (causes.length > 0) parts.push(` (causes: ${causes.join("; ")})`)
  if (e.challenge?.error !== undefined) {
    const scope = e.challenge.scope !== undefined ? `, required scope ${e.challenge.scope}` : ""
    const description =
      e.challenge.errorDescription !== undefined ? `: ${e.challenge.errorDescription}` : ""
    parts.push(` [${e.challenge.scheme} ${e.challenge.error}${description}${scope}]`)
  }
  if (e.errorCode === undefined && e.challenge === undefined && e.contentType !== undefined) {
    parts.push(` with a non-JSON body (${e.contentType})`)
  }
  if (extra !== undefined) parts.push(`; ${extra}`)
  const ids = [
    e.errorId !== undefined ? `errorId ${e.errorId}` : undefined,
    e.requestId !== undefined ? `request id ${e.requestId}` : undefined
  ].filter((s) => s !== undefined)
  if (ids.length > 0) parts.push(` (${ids.join(", ")})`)
  return parts.join("")
}

/**
 * 400: Okta rejected the request (`E0000001 Api validation failed`, with `errorCauses`).
 *
 * @example
 * ```ts
 * import type { OktaBadRequestError } from "effect-okta-connections"
 *
 * const detail = (e: OktaBadRequestError) => e.errorCauses
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaBadRequestError extends Schema.TaggedError<OktaBadRequestError>(
  `${IDENTIFIER}/OktaBadRequestError`
)("OktaBadRequestError", HttpErrorFields) {
  override get message(): string {
    return httpMessage(this)
  }
}

/**
 * 401: the token is missing, wrong, expired or revoked (`E0000011`), or a DPoP/OAuth failure told
 * only in `WWW-Authenticate` (see `challenge`).
 *
 * @example
 * ```ts
 * import type { OktaUnauthorizedError } from "effect-okta-connections"
 *
 * const detail = (e: OktaUnauthorizedError) => e.challenge?.error
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaUnauthorizedError extends Schema.TaggedError<OktaUnauthorizedError>(
  `${IDENTIFIER}/OktaUnauthorizedError`
)("OktaUnauthorizedError", HttpErrorFields) {
  override get message(): string {
    return httpMessage(this)
  }
}

/**
 * 403: the token's admin lacks permission (`E0000006`), or an OAuth token lacks the scope
 * (`okta.apps.read` / `okta.apps.manage`), which Okta reports with an empty body and
 * `WWW-Authenticate: … error="insufficient_scope"` (see `challenge.scope`).
 *
 * @example
 * ```ts
 * import type { OktaForbiddenError } from "effect-okta-connections"
 *
 * const detail = (e: OktaForbiddenError) => e.challenge?.scope
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaForbiddenError extends Schema.TaggedError<OktaForbiddenError>(
  `${IDENTIFIER}/OktaForbiddenError`
)("OktaForbiddenError", HttpErrorFields) {
  override get message(): string {
    return httpMessage(this)
  }
}

/**
 * 404: no such app (`E0000007`), or (for JWKS) a connection without signing keys.
 *
 * @example
 * ```ts
 * import type { OktaNotFoundError } from "effect-okta-connections"
 *
 * const detail = (e: OktaNotFoundError) => e.errorSummary
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaNotFoundError extends Schema.TaggedError<OktaNotFoundError>(
  `${IDENTIFIER}/OktaNotFoundError`
)("OktaNotFoundError", HttpErrorFields) {
  override get message(): string {
    return httpMessage(this)
  }
}

/**
 * 429: a rate limit was exceeded (`E0000047`). `rateLimit.reset` says when the window resets
 * (epoch seconds, on the server's clock given by `serverDate`). `isConcurrencyLimit` is true for
 * Okta's concurrent-request limit (`X-Rate-Limit-Limit: 0`, `-Remaining: 0`), which clears as soon
 * as a request in flight completes, not at `reset`.
 *
 * @example
 * ```ts
 * import type { OktaRateLimitError } from "effect-okta-connections"
 *
 * const detail = (e: OktaRateLimitError) => e.rateLimit?.reset
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaRateLimitError extends Schema.TaggedError<OktaRateLimitError>(
  `${IDENTIFIER}/OktaRateLimitError`
)("OktaRateLimitError", HttpErrorFields) {
  /** True for the concurrent-request limit (`Limit: 0, Remaining: 0`), false for a window limit. */
  get isConcurrencyLimit(): boolean {
    return this.rateLimit?.limit === 0 && this.rateLimit.remaining === 0
  }
  override get message(): string {
    const reset = this.rateLimit?.reset
    const extra = this.isConcurrencyLimit
      ? "concurrent-request limit reached (clears when a request in flight completes)"
      : reset !== undefined
        ? `the limit resets at ${new Date(reset * 1000).toISOString()}`
        : undefined
    return httpMessage(this, extra)
  }
}

/**
 * 5xx: Okta (or a gateway in front of it) failed. The body may be Okta's JSON error, an HTML page
 * (`contentType` says which) or empty.
 *
 * @example
 * ```ts
 * import type { OktaServerError } from "effect-okta-connections"
 *
 * const detail = (e: OktaServerError) => e.status
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaServerError extends Schema.TaggedError<OktaServerError>(
  `${IDENTIFIER}/OktaServerError`
)("OktaServerError", HttpErrorFields) {
  override get message(): string {
    return httpMessage(this)
  }
}

/**
 * Any other status, including 3xx: redirects are never followed, because following one would
 * carry the `Authorization` header to wherever `Location` points.
 *
 * @example
 * ```ts
 * import type { OktaUnexpectedStatusError } from "effect-okta-connections"
 *
 * const detail = (e: OktaUnexpectedStatusError) => e.location
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaUnexpectedStatusError extends Schema.TaggedError<OktaUnexpectedStatusError>(
  `${IDENTIFIER}/OktaUnexpectedStatusError`
)("OktaUnexpectedStatusError", {
  ...HttpErrorFields,
  /** For a 3xx, the `Location` it pointed to, without its query string. */
  location: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return httpMessage(
      this,
      this.location !== undefined
        ? `redirect to ${this.location} not followed (credentials are never sent to another URL)`
        : undefined
    )
  }
}

/**
 * No usable response: the connection was refused, reset or dropped, DNS failed, or the body could
 * not be read to the end. `reason` is a short description (an error code such as `ECONNRESET`
 * where the platform gives one); URLs are scrubbed from it.
 *
 * @example
 * ```ts
 * import type { OktaTransportError } from "effect-okta-connections"
 *
 * const detail = (e: OktaTransportError) => e.reason
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaTransportError extends Schema.TaggedError<OktaTransportError>(
  `${IDENTIFIER}/OktaTransportError`
)("OktaTransportError", {
  ...RequestFields,
  reason: Schema.String,
  /** True when the failure happened after Okta sent a status line (while reading the body). */
  afterResponse: Schema.Boolean,
  /**
   * True when the connection could not even be opened (refused, DNS failure, unreachable): the
   * request certainly did not reach Okta, so even a one-time `verify` may be sent again.
   */
  connectFailed: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  status: Schema.optional(Schema.Number)
}) {
  override get message(): string {
    return `${where(this)} failed: ${this.afterResponse ? "the response body could not be read" : this.connectFailed ? "could not connect" : "no response"} (${this.reason})`
  }
}

/**
 * The request (headers and body) did not complete within the configured timeout.
 *
 * @example
 * ```ts
 * import type { OktaTimeoutError } from "effect-okta-connections"
 *
 * const detail = (e: OktaTimeoutError) => e.kind
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaTimeoutError extends Schema.TaggedError<OktaTimeoutError>(
  `${IDENTIFIER}/OktaTimeoutError`
)("OktaTimeoutError", {
  ...RequestFields,
  timeoutMillis: Schema.Number,
  /**
   * `attempt`: one request (headers and body) exceeded `timeout`. `deadline`: the call's overall
   * `deadline` (across retries and rate-limit waits) ran out, or a wait would have passed it.
   */
  kind: Schema.optionalWith(Schema.Literal("attempt", "deadline"), { default: () => "attempt" })
}) {
  override get message(): string {
    return this.kind === "deadline"
      ? `${where(this)} did not complete within its ${this.timeoutMillis} ms deadline (retries and rate-limit waits included)`
      : `${where(this)} timed out after ${this.timeoutMillis} ms`
  }
}

/**
 * A success response whose body is not JSON, does not match the contract's schema (an HTML page
 * from a proxy with status 200, a truncated body) or is larger than the client's
 * `maxResponseBytes`. `issues` lists where the body differs, by path,
 * without its values.
 *
 * @example
 * ```ts
 * import type { OktaDecodeError } from "effect-okta-connections"
 *
 * const detail = (e: OktaDecodeError) => e.issues
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaDecodeError extends Schema.TaggedError<OktaDecodeError>(
  `${IDENTIFIER}/OktaDecodeError`
)("OktaDecodeError", {
  ...RequestFields,
  status: Schema.Number,
  requestId: Schema.optional(Schema.String),
  contentType: Schema.optional(Schema.String),
  /** `NotJson`, `Schema` (JSON of the wrong shape), or `TooLarge` (over `maxResponseBytes`; not read to the end). */
  kind: Schema.Literal("NotJson", "Schema", "TooLarge"),
  issues: Schema.String
}) {
  override get message(): string {
    const what =
      this.kind === "NotJson"
        ? `is not JSON${this.contentType !== undefined ? ` (${this.contentType})` : ""}`
        : this.kind === "TooLarge"
          ? "is too large"
          : "does not match the expected schema"
    const id = this.requestId !== undefined ? ` (request id ${this.requestId})` : ""
    return `${where(this)}: the HTTP ${this.status} response body ${what}: ${this.issues}${id}`
  }
}

/**
 * An argument was rejected before any request was built: nothing was sent. `field` names the
 * argument (`appId`, `appName`, `body`, `code`, `state`, `activate`), `issues` what is wrong with
 * it, never its value (a body holds tokens and passwords).
 *
 * @example
 * ```ts
 * import type { OktaInvalidInputError } from "effect-okta-connections"
 *
 * const detail = (e: OktaInvalidInputError) => e.field
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaInvalidInputError extends Schema.TaggedError<OktaInvalidInputError>(
  `${IDENTIFIER}/OktaInvalidInputError`
)("OktaInvalidInputError", {
  operation: Schema.String,
  field: Schema.String,
  issues: Schema.String
}) {
  override get message(): string {
    return `${this.operation}: invalid ${this.field}: ${this.issues}; nothing was sent`
  }
}

/**
 * The client configuration is unusable (an `orgUrl` that is not `https://`, an empty token, a token
 * with its scheme prefix pasted in). Fails building the `OktaClient` layer. Never holds the token.
 *
 * @example
 * ```ts
 * import type { OktaConfigError } from "effect-okta-connections"
 *
 * const detail = (e: OktaConfigError) => e.field
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaConfigError extends Schema.TaggedError<OktaConfigError>(
  `${IDENTIFIER}/OktaConfigError`
)("OktaConfigError", {
  field: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `invalid Okta client configuration: ${this.field} ${this.reason}`
  }
}

/**
 * The OAuth 2.0 token endpoint (`/oauth2/v1/token`) refused to issue an access token: a client
 * assertion it does not accept (`invalid_client`), a scope the service app was not granted
 * (`invalid_scope`), a DPoP proof it rejects (`invalid_dpop_proof`). `error` and
 * `errorDescription` are Okta's `error` and `error_description`. Never holds the private key, the
 * assertion or a token.
 *
 * @example
 * ```ts
 * import type { OktaAuthError } from "effect-okta-connections"
 *
 * const detail = (e: OktaAuthError) => e.error
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaAuthError extends Schema.TaggedError<OktaAuthError>(`${IDENTIFIER}/OktaAuthError`)(
  "OktaAuthError",
  {
    ...RequestFields,
    status: Schema.optional(Schema.Number),
    error: Schema.String,
    errorDescription: Schema.optional(Schema.String),
    requestId: Schema.optional(Schema.String)
  }
) {
  override get message(): string {
    const status = this.status !== undefined ? ` with HTTP ${this.status}` : ""
    const description = this.errorDescription !== undefined ? `: ${this.errorDescription}` : ""
    const id = this.requestId !== undefined ? ` (request id ${this.requestId})` : ""
    return `${where(this)}: the OAuth 2.0 token request failed${status}: ${this.error}${description}${id}`
  }
}

/**
 * Every error an HTTP response status maps to.
 *
 * @example
 * ```ts
 * import type { OktaHttpError } from "effect-okta-connections"
 *
 * const status = (e: OktaHttpError) => e.status
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type OktaHttpError =
  | OktaBadRequestError
  | OktaUnauthorizedError
  | OktaForbiddenError
  | OktaNotFoundError
  | OktaRateLimitError
  | OktaServerError
  | OktaUnexpectedStatusError

/**
 * What any call can fail with: an HTTP error status, no response, a timeout, input rejected
 * before sending, or (with OAuth 2.0 service-app credentials) a refused token request. The
 * operations without a response body (activate, deactivate, verify) fail with
 * exactly this.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections, type OktaRequestError } from "effect-okta-connections"
 *
 * const activate: Effect.Effect<void, OktaRequestError, ApplicationConnections> = Effect.flatMap(
 *   ApplicationConnections,
 *   (api) => api.activateDefaultProvisioningConnectionForApplication("0oa1")
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type OktaRequestError =
  OktaHttpError | OktaTransportError | OktaTimeoutError | OktaInvalidInputError | OktaAuthError

/**
 * What the operations that return a body (get, update, JWKS) fail with: {@link OktaRequestError}
 * plus {@link OktaDecodeError}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections, type OktaResponseError } from "effect-okta-connections"
 *
 * const describe = (e: OktaResponseError) => `${e._tag}: ${e.message}`
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export type OktaResponseError = OktaRequestError | OktaDecodeError

/**
 * Every error tag this library can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type OktaError = OktaResponseError | OktaConfigError

/**
 * Schema of the union of every error, for sending errors across a boundary (a worker, RPC, a log
 * store) and decoding them back into these classes.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { OktaError, OktaNotFoundError } from "effect-okta-connections"
 *
 * const json = Schema.encodeSync(OktaError)(
 *   new OktaNotFoundError({ operation: "getDefaultProvisioningConnectionForApplication", method: "GET", path: "/api/v1/apps/x/connections/default", status: 404 })
 * )
 * const back = Schema.decodeUnknownSync(OktaError)(json) // an OktaNotFoundError again
 * ```
 *
 * @since 0.1.0
 * @category schemas
 */
export const OktaError = Schema.Union(
  OktaBadRequestError,
  OktaUnauthorizedError,
  OktaForbiddenError,
  OktaNotFoundError,
  OktaRateLimitError,
  OktaServerError,
  OktaUnexpectedStatusError,
  OktaTransportError,
  OktaTimeoutError,
  OktaDecodeError,
  OktaInvalidInputError,
  OktaAuthError,
  OktaConfigError
)
