/**
 * OAuth 2.0 service-app authentication: the client-credentials grant with a `private_key_jwt`
 * client assertion, a per-client token cache, and DPoP. `jose` does the cryptography; it is loaded
 * only when a client is configured this way (an optional peer dependency).
 *
 * Where the official SDKs go wrong (`okta/notes.md` §e, §f), this does:
 * - the token is refreshed `refreshMargin` before it expires (Node never refreshes; Java has no
 *   margin), by one request however many fibers need it (single flight);
 * - retries of an API call reuse the cached token (Go mints one per retry); a 401 whose challenge
 *   says `invalid_token` drops it and replays once;
 * - DPoP: an ephemeral ES256 key per client, a proof per request (`htm`, `htu` without query, `iat`,
 *   `jti`, `ath`, the server's `nonce`), `use_dpop_nonce` handled at the token endpoint and on API
 *   calls; switched on automatically when the token endpoint demands it.
 *
 * @internal
 */
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import type * as Jose_ from "jose"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { OktaAuthError, OktaConfigError } from "../errors/OktaError.js"
import type { OktaOAuthOptions } from "../layers/OAuthOptions.js"
import type { RequestContext } from "./response.js"

// Types only: the module itself is loaded with a dynamic import when OAuth is configured.
type Jose = typeof Jose_
type CryptoKey = Jose_.CryptoKey
type Jwk = Jose_.JWK

const TokenResponse = Schema.Struct({
  access_token: Schema.String,
  token_type: Schema.String,
  expires_in: Schema.Number,
  scope: Schema.optional(Schema.String)
})
const decodeTokenResponse = Schema.decodeUnknownEither(TokenResponse)
const OAuthErrorBody = Schema.Struct({
  error: Schema.String,
  error_description: Schema.optional(Schema.String)
})
const decodeOAuthError = Schema.decodeUnknownEither(OAuthErrorBody)

/** The operation name of token requests in errors, spans and metrics. @internal */
export const TOKEN_CONTEXT: RequestContext = {
  operation: "requestAccessToken",
  method: "POST",
  path: "/oauth2/v1/token"
}

interface SigningKey {
  readonly key: CryptoKey
  readonly alg: "RS256" | "ES256"
}

const configError = (reason: string) => new OktaConfigError({ field: "oauth.privateKey", reason })

/**
 * Imports the private key, telling the algorithm from the key itself. Fails with a message that
 * says what is wrong with the key, never what it is.
 */
const importSigningKey = (jose: Jose, raw: string): Effect.Effect<SigningKey, OktaConfigError> =>
  Effect.gen(function* () {
    // Keys pasted into environment variables often carry literal "\n".
    const text =
      raw.includes("\\n") && raw.includes("-----BEGIN") ? raw.replace(/\\n/g, "\n") : raw.trim()
    if (text.startsWith("{")) {
      const jwk = yield* Either.match(
        Either.try(() => JSON.parse(text) as Record<string, unknown>),
        {
          onLeft: () => Effect.fail(configError("looks like a JWK but is not valid JSON")),
          onRight: (value) => Effect.succeed(value)
        }
      )
      if (typeof jwk["d"] !== "string")
        return yield* configError("is a JWK without its private part (d)")
      const alg = jwk["kty"] === "EC" ? "ES256" : jwk["kty"] === "RSA" ? "RS256" : undefined
      if (alg === undefined) return yield* configError("must be an RSA or EC (P-256) key")
      const key = yield* Effect.tryPromise({
        try: () => jose.importJWK(jwk, alg) as Promise<CryptoKey>,
        catch: () => configError(`is not a usable ${alg} private JWK`)
      })
      return { key, alg }
    }
    if (
      text.includes("-----BEGIN RSA PRIVATE KEY-----") ||
      text.includes("-----BEGIN EC PRIVATE KEY-----")
    ) {
      return yield* configError(
        "is a PKCS#1/SEC1 PEM; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt) or use the JWK Okta gave you"
      )
    }
    if (!text.includes("-----BEGIN PRIVATE KEY-----")) {
      return yield* configError(
        "must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or a private JWK"
      )
    }
    for (const alg of ["RS256", "ES256"] as const) {
      const key = yield* Effect.either(
        Effect.tryPromise({ try: () => jose.importPKCS8(text, alg), catch: () => undefined })
      )
      if (Either.isRight(key)) return { key: key.right, alg }
    }
    return yield* configError("is not an RSA or EC (P-256) PKCS#8 private key")
  })

/** @internal */
export interface TokenProvider {
  /** `Authorization` (and `DPoP`) headers for one API request. */
  readonly headersFor: <E>(
    method: string,
    url: string,
    fetch: Effect.Effect<void, E>
  ) => Effect.Effect<Record<string, string>, E | OktaAuthError>
  /** The API rejected `authorization` (`invalid_token`): forget it unless a newer one exists. */
  readonly invalidate: (authorization: string) => void
  /** The API asked for this DPoP nonce. */
  readonly setApiNonce: (nonce: string) => void
  readonly tokenUrl: string
  /** Builds the form and headers of one token request (a fresh assertion and proof each time). */
  readonly buildTokenRequest: (
    retryHeaders: Readonly<Record<string, string>> | undefined
  ) => Effect.Effect<
    { headers: Record<string, string>; form: Record<string, string> },
    OktaAuthError
  >
  /** Reads a token response: caches the token, or fails with the typed error. */
  readonly readTokenResponse: (
    response: HttpClientResponse.HttpClientResponse,
    text: string
  ) => Effect.Effect<void, OktaAuthError | "NotOAuth">
  /** A token-endpoint refusal that can be repaired at once (nonce, DPoP demanded). */
  readonly repairToken: (error: { readonly _tag: string }) => boolean
  /** The cached authorization, if any and still fresh. */
  readonly cached: (
    nowMillis: number
  ) => { readonly authorization: string; readonly dpop: boolean } | undefined
}

/**
 * Builds the token machinery for one client. The network side (sending with gate, timeout and
 * retries) stays with `OktaClient`, which calls `buildTokenRequest` / `readTokenResponse`.
 *
 * @internal
 */
export const makeTokenProvider = (
  orgUrl: string,
  options: OktaOAuthOptions
): Effect.Effect<TokenProvider, OktaConfigError> =>
  Effect.gen(function* () {
    if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
      return yield* new OktaConfigError({ field: "oauth.clientId", reason: "is empty" })
    }
    if (!Array.isArray(options.scopes) || options.scopes.length === 0) {
      return yield* new OktaConfigError({
        field: "oauth.scopes",
        reason: "must name at least one scope"
      })
    }
    if (!Redacted.isRedacted(options.privateKey)) {
      return yield* new OktaConfigError({
        field: "oauth.privateKey",
        reason: "must be a Redacted<string> (Redacted.make(key)), so it never reaches a log"
      })
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
    // The ephemeral key is made on first use and lives as long as the client: tokens are bound to it.
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

    const proof = (
      method: string,
      url: string,
      accessToken: string | undefined,
      nonce: string | undefined
    ) =>
      Effect.gen(function* () {
        const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
        return yield* Effect.tryPromise({
          try: async () => {
            const { privateKey, jwk } = await dpopKeyPair()
            const claims: Record<string, unknown> = {
              htm: method,
              htu: url.replace(/[?#].*$/s, ""),
              iat: now,
              jti: crypto.randomUUID()
            }
            if (accessToken !== undefined) {
              claims["ath"] = jose.base64url.encode(
                new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(accessToken)))
              )
            }
            if (nonce !== undefined) claims["nonce"] = nonce
            return new jose.SignJWT(claims)
              .setProtectedHeader({ alg: "ES256", typ: "dpop+jwt", jwk })
              .sign(privateKey)
          },
          catch: () =>
            new OktaAuthError({
              ...TOKEN_CONTEXT,
              error: "dpop_proof_failed",
              errorDescription: "could not sign a DPoP proof"
            })
        })
      })

    const buildTokenRequest: TokenProvider["buildTokenRequest"] = (retryHeaders) =>
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
              // Short-lived and unique: a leaked assertion is useless within minutes, and a
              // replayed one is refused by its jti.
              .setExpirationTime(now + 300)
              .setJti(crypto.randomUUID())
              .sign(signing.key),
          catch: () =>
            new OktaAuthError({
              ...TOKEN_CONTEXT,
              error: "client_assertion_failed",
              errorDescription: "could not sign the client assertion"
            })
        })
        const headers: Record<string, string> = { accept: "application/json", ...retryHeaders }
        if (dpopEnabled) headers["dpop"] = yield* proof("POST", tokenUrl, undefined, tokenNonce)
        return {
          headers,
          form: {
            grant_type: "client_credentials",
            scope: options.scopes.join(" "),
            client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            client_assertion: assertion
          }
        }
      })

    const readTokenResponse: TokenProvider["readTokenResponse"] = (response, text) =>
      Effect.gen(function* () {
        const requestId = response.headers["x-okta-request-id"]
        let json: unknown = undefined
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        if (response.status === 200) {
          const body = decodeTokenResponse(json)
          if (Either.isLeft(body)) {
            return yield* new OktaAuthError({
              ...TOKEN_CONTEXT,
              status: 200,
              error: "invalid_token_response",
              errorDescription: "the token endpoint's answer is not an OAuth 2.0 token response",
              ...(requestId !== undefined ? { requestId } : {})
            })
          }
          const { access_token, token_type, expires_in } = body.right
          const now = yield* Clock.currentTimeMillis
          const lifetime = Math.max(0, expires_in * 1000)
          const dpop = token_type.toLowerCase() === "dpop"
          cache = {
            authorization: `${dpop ? "DPoP" : "Bearer"} ${access_token}`,
            dpop,
            refreshAt: now + lifetime - Math.min(marginMillis, lifetime / 2)
          }
          return
        }
        const nonce = response.headers["dpop-nonce"]
        if (nonce !== undefined) tokenNonce = nonce
        const error = decodeOAuthError(json)
        if (Either.isLeft(error)) return yield* Effect.fail("NotOAuth" as const)
        return yield* new OktaAuthError({
          ...TOKEN_CONTEXT,
          status: response.status,
          error: error.right.error,
          ...(error.right.error_description !== undefined
            ? { errorDescription: error.right.error_description }
            : {}),
          ...(requestId !== undefined ? { requestId } : {})
        })
      })

    const repairToken = (error: { readonly _tag: string }) => {
      if (error._tag !== "OktaAuthError") return false
      const auth = error as OktaAuthError
      if (auth.error === "use_dpop_nonce" && tokenNonce !== undefined) return true
      // The app requires DPoP-bound tokens: switch DPoP on and ask again.
      if (auth.error === "invalid_dpop_proof" && !dpopEnabled) {
        dpopEnabled = true
        return true
      }
      return false
    }

    const cached: TokenProvider["cached"] = (now) =>
      cache !== undefined && now < cache.refreshAt ? cache : undefined

    return {
      tokenUrl,
      buildTokenRequest,
      readTokenResponse,
      repairToken,
      cached,
      headersFor: (method, url, fetch) =>
        Effect.gen(function* () {
          let current = cached(yield* Clock.currentTimeMillis)
          if (current === undefined) {
            // Single flight: one fiber fetches, the others wait and then find the fresh token.
            yield* semaphore.withPermits(1)(
              Effect.suspend(() =>
                Effect.flatMap(Clock.currentTimeMillis, (now) =>
                  cached(now) !== undefined ? Effect.void : fetch
                )
              )
            )
            current = cache
          }
          if (current === undefined) {
            return yield* new OktaAuthError({
              ...TOKEN_CONTEXT,
              error: "no_token",
              errorDescription: "no access token could be obtained"
            })
          }
          const headers: Record<string, string> = { authorization: current.authorization }
          if (current.dpop) {
            headers["dpop"] = yield* proof(
              method,
              url,
              current.authorization.slice("DPoP ".length),
              apiNonce
            )
          }
          return headers
        }),
      invalidate: (authorization) => {
        if (cache?.authorization === authorization) cache = undefined
      },
      setApiNonce: (nonce) => {
        apiNonce = nonce
      }
    } satisfies TokenProvider
  })
