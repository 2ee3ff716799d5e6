/**
 * The typed errors of every operation. Users `Effect.catchTag` on these tags.
 *
 * Every error is a `Schema.TaggedError`: serializable, with a human `message`, holding only plain
 * data copied from the response (never the live response object, never a token, never a request
 * body or query value).
 */
import * as Schema from "effect/Schema"
import {
  afterAttempts,
  Attempts,
  IDENTIFIER,
  inspectableByChai,
  RequestFields,
  where
} from "./fields.js"
import {
  OktaBadRequestError,
  OktaForbiddenError,
  type OktaHttpError,
  OktaNotFoundError,
  OktaRateLimitError,
  OktaServerError,
  OktaUnauthorizedError,
  OktaUnexpectedStatusError
} from "./OktaHttpError.js"

export * from "./OktaHttpError.js"

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
 */
export class OktaTransportError extends Schema.TaggedError<OktaTransportError>(
  `${IDENTIFIER}/OktaTransportError`
)("OktaTransportError", {
  ...RequestFields,
  reason: Schema.String,
  /** True when the failure happened after Okta sent a status line (while reading the body). */
  afterResponse: Schema.Boolean,
  /**
   * True when the connection could not even be opened (refused, DNS failure, unreachable, a
   * certificate refused, no TLS where `https://` asked for it, a proxy that would not tunnel): the
   * request certainly did not reach Okta, so even a one-time `verify` may be sent again, and the
   * rate-limit gate does not charge it to the window.
   */
  connectFailed: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  status: Schema.optional(Schema.Number),
  /** How many requests the call sent, when it was retried (absent after one). */
  attempts: Attempts
}) {
  override get message(): string {
    return `${where(this)} failed: ${this.afterResponse ? "the response body could not be read" : this.connectFailed ? "could not connect" : "no response"} (${this.reason})${afterAttempts(this)}`
  }
}

const TimeoutFields = {
  ...RequestFields,
  timeoutMillis: Schema.Number,
  /**
   * `attempt`: one request (headers and body) exceeded `timeout`. `deadline`: the call's overall
   * `deadline` (across retries and rate-limit waits) ran out, or a wait would have passed it.
   */
  kind: Schema.optionalWith(Schema.Literal("attempt", "deadline"), { default: () => "attempt" }),
  /**
   * For `deadline`: how many attempts the call started (0: it never got past waiting). For
   * `attempt`: how many requests the call sent, when it was retried (absent after one).
   */
  attempts: Attempts,
  /**
   * For `deadline`: the call was waiting at the rate-limit gate when it ran out, or would have
   * waited past it: for the window to reset (`window_exhausted`), or for a request in flight to
   * end (`concurrency_cap`).
   */
  heldBy: Schema.optional(Schema.Literal("window_exhausted", "concurrency_cap")),
  /**
   * For `deadline`: the wait, at the rate-limit gate or before a retry, that would have passed the
   * deadline, which failed the call at once instead of after it (absent: the deadline ran out).
   */
  waitMillis: Schema.optional(Schema.Number)
}

/**
 * The request (headers and body) did not complete within the configured `timeout`
 * (`kind: "attempt"`), or the call within its `deadline` (`kind: "deadline"`). A deadline error
 * says how many `attempts` the call started and, as its `cause`, the last failure it was
 * retrying after (a 429, a 5xx, a dropped connection, an attempt timeout), so that a rate limit
 * or an outage is not hidden behind the deadline.
 *
 * @example
 * ```ts
 * import type { OktaTimeoutError } from "effect-okta-connections"
 *
 * const rateLimited = (e: OktaTimeoutError) => e.cause?._tag === "OktaRateLimitError"
 * ```
 */
export class OktaTimeoutError extends Schema.TaggedError<OktaTimeoutError>(
  `${IDENTIFIER}/OktaTimeoutError`
)("OktaTimeoutError", {
  ...TimeoutFields,
  /** For `deadline`: the last failure the call went on after, if an attempt had failed. */
  cause: Schema.optional(
    Schema.suspend((): Schema.Schema<TimeoutCause, TimeoutCauseEncoded> => TimeoutCause)
  )
}) {
  override get message(): string {
    if (this.kind !== "deadline") {
      return `${where(this)} timed out: an attempt took longer than its ${this.timeoutMillis} ms timeout${afterAttempts(this)}`
    }
    // Failed before the deadline, by a wait known to pass it: how long the wait was is the news.
    const wait = this.waitMillis === undefined ? "" : ` ${(this.waitMillis / 1000).toFixed(1)} s`
    const head = `${where(this)} ${wait === "" ? "did" : "would"} not complete within its ${this.timeoutMillis} ms deadline (retries and rate-limit waits included)`
    const attempts =
      this.attempts === undefined
        ? head
        : // Waiting at the rate-limit gate, or for an OAuth access token (not an attempt).
          this.attempts === 0
          ? `${head} before its first attempt`
          : `${head} after ${this.attempts} attempt${this.attempts === 1 ? "" : "s"}`
    const held =
      this.heldBy !== undefined
        ? `${attempts}, waiting${wait} at the rate-limit gate for ${this.heldBy === "window_exhausted" ? "the window to reset" : "a request in flight to end"}`
        : wait !== ""
          ? `${attempts}, with${wait} still to wait`
          : attempts
    if (this.cause === undefined) return held
    // A cause of the same request reads on from here without its prefix; a token request's keeps it.
    const detail = this.cause.message
      .slice(this.cause.message.startsWith(where(this)) ? where(this).length : 0)
      .replace(/^:? ?(failed with |failed: )?/, "")
    return `${held}; the last failure (${this.cause._tag}): ${detail}`
  }
}

/**
 * What a deadline's `cause` can be: the failures a call goes on after (retried, or repaired as a
 * token request's DPoP nonce refusal is).
 */
type TimeoutCause = OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError

interface OktaTimeoutErrorEncoded extends Schema.Struct.Encoded<typeof TimeoutFields> {
  readonly _tag: "OktaTimeoutError"
  readonly cause?: TimeoutCauseEncoded | undefined
}

type TimeoutCauseEncoded =
  | Schema.Schema.Encoded<
      | typeof OktaBadRequestError
      | typeof OktaUnauthorizedError
      | typeof OktaForbiddenError
      | typeof OktaNotFoundError
      | typeof OktaRateLimitError
      | typeof OktaServerError
      | typeof OktaUnexpectedStatusError
      | typeof OktaTransportError
      | typeof OktaAuthError
    >
  | OktaTimeoutErrorEncoded

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
    // Okta's API answers in JSON, never with a page or plain text: the first thing to look at is
    // what stands before it. A JSON type that does not parse is Okta's, cut short.
    const page =
      this.kind !== "NotJson"
        ? ""
        : /^\s*text\/html\b/i.test(this.contentType ?? "")
          ? "; Okta's API sends no HTML: a proxy or gateway may have answered in its place"
          : !/[/+]json\b/i.test(this.contentType ?? "")
            ? "; Okta's API answers in JSON: a proxy or gateway may have answered in its place, or the org URL is not an Okta org's"
            : ""
    return `${where(this)}: the HTTP ${this.status} response body ${what}: ${this.issues}${page}${id}`
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
 * What any call can fail with: an HTTP error status, no response, a timeout, input rejected
 * before sending, or (with OAuth 2.0 service-app credentials) a refused token request. The
 * operations without a response body (activate, deactivate, verify) fail with
 * exactly this.
 *
 * @example
 * ```ts
 * import type { OktaRequestError } from "effect-okta-connections"
 *
 * const retryable = (e: OktaRequestError) => e._tag === "OktaRateLimitError" || e._tag === "OktaServerError"
 * ```
 */
export type OktaRequestError =
  OktaHttpError | OktaTransportError | OktaTimeoutError | OktaInvalidInputError | OktaAuthError

/**
 * What the operations that return a body (get, update, JWKS) fail with: {@link OktaRequestError}
 * plus {@link OktaDecodeError}.
 *
 * @example
 * ```ts
 * import type { OktaResponseError } from "effect-okta-connections"
 *
 * const describe = (e: OktaResponseError) => `${e._tag}: ${e.message}`
 * ```
 */
export type OktaResponseError = OktaRequestError | OktaDecodeError

/**
 * Every error tag this library can fail with.
 */
export type OktaError = OktaResponseError | OktaConfigError

/** The failures a call goes on after (retries or repairs), which a deadline's `cause` may be. */
const GONE_ON_AFTER = [
  OktaBadRequestError,
  OktaUnauthorizedError,
  OktaForbiddenError,
  OktaNotFoundError,
  OktaRateLimitError,
  OktaServerError,
  OktaUnexpectedStatusError,
  OktaTransportError,
  OktaTimeoutError,
  OktaAuthError
] as const

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
 */
export const OktaError = Schema.Union(
  ...GONE_ON_AFTER,
  OktaDecodeError,
  OktaInvalidInputError,
  OktaConfigError
)

// Read only through `Schema.suspend`, once every class it names is defined.
const TimeoutCause = Schema.Union(...GONE_ON_AFTER)

inspectableByChai(OktaError.members)
