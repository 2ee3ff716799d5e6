/**
 * OAuth 2.0 service-app authentication (Okta's recommendation over SSWS tokens): the client signs
 * a `private_key_jwt` assertion, gets an access token from `/oauth2/v1/token`, caches and refreshes
 * it, and binds it to an ephemeral key with DPoP.
 *
 * On the simulator a key pair is made here and its public half registered with the simulated org.
 * Against a real org:
 *   OKTA_CLIENT_ORGURL=https://acme.okta.com OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey \
 *   OKTA_CLIENT_CLIENTID=0oa… OKTA_CLIENT_SCOPES="okta.apps.read okta.apps.manage" \
 *   OKTA_CLIENT_PRIVATEKEY="$(cat private-key.pem)" OKTA_CLIENT_KEYID=… OKTA_APP_ID=0oa… \
 *   npx tsx examples/service-app.ts
 */
import { Console, Effect, Redacted } from "effect"
import { createPublicKey, generateKeyPairSync } from "node:crypto"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"
import { Example, isMain, runMain, SimulatorTarget } from "./support/Example.js"

export const program = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  const appId = yield* (yield* Example).appId("zscaler")
  // The first call gets a token; the next ones reuse it until shortly before it expires.
  for (let i = 1; i <= 3; i++) {
    const connection = yield* api.getDefaultProvisioningConnectionForApplication(appId)
    yield* Console.log(`   call ${i}: ${appId} ${connection.status}`)
  }
  const sim = yield* Effect.serviceOption(OktaSimulator)
  if (sim._tag === "Some") {
    const log = yield* sim.value.requests
    const tokens = log.filter((entry) => entry.path === "/oauth2/v1/token" && entry.outcome === 200)
    const bound = log.filter(
      (entry) =>
        entry.headers["authorization"] === "DPoP <redacted>" && entry.headers["dpop"] !== undefined
    )
    yield* Console.log(
      `   ${tokens.length} token request for ${log.length - tokens.length} API calls; ${bound.length} sent with a DPoP proof`
    )
  }
})

/** A service app for the simulated org: its key pair made here, its public key registered. */
export const simulatedServiceApp = () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" }
  })
  const clientId = "0oaexampleserviceapp"
  return SimulatorTarget({
    oauthClients: [
      {
        clientId,
        publicKey: createPublicKey(publicKey).export({ format: "jwk" }),
        requireDpop: true
      }
    ],
    credentials: {
      oauth: {
        clientId,
        privateKey: Redacted.make(privateKey),
        keyId: "example-key",
        scopes: ["okta.apps.read", "okta.apps.manage"],
        dpop: true
      }
    }
  })
}

if (isMain(import.meta.url)) runMain(program, simulatedServiceApp())
