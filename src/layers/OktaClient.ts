/**
 * `OktaClient`: the org URL, credentials, default headers and per-attempt timeout of every call,
 * and the one place where an HTTP exchange becomes a value or a typed error.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import {
  OktaConfigError,
  type OktaHttpError,
  OktaTimeoutError,
  type OktaTransportError
} from "../errors/OktaError.js"
import { RateLimitGate } from "../internal/gate.js"
import { httpError, type RequestContext, transportError } from "../internal/response.js"
import * as OktaMetrics from "./metrics.js"
import * as RetryPolicy from "./RetryPolicy.js"
import { VERSION } from "../version.js"

/**
 * How the client authenticates: an SSWS API token (`Authorization: SSWS …`) or an OAuth 2.0
 * access token obtained elsewhere (`Authorization: Bearer …`). Either is `Redacted` from config to
 * the one place that writes the header.
 *
 * @since 0.1.0
 * @category models
 */
export type OktaCredentials =
  | { readonly apiToken: Redacted.Redacted<string>; readonly accessToken?: never }
  | { readonly accessToken: Redacted.Redacted<string>; readonly apiToken?: never }

/**
 * Options of {@link OktaClient.layer} that are not credentials or the org URL.
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaClientSettings {
  /**
   * Per-attempt timeout: from sending the request to having read the whole response body.
   * Default 30 seconds. `OktaTimeoutError` when exceeded.
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Appended to the `User-Agent` (e.g. `"my-provisioner/1.4"`), to tell your traffic apart in Okta's System Log. */
  readonly userAgentExtra?: string | undefined
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
}

/**
 * The service `OktaClient` provides.
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaClientService {
  /** The normalised org URL (no trailing slash). */
  readonly orgUrl: string
  /**
   * Sends `request` with auth, `Accept`, `User-Agent`, through the shared rate-limit gate, with the
   * per-attempt timeout and the retry policy; a 2xx goes to `onSuccess` (with the body cap to
   * read within), anything else becomes its typed error. Redirects are never followed.
   */
  readonly execute: <A, E extends { readonly _tag: string }>(
    request: OktaRequest,
    onSuccess: (
      context: RequestContext,
      response: HttpClientResponse.HttpClientResponse,
      maxResponseBytes: number
    ) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError>
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

const authorizationOf = (
  options: OktaCredentials
): Effect.Effect<Redacted.Redacted<string>, OktaConfigError> => {
  const hasApiToken = options.apiToken !== undefined
  const hasAccessToken = options.accessToken !== undefined
  if (hasApiToken && hasAccessToken) {
    return Effect.fail(
      new OktaConfigError({
        field: "credentials",
        reason: "must be apiToken or accessToken, not both"
      })
    )
  }
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
      reason: "are missing: give apiToken or accessToken"
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
const withoutFetchRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
    Effect.provideService(effect, FetchHttpClient.RequestInit, {
      ...Option.getOrUndefined(init),
      redirect: "manual"
    })
  )

// The verify callback carries a one-time OAuth `code` in its query; the platform's HTTP span would
// record it in `url.full`/`url.query`. Our own operation span (without the query) still covers it.
const isOAuthCallback = (request: HttpClientRequest.HttpClientRequest) =>
  request.url.endsWith("/oauth2/callback")

/**
 * Builds the service from its options. Fails with `OktaConfigError` on an unusable org URL, token
 * or setting.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: OktaClientOptions
): Effect.Effect<OktaClientService, OktaConfigError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const orgUrl = yield* normalizeOrgUrl(options.orgUrl)
    const authorization = yield* authorizationOf(options)
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
    const baseHeaders = Headers.fromInput({
      accept: "application/json",
      "user-agent": userAgentOf(options.userAgentExtra),
      authorization: Redacted.value(authorization)
    })
    const base = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerPropagation(options.tracerPropagation ?? false),
      HttpClient.withTracerDisabledWhen(isOAuthCallback)
    )
    const client = options.transformClient !== undefined ? options.transformClient(base) : base
    const gate = new RateLimitGate({
      resetJitterMillis: Duration.toMillis(clientPolicy.resetJitter),
      adaptiveConcurrency: clientPolicy.adaptiveConcurrency
    })
    const metrics = (options.metrics ?? true) ? makeRecorder() : undefined

    const execute = <A, E extends { readonly _tag: string }>(
      request: OktaRequest,
      onSuccess: (
        context: RequestContext,
        response: HttpClientResponse.HttpClientResponse,
        maxResponseBytes: number
      ) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError> => {
      const ctx: RequestContext = {
        operation: request.operation,
        method: request.method,
        path: request.path
      }
      let httpRequest = HttpClientRequest.make(request.method)(orgUrl + request.path, {
        headers: baseHeaders,
        urlParams: request.urlParams
      })
      if (request.body !== undefined) {
        httpRequest = HttpClientRequest.bodyUnsafeJson(httpRequest, request.body)
      }
      const replaySafe = request.replaySafe ?? true

      /** One attempt: send, feed the gate, map the status, read the body; within `timeout`. */
      const attempt = (
        sent: HttpClientRequest.HttpClientRequest
      ): Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError> => {
        let observed = false
        return Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
          client.execute(sent).pipe(
            Effect.mapError((error) => transportError(ctx, error)),
            Effect.flatMap((response) =>
              Effect.flatMap(
                Clock.currentTimeMillis,
                (now): Effect.Effect<A, E | OktaHttpError | OktaTransportError> => {
                  observed = true
                  gate.observe(response.headers, now)
                  const outcome: Effect.Effect<A, E | OktaHttpError | OktaTransportError> =
                    response.status >= 200 && response.status < 300
                      ? onSuccess(ctx, response, maxResponseBytes)
                      : httpError(ctx, response, maxResponseBytes)
                  return metrics === undefined
                    ? outcome
                    : Effect.zipRight(
                        metrics.response(ctx.operation, response, now - startedAt),
                        outcome
                      )
                }
              )
            ),
            withoutFetchRedirects,
            Effect.timeoutFail({
              duration: timeoutMillis,
              onTimeout: () => new OktaTimeoutError({ ...ctx, timeoutMillis, kind: "attempt" })
            }),
            Effect.onExit((exit) =>
              Effect.suspend(() => {
                if (!observed) gate.release()
                if (metrics === undefined || observed || exit._tag === "Success") return Effect.void
                const error = Cause.failureOption(exit.cause)
                const status =
                  Option.isSome(error) && error.value._tag === "OktaTimeoutError"
                    ? "timeout"
                    : "transport"
                return metrics.failure(ctx.operation, status)
              })
            )
          )
        )
      }

      const loop = Effect.gen(function* () {
        const policy = Option.getOrElse(
          yield* FiberRef.get(RetryPolicy.currentOverride),
          () => clientPolicy
        )
        const startedAt = yield* Clock.currentTimeMillis
        const deadlineAt = deadlineMillis !== undefined ? startedAt + deadlineMillis : undefined
        const backoff = RetryPolicy.makeStepper(policy.backoff)
        const concurrencyBackoff = RetryPolicy.makeStepper(policy.concurrencyBackoff)
        const pastDeadline = () =>
          new OktaTimeoutError({ ...ctx, timeoutMillis: deadlineMillis ?? 0, kind: "deadline" })
        const jitterMillis = Duration.toMillis(policy.resetJitter)
        let retries = 0
        let retryFor: string | undefined

        while (true) {
          yield* gate.acquire((wait) =>
            Effect.gen(function* () {
              const now = yield* Clock.currentTimeMillis
              if (
                deadlineAt !== undefined &&
                wait.millis !== undefined &&
                now + wait.millis > deadlineAt
              ) {
                return yield* pastDeadline()
              }
              yield* visible(ctx, "okta.gate_wait", {
                reason: wait.reason,
                delay_ms: wait.millis ?? -1
              })
              if (metrics !== undefined) yield* metrics.gateWait(ctx.operation, wait.reason)
            })
          )
          const sent =
            retries === 0
              ? httpRequest
              : HttpClientRequest.setHeaders(httpRequest, {
                  "x-okta-retry-count": String(retries),
                  ...(retryFor !== undefined ? { "x-okta-retry-for": retryFor } : {})
                })
          const exit = yield* Effect.exit(attempt(sent))
          if (exit._tag === "Success") return exit.value
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure)) return yield* exit
          const error = failure.value
          if (!isRetryable(error) || retries >= policy.maxRetries) return yield* exit

          const classification = RetryPolicy.classify(error, replaySafe)
          if (classification._tag === "Stop") return yield* exit
          const now = yield* Clock.currentTimeMillis
          let delay: number | undefined
          let reason: RetryPolicy.RetryReason
          if (classification._tag === "WindowReset") {
            reason = "rate_limit"
            const untilReset = classification.resetMillis - gate.serverNow(now)
            if (untilReset > Duration.toMillis(policy.maxRateLimitWait)) return yield* exit
            if (untilReset > 0) {
              const jitter =
                jitterMillis > 0 ? yield* Random.nextIntBetween(0, jitterMillis + 1) : 0
              delay = untilReset + jitter
            }
          } else {
            reason = classification.reason
          }
          if (delay === undefined) {
            // No usable reset (missing, or already past on our estimate of the server clock):
            // back off instead of retrying at once.
            const concurrency = classification._tag === "Backoff" && classification.concurrency
            const step = yield* (concurrency ? concurrencyBackoff : backoff)(now, error)
            if (Option.isNone(step)) return yield* exit
            delay = step.value
          }
          if (deadlineAt !== undefined && now + delay > deadlineAt) return yield* pastDeadline()
          retries += 1
          retryFor ??= requestIdOf(error)
          yield* visible(ctx, "okta.retry", {
            reason,
            attempt: retries,
            delay_ms: delay,
            ...("status" in error && typeof error.status === "number"
              ? { status: error.status }
              : {})
          })
          if (metrics !== undefined) yield* metrics.retry(ctx.operation, reason)
          yield* Effect.sleep(delay)
        }
      })
      return deadlineMillis === undefined
        ? loop
        : Effect.timeoutFail(loop, {
            duration: deadlineMillis,
            onTimeout: () =>
              new OktaTimeoutError({ ...ctx, timeoutMillis: deadlineMillis, kind: "deadline" })
          })
    }

    return { orgUrl, execute } satisfies OktaClientService
  })

const RETRYABLE_TAGS = new Set([
  "OktaRateLimitError",
  "OktaServerError",
  "OktaTransportError",
  "OktaTimeoutError"
])

const isRetryable = (error: { readonly _tag: string }): error is RetryPolicy.RetryableError =>
  RETRYABLE_TAGS.has(error._tag)

const requestIdOf = (error: RetryPolicy.RetryableError): string | undefined =>
  "requestId" in error && typeof error.requestId === "string" ? error.requestId : undefined

/** A retry or a gate wait: a debug log line and an event on the current span. */
const visible = (
  ctx: RequestContext,
  name: "okta.retry" | "okta.gate_wait",
  attributes: Record<string, string | number>
) =>
  Effect.gen(function* () {
    const span = yield* Effect.option(Effect.currentSpan)
    if (Option.isSome(span)) {
      span.value.event(name, yield* Clock.currentTimeNanos, {
        operation: ctx.operation,
        ...attributes
      })
    }
    yield* Effect.logDebug(
      name === "okta.retry" ? "Okta call retried" : "Okta call held at the rate-limit gate"
    ).pipe(Effect.annotateLogs({ operation: ctx.operation, ...attributes }))
  })

/** The metric updates, with tagged metrics cached per tag set (they are built once, not per call). */
const makeRecorder = () => {
  const cache = new Map<string, Metric.Metric.Counter<number>>()
  const counter = (
    metric: Metric.Metric.Counter<number>,
    key: string,
    tags: Record<string, string>
  ) => {
    let tagged = cache.get(key)
    if (tagged === undefined) {
      tagged = Metric.taggedWithLabels(
        metric,
        Object.entries(tags).map(([k, v]) => MetricLabel.make(k, v))
      )
      cache.set(key, tagged)
    }
    return Metric.increment(tagged)
  }
  const durations = new Map<string, Metric.Metric.Histogram<number>>()
  const duration = (operation: string) => {
    let tagged = durations.get(operation)
    if (tagged === undefined) {
      tagged = Metric.tagged(OktaMetrics.requestDuration, "operation", operation)
      durations.set(operation, tagged)
    }
    return tagged
  }
  return {
    response: (
      operation: string,
      response: HttpClientResponse.HttpClientResponse,
      millis: number
    ) => {
      const remaining = response.headers["x-rate-limit-remaining"]
      const value = remaining !== undefined ? Number.parseInt(remaining, 10) : Number.NaN
      return Effect.all(
        [
          counter(OktaMetrics.requests, `r|${operation}|${response.status}`, {
            operation,
            status: String(response.status)
          }),
          Metric.update(duration(operation), millis),
          Number.isFinite(value) ? Metric.set(OktaMetrics.rateLimitRemaining, value) : Effect.void
        ],
        { discard: true }
      )
    },
    failure: (operation: string, status: "transport" | "timeout") =>
      counter(OktaMetrics.requests, `r|${operation}|${status}`, { operation, status }),
    retry: (operation: string, reason: string) =>
      counter(OktaMetrics.retries, `t|${operation}|${reason}`, { operation, reason }),
    gateWait: (operation: string, reason: string) =>
      counter(OktaMetrics.gateWaits, `g|${operation}|${reason}`, { operation, reason })
  }
}

/**
 * Options of {@link OktaClient.layerConfig}: each value is an Effect `Config`, so the application
 * chooses where it comes from. Defaults are Okta's standard variables.
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
    const { orgUrl, apiToken, accessToken, ...settings } = options
    return Layer.effect(
      OktaClient,
      Effect.gen(function* () {
        const url = yield* orgUrl ?? Config.string("OKTA_CLIENT_ORGURL")
        const credentials: OktaCredentials =
          accessToken !== undefined
            ? { accessToken: yield* accessToken }
            : { apiToken: yield* apiToken ?? Config.redacted("OKTA_CLIENT_TOKEN") }
        return yield* make({ ...settings, orgUrl: url, ...credentials })
      })
    )
  }
}
