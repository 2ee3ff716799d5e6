/**
 * `OktaClient`: one `HttpClient` pipeline configured for an Okta org (base URL, default headers,
 * credentials, redirect and tracer settings), and `execute`, which runs a request through the
 * rate-limit gate, the per-attempt timeout and the retry policy, and turns the response into a
 * value or a typed error.
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schema from "effect/Schema"
import type * as Tracer from "effect/Tracer"
import {
  type OktaAuthError,
  type OktaConfigError,
  type OktaDecodeError,
  type OktaHttpError,
  OktaTimeoutError,
  type OktaTransportError
} from "../errors/OktaError.js"
import * as Auth from "../internal/auth.js"
import { RateLimitGate } from "../internal/gate.js"
import * as Metrics from "../internal/metrics.js"
import * as Exchange from "../internal/exchange.js"
import { configureFetch } from "../internal/fetchBody.js"
import { type Call, httpError, makeResponse, readErrorText } from "../internal/reader.js"
import * as Retry from "../internal/retry.js"
import {
  authorizationOf,
  fromConfig,
  normalizeOrgUrl,
  type OktaClientConfigOptions,
  type OktaClientOptions,
  resolveSettings
} from "./OktaClientOptions.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * One HTTP exchange with Okta, as an operation describes it to {@link OktaClient}.
 *
 * @example
 * ```ts
 * import type { OktaRequest } from "effect-okta-connections"
 *
 * const getApp: OktaRequest = { operation: "getApplication", method: "GET", path: "/api/v1/apps/0oa1" }
 * ```
 */
export interface OktaRequest {
  /** The Okta operationId, used in errors, spans and metrics. */
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
  /** The body as text. */
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
   * gate, with the per-attempt timeout and the retry policy, in a span when tracing. A 2xx goes to
   * `decode`; any other status becomes its typed error. Redirects are never followed.
   */
  readonly execute: <A, E>(
    request: OktaRequest,
    decode: (response: OktaResponse) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError>
}

// The platform traces the verify callback's URL, whose query is the one-time OAuth code.
const isOAuthCallback = (request: HttpClientRequest.HttpClientRequest) =>
  request.url.endsWith("/oauth2/callback")

/**
 * Builds the service. Fails with `OktaConfigError` on an unusable org URL, credential or setting.
 */
export const make = (
  options: OktaClientOptions
): Effect.Effect<OktaClientService, OktaConfigError, HttpClient.HttpClient> =>
  Effect.gen(function* () {
    const orgUrl = yield* normalizeOrgUrl(options.orgUrl)
    const settings = yield* resolveSettings(options)
    const authorization = yield* authorizationOf(options)
    const recorder = settings.metrics ? Metrics.make() : Metrics.none
    const clientPolicy = settings.retry
    const gateOptions = {
      resetJitterMillis: Duration.toMillis(clientPolicy.resetJitter),
      adaptiveConcurrency: clientPolicy.adaptiveConcurrency
    }
    const gate = new RateLimitGate(gateOptions)
    // The token endpoint has its own rate-limit bucket at Okta, so its own gate.
    const tokenGate = new RateLimitGate(gateOptions)
    const tracing = settings.tracing !== false
    const exchanges = settings.tracing === "exchanges"
    const serverAddress = new URL(orgUrl).host

    // The pipeline every request goes through, configured once.
    const transport = yield* HttpClient.HttpClient
    const shared = configureFetch(transport).pipe(
      HttpClient.withTracerDisabledWhen(exchanges ? isOAuthCallback : () => true),
      HttpClient.withTracerPropagation(settings.tracerPropagation)
    )
    const configured = shared.pipe(
      // API paths are relative to the org; the token endpoint's URL is absolute already.
      HttpClient.mapRequest((request) =>
        request.url.startsWith("/") ? HttpClientRequest.prependUrl(request, orgUrl) : request
      ),
      HttpClient.mapRequest(
        HttpClientRequest.setHeaders({
          accept: "application/json",
          "user-agent": settings.userAgent,
          ...(authorization !== undefined ? { authorization: Redacted.value(authorization) } : {})
        })
      )
    )
    const transformed =
      options.transformClient !== undefined ? options.transformClient(configured) : configured

    const exchange = Exchange.make(settings.timeoutMillis, recorder)

    const policyOf = Effect.map(FiberRef.get(RetryPolicy.currentRetryPolicy), (override) =>
      Option.getOrElse(override, () => clientPolicy)
    )
    const retry = <A, E>(
      call: Call,
      sendGate: RateLimitGate,
      span: Tracer.Span | undefined,
      replaySafe: boolean,
      attempt: (retryHeaders: Record<string, string> | undefined) => Effect.Effect<A, E>,
      repair?: (error: E) => boolean
    ) =>
      Effect.flatMap(policyOf, (policy) =>
        Retry.run({
          call,
          gate: sendGate,
          policy,
          replaySafe,
          deadlineMillis: settings.deadlineMillis,
          recorder,
          span,
          attempt,
          repair
        })
      )

    const auth =
      options.oauth === undefined
        ? Auth.staticCredentials
        : yield* Auth.oauth(orgUrl, options.oauth, settings.userAgent, {
            send: (request) =>
              exchange<Auth.TokenAnswer, OktaTransportError, never>(
                {
                  call: Auth.TOKEN_CALL,
                  gate: tokenGate,
                  span: undefined,
                  client: transformed,
                  request
                },
                (response, headers) =>
                  Effect.map(
                    readErrorText(Auth.TOKEN_CALL, response, headers, settings.maxResponseBytes),
                    (text) => ({ status: response.status, headers, text })
                  )
              ),
            retry: (attempt, repair) =>
              retry(Auth.TOKEN_CALL, tokenGate, undefined, true, attempt, repair)
          })
    const client: HttpClient.HttpClient.With<HttpClientError.HttpClientError | Auth.TokenError> =
      auth.authorize !== undefined
        ? HttpClient.mapRequestEffect(transformed, auth.authorize)
        : transformed

    const execute = <A, E>(
      request: OktaRequest,
      decode: (response: OktaResponse) => Effect.Effect<A, E>
    ): Effect.Effect<
      A,
      E | OktaHttpError | OktaTransportError | OktaTimeoutError | OktaAuthError
    > => {
      const call: Call = {
        operation: request.operation,
        method: request.method,
        path: request.path
      }
      let httpRequest = HttpClientRequest.make(request.method)(request.path)
      if (request.urlParams !== undefined) {
        httpRequest = HttpClientRequest.setUrlParams(httpRequest, request.urlParams)
      }
      if (request.body !== undefined) {
        httpRequest = HttpClientRequest.bodyUnsafeJson(httpRequest, request.body)
      }
      const onResponse = (
        response: HttpClientResponse.HttpClientResponse,
        headers: Headers.Headers
      ): Effect.Effect<A, E | OktaHttpError | OktaTransportError> => {
        if (response.status >= 200 && response.status < 300) {
          const received = makeResponse(call, response, headers, settings.maxResponseBytes)
          return Effect.tap(decode(received), () =>
            // A body the decoder left unread is drained, so the connection can be reused.
            received.bodyRead || response.status === 204
              ? Effect.void
              : Effect.ignore(received.text)
          )
        }
        return Effect.flatMap(
          readErrorText(call, response, headers, settings.maxResponseBytes),
          (text) => {
            const error = httpError(call, response.status, headers, text)
            auth.rejected(response.request, error, headers)
            return Effect.fail(error)
          }
        )
      }
      const run = (span: Tracer.Span | undefined) =>
        retry(
          call,
          gate,
          span,
          request.replaySafe ?? true,
          (retryHeaders) => {
            let sent =
              retryHeaders !== undefined
                ? HttpClientRequest.setHeaders(httpRequest, retryHeaders)
                : httpRequest
            // Without the platform's HTTP span there is none for it to propagate: send the call's.
            if (settings.tracerPropagation && span !== undefined && !exchanges) {
              sent = HttpClientRequest.setHeaders(sent, HttpTraceContext.toHeaders(span))
            }
            return exchange({ call, gate, span, client, request: sent }, onResponse)
          },
          auth.repairable
        )
      // The deadline bounds the whole call (backoffs and gate waits included), inside its span.
      const deadline = settings.deadlineMillis
      const bounded = (span: Tracer.Span | undefined) =>
        deadline === undefined
          ? run(span)
          : Effect.timeoutFail(run(span), {
              duration: deadline,
              onTimeout: () =>
                new OktaTimeoutError({ ...call, timeoutMillis: deadline, kind: "deadline" })
            })
      if (!tracing) return bounded(undefined)
      const attributes = {
        ...request.spanAttributes,
        "http.request.method": request.method,
        "url.path": request.path,
        "server.address": serverAddress
      }
      return Effect.useSpan(
        request.spanName ?? `OktaClient.${request.operation}`,
        { attributes, captureStackTrace: false },
        (span) => Effect.withParentSpan(bounded(span), span)
      )
    }

    return { orgUrl, execute } satisfies OktaClientService
  })

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
 */
export class OktaClient extends Context.Tag("effect-okta-connections/OktaClient")<
  OktaClient,
  OktaClientService
>() {
  /**
   * A layer from explicit options. Fails to build with `OktaConfigError` when the org URL or a
   * credential is unusable (the message says what is wrong; it never contains the secret).
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
   * `OKTA_CLIENT_TOKEN`, or the `PrivateKey` mode's variables. Each can be replaced by any `Config`.
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
    return Layer.effect(OktaClient, Effect.flatMap(fromConfig(options), make))
  }
}
