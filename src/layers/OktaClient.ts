/**
 * `OktaClient`: the org URL, credentials, default headers and per-attempt timeout of every call,
 * and the one place where an HTTP exchange becomes a value or a typed error.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Tracer from "effect/Tracer"
import {
  type OktaAuthError,
  OktaConfigError,
  type OktaHttpError,
  OktaTimeoutError,
  type OktaTransportError,
  type OktaUnauthorizedError
} from "../errors/OktaError.js"
import { RateLimitGate } from "../internal/gate.js"
import { makeTokenProvider, TOKEN_CONTEXT } from "../internal/oauth.js"
import {
  httpError,
  httpErrorFromText,
  fullyRead,
  readText,
  type RequestContext,
  transportError
} from "../internal/response.js"
import { type AttemptInfo, makeRecorder, makeRunner } from "../internal/runner.js"
import { makeExchangeTimeout, releaseRequest } from "../internal/timeout.js"
import type { OktaOAuthOptions } from "./OAuthOptions.js"
import * as RetryPolicy from "./RetryPolicy.js"
import { VERSION } from "../version.js"

/**
 * How the client authenticates: an SSWS API token (`Authorization: SSWS …`), an OAuth 2.0
 * access token obtained elsewhere (`Authorization: Bearer …`), or an OAuth 2.0 service app whose
 * tokens the client obtains and refreshes itself (`oauth`). Secrets are `Redacted` from config to
 * the one place that uses them.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import type { OktaCredentials } from "effect-okta-connections"
 *
 * const ssws: OktaCredentials = { apiToken: Redacted.make("00abc…") }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type OktaCredentials =
  | {
      readonly apiToken: Redacted.Redacted<string>
      readonly accessToken?: never
      readonly oauth?: never
    }
  | {
      readonly accessToken: Redacted.Redacted<string>
      readonly apiToken?: never
      readonly oauth?: never
    }
  | {
      /** OAuth 2.0 service-app credentials (`private_key_jwt`), with an access-token cache and optional DPoP. */
      readonly oauth: OktaOAuthOptions
      readonly apiToken?: never
      readonly accessToken?: never
    }

/**
 * Options of {@link OktaClient.layer} that are not credentials or the org URL.
 *
 * @example
 * ```ts
 * import type { OktaClientSettings } from "effect-okta-connections"
 *
 * const settings: OktaClientSettings = { timeout: "10 seconds", deadline: "2 minutes", tracing: false }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaClientSettings {
  /**
   * Per-attempt timeout: from sending the request to having read the whole response body.
   * Default 30 seconds. `OktaTimeoutError` when exceeded.
   *
   * The attempt is stopped by aborting the request's `AbortSignal` (the one `HttpClient.make`
   * hands the transport), which the platform's fetch, undici and `node:http` transports honour.
   * Until the transport has been seen listening for that signal, and under a clock other than the
   * live one (`TestClock`), the attempt runs in a fiber of its own that is interrupted instead: a
   * hand-made `HttpClient` that never answers is timed out too, at the cost of one fiber per
   * attempt.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Appended to the `User-Agent` (e.g. `"my-provisioner/1.4"`), to tell your traffic apart in Okta's System Log. */
  readonly userAgentExtra?: string | undefined
  /**
   * Tracing. `true` (default): one span per call (`ApplicationConnections.<operationId>`) with
   * the HTTP method, path, final status and Okta request id as attributes, and an event per
   * retry and gate wait. `"exchanges"`: also the platform's `http.client` span for every attempt
   * (each request and response header as an attribute), children of the call's span; it costs
   * more than the rest of the client together (see the README's benchmark). `false`: no spans.
   */
  readonly tracing?: boolean | "exchanges" | undefined
  /**
   * Send W3C `traceparent` / `b3` headers to Okta. Default `false`: trace ids are internal data and
   * Okta does not join traces.
   */
  readonly tracerPropagation?: boolean | undefined
  /**
   * A last transformation of the underlying `HttpClient` (logging, a proxy, extra headers). It
   * runs after this client's own setup.
   */
  readonly transformClient?: ((client: HttpClient.HttpClient) => HttpClient.HttpClient) | undefined
  /**
   * The retry policy ({@link RetryPolicy.make}); `false` or `RetryPolicy.disabled` never retries.
   * Default `RetryPolicy.defaultPolicy`. Per call: `RetryPolicy.withRetryPolicy`.
   */
  readonly retry?: RetryPolicy.RetryPolicy | false | undefined
  /**
   * Overall deadline of one call, across retries, backoffs and rate-limit waits. A wait that
   * would pass it fails at once. `OktaTimeoutError` with `kind: "deadline"`. Default: none (each
   * attempt is still bounded by `timeout`, and retries by the policy).
   */
  readonly deadline?: Duration.DurationInput | undefined
  /** Largest response body read; a larger one fails without being buffered whole. Default 1 MiB. */
  readonly maxResponseBytes?: number | undefined
  /** Record the client's `Metric`s (see `OktaMetrics`). Default true. */
  readonly metrics?: boolean | undefined
}

/**
 * Options of {@link OktaClient.layer}.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { OktaClient, type OktaClientOptions } from "effect-okta-connections"
 *
 * const options: OktaClientOptions = { orgUrl: "https://acme.okta.com", apiToken: Redacted.make("00abc…") }
 * const layer = OktaClient.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type OktaClientOptions = {
  /**
   * The org's base URL, e.g. `https://acme.okta.com`. Must be `https://`; plain `http://` is
   * accepted only for loopback hosts (tests, the simulator).
   */
  readonly orgUrl: string | URL
} & OktaCredentials &
  OktaClientSettings

/**
 * One HTTP exchange with Okta, as the operations describe it to {@link OktaClient}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaClient } from "effect-okta-connections"
 *
 * // Another Okta endpoint through the same client (auth, gate, retries, typed errors):
 * const status = Effect.flatMap(OktaClient, (client) =>
 *   client.execute(
 *     { operation: "getApplication", method: "GET", path: "/api/v1/apps/0oa1" },
 *     (_ctx, response) => Effect.succeed(response.status)
 *   )
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaRequest {
  /** The Okta operationId, used in errors and spans. */
  readonly operation: string
  readonly method: "GET" | "POST"
  /** An absolute path below the org URL, its segments already percent-encoded. */
  readonly path: string
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  /** A JSON value, already encoded by its schema. */
  readonly body?: unknown
  /**
   * Whether sending the request twice is harmless. Default true. False for a one-time action
   * (`verify`): it is then retried only after a 429 or a failure to connect.
   */
  readonly replaySafe?: boolean | undefined
  /**
   * The span the call is traced as when the client's `tracing` is on. Default
   * `OktaClient.<operation>`. The HTTP exchanges are its children.
   */
  readonly spanName?: string | undefined
  /** Attributes of that span (ids, never secrets). */
  readonly spanAttributes?: Readonly<Record<string, string>> | undefined
}

/**
 * The service `OktaClient` provides.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaClient } from "effect-okta-connections"
 *
 * const orgUrl = Effect.map(OktaClient, (client) => client.orgUrl)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaClientService {
  /** The normalised org URL (no trailing slash). */
  readonly orgUrl: string
  /** Whether calls are traced (the `tracing` option is not `false`). */
  readonly tracing: boolean
  /**
   * Sends `request` with auth, `Accept`, `User-Agent`, through the shared rate-limit gate, with the
   * per-attempt timeout and the retry policy, in a span when tracing; a 2xx goes to `onSuccess`
   * (with the body cap to read within, and the response headers, read once), anything else
   * becomes its typed error. Redirects are never followed. A body that `onSuccess` leaves unread
   * is not kept: once it succeeds, the request is aborted so the transport drops the connection.
   */
  readonly execute: <A, E extends { readonly _tag: string }>(
    request: OktaRequest,
    onSuccess: (
      context: RequestContext,
      response: HttpClientResponse.HttpClientResponse,
      maxResponseBytes: number,
      headers: Headers.Headers
    ) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError>
}

const DEFAULT_TIMEOUT = Duration.seconds(30)
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" ||
  hostname.endsWith(".localhost") ||
  hostname === "[::1]" ||
  /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * Validates and normalises the org URL. The checks mirror the official SDKs' config checker
 * (admin-console URLs and unreplaced placeholders are the common mistakes) and add the transport
 * rule: credentials only ever travel over TLS, except to this machine.
 *
 * @internal
 */
export const normalizeOrgUrl = (input: string | URL): Effect.Effect<string, OktaConfigError> => {
  const fail = (reason: string) => Effect.fail(new OktaConfigError({ field: "orgUrl", reason }))
  const raw = String(input).trim()
  if (raw.length === 0) return fail("is empty")
  if (/\{yourOktaDomain\}/i.test(raw)) {
    return fail("still contains the {yourOktaDomain} placeholder")
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail("is not an absolute URL (expected something like https://acme.okta.com)")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return fail(`must use https:// (got ${url.protocol}//)`)
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return fail(
      `must use https:// (got http://${url.host}); plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost`
    )
  }
  if (url.username !== "" || url.password !== "") return fail("must not contain user info")
  if (url.search !== "" || url.hash !== "") return fail("must not have a query or fragment")
  if (/-admin\.(okta|oktapreview|okta-emea)\.com$/i.test(url.hostname)) {
    return fail(`points at the Admin Console (${url.hostname}); use the org URL without "-admin"`)
  }
  return Effect.succeed(`${url.origin}${url.pathname.replace(/\/+$/, "")}`)
}

const checkToken = (
  field: "apiToken" | "accessToken",
  token: Redacted.Redacted<string>
): Effect.Effect<string, OktaConfigError> => {
  const fail = (reason: string) => Effect.fail(new OktaConfigError({ field, reason }))
  if (!Redacted.isRedacted(token)) {
    return fail("must be a Redacted<string> (Redacted.make(token)), so it never reaches a log")
  }
  const value = Redacted.value(token)
  if (typeof value !== "string" || value.length === 0) return fail("is empty")
  if (/^(SSWS|Bearer|DPoP)\s/i.test(value)) {
    return fail("includes its scheme prefix (SSWS/Bearer); pass the token alone")
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    return fail("contains whitespace or control characters (a trailing newline from a file?)")
  }
  if (/^\{.*\}$/.test(value)) return fail("is still a {placeholder}")
  return Effect.succeed(value)
}

/**
 * The one `Authorization` value of static credentials, or `undefined` for OAuth (whose tokens come
 * per request). Exactly one kind of credentials must be given.
 */
const authorizationOf = (
  options: OktaCredentials
): Effect.Effect<Redacted.Redacted<string> | undefined, OktaConfigError> => {
  const given = [options.apiToken, options.accessToken, options.oauth].filter(
    (c) => c !== undefined
  )
  if (given.length > 1) {
    return Effect.fail(
      new OktaConfigError({
        field: "credentials",
        reason: "must be one of apiToken, accessToken or oauth, not several"
      })
    )
  }
  if (options.oauth !== undefined) return Effect.succeed(undefined)
  if (options.apiToken !== undefined) {
    return Effect.map(checkToken("apiToken", options.apiToken), (t) => Redacted.make(`SSWS ${t}`))
  }
  if (options.accessToken !== undefined) {
    return Effect.map(checkToken("accessToken", options.accessToken), (t) =>
      Redacted.make(`Bearer ${t}`)
    )
  }
  return Effect.fail(
    new OktaConfigError({
      field: "credentials",
      reason: "are missing: give apiToken, accessToken or oauth"
    })
  )
}

const userAgentOf = (extra: string | undefined): string => {
  const node = typeof process !== "undefined" ? process.versions?.node : undefined
  return [
    `effect-okta-connections/${VERSION}`,
    node !== undefined ? `node/${node}` : undefined,
    extra !== undefined && extra.trim().length > 0 ? extra.trim() : undefined
  ]
    .filter((s) => s !== undefined)
    .join(" ")
}

// Node's fetch follows redirects by default. A 3xx from (or in front of) Okta must surface as
// OktaUnexpectedStatusError instead, so the Authorization header never follows `Location`.
// The other transports (undici.request, node:http) do not follow redirects at all.
let lastInit: globalThis.RequestInit | undefined
let lastManual: globalThis.RequestInit = { redirect: "manual" }
const manualRedirects = (init: globalThis.RequestInit | undefined): globalThis.RequestInit => {
  // Almost always the same (absent) init: merge it once, not per call.
  if (init !== lastInit) {
    lastInit = init
    lastManual = { ...init, redirect: "manual" }
  }
  return lastManual
}

// The verify callback carries a one-time OAuth `code` in its query; the platform's HTTP span would
// record it in `url.full`/`url.query`. Our own operation span (without the query) still covers it.
const isOAuthCallback = (request: HttpClientRequest.HttpClientRequest) =>
  request.url.endsWith("/oauth2/callback")
const always = () => true

/**
 * Runs one call with what the transport must see set around it: the operation span as parent,
 * fetch's `redirect: "manual"`, and the platform's tracer settings (propagation, which requests
 * get an HTTP span). Four `Effect.locally`/`provideService` layers cost a fifth of the client's
 * per-call overhead in the benchmark (each copies the fiber's refs twice), so the fiber's refs
 * are updated here in one step and restored, value by value as `locally` does, in one more.
 */
const withCallRefs = <A, E>(
  effect: Effect.Effect<A, E>,
  span: Tracer.Span | undefined,
  propagation: boolean,
  disabledWhen: (request: HttpClientRequest.HttpClientRequest) => boolean
): Effect.Effect<A, E> =>
  Effect.withFiberRuntime((fiber) => {
    const context = fiber.currentContext
    const savedPropagation = fiber.getFiberRef(HttpClient.currentTracerPropagation)
    const savedDisabledWhen = fiber.getFiberRef(HttpClient.currentTracerDisabledWhen)
    let inner = Context.add(
      context,
      FetchHttpClient.RequestInit,
      manualRedirects(Context.getOrElse(context, FetchHttpClient.RequestInit, () => undefined))
    )
    if (span !== undefined) inner = Context.add(inner, Tracer.ParentSpan, span)
    const set = (
      value: Context.Context<never>,
      propagate: boolean,
      disabled: (request: HttpClientRequest.HttpClientRequest) => boolean
    ) =>
      Effect.updateFiberRefs((fiberId, refs) =>
        FiberRefs.updateManyAs(refs, {
          entries: [
            [FiberRef.currentContext, [[fiberId, value]]],
            [HttpClient.currentTracerPropagation, [[fiberId, propagate]]],
            [HttpClient.currentTracerDisabledWhen, [[fiberId, disabled]]]
          ]
        })
      )
    return Effect.onExit(Effect.zipRight(set(inner, propagation, disabledWhen), effect), () =>
      set(context, savedPropagation, savedDisabledWhen)
    )
  })

/**
 * Builds the service from its options. Fails with `OktaConfigError` on an unusable org URL,
 * credential or setting.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: OktaClientOptions
): Effect.Effect<OktaClientService, OktaConfigError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const orgUrl = yield* normalizeOrgUrl(options.orgUrl)
    const timeoutMillis = Duration.toMillis(Duration.decode(options.timeout ?? DEFAULT_TIMEOUT))
    if (!(timeoutMillis > 0)) {
      return yield* new OktaConfigError({ field: "timeout", reason: "must be a positive duration" })
    }
    const deadlineMillis =
      options.deadline !== undefined
        ? Duration.toMillis(Duration.decode(options.deadline))
        : undefined
    if (deadlineMillis !== undefined && !(deadlineMillis > 0)) {
      return yield* new OktaConfigError({
        field: "deadline",
        reason: "must be a positive duration"
      })
    }
    const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES
    if (!Number.isInteger(maxResponseBytes) || maxResponseBytes <= 0) {
      return yield* new OktaConfigError({
        field: "maxResponseBytes",
        reason: "must be a positive integer"
      })
    }
    const clientPolicy =
      options.retry === false ? RetryPolicy.disabled : (options.retry ?? RetryPolicy.defaultPolicy)
    // SSWS and static Bearer tokens are one header, set once; OAuth tokens come per request.
    const staticAuthorization = yield* authorizationOf(options)
    const tokens =
      options.oauth !== undefined ? yield* makeTokenProvider(orgUrl, options.oauth) : undefined
    const baseHeaders = Headers.fromInput({
      accept: "application/json",
      "user-agent": userAgentOf(options.userAgentExtra),
      ...(staticAuthorization !== undefined
        ? { authorization: Redacted.value(staticAuthorization) }
        : {})
    })
    // One request per method with the headers every call sends; a call only sets its URL.
    const templates = {
      GET: HttpClientRequest.get(orgUrl, { headers: baseHeaders }),
      POST: HttpClientRequest.post(orgUrl, { headers: baseHeaders })
    }
    const tracing = (options.tracing ?? true) !== false
    const propagation = options.tracerPropagation ?? false
    // The platform's per-attempt HTTP spans only on request ("exchanges"), and never for the
    // verify callback, whose URL carries the one-time code.
    const disabledWhen = options.tracing === "exchanges" ? isOAuthCallback : always
    // Without the platform's HTTP spans there is none for it to propagate: the call's span is sent.
    const propagateCallSpan = propagation && tracing && options.tracing !== "exchanges"
    const serverAddress = new URL(orgUrl).host
    const base = yield* HttpClient.HttpClient
    const client = options.transformClient !== undefined ? options.transformClient(base) : base
    const gateOptions = {
      resetJitterMillis: Duration.toMillis(clientPolicy.resetJitter),
      adaptiveConcurrency: clientPolicy.adaptiveConcurrency
    }
    const gate = new RateLimitGate(gateOptions)
    // The token endpoint has its own rate-limit bucket at Okta, so its own gate.
    const tokenGate = new RateLimitGate(gateOptions)
    const metrics = (options.metrics ?? true) ? makeRecorder() : undefined
    const run = makeRunner({ clientPolicy, deadlineMillis, metrics })
    const attemptTimeout = makeExchangeTimeout(timeoutMillis)

    /**
     * One exchange: send within `timeout`, feed `gate`, then `onResponse` with the response (any
     * status) and its headers (read once: the platform rebuilds them on every access). The gate
     * slot is released however the attempt ends.
     */
    const send = <A, E>(
      ctx: RequestContext,
      sendGate: RateLimitGate,
      request: HttpClientRequest.HttpClientRequest,
      onResponse: (
        response: HttpClientResponse.HttpClientResponse,
        headers: Headers.Headers
      ) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | OktaTransportError | OktaTimeoutError> =>
      Effect.withFiberRuntime((fiber) => {
        // The clock and metric labels are read once here; the response handler then runs as
        // plain code (no further effects before `onResponse`).
        const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
        const labels =
          metrics !== undefined ? fiber.getFiberRef(FiberRef.currentMetricLabels) : undefined
        // With tracing, the current span is the call's own (never the caller's); the token
        // endpoint's exchanges are not the call's result.
        const current = tracing && ctx !== TOKEN_CONTEXT ? fiber.currentSpan : undefined
        const span = current?._tag === "Span" ? current : undefined
        const startedAt = clock.unsafeCurrentTimeMillis()
        let observed = false
        const exchange = (sent: HttpClientRequest.HttpClientRequest) =>
          Effect.matchEffect(client.execute(sent), {
            onFailure: (error) => Effect.fail(transportError(ctx, error)),
            onSuccess: (response) => {
              const headers = response.headers
              const now = clock.unsafeCurrentTimeMillis()
              observed = true
              sendGate.observe(headers, now)
              if (span !== undefined) {
                span.attribute("http.response.status_code", response.status)
                const requestId = headers["x-okta-request-id"]
                if (requestId !== undefined) span.attribute("okta.request_id", requestId)
              }
              if (metrics !== undefined && labels !== undefined) {
                metrics.response(ctx.operation, response.status, headers, now - startedAt, labels)
              }
              return Effect.map(onResponse(response, headers), (value) => {
                // A 2xx whose body nobody read: let the transport drop the connection.
                if (!fullyRead.has(response)) releaseRequest(sent)
                return value
              })
            }
          })
        return Effect.onExit(
          attemptTimeout.run(
            propagateCallSpan && span !== undefined
              ? HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span))
              : request,
            exchange,
            () => new OktaTimeoutError({ ...ctx, timeoutMillis, kind: "attempt" })
          ),
          (exit) => {
            if (!observed) sendGate.release()
            if (metrics === undefined || observed || exit._tag === "Success") return Effect.void
            const error = Cause.failureOption(exit.cause)
            const status =
              Option.isSome(error) &&
              (error.value as { readonly _tag?: unknown })._tag === "OktaTimeoutError"
                ? "timeout"
                : "transport"
            return metrics.failure(ctx.operation, status)
          }
        )
      })

    /** Fetches and caches a token: the token endpoint with its gate, timeout and retry rules. */
    const fetchToken =
      tokens === undefined
        ? undefined
        : run(
            TOKEN_CONTEXT,
            tokenGate,
            true,
            ({ retryHeaders }) =>
              Effect.flatMap(tokens.buildTokenRequest(retryHeaders), ({ headers, form }) =>
                send(
                  TOKEN_CONTEXT,
                  tokenGate,
                  HttpClientRequest.post(tokens.tokenUrl, {
                    headers: { "user-agent": baseHeaders["user-agent"] ?? "", ...headers },
                    body: HttpBody.urlParams(UrlParams.fromInput(form))
                  }),
                  (response, headers) =>
                    Effect.flatMap(
                      Effect.catchTag(
                        readText(TOKEN_CONTEXT, response, headers, maxResponseBytes),
                        "BodyTooLarge",
                        () => Effect.succeed("")
                      ),
                      (text) =>
                        Effect.catchIf(
                          tokens.readTokenResponse(response, text),
                          (e): e is "NotOAuth" => e === "NotOAuth",
                          () => httpErrorFromText(TOKEN_CONTEXT, response, headers, text)
                        )
                    )
                )
              ),
            (error) => Effect.succeed(tokens.repairToken(error))
          )

    /** The call's span (with `tracing`) and the fiber refs the transport reads, around `call`. */
    const scoped = <A, E>(request: OktaRequest, call: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      tracing
        ? Effect.useSpan(
            request.spanName ?? `OktaClient.${request.operation}`,
            { captureStackTrace: false },
            (span) => {
              // Set one by one: a merged attributes object (keys with dots, built per call) was
              // measurably slower to build and to copy into the span.
              const attributes = request.spanAttributes
              if (attributes !== undefined) {
                for (const key in attributes) span.attribute(key, attributes[key])
              }
              span.attribute("http.request.method", request.method)
              span.attribute("url.path", request.path)
              span.attribute("server.address", serverAddress)
              return withCallRefs(call, span, propagation, disabledWhen)
            }
          )
        : withCallRefs(call, undefined, propagation, disabledWhen)

    const execute = <A, E extends { readonly _tag: string }>(
      request: OktaRequest,
      onSuccess: (
        context: RequestContext,
        response: HttpClientResponse.HttpClientResponse,
        maxResponseBytes: number,
        headers: Headers.Headers
      ) => Effect.Effect<A, E>
    ): Effect.Effect<
      A,
      E | OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError
    > => {
      type Failure = E | OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError
      const ctx: RequestContext = {
        operation: request.operation,
        method: request.method,
        path: request.path
      }
      const url = orgUrl + request.path
      let httpRequest = HttpClientRequest.setUrl(templates[request.method], url)
      if (request.urlParams !== undefined) {
        httpRequest = HttpClientRequest.setUrlParams(httpRequest, request.urlParams)
      }
      if (request.body !== undefined) {
        httpRequest = HttpClientRequest.bodyUnsafeJson(httpRequest, request.body)
      }
      const replaySafe = request.replaySafe ?? true

      const onResponse = (
        response: HttpClientResponse.HttpClientResponse,
        headers: Headers.Headers
      ): Effect.Effect<A, Failure> => {
        if (response.status >= 200 && response.status < 300) {
          return onSuccess(ctx, response, maxResponseBytes, headers)
        }
        const nonce = headers["dpop-nonce"]
        if (tokens !== undefined && nonce !== undefined) tokens.setApiNonce(nonce)
        return httpError(ctx, response, headers, maxResponseBytes)
      }
      const withRetryHeaders = (info: AttemptInfo) =>
        info.retryHeaders !== undefined
          ? HttpClientRequest.setHeaders(httpRequest, info.retryHeaders)
          : httpRequest

      // Static credentials (the common case) need no per-attempt work before sending.
      if (tokens === undefined || fetchToken === undefined) {
        return scoped(
          request,
          run(ctx, gate, replaySafe, (info) => send(ctx, gate, withRetryHeaders(info), onResponse))
        )
      }
      return scoped(
        request,
        Effect.suspend(() => {
          // The authorization the last attempt of this run sent, to drop exactly that token on
          // `invalid_token`.
          let sentAuthorization: string | undefined
          const attempt = (info: AttemptInfo): Effect.Effect<A, Failure> =>
            Effect.flatMap(tokens.headersFor(request.method, url, fetchToken), (auth) => {
              sentAuthorization = auth["authorization"]
              return send(
                ctx,
                gate,
                HttpClientRequest.setHeaders(withRetryHeaders(info), auth),
                onResponse
              )
            })
          // A 401 that says the token is invalid or expired, or that asks for a DPoP nonce, is
          // repaired at once (one fresh token, one nonce), not counted as a retry.
          const repair = (error: { readonly _tag: string }) =>
            Effect.sync(() => {
              if (error._tag !== "OktaUnauthorizedError") return false
              const challenge = (error as OktaUnauthorizedError).challenge?.error
              if (challenge === "use_dpop_nonce") return true
              if (challenge === "invalid_token" && sentAuthorization !== undefined) {
                tokens.invalidate(sentAuthorization)
                return true
              }
              return false
            })
          return run(ctx, gate, replaySafe, attempt, repair)
        })
      )
    }

    return { orgUrl, tracing, execute } satisfies OktaClientService
  })

/**
 * Options of {@link OktaClient.layerConfig}: each value is an Effect `Config`, so the application
 * chooses where it comes from. Defaults are Okta's standard variables.
 *
 * @example
 * ```ts
 * import { Config } from "effect"
 * import { OktaClient } from "effect-okta-connections"
 *
 * const layer = OktaClient.layerConfig({ orgUrl: Config.string("MY_OKTA_URL"), timeout: "10 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaClientConfigOptions extends OktaClientSettings {
  /** Default `Config.string("OKTA_CLIENT_ORGURL")`. */
  readonly orgUrl?: Config.Config<string | URL> | undefined
  /** Default `Config.redacted("OKTA_CLIENT_TOKEN")` (an SSWS API token). Ignored when `accessToken` is given. */
  readonly apiToken?: Config.Config<Redacted.Redacted<string>> | undefined
  /** An OAuth 2.0 access token (sent as `Bearer`). When given, it is used instead of `apiToken`. */
  readonly accessToken?: Config.Config<Redacted.Redacted<string>> | undefined
  /**
   * `SSWS` (an API token) or `PrivateKey` (an OAuth 2.0 service app). Default
   * `OKTA_CLIENT_AUTHORIZATIONMODE`, or `SSWS` when unset.
   */
  readonly authorizationMode?: Config.Config<string> | undefined
  /** PrivateKey mode: the service app's client id. Default `OKTA_CLIENT_CLIENTID`. */
  readonly clientId?: Config.Config<string> | undefined
  /** PrivateKey mode: scopes, separated by spaces or commas. Default `OKTA_CLIENT_SCOPES`. */
  readonly scopes?: Config.Config<string> | undefined
  /** PrivateKey mode: PKCS#8 PEM or private JWK (JSON). Default `OKTA_CLIENT_PRIVATEKEY`. */
  readonly privateKey?: Config.Config<Redacted.Redacted<string>> | undefined
  /** PrivateKey mode: the key id. Default `OKTA_CLIENT_KEYID`, optional. */
  readonly keyId?: Config.Config<string> | undefined
  /** PrivateKey mode: request DPoP-bound tokens from the start. */
  readonly dpop?: boolean | undefined
}

/**
 * The Okta org client every operation runs through. Provide it with {@link OktaClient.layer}
 * (explicit values) or {@link OktaClient.layerConfig} (from the environment); both need an
 * `HttpClient` (e.g. `FetchHttpClient.layer`).
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer, Redacted } from "effect"
 * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
 *
 * const Live = ApplicationConnections.layer.pipe(
 *   Layer.provide(OktaClient.layer({ orgUrl: "https://acme.okta.com", apiToken: Redacted.make("00abc…") })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class OktaClient extends Context.Tag("effect-okta-connections/OktaClient")<
  OktaClient,
  OktaClientService
>() {
  /**
   * A layer from explicit options. Fails to build with `OktaConfigError` when the org URL or token
   * is unusable (the message says what is wrong; it never contains the token).
   *
   * @example
   * ```ts
   * import { Redacted } from "effect"
   * import { OktaClient } from "effect-okta-connections"
   *
   * const ssws = OktaClient.layer({ orgUrl: "https://acme.okta.com", apiToken: Redacted.make("00abc…") })
   * const bearer = OktaClient.layer({ orgUrl: "https://acme.okta.com", accessToken: Redacted.make("eyJ…") })
   * ```
   */
  static layer(
    options: OktaClientOptions
  ): Layer.Layer<OktaClient, OktaConfigError, HttpClient.HttpClient> {
    return Layer.effect(OktaClient, make(options))
  }

  /**
   * A layer configured from Effect `Config` (by default the environment): `OKTA_CLIENT_ORGURL` and
   * `OKTA_CLIENT_TOKEN`, Okta's standard variables. Each can be replaced by any `Config`.
   *
   * @example
   * ```ts
   * import { Config } from "effect"
   * import { OktaClient } from "effect-okta-connections"
   *
   * const fromEnv = OktaClient.layerConfig()
   * const custom = OktaClient.layerConfig({
   *   orgUrl: Config.string("MY_OKTA_URL"),
   *   accessToken: Config.redacted("MY_OKTA_ACCESS_TOKEN"),
   *   timeout: "10 seconds"
   * })
   * ```
   */
  static layerConfig(
    options: OktaClientConfigOptions = {}
  ): Layer.Layer<OktaClient, ConfigError.ConfigError | OktaConfigError, HttpClient.HttpClient> {
    const {
      orgUrl,
      apiToken,
      accessToken,
      authorizationMode,
      clientId,
      scopes,
      privateKey,
      keyId,
      dpop,
      ...settings
    } = options
    return Layer.effect(
      OktaClient,
      Effect.gen(function* () {
        const url = yield* orgUrl ?? Config.string("OKTA_CLIENT_ORGURL")
        const mode = (yield* (
          authorizationMode ??
          Config.string("OKTA_CLIENT_AUTHORIZATIONMODE").pipe(Config.withDefault("SSWS"))
        ))
          .trim()
          .toLowerCase()
        let credentials: OktaCredentials
        if (accessToken !== undefined) {
          credentials = { accessToken: yield* accessToken }
        } else if (mode === "privatekey") {
          const scopeList = (yield* scopes ?? Config.string("OKTA_CLIENT_SCOPES"))
            .split(/[\s,]+/)
            .filter((scope) => scope !== "")
          const kid = yield* Config.option(keyId ?? Config.string("OKTA_CLIENT_KEYID"))
          credentials = {
            oauth: {
              clientId: yield* clientId ?? Config.string("OKTA_CLIENT_CLIENTID"),
              scopes: scopeList,
              privateKey: yield* privateKey ?? Config.redacted("OKTA_CLIENT_PRIVATEKEY"),
              ...(Option.isSome(kid) ? { keyId: kid.value } : {}),
              ...(dpop !== undefined ? { dpop } : {})
            }
          }
        } else if (mode === "ssws") {
          credentials = { apiToken: yield* apiToken ?? Config.redacted("OKTA_CLIENT_TOKEN") }
        } else {
          return yield* new OktaConfigError({
            field: "authorizationMode",
            reason: "must be SSWS or PrivateKey"
          })
        }
        return yield* make({ ...settings, orgUrl: url, ...credentials })
      })
    )
  }
}
