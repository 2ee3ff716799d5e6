/**
 * Authentication: how a request gets its credentials, and how a rejected one is recovered.
 * Static credentials are one header. An OAuth 2.0 service app gets its tokens here: the
 * client-credentials grant with a `private_key_jwt` assertion, a token cache refreshed by one
 * request however many fibers wait, and DPoP, switched on when the token endpoint demands it. A
 * 401 whose challenge says `invalid_token` drops exactly the token that request carried and
 * replays once. `jose` is loaded only in that mode (an optional peer dependency).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as UrlParams from "@effect/platform/UrlParams"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
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
import { dpopProver } from "./dpop.js"
import { checkSettings, importSigningKey, signAssertion, skewOf } from "./keys.js"
import type { Call } from "./transport.js"
import { httpError, parseJson } from "./httpError.js"
import { isDeadline, sleepWithin } from "./retry.js"
import { scrub, scrubHeaders } from "./secrets.js"
import { Lock } from "./lock.js"
import { tracked } from "./pendingWork.js"

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

const OFF_CLOCK = "is off Okta's: OAuth assertions are dated on Okta's clock"

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
  /** `undefined` for a body past the size cap, not read. */
  readonly text: string | undefined
}

/** What a token request may fail with. @internal */
export type TokenError = OktaAuthError | OktaHttpError | OktaTransportError | OktaTimeoutError

/** Sends one token request through an admitted gate slot. @internal */
export type TokenSend = (
  request: HttpClientRequest.HttpClientRequest,
  secrets: ReadonlyArray<string>
) => Effect.Effect<TokenAnswer, OktaTransportError | OktaTimeoutError>

/**
 * How the client's engine sends token requests: `retry` runs attempts under the client's retry
 * policy, each given a `send` (one exchange: timeout, metrics, the token endpoint's own gate).
 *
 * @internal
 */
export interface TokenTransport {
  readonly retry: (
    attempt: (
      retryHeaders: Record<string, string> | undefined,
      send: TokenSend
    ) => Effect.Effect<void, TokenError>,
    repair: (error: TokenError) => boolean
  ) => Effect.Effect<void, TokenError>
  /** Okta's clock, as the token endpoint's gate estimates it from its answers' `Date`. */
  readonly serverNow: (localMillis: number) => number
}

/** An access token as a request carries it. @internal */
export interface Credential {
  readonly authorization: string
  readonly dpop: boolean
}

/** @internal */
export interface Authenticator {
  /**
   * Obtains the credential a call's attempts carry, before the attempt takes its gate slot and
   * outside its timeout; `undefined` when the default headers already carry static credentials.
   */
  readonly prepare: Effect.Effect<Credential, TokenError> | undefined
  /** Puts the credential on an attempt's request (with a DPoP proof when the token is bound). */
  readonly sign: (
    request: HttpClientRequest.HttpClientRequest,
    credential: Credential
  ) => Effect.Effect<HttpClientRequest.HttpClientRequest, OktaAuthError>
  /** Sees every API response: remembers a DPoP nonce; on a refusal, drops a rejected token. */
  readonly saw: (
    request: HttpClientRequest.HttpClientRequest,
    headers: Headers.Headers,
    error?: OktaHttpError
  ) => void
  /** Whether a failed call is repaired by replaying it at once (fresh token, nonce). */
  readonly repairable: (error: unknown) => boolean
}

/** Static credentials: the `Authorization` header is one of the client's default headers. @internal */
export const staticCredentials: Authenticator = {
  prepare: undefined,
  sign: (request) => Effect.succeed(request),
  saw: () => {},
  repairable: () => false
}

/** The wait after `streak` refusals in a row: none (the next call asks), then 1 s, 2 s … 30 s. */
const refusalBackoffMillis = (streak: number): number =>
  streak <= 1 ? 0 : Math.min(1000 * 2 ** (streak - 2), 30_000)

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
    const marginMillis = yield* checkSettings(options)
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
    // Okta needs the kid once an app has two keys (during a rotation): the JWK's own by default.
    const { clientId, keyId = signing.kid } = options
    // Okta's clock less this machine's (see `skewOf`), and what the last token request used.
    let skewMillis = 0
    let signedSkew = 0
    let dpopEnabled = options.dpop === true
    let tokenNonce: string | undefined
    let apiNonce: string | undefined
    let cache: { authorization: string; dpop: boolean; refreshAt: number } | undefined
    const flight = new Lock()
    const fresh = (now: number) =>
      cache !== undefined && now < cache.refreshAt ? cache : undefined

    const authFailure = (error: string, errorDescription: string, extra: object = {}) =>
      new OktaAuthError({ ...TOKEN_CALL, error, errorDescription, ...extra })

    const proof = dpopProver(
      jose,
      () => authFailure("dpop_proof_failed", "could not sign a DPoP proof"),
      () => skewMillis
    )

    const tokenRequest = (retryHeaders: Record<string, string> | undefined) =>
      Effect.gen(function* () {
        signedSkew = skewMillis
        const nowSeconds = Math.floor(((yield* Clock.currentTimeMillis) + skewMillis) / 1000)
        const assertion = yield* Effect.tryPromise({
          try: tracked(() =>
            signAssertion(jose, signing, { clientId, kid: keyId, audience: tokenUrl, nowSeconds })
          ),
          catch: () => authFailure("client_assertion_failed", "could not sign the client assertion")
        })
        const headers: Record<string, string> = {
          accept: "application/json",
          "user-agent": userAgent,
          ...retryHeaders
        }
        if (dpopEnabled) headers["dpop"] = yield* proof("POST", tokenUrl, undefined, tokenNonce)
        const secrets = [assertion, ...(headers["dpop"] !== undefined ? [headers["dpop"]] : [])]
        const request = HttpClientRequest.post(tokenUrl, {
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
        return { request, secrets }
      })

    /**
     * Caches the token of a 200, or fails with the token endpoint's typed error, from which the
     * assertion and proof the request carried are scrubbed (a server may echo them): once parsed,
     * as an escape in the JSON (`\u002e`) hides a secret from a scrub of the raw text.
     */
    const readAnswer = (
      { status, headers: received, text }: TokenAnswer,
      secrets: ReadonlyArray<string>
    ): Effect.Effect<void, TokenError> => {
      const headers = scrubHeaders(received, secrets)
      const requestId = headers["x-okta-request-id"]
      const ids = requestId !== undefined ? { requestId } : {}
      const json = text === undefined ? undefined : Either.getOrUndefined(parseJson(text))
      const nonce = headers["dpop-nonce"]
      if (nonce !== undefined) tokenNonce = nonce
      if (status === 200) {
        const body = decodeTokenResponse(json)
        if (Either.isLeft(body)) {
          return Effect.fail(
            authFailure(
              "invalid_token_response",
              json !== undefined
                ? "the token endpoint's answer is not an OAuth 2.0 token response"
                : text === undefined
                  ? "the token endpoint's answer is larger than maxResponseBytes"
                  : text.trim() === ""
                    ? "the token endpoint's answer is empty"
                    : `the token endpoint's answer is not JSON (${headers["content-type"] ?? "no content type"})`,
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
      const error = decodeOAuthError(json)
      // Not an OAuth error body (a 429, a proxy's page): the HTTP error of the token call.
      if (Either.isLeft(error)) {
        return Effect.fail(httpError(TOKEN_CALL, status, received, text, secrets))
      }
      const description = error.right.error_description
      return Effect.fail(
        new OktaAuthError({
          ...TOKEN_CALL,
          status,
          error: scrub(error.right.error, secrets),
          ...(description !== undefined ? { errorDescription: scrub(description, secrets) } : {}),
          ...ids
        })
      )
    }

    /** Takes the skew from the gate's estimate of Okta's clock, and says when it changes. */
    const learnSkew = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const skew = skewOf(transport.serverNow(now) - now, skewMillis)
      if (skew === skewMillis) return Effect.void
      skewMillis = skew
      const message = skew === 0 ? "agrees with Okta's again" : OFF_CLOCK
      return Effect.logWarning(`This machine's clock ${message}`).pipe(
        Effect.annotateLogs({ skew_seconds: Math.round(skew / 1000) })
      )
    })

    const fetchToken = transport.retry(
      (retryHeaders, send) =>
        Effect.flatMap(tokenRequest(retryHeaders), ({ request, secrets }) =>
          Effect.flatMap(send(request, secrets), (answer) =>
            Effect.zipRight(learnSkew, readAnswer(answer, secrets))
          )
        ),
      (error) => {
        if (error._tag !== "OktaAuthError") return false
        if (error.error === "use_dpop_nonce" && tokenNonce !== undefined) return true
        // The app requires DPoP-bound tokens: switch DPoP on and ask again.
        if (error.error === "invalid_dpop_proof" && !dpopEnabled) {
          dpopEnabled = true
          return true
        }
        // Refused, and what it sent was dated on a clock now known to be off Okta's: date anew.
        return (
          skewMillis !== signedSkew &&
          (error.error === "invalid_client" || error.error === "invalid_dpop_proof")
        )
      }
    )

    // Token requests that ended, and the refusals in a row: a call that waited behind a refused
    // request shares its error, and a token endpoint that keeps refusing is asked with backoff.
    let completed = 0
    let refusal: { error: TokenError; at: number; streak: number; completed: number } | undefined

    const obtain = (seen: number) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const current = fresh(now)
        if (current !== undefined) return current
        if (refusal !== undefined && refusal.completed > seen)
          return yield* Effect.fail(refusal.error)
        if (refusal !== undefined) {
          const wait = refusal.at + refusalBackoffMillis(refusal.streak) - now
          if (wait > 0) {
            yield* Effect.logDebug("Okta token request held after refusals").pipe(
              Effect.annotateLogs({ refusals: refusal.streak, delay_ms: wait })
            )
            yield* sleepWithin(wait, refusal.error)
          }
        }
        const result = yield* Effect.either(fetchToken)
        // A deadline is the asking call's own: a call waiting behind it asks again, in its own.
        if (Either.isLeft(result) && isDeadline(result.left)) return yield* Effect.fail(result.left)
        completed += 1
        const error = Either.isLeft(result)
          ? result.left
          : cache === undefined
            ? authFailure("no_token", "no access token could be obtained")
            : undefined
        if (error === undefined) {
          refusal = undefined
          return cache!
        }
        refusal = {
          error,
          at: yield* Clock.currentTimeMillis,
          streak: (refusal?.streak ?? 0) + 1,
          completed
        }
        return yield* Effect.fail(error)
      })

    const prepare: Effect.Effect<Credential, TokenError> = Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => {
        const current = fresh(now)
        if (current !== undefined) return Effect.succeed(current)
        // Single flight: one fiber asks, the others wait and then find its token (or its error).
        const seen = completed
        return flight.with(obtain(seen))
      }
    )

    const sign = (request: HttpClientRequest.HttpClientRequest, credential: Credential) => {
      const withToken = HttpClientRequest.setHeader(
        request,
        "authorization",
        credential.authorization
      )
      if (!credential.dpop) return Effect.succeed(withToken)
      // The proof names the URL Okta sees: the org's, before any transformClient rewrite.
      const url = request.url.startsWith("/") ? `${orgUrl}${request.url}` : request.url
      const token = credential.authorization.slice("DPoP ".length)
      return Effect.map(proof(request.method, url, token, apiNonce), (dpop) =>
        HttpClientRequest.setHeader(withToken, "dpop", dpop)
      )
    }

    return {
      prepare,
      sign,
      saw: (request, headers, error) => {
        // A server may send a new nonce on any answer, a success included (RFC 9449 §8.2).
        const nonce = headers["dpop-nonce"]
        if (nonce !== undefined) apiNonce = nonce
        if (error?.challenge?.error === "invalid_token") {
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
