/**
 * `OktaSimulator`: a faithful local Okta org for the Application Connections API, with two faces
 * over the same model: an in-process `HttpClient` (no sockets) and a loopback HTTP server.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import { gzipSync } from "node:zlib"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { OktaClient } from "../layers/OktaClient.js"
import type { OktaClientSettings, OktaCredentials } from "../layers/OktaClientOptions.js"
import { ApplicationConnections } from "../services/ApplicationConnections.js"
import {
  type FaultOptions,
  type LoggedRequest,
  checkRateLimit,
  OrgModel,
  type SimOutcome,
  type SimRequest,
  type SimulatedRateLimit,
  type SimulatedToken,
  type SimulatorFault
} from "./model.js"
import type { SimulatedOAuthClient } from "./oauth.js"
import { DEFAULT_APPS, type SimulatedApp } from "./seed.js"
import * as StuckClock from "./stuckClock.js"

/**
 * Options of the simulated org.
 *
 * @example
 * ```ts
 * import { OktaSimulator, type OktaSimulatorOptions } from "effect-okta-connections/testing"
 *
 * const options: OktaSimulatorOptions = { rateLimit: { limit: 5, windowSeconds: 1 }, tokens: [{ token: "t" }] }
 * const org = OktaSimulator.layer(options)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaSimulatorOptions {
  /** The apps. Default {@link DEFAULT_APPS}. */
  readonly apps?: ReadonlyArray<SimulatedApp> | undefined
  /** The tokens it accepts. Default: one random SSWS token with both scopes (see `token`). */
  readonly tokens?: ReadonlyArray<SimulatedToken> | undefined
  /** Rate limits. Default 50 requests per 60-second window, 15 in flight. */
  readonly rateLimit?: SimulatedRateLimit | undefined
  /**
   * Time every request spends in the org before it is answered (and holds a concurrency slot),
   * milliseconds: finite, 0 or more (or building the simulator dies with a `RangeError`). Default
   * 0. For benchmarks of the concurrent-request limit: a request that arrives with every slot
   * taken is refused (429, `Limit: 0`) at once, as Okta refuses it, without this wait.
   */
  readonly latencyMillis?: number | undefined
  /** Service apps its authorization server (`/oauth2/v1/token`) accepts. Default none. */
  readonly oauthClients?: ReadonlyArray<SimulatedOAuthClient> | undefined
  /** Lifetime of the access tokens it issues, whole seconds, at least 1. Default 3600. */
  readonly accessTokenLifetimeSeconds?: number | undefined
  /** Require the server's DPoP nonce in proofs (`use_dpop_nonce`), at the token endpoint and on API calls. */
  readonly dpopNonces?: boolean | undefined
  /** Runs after each request is answered (logging, metrics); the entry's token is redacted. */
  readonly onRequest?: ((entry: LoggedRequest) => Effect.Effect<void>) | undefined
  /**
   * How far the org's clock runs ahead of this process's (negative: behind), milliseconds: its
   * `Date` headers, rate-limit resets, access-token lifetimes and the checks of client assertions
   * and DPoP proofs follow it. Default 0. For testing a client on a machine whose clock is off.
   */
  readonly clockOffsetMillis?: number | undefined
  /**
   * Declare every body's `Content-Length` and never compress. Default false: as Okta answers,
   * bodies are chunked (no `Content-Length`), and gzip-compressed on the loopback server when the
   * request accepts it.
   */
  readonly contentLength?: boolean | undefined
}

/**
 * A snapshot of an app's connection as the simulator stores it (including what Okta never returns,
 * such as the token), for assertions.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const status = Effect.flatMap(OktaSimulator, (sim) => sim.inspect("0oasimzscaler0000001")).pipe(
 *   Effect.map((state) => state.connection?.status)
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedConnectionState {
  readonly app: SimulatedApp
  /** `undefined` for apps without provisioning support. */
  readonly connection:
    | {
        readonly authScheme: "TOKEN" | "OAUTH2"
        readonly status: "ENABLED" | "DISABLED"
        readonly baseUrl?: string | undefined
        readonly token?: string | undefined
        readonly clientId?: string | undefined
        readonly rotationMode?: "AUTO" | "MANUAL" | undefined
        readonly adminUsername?: string | undefined
        readonly verified: boolean
      }
    | undefined
}

/**
 * A simulator call that cannot be answered (an unknown app, no pending consent).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const program = Effect.flatMap(OktaSimulator, (sim) => sim.consent("0oa-unknown")).pipe(
 *   Effect.catchTag("OktaSimulatorError", (e) => Effect.log(e.message))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class OktaSimulatorError extends Data.TaggedError("OktaSimulatorError")<{
  readonly message: string
}> {}

/**
 * The service `OktaSimulator` provides: control over the simulated org.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const flaky = Effect.flatMap(OktaSimulator, (sim) =>
 *   sim.injectFault({ _tag: "ServerError", status: 503, body: "html" }, { times: 2 })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaSimulatorService {
  /** The first accepted token (generated unless `tokens` was given). */
  readonly token: string
  /** The scheme of {@link OktaSimulatorService.token}. */
  readonly tokenScheme: "SSWS" | "Bearer"
  /** Whether bodies declare their `Content-Length` (the `contentLength` option). */
  readonly contentLength: boolean
  /** Answers one request; what both faces run. */
  readonly handle: (request: SimRequest) => Effect.Effect<SimOutcome>
  /** The apps, in seeding order. */
  readonly apps: Effect.Effect<ReadonlyArray<SimulatedApp>>
  readonly addApp: (app: SimulatedApp) => Effect.Effect<void>
  readonly addToken: (token: SimulatedToken) => Effect.Effect<void>
  /** Stops accepting a token (as when it is revoked or its admin deactivated): 401 from then on. */
  readonly revokeToken: (token: string) => Effect.Effect<void>
  /** Revokes every access token the authorization server issued: their next use is 401 `invalid_token`. */
  readonly revokeAccessTokens: Effect.Effect<void>
  /**
   * With `dpopNonces`, replaces the server's DPoP nonce, as Okta rotates its own: the next proof
   * that carries the old one is refused with `use_dpop_nonce` and the new nonce.
   */
  readonly rotateDpopNonce: Effect.Effect<void>
  /** Registers another service app with the authorization server. */
  readonly addOAuthClient: (client: SimulatedOAuthClient) => Effect.Effect<void>
  /** How many token requests the authorization server received. */
  readonly tokenRequests: Effect.Effect<number>
  /** What the org stores for an app. */
  readonly inspect: (appId: string) => Effect.Effect<SimulatedConnectionState, OktaSimulatorError>
  /** Arms a fault for the next matching request(s). */
  readonly injectFault: (fault: SimulatorFault, options?: FaultOptions) => Effect.Effect<void>
  readonly clearFaults: Effect.Effect<void>
  /** Every request received so far, tokens redacted. */
  readonly requests: Effect.Effect<ReadonlyArray<LoggedRequest>>
  readonly clearRequests: Effect.Effect<void>
  /** Changes the rate limits (counts in the current window are kept). */
  readonly setRateLimit: (limits: SimulatedRateLimit) => Effect.Effect<void>
  /**
   * Grants the pending OAuth 2.0 consent of a consent-flow app, as the admin clicking "Allow" in
   * the third party's page would: returns the `code` and `state` that `verify…` accepts, once.
   */
  readonly consent: (
    appId: string
  ) => Effect.Effect<{ readonly code: string; readonly state: string }, OktaSimulatorError>
}

/**
 * The address of a running loopback simulator.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SimulatorServer } from "effect-okta-connections/testing"
 *
 * const url = Effect.map(SimulatorServer, (info) => info.url)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatorServerInfo {
  /** `http://127.0.0.1:<port>`: use it as `orgUrl`. */
  readonly url: string
  readonly port: number
}

/**
 * The loopback simulator's address, provided by {@link OktaSimulator.layerServer}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { SimulatorServer } from "effect-okta-connections/testing"
 *
 * const program = Effect.flatMap(SimulatorServer, ({ url }) => Effect.log(`simulator at ${url}`))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class SimulatorServer extends Context.Tag("effect-okta-connections/testing/SimulatorServer")<
  SimulatorServer,
  SimulatorServerInfo
>() {}

/**
 * The loopback server could not listen (port in use, a non-loopback host).
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const server = OktaSimulator.layerServer({ port: 8080 }).pipe(Layer.provide(OktaSimulator.layer()))
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class SimulatorServeError extends Data.TaggedError("SimulatorServeError")<{
  readonly message: string
}> {}

const generatedToken = () => `00sim${randomBytes(18).toString("base64url")}`

/**
 * Builds a simulated org.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: OktaSimulatorOptions = {}): OktaSimulatorService => {
  const tokens = options.tokens ?? [{ token: generatedToken() }]
  const model = new OrgModel({
    apps: options.apps ?? DEFAULT_APPS,
    tokens,
    rateLimit: options.rateLimit ?? {},
    onRequest: options.onRequest,
    latencyMillis: options.latencyMillis,
    clockOffsetMillis: options.clockOffsetMillis,
    oauthClients: options.oauthClients,
    accessTokenLifetimeSeconds: options.accessTokenLifetimeSeconds,
    dpopNonces: options.dpopNonces
  })
  const first = tokens[0]
  return {
    token: first?.token ?? "",
    tokenScheme: first?.scheme ?? "SSWS",
    contentLength: options.contentLength ?? false,
    handle: (request) => model.handle(request),
    apps: Effect.sync(() => [...model.apps.values()].map((state) => state.app)),
    addApp: (app) => Effect.sync(() => model.addApp(app)),
    addToken: (token) => Effect.sync(() => void model.tokens.set(token.token, token)),
    revokeToken: (token) => Effect.sync(() => void model.tokens.delete(token)),
    revokeAccessTokens: Effect.sync(() => model.oauth.revokeAll()),
    rotateDpopNonce: Effect.sync(() => model.oauth.rotateNonce()),
    addOAuthClient: (client) =>
      Effect.sync(() => void model.oauth.clients.set(client.clientId, client)),
    tokenRequests: Effect.sync(() => model.oauth.tokenRequests),
    inspect: (appId) =>
      Effect.suspend(() => {
        const state = model.apps.get(appId)
        if (state === undefined) {
          return Effect.fail(new OktaSimulatorError({ message: `no app ${appId}` }))
        }
        const c = state.connection
        return Effect.succeed({
          app: state.app,
          connection:
            c === undefined
              ? undefined
              : {
                  authScheme: c.authScheme,
                  status: c.status,
                  baseUrl: c.baseUrl,
                  token: c.token,
                  clientId: c.clientId,
                  rotationMode: c.rotationMode,
                  adminUsername: c.adminUsername,
                  verified: c.verified
                }
        })
      }),
    injectFault: (fault, faultOptions) => Effect.sync(() => model.armFault(fault, faultOptions)),
    clearFaults: Effect.sync(() => void model.faults.splice(0)),
    requests: Effect.sync(() => [...model.log]),
    clearRequests: Effect.sync(() => void model.log.splice(0)),
    setRateLimit: (limits) =>
      Effect.sync(() => {
        // Checked whole first: settings refused (a defect) change nothing.
        checkRateLimit(limits)
        if (limits.limit !== undefined) model.limit = limits.limit
        if (limits.windowSeconds !== undefined) model.windowMillis = limits.windowSeconds * 1000
        if (limits.concurrencyLimit !== undefined) model.concurrencyLimit = limits.concurrencyLimit
      }),
    consent: (appId) =>
      Effect.suspend(() => {
        const result = model.consent(appId)
        return Either.isRight(result)
          ? Effect.succeed(result.right)
          : Effect.fail(new OktaSimulatorError({ message: result.left }))
      })
  }
}

const decoder = new TextDecoder()
const encoder = new TextEncoder()

/**
 * Fails as a real transport does once the request's abort signal fires: the platform aborts it
 * when the caller is interrupted, and the client's timeout aborts it at the deadline.
 */
const abortedBy = (
  request: HttpClientRequest.HttpClientRequest,
  signal: AbortSignal
): Effect.Effect<never, HttpClientError.RequestError> =>
  Effect.async((resume) => {
    const onAbort = () =>
      resume(
        Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", cause: signal.reason })
        )
      )
    if (signal.aborted) return onAbort()
    signal.addEventListener("abort", onAbort, { once: true })
    return Effect.sync(() => signal.removeEventListener("abort", onAbort))
  })

/** What an answer was, and whether the client waits on its clock after it (to retry, at the gate). */
const described = (sent: string, outcome: SimOutcome): [string, boolean] => {
  if (outcome._tag === "Drop") return [`dropped ${sent}`, true]
  if (outcome._tag === "Hang") return [`left ${sent} unanswered (a Hang fault)`, true]
  const { status, headers } = outcome.response
  const spent = headers.some(
    ([name, value]) => name.toLowerCase() === "x-rate-limit-remaining" && value === "0"
  )
  const waits = status === 429 || status >= 500 || spent
  return [`answered ${status} to ${sent}${spent && status !== 429 ? " (window spent)" : ""}`, waits]
}

/**
 * The in-process face: an `HttpClient` whose every request is answered by the model, and which,
 * like the platform's transports, gives up on a request whose abort signal fires (a `Hang` or a
 * `Delay` then ends as it would on a socket).
 */
const makeHttpClient = (
  sim: OktaSimulatorService,
  watcher: StuckClock.Watcher
): HttpClient.HttpClient =>
  HttpClient.make((request, url, signal) => {
    const body = request.body
    const text =
      body._tag === "Uint8Array"
        ? decoder.decode(body.body)
        : body._tag === "Raw" && typeof body.body === "string"
          ? body.body
          : undefined
    const sent = `${request.method} ${url.pathname}`
    const answer = Effect.flatMap(
      sim.handle({ method: request.method, url, headers: request.headers, body: text }),
      (
        outcome
      ): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
        Effect.zipRight(
          watcher.answered(...described(sent, outcome)),
          inProcessResponse(sim, request, outcome)
        )
    )
    // Counted and its end installed in one uninterruptible step, and raced inside that region too:
    // Effect 3's `raceFirst` creates its fibers one step before starting them, and a caller
    // interrupted in between would never end.
    return Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        watcher.sent(sent),
        Effect.ensuring(
          // eslint-disable-next-line no-restricted-syntax -- raced inside the mask, each side restored
          Effect.raceFirst(restore(answer), restore(abortedBy(request, signal))),
          watcher.ended
        )
      )
    )
  })

/** The response the in-process face gives for the model's outcome. */
const inProcessResponse = (
  sim: OktaSimulatorService,
  request: HttpClientRequest.HttpClientRequest,
  outcome: SimOutcome
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  switch (outcome._tag) {
    case "Drop":
      return Effect.fail(
        new HttpClientError.RequestError({
          request,
          reason: "Transport",
          cause: Object.assign(new Error("socket hang up"), { code: "ECONNRESET" })
        })
      )
    case "Hang":
      return Effect.never
    case "Respond": {
      const { status, headers, body: responseBody } = outcome.response
      const webHeaders = new Headers()
      for (const [name, value] of headers) webHeaders.append(name, value)
      const nullBody = status === 204 || status === 304 || responseBody === ""
      // A Response made from a string streams it, as a chunked body arrives.
      if (sim.contentLength) {
        webHeaders.set("content-length", String(nullBody ? 0 : encoder.encode(responseBody).length))
      }
      return Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          new Response(nullBody ? null : responseBody, { status, headers: webHeaders })
        )
      )
    }
  }
}

const isLoopback = (host: string) =>
  host === "127.0.0.1" || host === "::1" || host === "localhost" || /^127(\.\d{1,3}){3}$/.test(host)

/** Most a request body may be; the simulated endpoints take small JSON bodies. */
const MAX_REQUEST_BODY = 1024 * 1024

/**
 * Starts the loopback face: a `node:http` server on `host` (default `127.0.0.1`) and `port`
 * (default: any free port) answering with the simulator in context, until the scope closes.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaSimulator, serve } from "effect-okta-connections/testing"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function* () {
 *     const { url } = yield* serve()
 *     yield* Effect.log(`Okta simulator at ${url}`)
 *   })
 * ).pipe(Effect.provide(OktaSimulator.layer()))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  options: { readonly port?: number | undefined; readonly host?: string | undefined } = {}
): Effect.Effect<SimulatorServerInfo, SimulatorServeError, OktaSimulator | Scope.Scope> =>
  Effect.gen(function* () {
    const host = options.host ?? "127.0.0.1"
    if (!isLoopback(host)) {
      return yield* new SimulatorServeError({
        message: `the simulator listens on loopback only (got host ${host})`
      })
    }
    const sim = yield* OktaSimulator
    // Each request's handling runs in a fiber of this set: interrupted when the server stops.
    const run = yield* FiberSet.makeRuntime<never>()
    // Under a `TestClock` (the server started inside `it.effect`), as on the in-process face.
    const watcher = yield* StuckClock.watch

    const respond = (req: IncomingMessage, res: ServerResponse, outcome: SimOutcome) =>
      Effect.sync(() => {
        switch (outcome._tag) {
          case "Drop":
            req.socket.destroy()
            return
          case "Hang":
            return
          case "Respond": {
            const { status, headers, body } = outcome.response
            // Dates come from the model (its Clock), and a fault may omit the header.
            res.sendDate = false
            const grouped = new Map<string, Array<string>>()
            for (const [name, value] of headers) {
              grouped.set(name, [...(grouped.get(name) ?? []), value])
            }
            for (const [name, values] of grouped) {
              res.setHeader(name, values.length === 1 ? values[0]! : values)
            }
            const compress =
              !sim.contentLength &&
              body.length > 0 &&
              /\bgzip\b/i.test(String(req.headers["accept-encoding"] ?? ""))
            if (sim.contentLength) res.setHeader("content-length", Buffer.byteLength(body))
            if (compress) res.setHeader("content-encoding", "gzip")
            res.writeHead(status)
            // Without a Content-Length node:http sends the body chunked, as Okta does.
            res.end(compress ? gzipSync(body) : body)
          }
        }
      })

    const server = createServer((req, res) => {
      const chunks: Array<Buffer> = []
      let size = 0
      req.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size <= MAX_REQUEST_BODY) chunks.push(chunk)
      })
      req.on("end", () => {
        const address = server.address() as AddressInfo
        const url = new URL(
          req.url ?? "/",
          `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`
        )
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value
        }
        const body = chunks.length > 0 ? Buffer.concat(chunks).toString("utf8") : undefined
        if (size > MAX_REQUEST_BODY) {
          run(
            respond(req, res, {
              _tag: "Respond",
              response: {
                status: 413,
                headers: [["content-type", "text/plain"]],
                body: "request body too large"
              }
            })
          )
          return
        }
        const sent = `${req.method ?? "GET"} ${url.pathname}`
        // In flight until its response is sent, or its socket closed (a drop, a hang given up).
        if (watcher !== StuckClock.unwatched) res.once("close", () => run(watcher.ended))
        run(
          Effect.zipRight(
            watcher.sent(sent),
            Effect.flatMap(
              sim.handle({ method: req.method ?? "GET", url, headers, body }),
              (outcome) =>
                Effect.zipRight(
                  watcher.answered(...described(sent, outcome)),
                  respond(req, res, outcome)
                )
            )
          )
        )
      })
    })

    const port = yield* Effect.acquireRelease(
      Effect.async<number, SimulatorServeError>((resume) => {
        const onError = (error: Error) =>
          resume(
            Effect.fail(
              new SimulatorServeError({
                message: `cannot listen on ${host}:${options.port ?? 0}: ${error.message}`
              })
            )
          )
        server.once("error", onError)
        try {
          server.listen(options.port ?? 0, host, () => {
            server.off("error", onError)
            resume(Effect.succeed((server.address() as AddressInfo).port))
          })
        } catch (error) {
          // A port out of range (or not an integer) throws here rather than emitting "error".
          server.off("error", onError)
          onError(error instanceof Error ? error : new Error(String(error)))
        }
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          // Hung and keep-alive connections would hold `close` open.
          server.closeAllConnections()
        })
    )
    return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, port }
  })

/**
 * Options of the ready-made client layers: the `OktaClient` settings, and its credentials
 * (default: the simulator's first token).
 *
 * @example
 * ```ts
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const layer = OktaSimulator.layerConnections({ client: { timeout: "1 second", retry: false } })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ConnectionsOptions<E = never> {
  readonly client?: OktaClientSettings | undefined
  readonly credentials?: OktaCredentials | undefined
  /**
   * The transport of {@link OktaSimulator.layerConnectionsServer}'s client. Default
   * `FetchHttpClient.layer`; for example `OktaUndici.layer()` (from
   * `effect-okta-connections/undici`) to test over undici as production would use it. Its error
   * becomes the layer's.
   */
  readonly httpClient?: Layer.Layer<HttpClient.HttpClient, E> | undefined
}

const credentialsOf = (
  sim: OktaSimulatorService,
  options: ConnectionsOptions<unknown>
): OktaCredentials => {
  if (options.credentials !== undefined) return options.credentials
  // An org given no tokens has none to lend its client: said so, not as "apiToken is empty".
  if (sim.token === "") {
    throw new RangeError(
      "OktaSimulator: tokens is empty, so the ready-made client has no token of the org's to send; give it credentials (credentials: { apiToken: Redacted.make(…) }), a token the org refuses included"
    )
  }
  return sim.tokenScheme === "Bearer"
    ? { accessToken: Redacted.make(sim.token) }
    : { apiToken: Redacted.make(sim.token) }
}

/** Fake Org URL of the in-process face; never resolved (no socket is opened). */
const IN_PROCESS_ORG_URL = "https://simulator.okta.test"

/**
 * The simulated org. Compose it with one of its faces: {@link OktaSimulator.layerHttpClient}
 * (in-process) or {@link OktaSimulator.layerServer} (loopback), or take a ready-made client with
 * {@link OktaSimulator.layerConnections}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections } from "effect-okta-connections"
 * import { OktaSimulator } from "effect-okta-connections/testing"
 *
 * const program = Effect.gen(function* () {
 *   const api = yield* ApplicationConnections
 *   const sim = yield* OktaSimulator
 *   yield* api.activateDefaultProvisioningConnectionForApplication("0oasimorg2orgtoken01")
 *   const { connection } = yield* sim.inspect("0oasimorg2orgtoken01")
 *   // connection?.status === "ENABLED"
 * }).pipe(Effect.provide(OktaSimulator.layerConnections()))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class OktaSimulator extends Context.Tag("effect-okta-connections/testing/OktaSimulator")<
  OktaSimulator,
  OktaSimulatorService
>() {
  /**
   * A fresh simulated org (build one per test where state matters).
   *
   * @example
   * ```ts
   * import { DEFAULT_APPS, OktaSimulator, generatedApps } from "effect-okta-connections/testing"
   *
   * const org = OktaSimulator.layer({
   *   apps: [...DEFAULT_APPS, ...generatedApps(100)],
   *   tokens: [{ token: "test-token" }],
   *   rateLimit: { limit: 10, windowSeconds: 1 }
   * })
   * ```
   */
  static layer(options: OktaSimulatorOptions = {}): Layer.Layer<OktaSimulator> {
    return Layer.sync(OktaSimulator, () => make(options))
  }

  /**
   * The in-process face: an `HttpClient` answered by the simulator, no sockets.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { OktaSimulator } from "effect-okta-connections/testing"
   *
   * const http = OktaSimulator.layerHttpClient.pipe(Layer.provideMerge(OktaSimulator.layer()))
   * ```
   */
  static readonly layerHttpClient: Layer.Layer<HttpClient.HttpClient, never, OktaSimulator> =
    Layer.scoped(
      HttpClient.HttpClient,
      Effect.zipWith(OktaSimulator, StuckClock.watch, makeHttpClient)
    )

  /**
   * The loopback face: a real HTTP server on `127.0.0.1` and a free port, stopped when the layer
   * is released.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { OktaSimulator } from "effect-okta-connections/testing"
   *
   * const server = OktaSimulator.layerServer().pipe(Layer.provideMerge(OktaSimulator.layer()))
   * ```
   */
  static layerServer(
    options: { readonly port?: number | undefined; readonly host?: string | undefined } = {}
  ): Layer.Layer<SimulatorServer, SimulatorServeError, OktaSimulator> {
    return Layer.scoped(SimulatorServer, serve(options))
  }

  /**
   * Everything wired in-process: `ApplicationConnections` and `OktaClient` over the simulator's
   * `HttpClient`, authenticated with its token, plus `OktaSimulator` to control it.
   * Under a `TestClock`, a call left waiting on it (a retry, a rate-limit wait) with the clock
   * standing still for 2 s of real time gets a line on standard error: run it inside
   * `withAdvancingClock`. A `client` setting `OktaClient.layer` refuses is the test's own mistake:
   * building the layer dies with its `OktaConfigError` (the layer's error type stays `never`).
   *
   * @example
   * ```ts
   * import { OktaSimulator } from "effect-okta-connections/testing"
   *
   * const TestLayer = OktaSimulator.layerConnections({ rateLimit: { limit: 5, windowSeconds: 1 } })
   * ```
   */
  static layerConnections(
    options: OktaSimulatorOptions & ConnectionsOptions = {}
  ): Layer.Layer<ApplicationConnections | OktaClient | OktaSimulator> {
    const client = Layer.unwrapEffect(
      Effect.map(OktaSimulator, (sim) =>
        OktaClient.layer({
          ...options.client,
          orgUrl: IN_PROCESS_ORG_URL,
          ...credentialsOf(sim, options)
        }).pipe(Layer.orDie)
      )
    )
    return ApplicationConnections.layer.pipe(
      Layer.provideMerge(client),
      Layer.provide(OktaSimulator.layerHttpClient),
      Layer.provideMerge(OktaSimulator.layer(options))
    )
  }

  /**
   * Everything wired over a real loopback socket (with `FetchHttpClient` unless `httpClient` says
   * otherwise): `ApplicationConnections`,
   * `OktaClient`, `OktaSimulator` and the `SimulatorServer` address. As with `layerConnections`,
   * a `client` setting `OktaClient.layer` refuses dies with its `OktaConfigError`.
   *
   * @example
   * ```ts
   * import { OktaSimulator } from "effect-okta-connections/testing"
   * import { OktaUndici } from "effect-okta-connections/undici"
   *
   * const LoopbackLayer = OktaSimulator.layerConnectionsServer()
   * // Over undici, as production runs on Node; fails to build with OktaConfigError on a bad cap.
   * const UndiciLoopbackLayer = OktaSimulator.layerConnectionsServer({
   *   httpClient: OktaUndici.layer()
   * })
   * ```
   */
  static layerConnectionsServer<E = never>(
    options: OktaSimulatorOptions & ConnectionsOptions<E> = {}
  ): Layer.Layer<
    ApplicationConnections | OktaClient | OktaSimulator | SimulatorServer,
    SimulatorServeError | E
  > {
    const client = Layer.unwrapEffect(
      Effect.map(Effect.all([OktaSimulator, SimulatorServer]), ([sim, server]) =>
        OktaClient.layer({
          ...options.client,
          orgUrl: server.url,
          ...credentialsOf(sim, options)
        }).pipe(Layer.orDie)
      )
    )
    return ApplicationConnections.layer.pipe(
      Layer.provideMerge(client),
      Layer.provide(options.httpClient ?? FetchHttpClient.layer),
      Layer.provideMerge(OktaSimulator.layerServer()),
      Layer.provideMerge(OktaSimulator.layer(options))
    )
  }
}
