/**
 * What `OktaClient` provides: `execute`, and the request and response it works with.
 */
import type * as Headers from "@effect/platform/Headers"
import type * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type {
  OktaAuthError,
  OktaDecodeError,
  OktaHttpError,
  OktaInvalidInputError,
  OktaTimeoutError,
  OktaTransportError
} from "../errors/OktaError.js"

/**
 * One HTTP exchange with Okta, as an operation describes it to `OktaClient`. A member not declared
 * here (`headers`, from JavaScript or a spread) is `OktaInvalidInputError`, and nothing is sent:
 * the client sets the headers itself.
 *
 * @example
 * ```ts
 * import type { OktaRequest } from "effect-okta-connections"
 *
 * const getApp: OktaRequest = { operation: "getApplication", method: "GET", path: "/api/v1/apps/0oa1" }
 * ```
 */
export interface OktaRequest {
  /** The Okta operationId, used in errors, spans and metrics; a blank one is invalid input. */
  readonly operation: string
  /** One of these, upper case; anything else is `OktaInvalidInputError`, and nothing is sent. */
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  /**
   * An absolute path below the org URL (starting with one `/`), its segments already
   * percent-encoded. Anything else (a full URL, a `.` or `..` segment, a backslash, ill-formed
   * UTF-16) is `OktaInvalidInputError`, and nothing is sent.
   * Give the query as `urlParams`; one written here is sent too, but errors and spans name the
   * path without it either way.
   */
  readonly path: string
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  /** A JSON value, already encoded by its schema. Not on a `GET` (`OktaInvalidInputError`). */
  readonly body?: unknown
  /**
   * Secret values this request carries (a token in the body, a one-time code in the query): the
   * client removes them from every server-supplied string (`errorSummary`, `errorCauses`,
   * `WWW-Authenticate`) before it goes into an error, so a server or proxy that echoes the request
   * cannot put them in messages, logs or spans. The credential is always removed.
   */
  readonly secrets?: ReadonlyArray<string> | undefined
  /**
   * Whether sending the request twice is harmless, so that it may be retried after a 5xx, a
   * dropped connection or an attempt timeout, when it may have reached Okta. Without it a request
   * is retried only after a 429 (a rejection) or a failure to connect. Default: true for `GET`,
   * `PUT` and `DELETE` (idempotent in HTTP), false for `POST` and `PATCH`: say true for a `POST`
   * that is safe to repeat (this package's activate, deactivate and update are), never for a
   * one-time action (`verify`, whose code Okta accepts once).
   */
  readonly replaySafe?: boolean | undefined
  /** The call's span name when tracing. Default `OktaClient.<operation>`. */
  readonly spanName?: string | undefined
  /** Attributes of that span (ids, never secrets). */
  readonly spanAttributes?: Readonly<Record<string, string>> | undefined
}

/**
 * A successful (2xx) response, as the `decode` function of {@link OktaClientService.execute}
 * receives it. The body is read at most once, capped at the client's `maxResponseBytes`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import type { OktaResponse } from "effect-okta-connections"
 *
 * const App = Schema.Struct({ id: Schema.String, label: Schema.String })
 * const decode = (response: OktaResponse) => response.json(App)
 * ```
 */
export interface OktaResponse {
  readonly status: number
  /** The response headers (lower-case names). */
  readonly headers: Headers.Headers
  /**
   * The body as text, read once and shared by every use of `text` and `json`. A read interrupted
   * part-way (a `timeout` around it, a lost `race`) spends the body: the reads after it fail with
   * an `OktaTransportError` that says so.
   */
  readonly text: Effect.Effect<string, OktaDecodeError | OktaTransportError>
  /** The body decoded as JSON with `schema`; `OktaDecodeError` names the paths that differ. */
  readonly json: <A, I>(
    schema: Schema.Schema<A, I>
  ) => Effect.Effect<A, OktaDecodeError | OktaTransportError>
}

/**
 * The service `OktaClient` provides.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { OktaClient } from "effect-okta-connections"
 *
 * // Another Okta endpoint through the same client (auth, gate, retries, typed errors):
 * const label = Effect.flatMap(OktaClient, (client) =>
 *   client.execute({ operation: "getApplication", method: "GET", path: "/api/v1/apps/0oa1" }, (response) =>
 *     response.json(Schema.Struct({ label: Schema.String }))
 *   )
 * )
 * ```
 */
export interface OktaClientService {
  /** The normalised org URL (no trailing slash). */
  readonly orgUrl: string
  /**
   * Sends `request` with the client's credentials and headers, through the shared rate-limit
   * gate, with the per-attempt timeout and the retry policy, in a span when tracing (see the
   * `tracing` option). A 2xx goes to `decode`; any other status becomes its typed error.
   * Redirects are never followed. `decode` is part of the attempt and sees the caller's
   * services, span and `FiberRef` values. The timeout covers it; on `OktaUndici.layer` and
   * `OktaFetch.layer`, where the attempt runs in the caller's fiber and is stopped by aborting
   * its request, only its reads of the body are stopped, and an attempt that ends past the
   * timeout fails with it all the same. Do not rely on `FiberRef` values it sets coming back: on
   * other transports the attempt runs in a fiber of its own and they do not.
   */
  readonly execute: <A, E>(
    request: OktaRequest,
    decode: (response: OktaResponse) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | OktaExecuteError>
}

/**
 * What `execute` can fail with besides the decoder's own errors.
 *
 * @example
 * ```ts
 * import type { OktaExecuteError } from "effect-okta-connections"
 *
 * const tagOf = (error: OktaExecuteError) => error._tag
 * ```
 */
export type OktaExecuteError =
  OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError | OktaInvalidInputError
