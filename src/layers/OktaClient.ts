/**
 * `OktaClient`: one `HttpClient` pipeline configured for an Okta org (base URL, default headers,
 * credentials, redirect and tracer settings), and `execute`, which runs a request through the
 * rate-limit gate, the per-attempt timeout and the retry policy, and turns the response into a
 * value or a typed error.
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import type { OktaConfigError, OktaHttpError, OktaTransportError } from "../errors/OktaError.js"
import * as AttemptTimeout from "../internal/attemptTimeout.js"
import * as Auth from "../internal/auth.js"
import { RateLimitGate } from "../internal/gate.js"
import * as Shared from "../internal/sharedGate.js"
import * as Metrics from "../internal/metrics.js"
import * as Exchange from "../internal/exchange.js"
import { callersFetch, configureFetch } from "../internal/fetchBody.js"
import { httpError } from "../internal/httpError.js"
import { makeResponse, readErrorText } from "../internal/reader.js"
import { type Call, ownTransport } from "../internal/transport.js"
import * as Request from "../internal/request.js"
import * as Retry from "../internal/retry.js"
import { normalizeOrgUrl } from "../internal/pasted.js"
import { credentialSecrets } from "../internal/secrets.js"
import {
  authorizationOf,
  type OktaClientConfigOptions,
  type OktaClientOptions,
  resolveSettings
} from "./OktaClientOptions.js"
import { makeFromConfig } from "./OktaClientConfig.js"
import type {
  OktaClientService,
  OktaExecuteError,
  OktaRequest,
  OktaResponse
} from "./OktaClientService.js"
import * as RetryPolicy from "./RetryPolicy.js"

export type {
  OktaClientService,
  OktaExecuteError,
  OktaRequest,
  OktaResponse
} from "./OktaClientService.js"

/** Effect's tracer when the application installs none: it keeps spans in memory, exports none. */
const DEFAULT_TRACER = Context.get(DefaultServices.liveServices, Tracer.Tracer)

/** The methods HTTP defines as idempotent: a request of these may be sent again by default. */
const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "PUT", "DELETE"])

/**
 * Builds the service. Fails with `OktaConfigError` on an unusable org URL, credential or setting.
 */
export const make = (
  options: OktaClientOptions
): Effect.Effect<OktaClientService, OktaConfigError, HttpClient.HttpClient | Scope.Scope> =>
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
    const host = new URL(orgUrl).host
    const server = Exchange.serverOf(orgUrl)
    const store = settings.rateLimitStore
    const gateFor = (bucket: string) =>
      store === undefined
        ? new RateLimitGate(gateOptions)
        : Shared.make(store, {
            key: { org: host, bucket },
            gateOptions,
            // A request is in flight at most an attempt timeout; the margin covers clock drift.
            leaseMillis: settings.timeoutMillis + 5_000,
            metrics: settings.metrics
          })
    const gate = gateFor("api")
    // The token endpoint has its own rate-limit bucket at Okta, so its own gate.
    const tokenGate = gateFor("token")
    const tracing = settings.tracing !== false
    const exchanges = settings.tracing === "exchanges"
    const propagated = exchanges || settings.tracerPropagation
    const basePath = new URL(orgUrl).pathname.replace(/\/$/, "")

    // The pipeline every request goes through, configured once. The platform's HTTP span is off
    // (its exit value would hold the request and its credential), and so are its trace headers:
    // the exchange makes its own span, and sends them when `tracerPropagation` asks for them.
    const transport = yield* HttpClient.HttpClient
    // A transport this package built (`OktaUndici.layer`, `OktaFetch.layer`) has fetch set up
    // already; any other may be fetch, and gets the client's fetch set-up (ignored by the others),
    // with the caller's fetch, else one provided above this layer, as the platform would pick.
    const own = ownTransport(transport)
    const provided = Option.getOrUndefined(yield* Effect.serviceOption(FetchHttpClient.Fetch))
    // Reached directly, not through `transformClient` (which may answer with responses of its
    // own), it drops a request when the request's `AbortSignal` aborts, and its body cap, when
    // no larger than the client's, makes every read a one-shot one.
    const direct = own !== undefined && options.transformClient === undefined
    const limit =
      direct && own.cap !== undefined && own.cap <= settings.maxResponseBytes
        ? { maxBytes: own.cap, transportCapped: true }
        : { maxBytes: settings.maxResponseBytes, transportCapped: false }
    const shared = (
      own !== undefined ? transport : configureFetch(transport, callersFetch(provided))
    ).pipe(HttpClient.withTracerDisabledWhen(() => true))
    const defaults = HttpClientRequest.setHeaders({
      accept: "application/json",
      "user-agent": settings.userAgent,
      ...(authorization !== undefined ? { authorization: Redacted.value(authorization) } : {})
    })
    // API paths are relative to the org; the token endpoint's URL is absolute already.
    const configured = HttpClient.mapRequest(shared, (request) =>
      defaults(
        request.url.startsWith("/") ? HttpClientRequest.prependUrl(request, orgUrl) : request
      )
    )
    // What a transformed client got from the transport in each attempt's scope. The exchange reads
    // the response the transformed client returns; any other it got (before its own retry, or in
    // place of one it made up) may have been left unread, and then the attempt's requests are
    // aborted when it succeeds too.
    const received = new WeakMap<Scope.Scope, { count: number; last: unknown; returned: boolean }>()
    const inAttempt = (f: (scope: Scope.Scope) => void) =>
      Effect.flatMap(Effect.serviceOption(Scope.Scope), (scope) =>
        Effect.sync(() => Option.isSome(scope) && f(scope.value))
      )
    const client =
      options.transformClient !== undefined
        ? HttpClient.tap(
            options.transformClient(
              HttpClient.tap(configured, (response) =>
                inAttempt((scope) => {
                  const seen = received.get(scope)
                  received.set(scope, {
                    count: (seen?.count ?? 0) + 1,
                    last: response,
                    returned: false
                  })
                })
              )
            ),
            (response) =>
              inAttempt((scope) => {
                const seen = received.get(scope)
                if (seen !== undefined) seen.returned = seen.last === response
              })
          )
        : configured

    // Never true without `transformClient`: nothing records a response then.
    const leftUnread = (scope: Scope.Scope) => {
      const seen = received.get(scope)
      return seen !== undefined && (seen.count > 1 || !seen.returned)
    }

    const timeouts = AttemptTimeout.make(
      settings.timeoutMillis,
      yield* Effect.scope,
      direct ? own.attemptContext : undefined
    )
    // Every request is sent in a scope, whose closing aborts it (see attemptTimeout.ts). On a
    // transport this package built an attempt's timeout closes it; on any other client (a
    // hand-made one may ignore its `AbortSignal`) the attempt runs in a fiber of its own, which
    // the timeout interrupts.
    const exchange = Exchange.make({
      client: HttpClient.withScope(client),
      timed: direct ? timeouts.aborting : timeouts.interrupting(leftUnread),
      timeoutMillis: settings.timeoutMillis,
      recorder,
      spans: exchanges,
      propagate: settings.tracerPropagation,
      orgUrl,
      own: direct ? own : undefined
    })

    const retry = <A, E, P = never, EP = never>(
      options: Omit<Retry.RetryOptions<A, E, P, EP>, "policy" | "deadlineMillis" | "recorder">
    ) =>
      FiberRef.getWith(RetryPolicy.currentRetryPolicy, (override) =>
        Retry.run({
          ...options,
          policy: Option.isSome(override) ? override.value : clientPolicy,
          deadlineMillis: settings.deadlineMillis,
          recorder
        })
      )

    // The span of the call a token request is made for: not the current span (see `execute`).
    const callSpan = FiberRef.unsafeMake<Tracer.Span | undefined>(undefined)
    const auth =
      options.oauth === undefined
        ? Auth.staticCredentials
        : yield* Auth.oauth(orgUrl, options.oauth, settings.userAgent, {
            retry: (attempt, repair) =>
              // Asked inside the call needing it: its retries and gate waits are on that span.
              FiberRef.getWith(callSpan, (span) =>
                retry({
                  call: Auth.TOKEN_CALL,
                  gate: tokenGate,
                  span,
                  replaySafe: true,
                  forCall: true,
                  attempt: (retryHeaders, _, ticket) =>
                    attempt(retryHeaders, (request, secrets) =>
                      exchange<Auth.TokenAnswer, OktaTransportError>(
                        {
                          call: Auth.TOKEN_CALL,
                          gate: tokenGate,
                          span: undefined,
                          parent: span,
                          request,
                          ticket,
                          secrets
                        },
                        (response, headers) =>
                          Effect.map(
                            readErrorText(Auth.TOKEN_CALL, response, headers, limit),
                            (text) => ({ status: response.status, headers, text })
                          )
                      )
                    ),
                  repair
                })
              ),
            serverNow: (localMillis) => tokenGate.serverNow(localMillis)
          })

    const execute = <A, E>(
      request: OktaRequest,
      decode: (response: OktaResponse) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | OktaExecuteError> => {
      const built = Request.build(request)
      if (Either.isLeft(built)) return Effect.fail(built.left)
      const httpRequest = built.right.request
      // Errors and spans name the path as sent (behind an org URL with a path, a proxy's, with its
      // prefix), never a query, which may carry a secret, even one written into `path`.
      const call: Call = {
        operation: request.operation,
        method: request.method,
        path: basePath + built.right.path
      }
      const secrets = request.secrets ?? []
      const onResponse = (
        response: HttpClientResponse.HttpClientResponse,
        headers: Headers.Headers
      ): Effect.Effect<A, E | OktaHttpError | OktaTransportError> => {
        if (response.status >= 200 && response.status < 300) {
          auth.saw(response.request, headers)
          const received = makeResponse(call, response, headers, limit, secrets)
          return Effect.flatMap(decode(received), (value) =>
            // A body the decoder left unread is drained, so the connection can be reused.
            received.bodyRead || response.status === 204
              ? Effect.succeed(value)
              : Effect.as(Effect.ignore(received.text), value)
          )
        }
        return Effect.flatMap(readErrorText(call, response, headers, limit), (text) => {
          const sent = response.request.headers
          const error = httpError(call, response.status, headers, text, [
            ...secrets,
            ...credentialSecrets(sent)
          ])
          auth.saw(response.request, headers, error)
          return Effect.fail(error)
        })
      }
      const run = (span: Tracer.Span | undefined) =>
        retry({
          call,
          gate,
          span,
          replaySafe: request.replaySafe ?? IDEMPOTENT.has(request.method),
          prepare: auth.prepare,
          attempt: (retryHeaders, credential, ticket) => {
            const retried =
              retryHeaders !== undefined
                ? HttpClientRequest.setHeaders(httpRequest, retryHeaders)
                : httpRequest
            const send = (sent: HttpClientRequest.HttpClientRequest) =>
              exchange<A, E | OktaHttpError | OktaTransportError>(
                { call, gate, span, request: sent, ticket, secrets },
                onResponse
              )
            return credential === undefined
              ? send(retried)
              : Effect.flatMap(auth.sign(retried, credential), send)
          },
          repair: auth.repairable
        })
      if (!tracing) return run(undefined)
      // The span is handed to what needs it, not made the current span: providing it costs more
      // than the rest of the span's work (bench/README.md). Only a token request needs it found.
      const traced = () =>
        Effect.useSpan(
          request.spanName ?? `OktaClient.${request.operation}`,
          {
            attributes: {
              ...request.spanAttributes,
              "http.request.method": request.method,
              "url.path": call.path,
              ...server
            },
            captureStackTrace: false
          },
          (span) =>
            auth.prepare === undefined ? run(span) : Effect.locally(run(span), callSpan, span)
        )
      // Under Effect's default tracer a span that is not the current one reaches no one: not made.
      // Its ids still reach Okta when trace headers are sent, and "exchanges" asks for every span.
      return propagated
        ? traced()
        : Effect.tracerWith((tracer) => (tracer === DEFAULT_TRACER ? run(undefined) : traced()))
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
    return Layer.scoped(OktaClient, make(options))
  }

  /**
   * A layer configured from Effect `Config` (by default the environment): `OKTA_CLIENT_ORGURL` and
   * `OKTA_CLIENT_TOKEN`, or the `PrivateKey` mode's variables. Each can be replaced by any `Config`.
   * Unless `deadline` or `retry` is given, `OKTA_CLIENT_REQUESTTIMEOUT` (seconds, `0` none) sets the
   * deadline and `OKTA_CLIENT_RATELIMIT_MAXRETRIES` the policy's `maxRetries`, as in Okta's SDKs.
   * A missing variable, or an unusable value read from one, is reported with its name.
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
    return Layer.scoped(OktaClient, makeFromConfig(options, make))
  }
}
