/**
 * Authentication: how a request gets its credentials, and how a rejected one is recovered.
 * Static credentials are one header. An OAuth 2.0 service app gets its tokens here: the
 * client-credentials grant with a `private_key_jwt` assertion, a token cache refreshed
 * `refreshMargin` before expiry by one request however many fibers wait (single flight), and
 * DPoP (an ephemeral ES256 key, a proof per request, the server's nonces), switched on by itself
 * when the token endpoint demands it. A 401 whose challenge says `invalid_token` drops exactly the
 * token that request carried and replays once. `jose` is loaded only in that mode (an optional
 * peer dependency).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import type * as Jose_ from "jose"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import {
  OktaAuthError,
  OktaConfigError,
  type OktaHttpError,
  type OktaTimeoutError,
  type OktaTransportError,
  OktaUnauthorizedError
} from "../errors/OktaError.js"
import { configError, importSigningKey } from "./keys.js"
import { type Call, httpError } from "./reader.js"

// Types only: the module itself is loaded with a dynamic import when OAuth is configured.
type CryptoKey = Jose_.CryptoKey
type Jwk = Jose_.JWK

const decodeTokenResponse = Schema.decodeUnknownEither(
  Schema.Struct({
    access_token: Schema.String,
    token_type: Schema.String,
    expires_in: Schema.Number
  })
)
const decodeOAuthError = Schema.decodeUnknownEither(
  Schema.Struct({ error: Schema.String, error_description: Schema.optional(Schema.String) })
)

/** Token requests in errors, spans and metrics. @internal */
export const TOKEN_CALL: Call = {
  operation: "requestAccessToken",
  method: "POST",
  path: "/oauth2/v1/token"
}

/** The OAuth 2.0 settings (structurally the public `OktaOAuthOptions`). @internal */
export interface OAuthSettings {
  readonly clientId: string
  readonly privateKey: Redacted.Redacted<string>
  readonly keyId?: string | undefined
  readonly scopes: ReadonlyArray<string>
  readonly dpop?: boolean | undefined
  readonly refreshMargin?: Duration.DurationInput | undefined
}

/** A token-endpoint answer, read by the client's exchange. @internal */
export interface TokenAnswer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly text: string
}

/** What a token request may fail with. @internal */
export type TokenError = OktaAuthError | OktaHttpError | OktaTransportError | OktaTimeoutError

/**
 * How the client's engine sends token requests: `send` is one exchange (timeout, metrics, the
 * token endpoint's own gate); `retry` runs attempts under the client's retry policy.
 *
 * @internal
 */
export interface TokenTransport {
  readonly send: (
    request: HttpClientRequest.HttpClientRequest
  ) => Effect.Effect<TokenAnswer, OktaTransportError | OktaTimeoutError>
  readonly retry: (
    attempt: (retryHeaders: Record<string, string> | undefined) => Effect.Effect<void, TokenError>,
    repair: (error: TokenError) => boolean
  ) => Effect.Effect<void, TokenError>
}

/** @internal */
export interface Authenticator {
  /** Adds credentials to a request; `undefined` when the default headers already carry them. */
  readonly authorize:
    | ((
        request: HttpClientRequest.HttpClientRequest
      ) => Effect.Effect<HttpClientRequest.HttpClientRequest, TokenError>)
    | undefined
  /** Sees every non-2xx API response: remembers a DPoP nonce, drops a rejected token. */
  readonly rejected: (
    request: HttpClientRequest.HttpClientRequest,
    error: OktaHttpError,
    headers: Headers.Headers
  ) => void
  /** Whether a failed call is repaired by replaying it at once (fresh token, nonce). */
  readonly repairable: (error: unknown) => boolean
}

/** Static credentials: the `Authorization` header is one of the client's default headers. @internal */
export const staticCredentials: Authenticator = {
  authorize: undefined,
  rejected: () => {},
  repairable: () => false
}

const challengeOf = (error: unknown): string | undefined =>
  error instanceof OktaUnauthorizedError ? error.challenge?.error : undefined

/** An OAuth 2.0 service app. Fails with `OktaConfigError` on unusable settings. @internal */
export const oauth = (
  orgUrl: string,
  options: OAuthSettings,
  userAgent: string,
  transport: TokenTransport
): Effect.Effect<Authenticator, OktaConfigError> =>
  Effect.gen(function* () {
    if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
      return yield* new OktaConfigError({ field: "oauth.clientId", reason: "is empty" })
    }
    if (!Array.isArray(options.scopes) || options.scopes.length === 0) {
      return yield* new OktaConfigError({
        field: "oauth.scopes",
        reason: "must name one scope or more"
      })
    }
    if (!Redacted.isRedacted(options.privateKey)) {
      return yield* configError(
        "must be a Redacted<string> (Redacted.make(key)), so it never reaches a log"
      )
    }
    const jose = yield* Effect.tryPromise({
      try: () => import("jose"),
      catch: () =>
        new OktaConfigError({
          field: "oauth",
          reason: "needs the jose package: npm install jose@^6"
        })
    })
    const signing = yield* importSigningKey(jose, Redacted.value(options.privateKey))
    const tokenUrl = `${orgUrl}/oauth2/v1/token`
    const marginMillis = Duration.toMillis(Duration.decode(options.refreshMargin ?? "5 minutes"))
    const encoder = new TextEncoder()

    let dpopEnabled = options.dpop === true
    let dpopKey: Promise<{ privateKey: CryptoKey; jwk: Jwk }> | undefined
    // Made on first use and kept for the client's life: its tokens are bound to it.
    const dpopKeyPair = () =>
      (dpopKey ??= jose.generateKeyPair("ES256", { extractable: true }).then(async (pair) => {
        const { kty, crv, x, y } = await jose.exportJWK(pair.publicKey)
        const jwk: Jwk = {}
        if (kty !== undefined) jwk.kty = kty
        if (crv !== undefined) jwk.crv = crv
        if (x !== undefined) jwk.x = x
        if (y !== undefined) jwk.y = y
        return { privateKey: pair.privateKey, jwk }
      }))
    let tokenNonce: string | undefined
    let apiNonce: string | undefined
    let cache: { authorization: string; dpop: boolean; refreshAt: number } | undefined
    const semaphore = yield* Effect.makeSemaphore(1)
    const fresh = (now: number) =>
      cache !== undefined && now < cache.refreshAt ? cache : undefined

    const authFailure = (error: string, errorDescription: string, extra: object = {}) =>
      new OktaAuthError({ ...TOKEN_CALL, error, errorDescription, ...extra })

    const proof = (method: string, url: string, accessToken?: string, nonce?: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (millis) =>
        Effect.tryPromise({
          try: async () => {
            const { privateKey, jwk } = await dpopKeyPair()
            const claims: Record<string, unknown> = {
              htm: method,
              htu: url.replace(/[?#].*$/s, ""),
              iat: Math.floor(millis / 1000),
              jti: crypto.randomUUID()
            }
            if (accessToken !== undefined) {
              const digest = await crypto.subtle.digest("SHA-256", encoder.encode(accessToken))
              claims["ath"] = jose.base64url.encode(new Uint8Array(digest))
            }
            if (nonce !== undefined) claims["nonce"] = nonce
            return new jose.SignJWT(claims)
              .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
              .sign(privateKey)
          },
          catch: () => authFailure("dpop_proof_failed", "could not sign a DPoP proof")
        })
      )

    const tokenRequest = (retryHeaders: Record<string, string> | undefined) =>
      Effect.gen(function* () {
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        const assertion = yield* Effect.tryPromise({
          try: () =>
            new jose.SignJWT({})
              .setProtectedHeader({
                alg: signing.alg,
                ...(options.keyId !== undefined ? { kid: options.keyId } : {})
              })
              .setIssuer(options.clientId)
              .setSubject(options.clientId)
              .setAudience(tokenUrl)
              .setIssuedAt(now)
              // Short-lived and unique: a leaked assertion expires soon; a replayed jti is refused.
              .setExpirationTime(now + 300)
              .setJti(crypto.randomUUID())
              .sign(signing.key),
          catch: () => authFailure("client_assertion_failed", "could not sign the client assertion")
        })
        const headers: Record<string, string> = {
          accept: "application/json",
          "user-agent": userAgent,
          ...retryHeaders
        }
        if (dpopEnabled) headers["dpop"] = yield* proof("POST", tokenUrl, undefined, tokenNonce)
        return HttpClientRequest.post(tokenUrl, {
          headers,
          body: HttpBody.urlParams(
            UrlParams.fromInput({
              grant_type: "client_credentials",
              scope: options.scopes.join(" "),
              client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
              client_assertion: assertion
            })
          )
        })
      })

    /** Caches the token of a 200, or fails with the token endpoint's typed error. */
    const readAnswer = ({
      status,
      headers,
      text
    }: TokenAnswer): Effect.Effect<void, TokenError> => {
      const requestId = headers["x-okta-request-id"]
      const ids = requestId !== undefined ? { requestId } : {}
      let json: unknown = undefined
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      if (status === 200) {
        const body = decodeTokenResponse(json)
        if (Either.isLeft(body)) {
          return Effect.fail(
            authFailure(
              "invalid_token_response",
              "the token endpoint's answer is not an OAuth 2.0 token response",
              { status: 200, ...ids }
            )
          )
        }
        return Effect.map(Clock.currentTimeMillis, (now) => {
          const { access_token, token_type, expires_in } = body.right
          const lifetime = Math.max(0, expires_in * 1000)
          const dpop = token_type.toLowerCase() === "dpop"
          cache = {
            authorization: `${dpop ? "DPoP" : "Bearer"} ${access_token}`,
            dpop,
            refreshAt: now + lifetime - Math.min(marginMillis, lifetime / 2)
          }
        })
      }
      const nonce = headers["dpop-nonce"]
      if (nonce !== undefined) tokenNonce = nonce
      const error = decodeOAuthError(json)
      // Not an OAuth error body (a 429, a proxy's page): the HTTP error of the token call.
      if (Either.isLeft(error)) return Effect.fail(httpError(TOKEN_CALL, status, headers, text))
      const description = error.right.error_description
      return Effect.fail(
        new OktaAuthError({
          ...TOKEN_CALL,
          status,
          error: error.right.error,
          ...(description !== undefined ? { errorDescription: description } : {}),
          ...ids
        })
      )
    }

    const fetchToken = transport.retry(
      (retryHeaders) =>
        Effect.flatMap(Effect.flatMap(tokenRequest(retryHeaders), transport.send), readAnswer),
      (error) => {
        if (error._tag !== "OktaAuthError") return false
        if (error.error === "use_dpop_nonce" && tokenNonce !== undefined) return true
        // The app requires DPoP-bound tokens: switch DPoP on and ask again.
        if (error.error === "invalid_dpop_proof" && !dpopEnabled) {
          dpopEnabled = true
          return true
        }
        return false
      }
    )

    const authorize = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function* () {
        let current = fresh(yield* Clock.currentTimeMillis)
        if (current === undefined) {
          // Single flight: one fiber fetches, the others wait and then find the fresh token.
          yield* semaphore.withPermits(1)(
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              fresh(now) !== undefined ? Effect.void : fetchToken
            )
          )
          current = cache
        }
        if (current === undefined) {
          return yield* authFailure("no_token", "no access token could be obtained")
        }
        const headers: Record<string, string> = { authorization: current.authorization }
        if (current.dpop) {
          const token = current.authorization.slice("DPoP ".length)
          headers["dpop"] = yield* proof(request.method, request.url, token, apiNonce)
        }
        return HttpClientRequest.setHeaders(request, headers)
      })

    return {
      authorize,
      rejected: (request, error, headers) => {
        const nonce = headers["dpop-nonce"]
        if (nonce !== undefined) apiNonce = nonce
        if (error.challenge?.error === "invalid_token") {
          // Drop exactly the token this request carried, unless a newer one replaced it already.
          if (cache?.authorization === request.headers["authorization"]) cache = undefined
        }
      },
      repairable: (error) => {
        const challenge = challengeOf(error)
        return challenge === "use_dpop_nonce" || challenge === "invalid_token"
      }
    } satisfies Authenticator
  })
