/**
 * The errors an HTTP status maps to: 400, 401, 403, 404, 429, 5xx and anything else (3xx
 * included). Each holds what the response said (Okta's error body, the rate-limit headers, the
 * `WWW-Authenticate` challenge), copied out of it.
 */
import * as Schema from "effect/Schema"
import { OktaErrorCause } from "../schema/OktaErrorBody.js"
import { afterAttempts, Attempts, IDENTIFIER, RequestFields, where } from "./fields.js"

/**
 * The parsed `X-Rate-Limit-*` headers of a response. `reset` is the absolute UTC epoch in seconds
 * at which the window resets. When a header arrives duplicated (okta-sdk-java#259) the most
 * conservative value wins: the smallest limit/remaining and the latest reset.
 *
 * @example
 * ```ts
 * import type { RateLimitInfo } from "effect-okta-connections"
 *
 * const resetsAt = (info: RateLimitInfo) => new Date((info.reset ?? 0) * 1000)
 * ```
 */
export const RateLimitInfo = Schema.Struct({
  limit: Schema.optional(Schema.Number),
  remaining: Schema.optional(Schema.Number),
  reset: Schema.optional(Schema.Number)
})
export interface RateLimitInfo extends Schema.Schema.Type<typeof RateLimitInfo> {}

/**
 * The first challenge of a `WWW-Authenticate` header, parsed. Okta carries OAuth scope and DPoP
 * failures here, often with an empty body (`error="insufficient_scope"`, `scope="okta.apps.manage"`).
 *
 * @example
 * ```ts
 * import type { AuthChallenge } from "effect-okta-connections"
 *
 * const missingScope = (c: AuthChallenge) => (c.error === "insufficient_scope" ? c.scope : undefined)
 * ```
 */
export const AuthChallenge = Schema.Struct({
  scheme: Schema.String,
  error: Schema.optional(Schema.String),
  errorDescription: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String)
})
export interface AuthChallenge extends Schema.Schema.Type<typeof AuthChallenge> {}

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
  /**
   * The response's `Retry-After` as a delay in milliseconds (a proxy's or load balancer's; Okta
   * does not document one). A retry waits at least this long.
   */
  retryAfterMillis: Schema.optional(Schema.Number),
  wwwAuthenticate: Schema.optional(Schema.String),
  challenge: Schema.optional(AuthChallenge),
  /**
   * The `Content-Type` of the body when it was not Okta's JSON `Error`: an HTML page from a proxy,
   * or JSON with no `errorCode` or `errorSummary` (a gateway's `{"message": …}`).
   */
  contentType: Schema.optional(Schema.String),
  /**
   * The `message` of a JSON body not in Okta's error format: what a gateway or proxy in front of
   * Okta said (`{"message": "Forbidden"}`), scrubbed of the call's secrets, at most 300 characters.
   */
  gatewayMessage: Schema.optional(Schema.String),
  /**
   * True when the body was larger than `maxResponseBytes` (or the transport's own limit): it was
   * not read, and nothing of it is in this error but its `contentType`.
   */
  bodyTooLarge: Schema.optional(Schema.Boolean),
  /** How many requests the call sent, when it was retried (absent after one). */
  attempts: Attempts
}

type HttpErrorLike = Schema.Struct.Type<typeof HttpErrorFields>

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
  // A challenge that names its error says enough; one that does not (a proxy's `Basic`) does not.
  if (e.errorCode === undefined && e.challenge?.error === undefined) {
    if (e.bodyTooLarge === true) {
      const type = e.contentType !== undefined ? ` (${e.contentType})` : ""
      parts.push(` with a body${type} larger than maxResponseBytes, not read`)
    } else if (e.contentType !== undefined) {
      const kind = /json/i.test(e.contentType)
        ? "JSON body not in Okta's error format"
        : "non-JSON body"
      parts.push(` with a ${kind} (${e.contentType})`)
    }
    // Quoted: it is someone else's text, and may hold line breaks.
    if (e.gatewayMessage !== undefined) parts.push(`: ${JSON.stringify(e.gatewayMessage)}`)
  }
  if (extra !== undefined) parts.push(`; ${extra}`)
  if (e.retryAfterMillis !== undefined) {
    parts.push(`; Retry-After ${Math.ceil(e.retryAfterMillis / 1000)} s`)
  }
  parts.push(afterAttempts(e))
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
 */
export class OktaUnauthorizedError extends Schema.TaggedError<OktaUnauthorizedError>(
  `${IDENTIFIER}/OktaUnauthorizedError`
)("OktaUnauthorizedError", HttpErrorFields) {
  override get message(): string {
    // Okta says only "Invalid token provided"; these are the causes it has.
    return httpMessage(
      this,
      this.errorCode === "E0000011"
        ? "the token is not valid in this org: another org's, revoked, or expired (an API token lapses after 30 days unused, or when its admin is deactivated)"
        : undefined
    )
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
 */
export class OktaForbiddenError extends Schema.TaggedError<OktaForbiddenError>(
  `${IDENTIFIER}/OktaForbiddenError`
)("OktaForbiddenError", HttpErrorFields) {
  override get message(): string {
    return httpMessage(this)
  }
}

/** The app id in the path of a connection's operation (verify's path has the app name first). */
const APP_PATH = /\/api\/v1\/apps\/(?:[^/]+\/)?([^/]+)\/(?:connections(?:\/|$)|oauth2\/callback$)/

/**
 * 404: no such app (`E0000007`), or (for JWKS) a connection without signing keys.
 *
 * @example
 * ```ts
 * import type { OktaNotFoundError } from "effect-okta-connections"
 *
 * const detail = (e: OktaNotFoundError) => e.errorSummary
 * ```
 */
export class OktaNotFoundError extends Schema.TaggedError<OktaNotFoundError>(
  `${IDENTIFIER}/OktaNotFoundError`
)("OktaNotFoundError", HttpErrorFields) {
  override get message(): string {
    // An app's name (`zscalerbyz`) or label given for its id read only "Resource not found"; so
    // did the JWKS of an app whose connection has no keys, as if the app did not exist.
    const appId = APP_PATH.exec(this.path)?.[1]
    // Okta's 404 is its JSON error: without it, the app was not looked for, whatever the status.
    const hint =
      this.errorCode === undefined && this.errorSummary === undefined
        ? "not Okta's answer, which would be its E0000007 error: check the org URL, or the proxy in between"
        : this.errorCode !== "E0000007" || appId === undefined
          ? undefined
          : !/^0oa[A-Za-z0-9]{17}$/.test(appId)
            ? "the app id does not look like Okta's (0oa and 17 more letters or digits, as in the app's Admin Console URL): an app name or label?"
            : this.path.endsWith("/connections/default/jwks")
              ? "no such app, or its connection has no signing keys: only an Org2Org app's OAuth 2.0 connection has a JWKS"
              : undefined
    return httpMessage(this, hint)
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
 * carry the `Authorization` header to wherever `Location` points. Also a 2xx whose body is not
 * JSON to an operation Okta answers with an empty 204 (activate, deactivate, verify): a page from
 * something on the way, such as a proxy, and not Okta's answer.
 *
 * @example
 * ```ts
 * import type { OktaUnexpectedStatusError } from "effect-okta-connections"
 *
 * const detail = (e: OktaUnexpectedStatusError) => e.location
 * ```
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
        : this.status >= 200 && this.status < 300
          ? "Okta answers this operation with an empty 204: this answer came from something on the way (a proxy or gateway?), and Okta may not have made the change"
          : undefined
    )
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
 */
export type OktaHttpError =
  | OktaBadRequestError
  | OktaUnauthorizedError
  | OktaForbiddenError
  | OktaNotFoundError
  | OktaRateLimitError
  | OktaServerError
  | OktaUnexpectedStatusError
