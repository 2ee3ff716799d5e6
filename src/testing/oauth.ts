/**
 * The simulated org's OAuth 2.0 authorization server: `/oauth2/v1/token` for the client-credentials
 * grant with `private_key_jwt`, access tokens that expire, DPoP-bound tokens and nonces, and the
 * checks the API applies to those tokens. `jose` verifies every signature.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import type { JWK } from "jose"
import { tracked } from "../internal/pendingWork.js"

/** A public JSON Web Key (RFC 7517), e.g. from `jose.exportJWK` or `crypto.KeyObject#export({ format: "jwk" })`. */
export type PublicJwk = Readonly<Record<string, unknown>>

/**
 * A service app registered with the simulated org.
 *
 * @example
 * ```ts
 * import { createPublicKey, generateKeyPairSync } from "node:crypto"
 * import type { SimulatedOAuthClient } from "effect-okta-connections/testing"
 *
 * const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
 * const app: SimulatedOAuthClient = { clientId: "0oaservice", publicKey: publicKey.export({ format: "jwk" }) }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedOAuthClient {
  readonly clientId: string
  /** The public key client assertions are verified with (a public JWK, `alg` optional). */
  readonly publicKey: PublicJwk
  /** Scopes the app was granted. Default both `okta.apps.read` and `okta.apps.manage`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Issue only DPoP-bound tokens: a token request without a proof gets `invalid_dpop_proof`. */
  readonly requireDpop?: boolean | undefined
}

/** @internal */
export interface OAuthOptions {
  readonly clients: ReadonlyArray<SimulatedOAuthClient>
  readonly accessTokenLifetimeSeconds: number
  readonly dpopNonces: boolean
}

interface IssuedToken {
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: number
  readonly jkt: string | undefined
}

/** An OAuth-shaped answer of the token endpoint. @internal */
export interface TokenAnswer {
  readonly status: number
  readonly body: unknown
  readonly headers: ReadonlyArray<readonly [string, string]>
}

/** What the API makes of an `Authorization` header holding an access token. @internal */
export type TokenCheck =
  | { readonly _tag: "Valid"; readonly scopes: ReadonlyArray<string> }
  | {
      readonly _tag: "Invalid"
      readonly challenge: string
      readonly headers: ReadonlyArray<readonly [string, string]>
    }
  | { readonly _tag: "Unknown" }

const READ = "okta.apps.read"
const MANAGE = "okta.apps.manage"
const MAX_PROOF_AGE_SECONDS = 300
const loadJose = () => import("jose")
const oauthError = (
  status: number,
  error: string,
  description: string,
  headers: ReadonlyArray<readonly [string, string]> = []
): TokenAnswer => ({
  status,
  body: { error, error_description: description },
  headers
})

/** @internal */
export class OAuthServer {
  readonly clients = new Map<string, SimulatedOAuthClient>()
  readonly tokens = new Map<string, IssuedToken>()
  private readonly assertionJtis = new Set<string>()
  private readonly proofJtis = new Set<string>()
  nonce = randomBytes(12).toString("base64url")
  tokenRequests = 0

  constructor(readonly options: OAuthOptions) {
    for (const client of options.clients) this.clients.set(client.clientId, client)
  }

  revokeAll(): void {
    this.tokens.clear()
  }

  rotateNonce(): void {
    this.nonce = randomBytes(12).toString("base64url")
  }

  /** Verifies a DPoP proof; the key thumbprint (`jkt`) when valid, else what is wrong. */
  private verifyProof(
    proof: string,
    method: string,
    url: string,
    nowMillis: number,
    accessToken: string | undefined
  ): Effect.Effect<
    { readonly jkt: string; readonly nonce: unknown } | { readonly invalid: string }
  > {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this
    return Effect.promise(
      tracked(async () => {
        const jose = await loadJose()
        try {
          const { payload, protectedHeader } = await jose.jwtVerify(proof, jose.EmbeddedJWK, {
            typ: "dpop+jwt",
            algorithms: ["ES256", "RS256"],
            currentDate: new Date(nowMillis)
          })
          if (payload["htm"] !== method) return { invalid: "htm does not match the request method" }
          if (payload["htu"] !== url.replace(/[?#].*$/s, ""))
            return { invalid: "htu does not match the request URL" }
          if (
            typeof payload.iat !== "number" ||
            Math.abs(nowMillis / 1000 - payload.iat) > MAX_PROOF_AGE_SECONDS
          ) {
            return { invalid: "iat is missing or too far from now" }
          }
          if (typeof payload.jti !== "string" || server.proofJtis.has(payload.jti))
            return { invalid: "jti is missing or reused" }
          if (accessToken !== undefined) {
            const ath = jose.base64url.encode(
              new Uint8Array(
                await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken))
              )
            )
            if (payload["ath"] !== ath) return { invalid: "ath does not match the access token" }
          }
          server.proofJtis.add(payload.jti)
          return {
            jkt: await jose.calculateJwkThumbprint(protectedHeader.jwk as JWK),
            nonce: payload["nonce"]
          }
        } catch (error) {
          return { invalid: error instanceof Error ? error.message : "invalid proof" }
        }
      })
    )
  }

  /** `POST /oauth2/v1/token`. */
  token(
    form: URLSearchParams,
    headers: Readonly<Record<string, string>>,
    tokenUrl: string,
    nowMillis: number
  ): Effect.Effect<TokenAnswer> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this
    return Effect.gen(function* () {
      server.tokenRequests += 1
      if (form.get("grant_type") !== "client_credentials") {
        return oauthError(
          400,
          "unsupported_grant_type",
          "The authorization grant type is not supported by the authorization server."
        )
      }
      const assertion = form.get("client_assertion")
      if (
        form.get("client_assertion_type") !==
          "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" ||
        assertion === null
      ) {
        return oauthError(
          401,
          "invalid_client",
          "Client authentication failed: a private_key_jwt client assertion is required."
        )
      }
      const jose = yield* Effect.promise(tracked(loadJose))
      let issuer: unknown
      try {
        issuer = jose.decodeJwt(assertion).iss
      } catch {
        return oauthError(401, "invalid_client", "The client_assertion is not a JWT.")
      }
      const client = typeof issuer === "string" ? server.clients.get(issuer) : undefined
      if (client === undefined)
        return oauthError(401, "invalid_client", "The client_id is not registered.")
      const verified = yield* Effect.promise(
        tracked(async () => {
          try {
            const header = jose.decodeProtectedHeader(assertion)
            // Okta finds the key by the assertion's kid: one naming no key of the app's is refused.
            const registered = client.publicKey["kid"]
            if (
              typeof registered === "string" &&
              header.kid !== undefined &&
              header.kid !== registered
            )
              return { ok: false as const, reason: "kid" }
            const key = await jose.importJWK(
              client.publicKey as JWK,
              String(header.alg ?? client.publicKey["alg"] ?? "RS256")
            )
            const { payload } = await jose.jwtVerify(assertion, key, {
              issuer: client.clientId,
              subject: client.clientId,
              audience: tokenUrl,
              algorithms: ["RS256", "ES256"],
              requiredClaims: ["exp", "iat", "jti"],
              currentDate: new Date(nowMillis)
            })
            return {
              ok: true as const,
              jti: String(payload.jti),
              exp: payload.exp!,
              iat: payload.iat!
            }
          } catch (error) {
            const { code, claim } = (error ?? {}) as { code?: unknown; claim?: unknown }
            return {
              ok: false as const,
              reason:
                code === "ERR_JWT_EXPIRED"
                  ? "expired"
                  : code === "ERR_JWS_SIGNATURE_VERIFICATION_FAILED"
                    ? "signature"
                    : code === "ERR_JWT_CLAIM_VALIDATION_FAILED" && claim === "aud"
                      ? "audience"
                      : error instanceof Error
                        ? error.message
                        : "invalid"
            }
          }
        })
      )
      if (!verified.ok && verified.reason === "kid")
        return oauthError(401, "invalid_client", "The client_assertion JWT kid is invalid.")
      // Okta's words, and its checks against its own clock.
      if (!verified.ok && verified.reason === "expired")
        return oauthError(401, "invalid_client", "The client_assertion token is expired.")
      // Signed with a key other than the one registered: the app's key and the one in use differ.
      if (!verified.ok && verified.reason === "signature")
        return oauthError(401, "invalid_client", "The client_assertion signature is invalid.")
      if (!verified.ok && verified.reason === "audience")
        return oauthError(
          401,
          "invalid_client",
          "The audience claim for client_assertion must be the endpoint invoked for the request."
        )
      if (verified.ok && verified.exp - nowMillis / 1000 > 3600)
        return oauthError(
          401,
          "invalid_client",
          "The client_assertion token has an expiration too far into the future."
        )
      if (!verified.ok)
        return oauthError(
          401,
          "invalid_client",
          `The client_assertion is invalid: ${verified.reason}`
        )
      if (verified.exp - verified.iat > 3600) {
        return oauthError(401, "invalid_client", "The client_assertion must expire within an hour.")
      }
      if (server.assertionJtis.has(verified.jti)) {
        return oauthError(401, "invalid_client", "The client_assertion jti was already used.")
      }

      const granted = client.scopes ?? [READ, MANAGE]
      const requested = (form.get("scope") ?? "").split(" ").filter((scope) => scope !== "")
      if (requested.length === 0 || requested.some((scope) => !granted.includes(scope))) {
        return oauthError(
          400,
          "invalid_scope",
          "One or more scopes are not configured for the authorization server resource."
        )
      }

      const proof = headers["dpop"]
      let jkt: string | undefined
      if (proof !== undefined) {
        const checked = yield* server.verifyProof(proof, "POST", tokenUrl, nowMillis, undefined)
        if ("invalid" in checked)
          return oauthError(
            400,
            "invalid_dpop_proof",
            `The DPoP proof is invalid: ${checked.invalid}`
          )
        if (server.options.dpopNonces && checked.nonce !== server.nonce) {
          return oauthError(
            400,
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof.",
            [["dpop-nonce", server.nonce]]
          )
        }
        jkt = checked.jkt
      } else if (client.requireDpop === true) {
        return oauthError(400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
      }
      // Only a request that got this far spends its assertion.
      server.assertionJtis.add(verified.jti)
      const accessToken = randomBytes(32).toString("base64url")
      server.tokens.set(accessToken, {
        scopes: requested,
        expiresAt: nowMillis + server.options.accessTokenLifetimeSeconds * 1000,
        jkt
      })
      return {
        status: 200,
        body: {
          token_type: jkt !== undefined ? "DPoP" : "Bearer",
          expires_in: server.options.accessTokenLifetimeSeconds,
          access_token: accessToken,
          scope: requested.join(" ")
        },
        headers: []
      }
    })
  }

  /** Checks an API request's access token (and DPoP proof); `Unknown` when it is not one of ours. */
  check(
    scheme: string,
    token: string,
    headers: Readonly<Record<string, string>>,
    method: string,
    url: string,
    nowMillis: number
  ): Effect.Effect<TokenCheck> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const server = this
    return Effect.gen(function* () {
      const issued = server.tokens.get(token)
      if (issued === undefined) return { _tag: "Unknown" } as const
      const dpop = scheme.toLowerCase() === "dpop"
      const challengeScheme = issued.jkt !== undefined ? "DPoP" : "Bearer"
      const invalid = (
        error: string,
        description: string,
        extra: ReadonlyArray<readonly [string, string]> = []
      ): TokenCheck => ({
        _tag: "Invalid",
        challenge: `${challengeScheme} realm="IdpMyAccountAPI", error="${error}", error_description="${description}"`,
        headers: extra
      })
      if (nowMillis >= issued.expiresAt)
        return invalid("invalid_token", "The access token is expired.")
      if (issued.jkt === undefined) {
        return dpop
          ? invalid("invalid_token", "The access token is not DPoP-bound.")
          : ({ _tag: "Valid", scopes: issued.scopes } as const)
      }
      if (!dpop)
        return invalid("invalid_token", "The access token is DPoP-bound: use the DPoP scheme.")
      const proof = headers["dpop"]
      if (proof === undefined)
        return invalid("invalid_dpop_proof", "The DPoP proof JWT header is missing.")
      const checked = yield* server.verifyProof(proof, method, url, nowMillis, token)
      if ("invalid" in checked)
        return invalid("invalid_dpop_proof", `The DPoP proof is invalid: ${checked.invalid}`)
      if (checked.jkt !== issued.jkt)
        return invalid(
          "invalid_dpop_proof",
          "The DPoP proof key is not the key the token is bound to."
        )
      if (server.options.dpopNonces && checked.nonce !== server.nonce) {
        return invalid("use_dpop_nonce", "Resource server requires nonce in DPoP proof.", [
          ["dpop-nonce", server.nonce]
        ])
      }
      return { _tag: "Valid", scopes: issued.scopes } as const
    })
  }
}
