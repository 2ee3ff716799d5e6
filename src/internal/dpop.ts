/**
 * DPoP (RFC 9449): the client's ephemeral ES256 key and the proof each request carries.
 *
 * @internal
 */
import type * as Jose_ from "jose"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { tracked } from "./pendingWork.js"

// Types only: the module itself is loaded with a dynamic import when OAuth is configured.
type Jose = typeof Jose_
type Jwk = Jose_.JWK

/**
 * A function that signs a DPoP proof for a request (`ath` binds it to the access token, `nonce`
 * is the server's latest), dated `skewMillis()` off this machine's clock (Okta's clock, when the
 * two differ). The key pair is made on first use and kept for the client's life: its tokens are
 * bound to it.
 *
 * @internal
 */
export const dpopProver = <E>(jose: Jose, failure: () => E, skewMillis: () => number) => {
  const encoder = new TextEncoder()
  let keyPair: Promise<{ privateKey: Jose_.CryptoKey; jwk: Jwk }> | undefined
  const keys = () =>
    (keyPair ??= jose.generateKeyPair("ES256", { extractable: true }).then(async (pair) => {
      const { kty, crv, x, y } = await jose.exportJWK(pair.publicKey)
      const jwk: Jwk = {}
      if (kty !== undefined) jwk.kty = kty
      if (crv !== undefined) jwk.crv = crv
      if (x !== undefined) jwk.x = x
      if (y !== undefined) jwk.y = y
      return { privateKey: pair.privateKey, jwk }
    }))
  return (
    method: string,
    url: string,
    accessToken?: string,
    nonce?: string
  ): Effect.Effect<string, E> =>
    Effect.flatMap(Clock.currentTimeMillis, (millis) =>
      Effect.tryPromise({
        try: tracked(async () => {
          const { privateKey, jwk } = await keys()
          const claims: Record<string, unknown> = {
            htm: method,
            htu: url.replace(/[?#].*$/s, ""),
            iat: Math.floor((millis + skewMillis()) / 1000),
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
        }),
        catch: failure
      })
    )
}
