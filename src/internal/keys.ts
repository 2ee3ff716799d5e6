/**
 * The service app's settings, checked before `jose` is loaded, and its private key imported with
 * `jose`, telling the algorithm from the key itself. A failure says what is wrong with a setting
 * or the key, never what the key is.
 *
 * @internal
 */
import type * as Jose_ from "jose"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { OktaConfigError } from "../errors/OktaError.js"
import { pasteFault, UNEXPANDED } from "./pasted.js"

type Jose = typeof Jose_

/** @internal */
export interface SigningKey {
  readonly key: Jose_.CryptoKey
  readonly alg: "RS256" | "ES256"
  /** A JWK's own `kid` (Okta's Admin Console puts the registered one in the JWK it generates). */
  readonly kid?: string | undefined
}

/** @internal */
export const configError = (reason: string) =>
  new OktaConfigError({ field: "oauth.privateKey", reason })

/**
 * Checks what the types promise and JavaScript callers may not give; the refresh margin in ms.
 *
 * @internal
 */
export const checkSettings = (options: {
  readonly clientId: unknown
  readonly keyId?: unknown
  readonly scopes: unknown
  readonly privateKey: unknown
  readonly refreshMargin?: unknown
}): Effect.Effect<number, OktaConfigError> => {
  const fail = (field: string, reason: string) =>
    Effect.fail(new OktaConfigError({ field: `oauth.${field}`, reason }))
  if (typeof options.clientId !== "string" || options.clientId.trim() === "") {
    return fail("clientId", "is empty")
  }
  const pasted = pasteFault(options.clientId.trim())
  if (pasted !== undefined) return fail("clientId", pasted)
  const keyId = typeof options.keyId === "string" ? pasteFault(options.keyId) : undefined
  if (keyId !== undefined) return fail("keyId", keyId)
  // From JavaScript, or a variable's text given as it is: it read "must name one scope or more".
  if (typeof options.scopes === "string") {
    return fail("scopes", 'must be a list of scopes (["okta.apps.read"]), not one string')
  }
  if (!Array.isArray(options.scopes) || options.scopes.length === 0) {
    return fail("scopes", "must name one scope or more")
  }
  // RFC 6749 §3.3: a scope is printable ASCII without space, quote or backslash. One pasted with
  // its quotes, or two in one string, would be refused by Okta as `invalid_scope`; so would a list
  // written as YAML or JSON (`[okta.apps.read]`) and an Okta scope out of lower case, but only once
  // asked.
  for (const s of options.scopes as ReadonlyArray<unknown>) {
    if (typeof s !== "string" || !/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(s)) {
      return fail(
        "scopes",
        `has ${JSON.stringify(s)}, which is not one scope (no spaces, quotes or backslashes)`
      )
    }
    if (/^\[|\]$/.test(s)) return fail("scopes", `has "${s}": a list? give the scopes alone`)
    if (UNEXPANDED.test(s)) {
      return fail(
        "scopes",
        `has "${s}", a variable never expanded (as the env file or shell left it)`
      )
    }
    if (/^okta\./i.test(s) && s !== s.toLowerCase()) {
      return fail("scopes", `has "${s}": Okta's scopes are lower case (${s.toLowerCase()})`)
    }
  }
  if (!Redacted.isRedacted(options.privateKey)) {
    return Effect.fail(
      configError("must be a Redacted<string> (Redacted.make(key)), so it never reaches a log")
    )
  }
  // From JavaScript, `Redacted.make(process.env.OKTA_PRIVATE_KEY!)` with it unset: it died.
  const key: unknown = Redacted.value(options.privateKey)
  if (typeof key !== "string" || key.trim() === "") {
    return Effect.fail(
      configError(
        key === undefined ? "is undefined (an environment variable that is not set?)" : "is empty"
      )
    )
  }
  const margin = Duration.decodeUnknown(options.refreshMargin ?? "5 minutes")
  return Option.isSome(margin)
    ? Effect.succeed(Duration.toMillis(margin.value))
    : fail("refreshMargin", 'must be a duration, such as "5 minutes"')
}

// RS256 with a key under 2048 bits: jose refuses to sign with it, and Okta to accept it.
const tooShort = (key: SigningKey): OktaConfigError | undefined => {
  const bits = (key.key.algorithm as { readonly modulusLength?: number }).modulusLength
  return key.alg === "RS256" && bits !== undefined && bits < 2048
    ? configError(`is an RSA key of ${bits} bits; RS256 needs 2048 bits or more`)
    : undefined
}

/** @internal */
export const importSigningKey = (
  jose: Jose,
  raw: string
): Effect.Effect<SigningKey, OktaConfigError> =>
  Effect.flatMap(importAny(jose, raw), (key) => {
    const short = tooShort(key)
    return short === undefined ? Effect.succeed(key) : Effect.fail(short)
  })

/**
 * One line naming a file (`/…`, `./…`, `~/…`, `C:\…`, or `….pem`), never a key's text (which is
 * several lines, or JSON). Spaces are allowed: `C:\Users\Jane Doe\okta.pem` is a path.
 */
const looksLikePath = (text: string) =>
  !/[\r\n]/.test(text) &&
  (/^(\/|\.{1,2}\/|~\/|[A-Za-z]:\\)/.test(text) || /\.(pem|key|json|jwk)$/i.test(text))

const importAny = (jose: Jose, raw: string): Effect.Effect<SigningKey, OktaConfigError> =>
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
      if (Array.isArray(jwk["keys"]))
        return yield* configError("is a JWK Set; give the one private JWK in it, not the set")
      if (typeof jwk["d"] !== "string")
        return yield* configError("is a JWK without its private part (d)")
      const alg = jwk["kty"] === "EC" ? "ES256" : jwk["kty"] === "RSA" ? "RS256" : undefined
      if (alg === undefined) return yield* configError("must be an RSA or EC (P-256) key")
      const key = yield* Effect.tryPromise({
        try: () => jose.importJWK(jwk, alg) as Promise<Jose_.CryptoKey>,
        catch: () => configError(`is not a usable ${alg} private JWK`)
      })
      return { key, alg, kid: typeof jwk["kid"] === "string" ? jwk["kid"] : undefined }
    }
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type:\s*4,ENCRYPTED/.test(text)) {
      return yield* configError(
        "is encrypted, and the client takes no passphrase: decrypt it first (openssl pkey -in key.pem -out plain.pem)"
      )
    }
    if (
      text.includes("-----BEGIN RSA PRIVATE KEY-----") ||
      text.includes("-----BEGIN EC PRIVATE KEY-----")
    ) {
      return yield* configError(
        "is a PKCS#1/SEC1 PEM; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt) or use the JWK Okta gave you"
      )
    }
    // The key's own block: `openssl pkcs12 -nodes` writes "Bag Attributes" lines before it, and a
    // bundle holds its certificate too, neither of which jose's PKCS#8 import takes.
    const blocks = text.match(/-----BEGIN PRIVATE KEY-----[^-]*-----END PRIVATE KEY-----/g) ?? []
    if (blocks.length !== 1) {
      // Okta's Python SDK takes a path here: say so rather than call a path a malformed key.
      return yield* configError(
        blocks.length > 1
          ? `holds ${blocks.length} private keys; give the one whose public key the app has`
          : (pasteFault(text) ??
              (looksLikePath(text)
                ? "looks like a file path; give the key itself (the file's PEM or JWK text), not its path"
                : /-----BEGIN (PUBLIC KEY|CERTIFICATE)-----/.test(text)
                  ? "is a public key or certificate; give the private key the client signs with"
                  : "must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) or a private JWK"))
      )
    }
    const pem = blocks[0]!
    for (const alg of ["RS256", "ES256"] as const) {
      const key = yield* Effect.either(
        Effect.tryPromise({ try: () => jose.importPKCS8(pem, alg), catch: () => undefined })
      )
      if (Either.isRight(key)) return { key: key.right, alg }
    }
    return yield* configError("is not an RSA or EC (P-256) PKCS#8 private key")
  })

/**
 * A `private_key_jwt` client assertion (RFC 7523) for `audience`, dated `nowSeconds`: short-lived
 * and unique, so a leaked assertion expires soon and a replayed `jti` is refused.
 *
 * @internal
 */
export const signAssertion = (
  jose: Jose,
  signing: SigningKey,
  claims: { clientId: string; kid: string | undefined; audience: string; nowSeconds: number }
): Promise<string> =>
  new jose.SignJWT({})
    .setProtectedHeader({
      alg: signing.alg,
      ...(claims.kid !== undefined ? { kid: claims.kid } : {})
    })
    .setIssuer(claims.clientId)
    .setSubject(claims.clientId)
    .setAudience(claims.audience)
    .setIssuedAt(claims.nowSeconds)
    .setExpirationTime(claims.nowSeconds + 300)
    .setJti(crypto.randomUUID())
    .sign(signing.key)

/**
 * The skew assertions are dated with, from `offset` (Okta's clock less this machine's, as
 * estimated from `Date` headers): kept at 0 until a minute or more off, and changed only by a
 * minute or more, since `Date` has one-second resolution and an answer takes time to arrive. A
 * machine minutes behind (a laptop's container after sleep) has its assertions refused as
 * expired, so they are dated on Okta's clock, as Okta advises for rate-limit resets.
 *
 * @internal
 */
export const skewOf = (offset: number, current: number): number => {
  const skew = Math.abs(offset) >= 60_000 ? offset : 0
  return Math.abs(skew - current) >= 60_000 ? skew : current
}
