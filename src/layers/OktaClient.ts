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
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import {
  OktaConfigError,
  type OktaHttpError,
  OktaTimeoutError,
  type OktaTransportError
} from "../errors/OktaError.js"
import { httpError, type RequestContext, transportError } from "../internal/response.js"
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
   * Sends `request` with auth, `Accept`, `User-Agent` and the per-attempt timeout; a 2xx goes to
   * `onSuccess`, anything else becomes its typed error. Redirects are never followed.
   */
  readonly execute: <A, E>(
    request: OktaRequest,
    onSuccess: (
      context: RequestContext,
      response: HttpClientResponse.HttpClientResponse
    ) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError>
}

const DEFAULT_TIMEOUT = Duration.seconds(30)

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
 * Builds the service from its options. Fails with `OktaConfigError` on an unusable org URL or token.
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
    const timeout = Duration.decode(options.timeout ?? DEFAULT_TIMEOUT)
    const timeoutMillis = Duration.toMillis(timeout)
    if (!(timeoutMillis > 0)) {
      return yield* new OktaConfigError({ field: "timeout", reason: "must be a positive duration" })
    }
    const baseHeaders = Headers.fromInput({
      accept: "application/json",
      "user-agent": userAgentOf(options.userAgentExtra)
    })
    const base = (yield* HttpClient.HttpClient).pipe(
      HttpClient.withTracerPropagation(options.tracerPropagation ?? false),
      HttpClient.withTracerDisabledWhen(isOAuthCallback)
    )
    const client = options.transformClient !== undefined ? options.transformClient(base) : base

    const execute = <A, E>(
      request: OktaRequest,
      onSuccess: (
        context: RequestContext,
        response: HttpClientResponse.HttpClientResponse
      ) => Effect.Effect<A, E>
    ): Effect.Effect<A, E | OktaHttpError | OktaTransportError | OktaTimeoutError> => {
      const ctx: RequestContext = {
        operation: request.operation,
        method: request.method,
        path: request.path
      }
      let httpRequest = HttpClientRequest.make(request.method)(orgUrl + request.path, {
        headers: Headers.set(baseHeaders, "authorization", Redacted.value(authorization)),
        urlParams: request.urlParams
      })
      if (request.body !== undefined) {
        httpRequest = HttpClientRequest.bodyUnsafeJson(httpRequest, request.body)
      }
      return client.execute(httpRequest).pipe(
        Effect.mapError((error) => transportError(ctx, error)),
        Effect.flatMap((response): Effect.Effect<A, E | OktaHttpError | OktaTransportError> =>
          response.status >= 200 && response.status < 300
            ? onSuccess(ctx, response)
            : httpError(ctx, response)
        ),
        withoutFetchRedirects,
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new OktaTimeoutError({ ...ctx, timeoutMillis })
        })
      )
    }

    return { orgUrl, execute } satisfies OktaClientService
  })

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
