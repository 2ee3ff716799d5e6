/**
 * The simulated org: state, and the one request handler both faces (in-process `HttpClient`,
 * loopback server) run. The handler is an Effect over `Clock`, so rate-limit windows, `Date`
 * headers and injected delays follow `TestClock` in unit tests and the real clock on a server.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto"
import { describeIssue } from "../internal/issues.js"
import { UpdateDefaultProvisioningConnectionForApplicationRequest } from "../schema/Request.js"
import { OAuthServer, type SimulatedOAuthClient } from "./oauth.js"
import type { SimulatedApp, SimulatedConnectionSeed } from "./seed.js"

/** A request as the simulator sees it, whichever face received it. @internal */
export interface SimRequest {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

/** A response: status, headers (pairs, so a header can repeat) and body. @internal */
export interface SimResponse {
  readonly status: number
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body: string
}

/** What a face must do with a request. @internal */
export type SimOutcome =
  | { readonly _tag: "Respond"; readonly response: SimResponse }
  | { readonly _tag: "Drop" }
  | { readonly _tag: "Hang" }

/**
 * A fault the next matching request(s) get instead of (or on top of) the normal answer.
 *
 * @example
 * ```ts
 * import type { SimulatorFault } from "effect-okta-connections/testing"
 *
 * const gatewayDown: SimulatorFault = { _tag: "ServerError", status: 502, body: "html" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SimulatorFault =
  /** The connection is closed without a response. */
  | { readonly _tag: "Drop" }
  /** No response, ever (until the client gives up or the server stops). */
  | { readonly _tag: "Hang" }
  /** The normal answer, after `millis`. */
  | { readonly _tag: "Delay"; readonly millis: number }
  /**
   * A 5xx with Okta's JSON error (`json`), a gateway's HTML page (`html`) or its own JSON
   * (`gateway`: `{"message": …}`, as AWS API Gateway answers), or nothing; with
   * `retryAfterSeconds`, the `Retry-After` a proxy or load balancer may add.
   */
  | {
      readonly _tag: "ServerError"
      readonly status: 500 | 502 | 503 | 504
      readonly body: "json" | "html" | "gateway" | "empty"
      readonly retryAfterSeconds?: number | undefined
    }
  /** 200 with a truncated JSON body. */
  | { readonly _tag: "MalformedJson" }
  /** 200 with JSON of the wrong shape. */
  | { readonly _tag: "WrongShape" }
  /** The normal answer with unknown members added at every level. */
  | { readonly _tag: "ExtraFields" }
  /** 429 `E0000047` without a `Date` header. */
  | { readonly _tag: "RateLimitNoDate" }
  /** 429 `E0000047` with `X-Rate-Limit-Reset` sent twice, this window's and the next (okta-sdk-java#259). */
  | { readonly _tag: "DuplicateReset" }
  /** 302 to `location` (default another host). */
  | { readonly _tag: "Redirect"; readonly location?: string | undefined }
  /** 200 with valid JSON of about `bytes` bytes (default 2 MiB). */
  | { readonly _tag: "Oversized"; readonly bytes?: number | undefined }
  /**
   * 200 with an HTML sign-in page, as a proxy or captive portal answers in Okta's place: not
   * JSON for the operations that return a body, and not Okta's empty 204 for the others.
   */
  | { readonly _tag: "ProxyPage" }

/**
 * Which requests a fault applies to, and how many times.
 *
 * @example
 * ```ts
 * import type { FaultOptions } from "effect-okta-connections/testing"
 *
 * const onlyJwks: FaultOptions = { times: 3, method: "GET", path: "/jwks" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultOptions {
  /**
   * How many matching requests get the fault: a whole number, at least 1, or `Infinity`. Default
   * 1. Anything else (and a `Delay` of NaN or negative `millis`) makes `injectFault` die with a
   * `RangeError`.
   */
  readonly times?: number | undefined
  /** Only requests with this method. */
  readonly method?: string | undefined
  /** Only requests whose path matches (a substring or a RegExp). */
  readonly path?: string | RegExp | undefined
}

/**
 * A token the simulated org accepts.
 *
 * @example
 * ```ts
 * import type { SimulatedToken } from "effect-okta-connections/testing"
 *
 * const readOnly: SimulatedToken = { token: "eyJ…", scheme: "Bearer", scopes: ["okta.apps.read"] }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedToken {
  readonly token: string
  /** `SSWS` (API token, the default) or `Bearer` (OAuth 2.0 access token). */
  readonly scheme?: "SSWS" | "Bearer" | undefined
  /** Granted scopes. Default: both `okta.apps.read` and `okta.apps.manage`. */
  readonly scopes?: ReadonlyArray<string> | undefined
}

/**
 * A request as the simulator logged it: the token in `authorization` is redacted.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const paths = Effect.flatMap(OktaSimulator, (sim) => sim.requests).pipe(
 *   Effect.map((log) => log.map((entry) => `${entry.method} ${entry.path} → ${entry.outcome}`))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggedRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  /** The parsed JSON body, the raw text when it is not JSON, or undefined. */
  readonly body: unknown
  /** The status answered, or `"drop"` / `"hang"`. */
  readonly outcome: number | "drop" | "hang"
  /**
   * The armed fault (`injectFault`) this request met, if one did: the answer was the fault's, or
   * for a `Delay` came late. Absent on a request the org answered as it is.
   */
  readonly fault?: SimulatorFault["_tag"] | undefined
  /**
   * When the request came in, in epoch milliseconds on the simulator's clock: under `it.effect`
   * the `TestClock`'s, so that a test can assert when retries and rate-limit waits sent them.
   */
  readonly at: number
}

/**
 * Rate limits of the simulated org. Okta's windows are per minute; tests use short windows. Each
 * is a whole number, at least 1: otherwise building the simulator, or `setRateLimit`, dies with a
 * `RangeError` that names it.
 *
 * @example
 * ```ts
 * import type { SimulatedRateLimit } from "effect-okta-connections/testing"
 *
 * const tight: SimulatedRateLimit = { limit: 10, windowSeconds: 1, concurrencyLimit: 2 }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedRateLimit {
  /** Requests per window for the bucket the connection endpoints share. Default 50. */
  readonly limit?: number | undefined
  /** Window length in whole seconds (the reset header has 1-second resolution). Default 60. */
  readonly windowSeconds?: number | undefined
  /** Requests in flight at once before 429 with `Limit: 0, Remaining: 0`. Default 15. */
  readonly concurrencyLimit?: number | undefined
}

/** Throws a `RangeError` naming `setting` unless `ok`: a test's setting that means nothing. */
const requireSetting = (ok: boolean, setting: string, rule: string, value: unknown): void => {
  if (!ok) throw new RangeError(`OktaSimulator: ${setting} must be ${rule}; got ${String(value)}`)
}
const WHOLE = "a whole number, at least 1"
const isWhole = (value: number) => Number.isSafeInteger(value) && value >= 1
const FINITE = "a finite number, 0 or more"
const isFiniteFromZero = (value: number) => Number.isFinite(value) && value >= 0

/**
 * Throws unless each limit is a whole number, at least 1. A window of 0 or half a second would
 * send resets that mean nothing, and a limit of 0 would send every 429 with `Limit: 0,
 * Remaining: 0`, which is how Okta marks its concurrent-request 429s.
 *
 * @internal
 */
export const checkRateLimit = (limits: SimulatedRateLimit): void => {
  for (const field of ["limit", "windowSeconds", "concurrencyLimit"] as const) {
    const value = limits[field]
    requireSetting(value === undefined || isWhole(value), `rateLimit.${field}`, WHOLE, value)
  }
}

const READ = "okta.apps.read"
const MANAGE = "okta.apps.manage"
const TOKEN_APPS = new Set(["okta_org2org", "zscalerbyz"])
const OAUTH_APPS = new Set(["okta_org2org", "office365", "google", "slack", "zoomus"])
const CONSENT_APPS = new Set(["office365", "google", "slack", "zoomus"])

interface Jwk {
  readonly kid: string
  readonly kty: string
  readonly alg: string
  readonly use: string
  readonly e: string
  readonly n: string
}

interface Connection {
  authScheme: "TOKEN" | "OAUTH2"
  status: "ENABLED" | "DISABLED"
  baseUrl?: string | undefined
  token?: string | undefined
  clientId?: string | undefined
  rotationMode?: "AUTO" | "MANUAL" | undefined
  adminUsername?: string | undefined
  verified: boolean
  consent?: { state: string; code?: string | undefined; used: boolean } | undefined
}

interface AppState {
  readonly app: SimulatedApp
  /** undefined: no provisioning support. */
  connection: Connection | undefined
  jwk?: Jwk | undefined
}

interface ArmedFault {
  readonly fault: SimulatorFault
  remaining: number
  readonly method?: string | undefined
  readonly path?: string | RegExp | undefined
}

const randomId = (prefix: string, length = 25) =>
  (prefix + randomBytes(24).toString("base64url")).slice(0, length)

const supportsProvisioning = (app: SimulatedApp) =>
  TOKEN_APPS.has(app.name) || OAUTH_APPS.has(app.name)

const initialConnection = (app: SimulatedApp): Connection | undefined => {
  if (!supportsProvisioning(app)) return undefined
  const seed: SimulatedConnectionSeed = app.connection ?? {
    authScheme: TOKEN_APPS.has(app.name) ? "TOKEN" : "OAUTH2"
  }
  if (seed.authScheme === "TOKEN") {
    return {
      authScheme: "TOKEN",
      status: seed.status ?? "DISABLED",
      baseUrl: seed.baseUrl,
      token: seed.token,
      clientId: seed.clientId,
      verified: false
    }
  }
  return {
    authScheme: "OAUTH2",
    status: seed.status ?? "DISABLED",
    clientId: seed.clientId,
    rotationMode: app.name === "okta_org2org" ? (seed.rotationMode ?? "MANUAL") : undefined,
    verified: seed.verified ?? false,
    consent: CONSENT_APPS.has(app.name) ? { state: randomId("st"), used: false } : undefined
  }
}

/**
 * Token requests a window: the org authorization server's bucket, apart from the API's (Okta's is
 * 300 to 2,000 a minute by edition).
 */
const TOKEN_LIMIT = 600

const decodeBody = Schema.decodeUnknownEither(
  UpdateDefaultProvisioningConnectionForApplicationRequest,
  { errors: "all" }
)

/** Options of the simulated org. @internal */
export interface ModelOptions {
  readonly apps: ReadonlyArray<SimulatedApp>
  readonly tokens: ReadonlyArray<SimulatedToken>
  readonly rateLimit: SimulatedRateLimit
  readonly onRequest?: ((entry: LoggedRequest) => Effect.Effect<void>) | undefined
  readonly latencyMillis?: number | undefined
  readonly clockOffsetMillis?: number | undefined
  readonly oauthClients?: ReadonlyArray<SimulatedOAuthClient> | undefined
  readonly accessTokenLifetimeSeconds?: number | undefined
  readonly dpopNonces?: boolean | undefined
}

/**
 * The simulated org. Mutable state behind the `OktaSimulator` service; every access goes through
 * that service's Effects.
 *
 * @internal
 */
export class OrgModel {
  readonly apps = new Map<string, AppState>()
  readonly tokens = new Map<string, SimulatedToken>()
  readonly log: Array<LoggedRequest> = []
  readonly faults: Array<ArmedFault> = []
  limit: number
  windowMillis: number
  concurrencyLimit: number
  /** Each bucket's current window: the API's, and the org authorization server's own. */
  private readonly windows = { api: { index: -1, count: 0 }, token: { index: -1, count: 0 } }
  inFlight = 0
  private readonly onRequest: ((entry: LoggedRequest) => Effect.Effect<void>) | undefined
  latencyMillis: number
  /** The org's clock less the process's. */
  readonly clockOffsetMillis: number

  readonly oauth: OAuthServer

  constructor(options: ModelOptions) {
    checkRateLimit(options.rateLimit)
    const { latencyMillis = 0, clockOffsetMillis = 0, accessTokenLifetimeSeconds = 3600 } = options
    requireSetting(isFiniteFromZero(latencyMillis), "latencyMillis", FINITE, latencyMillis)
    requireSetting(
      Number.isFinite(clockOffsetMillis),
      "clockOffsetMillis",
      "a finite number",
      clockOffsetMillis
    )
    // A lifetime of 0 issues tokens already expired: every call would fail after its repairs.
    requireSetting(
      isWhole(accessTokenLifetimeSeconds),
      "accessTokenLifetimeSeconds",
      WHOLE,
      accessTokenLifetimeSeconds
    )
    this.oauth = new OAuthServer({
      clients: options.oauthClients ?? [],
      accessTokenLifetimeSeconds,
      dpopNonces: options.dpopNonces ?? false
    })
    this.onRequest = options.onRequest
    this.latencyMillis = latencyMillis
    this.clockOffsetMillis = clockOffsetMillis
    for (const app of options.apps) this.addApp(app)
    for (const token of options.tokens) this.tokens.set(token.token, token)
    this.limit = options.rateLimit.limit ?? 50
    this.windowMillis = (options.rateLimit.windowSeconds ?? 60) * 1000
    this.concurrencyLimit = options.rateLimit.concurrencyLimit ?? 15
  }

  /**
   * Authenticates an API request: an SSWS or Bearer token the org was given, or an access token
   * its authorization server issued (with its DPoP proof when the token is bound).
   */
  authenticate(method: string, request: SimRequest, now: number): Effect.Effect<Auth> {
    const header = request.headers["authorization"]
    const match = /^(SSWS|Bearer|DPoP)\s+(\S+)$/i.exec(header ?? "")
    if (match !== null && match[1]!.toLowerCase() !== "ssws") {
      return Effect.map(
        this.oauth.check(
          match[1]!,
          match[2]!,
          lowerCased(request.headers),
          method,
          request.url.toString(),
          now
        ),
        (checked): Auth =>
          checked._tag === "Unknown" ? authenticate(this.tokens, header) : checked
      )
    }
    return Effect.succeed(authenticate(this.tokens, header))
  }

  addApp(app: SimulatedApp): void {
    this.apps.set(app.id, { app, connection: initialConnection(app) })
  }

  armFault(fault: SimulatorFault, options: FaultOptions = {}): void {
    // A fault that can never fire (0 or NaN times), or a Delay of no length, would pass for one
    // armed.
    const times = options.times ?? 1
    requireSetting(
      times === Number.POSITIVE_INFINITY || isWhole(times),
      "a fault's times",
      `${WHOLE} (or Infinity)`,
      times
    )
    if (fault._tag === "Delay") {
      requireSetting(isFiniteFromZero(fault.millis), "a Delay's millis", FINITE, fault.millis)
    }
    this.faults.push({
      fault,
      remaining: times,
      method: options.method,
      path: options.path
    })
  }

  private takeFault(method: string, path: string): SimulatorFault | undefined {
    const index = this.faults.findIndex(
      (armed) =>
        armed.remaining > 0 &&
        (armed.method === undefined || armed.method.toUpperCase() === method) &&
        (armed.path === undefined ||
          (typeof armed.path === "string" ? path.includes(armed.path) : armed.path.test(path)))
    )
    if (index < 0) return undefined
    const armed = this.faults[index]!
    armed.remaining -= 1
    if (armed.remaining <= 0) this.faults.splice(index, 1)
    return armed.fault
  }

  /** Counts a request in its bucket's current window; the rate-limit headers after it. */
  private countRequest(now: number, bucket: "api" | "token") {
    const window = this.windows[bucket]
    const limit = bucket === "api" ? this.limit : TOKEN_LIMIT
    const index = Math.floor(now / this.windowMillis)
    if (index !== window.index) {
      window.index = index
      window.count = 0
    }
    const reset = Math.ceil(((index + 1) * this.windowMillis) / 1000)
    const allowed = window.count < limit
    if (allowed) window.count += 1
    return { allowed, limit, remaining: Math.max(0, limit - window.count), reset }
  }

  private peekWindow(now: number) {
    const index = Math.floor(now / this.windowMillis)
    const count = index === this.windows.api.index ? this.windows.api.count : 0
    return {
      remaining: Math.max(0, this.limit - count),
      reset: Math.ceil(((index + 1) * this.windowMillis) / 1000)
    }
  }

  /** Issues the `code` for an app's pending consent, as the third party's redirect would. */
  consent(appId: string, state?: string): Either.Either<{ code: string; state: string }, string> {
    const app = this.apps.get(appId)
    const consent = app?.connection?.consent
    if (app === undefined) return Either.left(`no app ${appId}`)
    if (consent === undefined || app.connection?.authScheme !== "OAUTH2") {
      return Either.left(`app ${appId} has no pending OAuth 2.0 consent`)
    }
    if (state !== undefined && state !== consent.state) return Either.left("unknown state")
    consent.code ??= randomId("cd", 32)
    return Either.right({ code: consent.code, state: consent.state })
  }

  jwkOf(state: AppState): Jwk {
    if (state.jwk === undefined) {
      const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
      const jwk = publicKey.export({ format: "jwk" })
      state.jwk = {
        kid: randomBytes(32).toString("base64url"),
        kty: "RSA",
        alg: "RS256",
        use: "sig",
        e: String(jwk.e),
        n: String(jwk.n)
      }
    }
    return state.jwk
  }

  /**
   * Answers one request. Runs every step Okta would in order: faults (network-level first),
   * routing, concurrency limit, authentication, rate limit, scopes, the operation.
   */
  handle(request: SimRequest): Effect.Effect<SimOutcome> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const model = this
    return Effect.gen(function* () {
      const method = request.method.toUpperCase()
      const path = request.url.pathname
      const query = Object.fromEntries(request.url.searchParams)
      const fault = model.takeFault(method, path)
      const at = yield* Clock.currentTimeMillis
      const logEntry = (outcome: LoggedRequest["outcome"]) => {
        const entry: LoggedRequest = {
          method,
          path,
          query,
          headers: redactHeaders(request.headers),
          body: parseBody(request.body),
          outcome,
          at,
          ...(fault !== undefined ? { fault: fault._tag } : {})
        }
        model.log.push(entry)
        return model.onRequest !== undefined ? model.onRequest(entry) : Effect.void
      }
      if (fault?._tag === "Drop") {
        yield* logEntry("drop")
        return { _tag: "Drop" } as const
      }
      if (fault?._tag === "Hang") {
        yield* logEntry("hang")
        return { _tag: "Hang" } as const
      }
      // A delayed request occupies a concurrency slot for its whole duration, as on Okta. Taken
      // and given back in one `acquireUseRelease`: an interrupted request never keeps its slot.
      // Whether it is one too many is decided as it arrives, as Okta refuses the request that
      // finds every slot taken (not the one that has held a slot longest); the refusal does not
      // spend the org's `latencyMillis`.
      const response = yield* Effect.acquireUseRelease(
        Effect.sync(() => {
          model.inFlight += 1
          return model.inFlight > model.concurrencyLimit
        }),
        (overLimit) => {
          const delay =
            (fault?._tag === "Delay" ? fault.millis : 0) + (overLimit ? 0 : model.latencyMillis)
          const answer = model.answer(method, request, fault, overLimit)
          return delay > 0 ? Effect.zipRight(Effect.sleep(delay), answer) : answer
        },
        () =>
          Effect.sync(() => {
            model.inFlight -= 1
          })
      )
      yield* logEntry(response.status)
      return { _tag: "Respond", response } as const
    })
  }

  private answer(
    method: string,
    request: SimRequest,
    fault: SimulatorFault | undefined,
    overLimit: boolean
  ): Effect.Effect<SimResponse> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const model = this
    return Effect.gen(function* () {
      const now = (yield* Clock.currentTimeMillis) + model.clockOffsetMillis
      const requestId = randomId("X", 24)
      const base = `${request.url.protocol}//${request.url.host}`
      const date = new Date(now).toUTCString()
      const common: Array<readonly [string, string]> = [["x-okta-request-id", requestId]]
      const withDate = (headers: Array<readonly [string, string]>) => [
        ...headers,
        ["date", date] as const
      ]
      // Okta sends the rate-limit headers on every response; before this request is counted they
      // describe the window as it stands.
      const peek = model.peekWindow(now)
      const peekHeaders = (): Array<readonly [string, string]> =>
        withDate([
          ...common,
          ["x-rate-limit-limit", String(model.limit)],
          ["x-rate-limit-remaining", String(peek.remaining)],
          ["x-rate-limit-reset", String(peek.reset)]
        ])

      // A request counted in its bucket's window: the rate-limit headers after it, and Okta's
      // 429 when the window is spent.
      const counted = (bucket: "api" | "token") => {
        const window = model.countRequest(now, bucket)
        const headers = withDate([
          ...common,
          ["x-rate-limit-limit", String(window.limit)],
          ["x-rate-limit-remaining", String(window.remaining)],
          ["x-rate-limit-reset", String(window.reset)]
        ])
        const refusal = window.allowed
          ? undefined
          : jsonResponse(
              429,
              headers,
              oktaError("E0000047", "API call exceeded rate limit due to too many requests.")
            )
        return { headers, refusal }
      }

      // Faults stand for the network or a gateway in front of Okta: they answer before
      // authentication and rate limiting (on the API and the token endpoint alike), and do not
      // count against the window.
      const faultResponse = (): SimResponse | undefined => {
        if (fault?._tag === "RateLimitNoDate" || fault?._tag === "DuplicateReset") {
          const window = model.peekWindow(now)
          const headers: Array<readonly [string, string]> = [
            ...common,
            ["x-rate-limit-limit", String(model.limit)],
            ["x-rate-limit-remaining", "0"],
            ["x-rate-limit-reset", String(window.reset)]
          ]
          if (fault._tag === "DuplicateReset") {
            headers.push(["x-rate-limit-reset", String(window.reset + model.windowMillis / 1000)])
            headers.push(["date", date])
          }
          return jsonResponse(
            429,
            headers,
            oktaError("E0000047", "API call exceeded rate limit due to too many requests.")
          )
        }

        switch (fault?._tag) {
          case "ServerError": {
            const headers: Array<readonly [string, string]> = [...peekHeaders()]
            if (fault.retryAfterSeconds !== undefined) {
              headers.push(["retry-after", String(fault.retryAfterSeconds)])
            }
            return fault.body === "json"
              ? jsonResponse(fault.status, headers, oktaError("E0000009", "Internal Server Error"))
              : fault.body === "html"
                ? {
                    status: fault.status,
                    headers: [...headers, ["content-type", "text/html"]],
                    body: `<html><head><title>${fault.status}</title></head><body><h1>${fault.status} Bad Gateway</h1><hr>nginx</body></html>`
                  }
                : fault.body === "gateway"
                  ? jsonResponse(fault.status, headers, {
                      message:
                        fault.status === 504
                          ? "Endpoint request timed out"
                          : "Internal server error"
                    })
                  : { status: fault.status, headers, body: "" }
          }
          case "MalformedJson":
            return {
              status: 200,
              headers: [...peekHeaders(), ["content-type", "application/json"]],
              body: '{"status":"ENABLED","profile":{"authSch'
            }
          case "WrongShape":
            return jsonResponse(200, peekHeaders(), { status: 42, profile: "TOKEN", jwks: null })
          case "Redirect":
            return {
              status: 302,
              headers: [
                ...peekHeaders(),
                ["location", fault.location ?? "https://login.example.net/steal?from=okta"]
              ],
              body: ""
            }
          case "ProxyPage":
            return {
              status: 200,
              headers: [...peekHeaders(), ["content-type", "text/html; charset=utf-8"]],
              body: '<html><head><title>Sign in</title></head><body><form action="/proxy/login">Sign in to continue to the internet</form></body></html>'
            }
          case "Oversized": {
            const bytes = fault.bytes ?? 2 * 1024 * 1024
            return jsonResponse(200, peekHeaders(), {
              status: "ENABLED",
              profile: { authScheme: "TOKEN" },
              padding: "x".repeat(bytes)
            })
          }
        }

        return undefined
      }

      // The consent page stands for the third party: not Okta's API, no auth, no rate limit.
      const consentMatch = /^\/simulator\/consent\/([^/]+)\/([^/]+)$/.exec(request.url.pathname)
      if (consentMatch !== null && method === "GET") {
        const [, appName, appId] = consentMatch.map(decodeURIComponent) as [string, string, string]
        const result = model.consent(appId, request.url.searchParams.get("state") ?? "")
        if (Either.isLeft(result)) {
          return jsonResponse(
            400,
            withDate(common),
            oktaError("E0000001", `Api validation failed: ${result.left}`)
          )
        }
        const callback = new URL(
          `${base}/api/v1/apps/${encodeURIComponent(appName)}/${encodeURIComponent(appId)}/oauth2/callback`
        )
        callback.searchParams.set("code", result.right.code)
        callback.searchParams.set("state", result.right.state)
        return jsonResponse(200, withDate(common), { continue_oauth_flow_url: callback.toString() })
      }

      // The org authorization server's token endpoint: its own bucket, no API token.
      if (request.url.pathname === "/oauth2/v1/token" && method === "POST") {
        const faulted = faultResponse()
        if (faulted !== undefined) return faulted
        const { headers: tokenHeaders, refusal } = counted("token")
        if (refusal !== undefined) return refusal
        const answer = yield* model.oauth.token(
          new URLSearchParams(request.body ?? ""),
          lowerCased(request.headers),
          `${base}/oauth2/v1/token`,
          now
        )
        return jsonResponse(answer.status, [...tokenHeaders, ...answer.headers], answer.body)
      }

      const route = matchRoute(method, request.url.pathname)
      if (route === undefined) {
        // A path Okta serves, with a method it does not: Okta answers 405.
        return METHODS.some((m) => matchRoute(m, request.url.pathname) !== undefined)
          ? jsonResponse(
              405,
              peekHeaders(),
              oktaError("E0000022", "The endpoint does not support the provided HTTP method")
            )
          : jsonResponse(
              404,
              peekHeaders(),
              oktaError(
                "E0000007",
                `Not found: Resource not found: ${request.url.pathname} (${method})`
              )
            )
      }

      const faulted = faultResponse()
      if (faulted !== undefined) return faulted

      // Concurrency limit: all slots were taken when this request arrived.
      if (overLimit) {
        return jsonResponse(
          429,
          withDate([
            ...common,
            ["x-rate-limit-limit", "0"],
            ["x-rate-limit-remaining", "0"],
            ["x-rate-limit-reset", String(Math.ceil(now / 1000) + 60)]
          ]),
          oktaError("E0000047", "API call exceeded rate limit due to too many requests.")
        )
      }

      const auth = yield* model.authenticate(method, request, now)
      if (auth._tag === "Invalid") {
        return jsonResponse(
          401,
          [...peekHeaders(), ["www-authenticate", auth.challenge], ...auth.headers],
          oktaError("E0000011", "Invalid token provided")
        )
      }

      const { headers: rateHeaders, refusal } = counted("api")
      if (refusal !== undefined) return refusal

      const scope = route.write ? MANAGE : READ
      if (!auth.scopes.includes(scope)) {
        return {
          status: 403,
          headers: [
            ...rateHeaders,
            [
              "www-authenticate",
              `Bearer realm="IdpMyAccountAPI", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", scope="${scope}", resource="${request.url.pathname}"`
            ]
          ],
          body: ""
        }
      }

      const state = model.apps.get(route.appId)
      if (state === undefined) {
        return jsonResponse(
          404,
          rateHeaders,
          oktaError("E0000007", `Not found: Resource not found: ${route.appId} (AppInstance)`)
        )
      }
      if (state.app.forbidden === true) {
        return jsonResponse(
          403,
          rateHeaders,
          oktaError("E0000006", "You do not have permission to perform the requested action")
        )
      }
      const answer = model.operation(route, state, base, request, query(request.url))
      const response =
        answer.status === 204
          ? { ...answer, headers: rateHeaders }
          : { ...answer, headers: [...rateHeaders, ...answer.headers] }
      return fault?._tag === "ExtraFields" && response.body !== ""
        ? { ...response, body: JSON.stringify(withExtraFields(JSON.parse(response.body))) }
        : response
    })
  }

  private operation(
    route: Route,
    state: AppState,
    base: string,
    request: SimRequest,
    params: Record<string, string>
  ): SimResponse {
    const connection = state.connection
    switch (route.op) {
      case "get":
        return jsonResponse(200, [], this.view(state, base))
      case "activate":
      case "deactivate":
        // Recorded on real orgs: a no-op 204 also for apps without provisioning support.
        if (connection !== undefined)
          connection.status = route.op === "activate" ? "ENABLED" : "DISABLED"
        return { status: 204, headers: [], body: "" }
      case "jwks":
        // The keys sign the client assertion of an Org2Org app's OAuth 2.0 connection: an app of
        // another kind (Google's, say) has none.
        if (connection?.authScheme !== "OAUTH2" || state.app.name !== "okta_org2org") {
          return jsonResponse(
            404,
            [],
            oktaError(
              "E0000007",
              `Not found: Resource not found: ${route.appId} (ProvisioningConnectionJwks)`
            )
          )
        }
        return jsonResponse(200, [], { jwks: { keys: [this.jwkOf(state)] } })
      case "verify": {
        if (state.app.name !== route.appName) {
          return jsonResponse(
            404,
            [],
            oktaError(
              "E0000007",
              `Not found: Resource not found: ${route.appName}/${route.appId} (AppInstance)`
            )
          )
        }
        const consent = connection?.consent
        const code = params["code"]
        const st = params["state"]
        if (
          consent === undefined ||
          consent.used ||
          consent.code === undefined ||
          code !== consent.code ||
          st !== consent.state
        ) {
          return jsonResponse(
            400,
            [],
            oktaError("E0000001", "Api validation failed: code", [
              {
                errorSummary:
                  "code: The authorization code or state is invalid, expired or already used."
              }
            ])
          )
        }
        consent.used = true
        connection!.verified = true
        return { status: 204, headers: [], body: "" }
      }
      case "update":
        return this.update(state, base, request, params)
    }
  }

  private update(
    state: AppState,
    base: string,
    request: SimRequest,
    params: Record<string, string>
  ): SimResponse {
    // Okta reads a body only as JSON: another media type (fetch's default for a string body is
    // text/plain) is refused before the body is looked at.
    const contentType = lowerCased(request.headers)["content-type"] ?? ""
    const mediaType = contentType.split(";")[0]!.trim().toLowerCase()
    if (request.body !== undefined && request.body !== "" && mediaType !== "application/json") {
      return jsonResponse(
        415,
        [],
        oktaError(
          "E0000021",
          "Bad request. Accept and/or Content-Type headers likely do not match supported values."
        )
      )
    }
    let json: unknown
    try {
      json =
        request.body === undefined || request.body === "" ? undefined : JSON.parse(request.body)
    } catch {
      return jsonResponse(400, [], oktaError("E0000003", "The request body was not well-formed."))
    }
    const scheme = (json as { profile?: { authScheme?: unknown } } | undefined)?.profile?.authScheme
    if (state.connection === undefined) {
      // Recorded on a real org: an app without provisioning support answers UNKNOWN to an UNKNOWN body.
      if (scheme === "UNKNOWN") return jsonResponse(200, [], this.view(state, base))
      return jsonResponse(
        400,
        [],
        oktaError("E0000001", "Api validation failed: authScheme", [
          {
            errorSummary: `authScheme: The app ${state.app.name} does not support provisioning connections.`
          }
        ])
      )
    }
    const decoded = decodeBody(json)
    if (Either.isLeft(decoded)) {
      const causes = describeIssue(decoded.left.issue, 20)
        .split("; ")
        .map((errorSummary) => ({ errorSummary }))
      return jsonResponse(
        400,
        [],
        oktaError("E0000001", "Api validation failed: connection", causes)
      )
    }
    const body = decoded.right
    const supported = body.profile.authScheme === "TOKEN" ? TOKEN_APPS : OAUTH_APPS
    if (!supported.has(state.app.name)) {
      return jsonResponse(
        400,
        [],
        oktaError("E0000001", "Api validation failed: authScheme", [
          {
            errorSummary: `authScheme: ${body.profile.authScheme} is not supported by the app ${state.app.name}.`
          }
        ])
      )
    }
    const activate = (params["activate"] ?? "").toLowerCase() === "true"
    const status = activate ? "ENABLED" : "DISABLED"
    if (body.profile.authScheme === "TOKEN") {
      const token = body as typeof body & {
        baseUrl?: string
        profile: { token?: string; clientId?: string }
      }
      state.connection = {
        authScheme: "TOKEN",
        status,
        baseUrl: token.baseUrl ?? state.connection.baseUrl,
        token: token.profile.token,
        clientId: token.profile.clientId,
        verified: false
      }
    } else {
      const oauth = body as typeof body & {
        profile: {
          clientId?: string
          signing?: { rotationMode: "AUTO" | "MANUAL" }
          settings?: { adminUsername: string }
        }
      }
      state.connection = {
        authScheme: "OAUTH2",
        status,
        clientId: oauth.profile.clientId,
        rotationMode:
          state.app.name === "okta_org2org"
            ? (oauth.profile.signing?.rotationMode ?? "MANUAL")
            : undefined,
        adminUsername: oauth.profile.settings?.adminUsername,
        verified: false,
        consent: CONSENT_APPS.has(state.app.name)
          ? { state: randomId("st"), used: false }
          : undefined
      }
    }
    return jsonResponse(200, [], this.view(state, base))
  }

  /** The connection as Okta renders it (`ProvisioningConnectionResponse`). */
  view(state: AppState, base: string): unknown {
    const c = state.connection
    if (c === undefined) return { status: "UNKNOWN", profile: { authScheme: "UNKNOWN" } }
    const self = `${base}/api/v1/apps/${encodeURIComponent(state.app.id)}/connections/default`
    const links: Record<string, unknown> = {
      self: { href: self, hints: { allow: ["GET", "POST"] } },
      ...(c.status === "ENABLED"
        ? { deactivate: { href: `${self}/lifecycle/deactivate`, hints: { allow: ["POST"] } } }
        : { activate: { href: `${self}/lifecycle/activate`, hints: { allow: ["POST"] } } })
    }
    if (c.consent !== undefined && !c.verified) {
      const consentUrl = new URL(
        `${base}/simulator/consent/${encodeURIComponent(state.app.name)}/${encodeURIComponent(state.app.id)}`
      )
      consentUrl.searchParams.set("state", c.consent.state)
      links["authorize"] = {
        href: consentUrl.toString(),
        hints: {
          allow: ["GET"],
          guidance: [
            "Specifies the URI to invoke in a browser for granting scope consent required to complete the OAuth 2.0 connection."
          ]
        }
      }
    }
    if (c.authScheme === "TOKEN") {
      return {
        authScheme: "TOKEN",
        status: c.status,
        ...(c.baseUrl !== undefined ? { baseUrl: c.baseUrl } : {}),
        profile: { authScheme: "TOKEN" },
        _links: links
      }
    }
    const org2org = state.app.name === "okta_org2org"
    return {
      ...(org2org ? { authScheme: "OAUTH2" } : {}),
      status: c.status,
      profile: {
        authScheme: "OAUTH2",
        ...(org2org && c.clientId !== undefined ? { clientId: c.clientId } : {}),
        ...(org2org ? { signing: { rotationMode: c.rotationMode ?? "MANUAL" } } : {})
      },
      _links: links
    }
  }
}

type Route =
  | {
      readonly op: "get" | "update" | "activate" | "deactivate" | "jwks"
      readonly appId: string
      readonly write: boolean
    }
  | {
      readonly op: "verify"
      readonly appId: string
      readonly appName: string
      readonly write: true
    }

const matchRoute = (method: string, pathname: string): Route | undefined => {
  const segments = pathname.split("/").map((s) => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  })
  // ["", "api", "v1", "apps", appId, "connections", "default", ...]
  if (segments[1] !== "api" || segments[2] !== "v1" || segments[3] !== "apps") return undefined
  const rest = segments.slice(4)
  if (rest[1] === "connections" && rest[2] === "default" && rest[0] !== undefined) {
    const appId = rest[0]
    const tail = rest.slice(3).join("/")
    if (tail === "" && method === "GET") return { op: "get", appId, write: false }
    if (tail === "" && method === "POST") return { op: "update", appId, write: true }
    if (tail === "jwks" && method === "GET") return { op: "jwks", appId, write: false }
    if (tail === "lifecycle/activate" && method === "POST")
      return { op: "activate", appId, write: true }
    if (tail === "lifecycle/deactivate" && method === "POST")
      return { op: "deactivate", appId, write: true }
    return undefined
  }
  if (rest.length === 4 && rest[2] === "oauth2" && rest[3] === "callback" && method === "POST") {
    return { op: "verify", appName: rest[0]!, appId: rest[1]!, write: true }
  }
  return undefined
}

/** The methods the routes above answer. */
const METHODS: ReadonlyArray<string> = ["GET", "POST"]

const query = (url: URL): Record<string, string> => Object.fromEntries(url.searchParams)

const lowerCased = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

type Auth =
  | { readonly _tag: "Valid"; readonly scopes: ReadonlyArray<string> }
  | {
      readonly _tag: "Invalid"
      readonly challenge: string
      readonly headers: ReadonlyArray<readonly [string, string]>
    }

const authenticate = (
  tokens: ReadonlyMap<string, SimulatedToken>,
  header: string | undefined
): Auth => {
  const match = /^(SSWS|Bearer|DPoP)\s+(\S+)$/i.exec(header ?? "")
  const named = match?.[1]?.toLowerCase()
  const scheme = named === "bearer" ? "Bearer" : named === "dpop" ? "DPoP" : "SSWS"
  const known = match !== null ? tokens.get(match[2]!) : undefined
  if (known === undefined || (known.scheme ?? "SSWS") !== scheme) {
    return {
      _tag: "Invalid",
      headers: [],
      // An unknown (revoked) access token is answered in its own scheme, DPoP's included.
      challenge:
        scheme === "SSWS"
          ? 'SSWS realm="Okta"'
          : `${scheme} authorization_uri="/oauth2/v1/authorize", realm="IdpMyAccountAPI", error="invalid_token", error_description="The access token is invalid."`
    }
  }
  return { _tag: "Valid", scopes: known.scopes ?? [READ, MANAGE] }
}

const oktaError = (
  errorCode: string,
  errorSummary: string,
  errorCauses: ReadonlyArray<{ readonly errorSummary: string }> = []
) => ({ errorCode, errorSummary, errorLink: errorCode, errorId: randomId("oae"), errorCauses })

const jsonResponse = (
  status: number,
  headers: ReadonlyArray<readonly [string, string]>,
  body: unknown
): SimResponse => ({
  status,
  headers: [...headers, ["content-type", "application/json"]],
  body: JSON.stringify(body)
})

const redactHeaders = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] =
      name.toLowerCase() === "authorization"
        ? value.replace(/^(\S+)\s+.*$/s, "$1 <redacted>")
        : value
  }
  return out
}

const parseBody = (body: string | undefined): unknown => {
  if (body === undefined || body === "") return undefined
  try {
    return JSON.parse(body)
  } catch {
    return body
  }
}

const withExtraFields = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(withExtraFields)
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = withExtraFields(v)
    out["simulatorAddedField"] = { added: true, at: randomUUID() }
    return out
  }
  return value
}
