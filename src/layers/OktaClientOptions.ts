/**
 * The options of `OktaClient`: their types, their validation (`OktaConfigError` names what is
 * wrong, never a secret). Reading them from `Config` is in `OktaClientConfig.ts`; the checks of
 * pasted values (the org URL, a token) are in `internal/pasted.ts`.
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { OktaConfigError } from "../errors/OktaError.js"
import { checkToken } from "../internal/pasted.js"
import { VERSION } from "../version.js"
import { RateLimitStore, type RateLimitStoreService } from "../store/RateLimitStore.js"
import * as RetryPolicy from "./RetryPolicy.js"

/**
 * OAuth 2.0 service-app credentials.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import type { OktaOAuthOptions } from "effect-okta-connections"
 *
 * const privateKey = Redacted.make(process.env.OKTA_CLIENT_PRIVATEKEY ?? "")
 * const oauth: OktaOAuthOptions = { clientId: "0oa1serviceapp", privateKey, scopes: ["okta.apps.read"] }
 * ```
 */
export interface OktaOAuthOptions {
  /** The service app's client id. */
  readonly clientId: string
  /** The app's private key: PKCS#8 PEM, or a private JWK as JSON. Never logged or put in errors. */
  readonly privateKey: Redacted.Redacted<string>
  /** The key's id (`kid`) registered with the app, for the assertion's header. Default: the JWK's. */
  readonly keyId?: string | undefined
  /** Scopes to request, e.g. `["okta.apps.read", "okta.apps.manage"]`. */
  readonly scopes: ReadonlyArray<string>
  /**
   * Bind tokens to an ephemeral key with DPoP. Default false, but switched on by itself when the
   * token endpoint answers that the app requires it.
   */
  readonly dpop?: boolean | undefined
  /** Refresh this long before the token expires (at most half its lifetime). Default 5 minutes. */
  readonly refreshMargin?: Duration.DurationInput | undefined
}

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
 */
export interface OktaClientSettings {
  /**
   * Per-attempt timeout: from sending the request to having read the whole response body.
   * Default 30 seconds. `OktaTimeoutError` when exceeded; the request is aborted (on
   * `OktaUndici.layer` and `OktaFetch.layer` directly, on any other transport by interrupting
   * the attempt's fiber).
   */
  readonly timeout?: Duration.DurationInput | undefined
  /** Appended to the `User-Agent` (e.g. `"my-provisioner/1.4"`), to tell your traffic apart in Okta's System Log. */
  readonly userAgentExtra?: string | undefined
  /**
   * Tracing. `true` (default): one span per call (`ApplicationConnections.<operationId>`) with
   * the HTTP method, path, final status and Okta request id as attributes, and an event per
   * retry and gate wait. `"exchanges"`: also an `http.client <METHOD>` span for every attempt and
   * token request (method, URL without its query, status, request id), children of the call's
   * span; it costs more than the call's own span (see bench/README.md). `false`: no spans.
   * Under Effect's default tracer (no tracer installed), which exports nothing, the call's span
   * is not made unless `tracerPropagation` or `"exchanges"` is on.
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
   * A store shared by every process that calls this org (`effect-okta-connections/redis`), so that
   * their gates draw on one rate-limit budget. Default: the `RateLimitStore` service if one is
   * provided, else this client's own in-memory gate.
   */
  readonly rateLimitStore?: RateLimitStoreService | undefined
  /**
   * The retry policy ({@link RetryPolicy.make}); `false` or `RetryPolicy.disabled` never retries.
   * Default `RetryPolicy.defaultPolicy`. Per call: `RetryPolicy.withRetryPolicy`.
   */
  readonly retry?: RetryPolicy.RetryPolicy | false | undefined
  /**
   * Overall deadline of one call, across retries, backoffs and rate-limit waits. A wait that
   * would reach it fails at once (no request is sent that the deadline would cut off unanswered).
   * `OktaTimeoutError` with `kind: "deadline"`, whose `cause` is the last failure the call was
   * retrying after. Default: none (each attempt is still bounded by `timeout`, and retries by the
   * policy).
   */
  readonly deadline?: Duration.DurationInput | undefined
  /**
   * Largest response body read, counted on the bytes the client receives (after the transport
   * decompressed them); a larger one fails with `OktaDecodeError` `TooLarge` without being
   * buffered whole. Default 1 MiB.
   */
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
  /**
   * A Redis to share the rate-limit budget through (see `effect-okta-connections/redis`; needs
   * `ioredis`). Default `Config.string("REDIS_URL")`, optional: without it the gate is this
   * client's own. Ignored when `rateLimitStore` is given.
   */
  readonly redisUrl?: Config.Config<string> | undefined
  /** The Redis key prefix. Default `Config.string("REDIS_KEY_PREFIX")`, else `okta-connections:`. */
  readonly redisKeyPrefix?: Config.Config<string> | undefined
}

/**
 * The one `Authorization` value of static credentials, or `undefined` for OAuth (whose tokens come
 * per request). Exactly one kind of credentials must be given.
 *
 * @internal
 */
export const authorizationOf = (
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

/** @internal */
export const userAgentOf = (extra: string | undefined): string => {
  const node = typeof process !== "undefined" ? process.versions?.node : undefined
  return [
    `effect-okta-connections/${VERSION}`,
    node !== undefined ? `node/${node}` : undefined,
    extra !== undefined && extra.trim().length > 0 ? extra.trim() : undefined
  ]
    .filter((s) => s !== undefined)
    .join(" ")
}

const positiveMillis = (
  field: string,
  input: Duration.DurationInput | undefined,
  fallback: number | undefined
): Effect.Effect<number | undefined, OktaConfigError> => {
  if (input === undefined) return Effect.succeed(fallback)
  const millis = Option.map(Duration.decodeUnknown(input), Duration.toMillis)
  return Option.isSome(millis) && millis.value > 0
    ? Effect.succeed(millis.value)
    : Effect.fail(new OktaConfigError({ field, reason: "must be a positive duration" }))
}

/** The settings of a client, checked and with their defaults. @internal */
export const resolveSettings = (options: OktaClientSettings) =>
  Effect.gen(function* () {
    const timeoutMillis = (yield* positiveMillis("timeout", options.timeout, 30_000))!
    const deadlineMillis = yield* positiveMillis("deadline", options.deadline, undefined)
    const maxResponseBytes = options.maxResponseBytes ?? 1024 * 1024
    if (!Number.isInteger(maxResponseBytes) || maxResponseBytes <= 0) {
      return yield* new OktaConfigError({
        field: "maxResponseBytes",
        reason: "must be a positive integer"
      })
    }
    const extra = options.userAgentExtra
    if (
      extra !== undefined &&
      (typeof extra !== "string" || /[^\u0020-\u007e\u00a0-\u00ff]/.test(extra))
    ) {
      return yield* new OktaConfigError({
        field: "userAgentExtra",
        reason: "must be printable Latin-1 text (it is sent as an HTTP header)"
      })
    }
    const rateLimitStore =
      options.rateLimitStore ?? Option.getOrUndefined(yield* Effect.serviceOption(RateLimitStore))
    const share = rateLimitStore?.fallbackShare
    if (share !== undefined && !(share > 0 && share <= 1)) {
      return yield* new OktaConfigError({
        field: "rateLimitStore.fallbackShare",
        reason: `must be above 0 and at most 1 (a share of the budget, not a percentage; got ${share})`
      })
    }
    // From JavaScript (or options read from a file), "false" would read as true.
    for (const field of ["tracing", "tracerPropagation", "metrics"] as const) {
      const value: unknown = options[field]
      if (
        value !== undefined &&
        typeof value !== "boolean" &&
        !(field === "tracing" && value === "exchanges")
      ) {
        return yield* new OktaConfigError({
          field,
          reason: `must be true or false${field === "tracing" ? ', or "exchanges"' : ""}, not ${JSON.stringify(value)}`
        })
      }
    }
    if (options.transformClient !== undefined && typeof options.transformClient !== "function") {
      return yield* new OktaConfigError({
        field: "transformClient",
        reason: "must be a function from HttpClient to HttpClient"
      })
    }
    const retry = options.retry === false ? RetryPolicy.disabled : options.retry
    if (retry !== undefined && !RetryPolicy.isRetryPolicy(retry)) {
      return yield* new OktaConfigError({
        field: "retry",
        reason: "must be a RetryPolicy (RetryPolicy.make({ … }), not its options) or false"
      })
    }
    return {
      rateLimitStore,
      timeoutMillis,
      deadlineMillis,
      maxResponseBytes,
      retry: retry ?? RetryPolicy.defaultPolicy,
      tracing: options.tracing ?? true,
      tracerPropagation: options.tracerPropagation ?? false,
      metrics: options.metrics ?? true,
      userAgent: userAgentOf(options.userAgentExtra)
    }
  })
