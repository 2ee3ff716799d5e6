/**
 * getUserProvisioningConnectionJWKS: the public keys of an Org2Org OAuth 2.0 connection, the JWKS
 * the target org's service app trusts (its `jwks_uri`).
 *
 *   npx tsx examples/get-jwks.ts
 */
import { Console, Effect } from "effect"
import { createPublicKey } from "node:crypto"
import { ApplicationConnections } from "effect-okta-connections"
import { Example, isMain, runMain } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  const appId = yield* (yield* Example).appId("org2orgOAuth")
  const { jwks } = yield* api.getUserProvisioningConnectionJWKS(appId)
  const count = jwks.keys.length
  yield* Console.log(`   ${appId}: ${count} signing ${count === 1 ? "key" : "keys"}`)
  for (const key of jwks.keys) {
    // Every JWK member is kept, so the key goes to a JOSE library (here node:crypto) as it is.
    const bits =
      key.kty === "RSA" && key.n !== undefined && key.e !== undefined
        ? createPublicKey({ key: { kty: "RSA", n: key.n, e: key.e }, format: "jwk" })
            .asymmetricKeyDetails?.modulusLength
        : undefined
    yield* Console.log(
      `     kid ${key.kid} · ${key.kty} ${bits ?? "?"} bits · alg ${key.alg ?? "-"} · use ${key.use ?? "-"}`
    )
  }
})

if (isMain(import.meta.url)) runMain(program)
