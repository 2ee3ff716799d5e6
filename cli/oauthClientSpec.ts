/**
 * `--oauth-client ID=KEYFILE` of the standalone simulator: a service app its authorization server
 * accepts, so that the CLI's PrivateKey mode (or a script's) can be tried on it. The key file is
 * the one the client signs with, as `OKTA_CLIENT_PRIVATEKEY` names it (a PEM or a JWK), or its
 * public half: only the public key is kept, and no part of the file is ever printed.
 */
import { createPublicKey, type JsonWebKey } from "node:crypto"
import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import type { SimulatedOAuthClient } from "effect-okta-connections/testing"
import * as Either from "effect/Either"
import { readFault } from "./stdin.js"

/** The grammar, for `--help` and for every refusal. */
export const OAUTH_CLIENT_SPEC_HELP =
  "CLIENT_ID=KEYFILE, where KEYFILE holds the service app's private or public key: a PEM, or a JWK's JSON"

/**
 * The public JWK of the key in `text` (of a private key, its public half: `createPublicKey` keeps
 * nothing else), its `kid` kept, as Okta matches the assertion's on it.
 */
const publicJwkOf = (text: string): JsonWebKey => {
  const trimmed = text.trim()
  if (trimmed.startsWith("{")) {
    const jwk = JSON.parse(trimmed) as JsonWebKey
    const key = createPublicKey({ key: jwk, format: "jwk" })
    const kid = typeof jwk["kid"] === "string" ? { kid: jwk["kid"] } : {}
    return { ...key.export({ format: "jwk" }), ...kid }
  }
  return createPublicKey(trimmed).export({ format: "jwk" })
}

/** Reads one `--oauth-client` value; a spec it cannot register is refused with the reason. */
export const parseOAuthClientSpec = (text: string): Either.Either<SimulatedOAuthClient, string> => {
  const refuse = (reason: string) =>
    Either.left(
      `--oauth-client ${JSON.stringify(text)}: ${reason} (expected ${OAUTH_CLIENT_SPEC_HELP})`
    )
  const equals = text.indexOf("=")
  const clientId = equals < 0 ? "" : text.slice(0, equals).trim()
  const given = equals < 0 ? "" : text.slice(equals + 1).trim()
  // As OKTA_CLIENT_PRIVATEKEY takes it: no shell expands a `~` after `=`.
  const path = given.startsWith("~/") ? `${homedir()}${given.slice(1)}` : given
  if (clientId === "" || path === "") return refuse("give a client id and a key file")
  let content: string
  try {
    content = readFileSync(path, "utf8")
  } catch (error) {
    return refuse(`cannot read ${path}${readFault(error)}`)
  }
  let publicKey: JsonWebKey
  try {
    publicKey = publicJwkOf(content)
  } catch {
    // The parser's own message may quote the file: it is not repeated.
    return refuse(`${path} holds no key this simulator can read`)
  }
  return Either.right({ clientId, publicKey })
}
