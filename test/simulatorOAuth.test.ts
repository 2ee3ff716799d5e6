/**
 * The simulated org authorization server refuses what Okta's refuses. The client's own OAuth tests
 * (oauth.test.ts) only ever send what the client makes; these send hand-made assertions and DPoP
 * proofs, each wrong in one way, so that a client that regressed into sending one would be refused
 * by the simulator as by Okta, not pass its tests.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto"
import { SignJWT } from "jose"
import { make, type SimulatedOAuthClient } from "../src/testing/index.js"
import { handled } from "./support/model.js"

const ORG = "https://simulator.okta.test"
const TOKEN_URL = `${ORG}/oauth2/v1/token`
const API_URL = `${ORG}/api/v1/apps/0oasimzscaler0000001/connections/default`
const CLIENT_ID = "0oaservice0000000001"
/** The org's clock, in seconds: every test sets the TestClock to it. */
const NOW = 1_800_000_000
const READ_MANAGE = "okta.apps.read okta.apps.manage"

const appKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
const proofKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
const otherProofKey = generateKeyPairSync("ec", { namedCurve: "P-256" })

const client = (overrides: Partial<SimulatedOAuthClient> = {}): SimulatedOAuthClient => ({
  clientId: CLIENT_ID,
  publicKey: { ...appKey.publicKey.export({ format: "jwk" }), kid: "key-1" },
  ...overrides
})

let jtis = 0
const freshJti = () => `jti-${++jtis}`

/** A client assertion as Okta wants it; `claims` and `header` override (undefined drops one). */
const assertion = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  Effect.promise(() =>
    new SignJWT({
      iss: CLIENT_ID,
      sub: CLIENT_ID,
      aud: TOKEN_URL,
      iat: NOW,
      exp: NOW + 300,
      jti: freshJti(),
      ...claims
    })
      .setProtectedHeader({ alg: "RS256", kid: "key-1", ...header } as { alg: string })
      .sign(appKey.privateKey)
  )

/** A DPoP proof for the token endpoint; `claims` override. */
const proof = (
  claims: Record<string, unknown> = {},
  key: { privateKey: KeyObject; publicKey: KeyObject } = proofKey
) =>
  Effect.promise(() =>
    new SignJWT({ htm: "POST", htu: TOKEN_URL, iat: NOW, jti: freshJti(), ...claims })
      .setProtectedHeader({
        alg: "ES256",
        typ: "dpop+jwt",
        jwk: key.publicKey.export({ format: "jwk" })
      })
      .sign(key.privateKey)
  )

const ath = (accessToken: string) => createHash("sha256").update(accessToken).digest("base64url")

type Org = ReturnType<typeof make>

/** The model's answer, its body parsed as JSON (an object; empty for no body). */
const answer = (
  org: Org,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string
) =>
  Effect.map(handled(org, method, url, headers, body), (response) => ({
    ...response,
    json: (response.body === "" ? {} : JSON.parse(response.body)) as Record<string, unknown>
  }))

/** `POST /oauth2/v1/token` with a client-credentials form; `form` overrides (undefined drops). */
const tokenRequest = (
  org: Org,
  clientAssertion: string,
  form: Record<string, string | undefined> = {},
  dpop?: string
) => {
  const fields = {
    grant_type: "client_credentials",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: clientAssertion,
    scope: READ_MANAGE,
    ...form
  }
  const body = new URLSearchParams(
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined)
  ).toString()
  return answer(
    org,
    "POST",
    TOKEN_URL,
    {
      "content-type": "application/x-www-form-urlencoded",
      ...(dpop !== undefined ? { dpop } : {})
    },
    body
  )
}

const orgOf = (options: Parameters<typeof make>[0] = {}) =>
  Effect.as(TestClock.setTime(NOW * 1000), make({ oauthClients: [client()], ...options }))

describe("the simulated authorization server", () => {
  it.effect("issues a Bearer token with the scopes asked, which the API then holds it to", () =>
    Effect.gen(function* () {
      const org = yield* orgOf()
      const issued = yield* tokenRequest(org, yield* assertion(), { scope: "okta.apps.read" })
      expect(issued.status).toBe(200)
      expect(issued.json).toMatchObject({
        token_type: "Bearer",
        expires_in: 3600,
        scope: "okta.apps.read"
      })
      const authorization = `Bearer ${String(issued.json["access_token"])}`
      expect((yield* answer(org, "GET", API_URL, { authorization })).status).toBe(200)
      const write = yield* answer(org, "POST", `${API_URL}/lifecycle/activate`, { authorization })
      expect(write.status).toBe(403)
    })
  )

  it.effect("accepts a service app registered after the org was built", () =>
    Effect.gen(function* () {
      const org = yield* orgOf({ oauthClients: [] })
      const unknown = yield* tokenRequest(org, yield* assertion())
      expect(unknown.json["error_description"]).toBe("The client_id is not registered.")
      yield* org.addOAuthClient(client())
      expect((yield* tokenRequest(org, yield* assertion())).status).toBe(200)
    })
  )

  it.effect("accepts an assertion without a kid (the app has one key)", () =>
    Effect.gen(function* () {
      const org = yield* orgOf()
      const issued = yield* tokenRequest(org, yield* assertion({}, { kid: undefined }))
      expect(issued.status).toBe(200)
    })
  )

  const refusals: ReadonlyArray<
    readonly [
      string,
      {
        readonly claims?: Record<string, unknown>
        readonly header?: Record<string, unknown>
        readonly form?: Record<string, string | undefined>
        readonly raw?: string
      },
      number,
      string,
      string
    ]
  > = [
    [
      "another grant type",
      { form: { grant_type: "password" } },
      400,
      "unsupported_grant_type",
      "not supported"
    ],
    [
      "no client assertion type",
      { form: { client_assertion_type: undefined } },
      401,
      "invalid_client",
      "private_key_jwt"
    ],
    ["an assertion that is no JWT", { raw: "not-a-jwt" }, 401, "invalid_client", "is not a JWT"],
    [
      "an unknown issuer",
      { claims: { iss: "0oaother", sub: "0oaother" } },
      401,
      "invalid_client",
      "not registered"
    ],
    [
      "a kid naming no key of the app's",
      { header: { kid: "key-2" } },
      401,
      "invalid_client",
      "kid is invalid"
    ],
    ["another subject", { claims: { sub: "0oaother" } }, 401, "invalid_client", '"sub"'],
    [
      "another audience",
      { claims: { aud: `${ORG}/oauth2/default/v1/token` } },
      401,
      "invalid_client",
      "The audience claim for client_assertion must be the endpoint invoked for the request."
    ],
    ["no jti", { claims: { jti: undefined } }, 401, "invalid_client", '"jti"'],
    ["no iat", { claims: { iat: undefined } }, 401, "invalid_client", '"iat"'],
    [
      "an expired assertion",
      { claims: { iat: NOW - 400, exp: NOW - 100 } },
      401,
      "invalid_client",
      "The client_assertion token is expired."
    ],
    [
      "an expiry past an hour from now",
      { claims: { exp: NOW + 5_000 } },
      401,
      "invalid_client",
      "too far into the future"
    ],
    [
      "a lifetime past an hour",
      { claims: { iat: NOW - 4_000, exp: NOW + 100 } },
      401,
      "invalid_client",
      "must expire within an hour"
    ],
    ["no scope", { form: { scope: "" } }, 400, "invalid_scope", "not configured"],
    [
      "a scope the app was not granted",
      { form: { scope: "okta.users.read" } },
      400,
      "invalid_scope",
      "not configured"
    ]
  ]
  it.effect.each(refusals)("refuses %s", ([, setup, status, error, description]) =>
    Effect.gen(function* () {
      const org = yield* orgOf()
      const { claims, header, form, raw } = setup
      const refused = yield* tokenRequest(org, raw ?? (yield* assertion(claims, header)), form)
      expect([refused.status, refused.json["error"]]).toEqual([status, error])
      expect(refused.json["error_description"]).toContain(description)
      expect(yield* org.tokenRequests).toBe(1)
    })
  )

  it.effect("refuses, in Okta's words, an assertion signed with a key the app does not have", () =>
    Effect.gen(function* () {
      const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey
      const org = yield* orgOf({
        oauthClients: [client({ publicKey: { ...other.export({ format: "jwk" }), kid: "key-1" } })]
      })
      const refused = yield* tokenRequest(org, yield* assertion())
      expect([refused.status, refused.json]).toEqual([
        401,
        { error: "invalid_client", error_description: "The client_assertion signature is invalid." }
      ])
    })
  )

  it.effect("an assertion is spent by the request that got a token, not by one refused", () =>
    Effect.gen(function* () {
      const org = yield* orgOf()
      const signed = yield* assertion()
      expect((yield* tokenRequest(org, signed, { scope: "okta.users.read" })).status).toBe(400)
      expect((yield* tokenRequest(org, signed)).status).toBe(200)
      const replayed = yield* tokenRequest(org, signed)
      expect([replayed.status, replayed.json["error_description"]]).toEqual([
        401,
        "The client_assertion jti was already used."
      ])
    })
  )

  it.effect("a client that requires DPoP is refused a token without a proof", () =>
    Effect.gen(function* () {
      const org = yield* orgOf({ oauthClients: [client({ requireDpop: true })] })
      const refused = yield* tokenRequest(org, yield* assertion())
      expect([refused.status, refused.json["error"]]).toEqual([400, "invalid_dpop_proof"])
      const bound = yield* tokenRequest(org, yield* assertion(), {}, yield* proof())
      expect([bound.status, bound.json["token_type"]]).toEqual([200, "DPoP"])
    })
  )

  describe("DPoP proofs at the token endpoint", () => {
    const cases: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
      ["another method", { htm: "GET" }, "htm does not match"],
      ["another URL", { htu: `${ORG}/oauth2/default/v1/token` }, "htu does not match"],
      ["dated more than 5 minutes ahead", { iat: NOW + 301 }, "iat is missing or too far"],
      ["dated more than 5 minutes ago", { iat: NOW - 301 }, "iat is missing or too far"]
    ]
    it.effect.each(cases)("refuses a proof for %s", ([, claims, description]) =>
      Effect.gen(function* () {
        const org = yield* orgOf()
        const refused = yield* tokenRequest(org, yield* assertion(), {}, yield* proof(claims))
        expect([refused.status, refused.json["error"]]).toEqual([400, "invalid_dpop_proof"])
        expect(refused.json["error_description"]).toContain(description)
      })
    )

    it.effect("refuses a proof used twice", () =>
      Effect.gen(function* () {
        const org = yield* orgOf()
        const once = yield* proof()
        expect((yield* tokenRequest(org, yield* assertion(), {}, once)).status).toBe(200)
        const again = yield* tokenRequest(org, yield* assertion(), {}, once)
        expect(again.json["error_description"]).toContain("jti is missing or reused")
      })
    )

    it.effect("with nonces, asks for the nonce once and takes the proof that carries it", () =>
      Effect.gen(function* () {
        const org = yield* orgOf({ dpopNonces: true })
        const asked = yield* tokenRequest(org, yield* assertion(), {}, yield* proof())
        expect([asked.status, asked.json["error"]]).toEqual([400, "use_dpop_nonce"])
        const nonce = asked.header("dpop-nonce")!
        expect(nonce).toMatch(/^[\w-]+$/)
        const issued = yield* tokenRequest(org, yield* assertion(), {}, yield* proof({ nonce }))
        expect([issued.status, issued.json["token_type"]]).toEqual([200, "DPoP"])
      })
    )
  })

  describe("the API with an access token it issued", () => {
    const dpopToken = (org: Org) =>
      Effect.gen(function* () {
        const issued = yield* tokenRequest(org, yield* assertion(), {}, yield* proof())
        return String(issued.json["access_token"])
      })
    const apiProof = (token: string, claims: Record<string, unknown> = {}, key = proofKey) =>
      proof({ htm: "GET", htu: API_URL, ath: ath(token), ...claims }, key)
    const get = (org: Org, authorization: string, dpop?: string) =>
      answer(org, "GET", API_URL, { authorization, ...(dpop !== undefined ? { dpop } : {}) })
    const challenge = (response: { header: (name: string) => string | undefined }) =>
      response.header("www-authenticate") ?? ""

    it.effect("a DPoP-bound token needs the DPoP scheme, a proof, its hash and its key", () =>
      Effect.gen(function* () {
        const org = yield* orgOf()
        const token = yield* dpopToken(org)
        const asBearer = yield* get(org, `Bearer ${token}`, yield* apiProof(token))
        expect(asBearer.status).toBe(401)
        expect(challenge(asBearer)).toMatch(/^DPoP .*error="invalid_token".*use the DPoP scheme/)
        const noProof = yield* get(org, `DPoP ${token}`)
        expect(challenge(noProof)).toContain("The DPoP proof JWT header is missing.")
        const wrongHash = yield* get(
          org,
          `DPoP ${token}`,
          yield* apiProof(token, { ath: ath("x") })
        )
        expect(challenge(wrongHash)).toContain("ath does not match the access token")
        const otherKey = yield* get(org, `DPoP ${token}`, yield* apiProof(token, {}, otherProofKey))
        expect(challenge(otherKey)).toContain("not the key the token is bound to")
        expect((yield* get(org, `DPoP ${token}`, yield* apiProof(token))).status).toBe(200)
      })
    )

    it.effect("a Bearer token sent with the DPoP scheme is refused", () =>
      Effect.gen(function* () {
        const org = yield* orgOf()
        const issued = yield* tokenRequest(org, yield* assertion())
        const token = String(issued.json["access_token"])
        const refused = yield* get(org, `DPoP ${token}`, yield* apiProof(token))
        expect(refused.status).toBe(401)
        expect(challenge(refused)).toMatch(/^Bearer .*The access token is not DPoP-bound/)
      })
    )

    it.effect("with nonces, the API asks for its nonce too", () =>
      Effect.gen(function* () {
        const org = yield* orgOf({ dpopNonces: true })
        const asked = yield* tokenRequest(org, yield* assertion(), {}, yield* proof())
        const nonce = asked.header("dpop-nonce")!
        const issued = yield* tokenRequest(org, yield* assertion(), {}, yield* proof({ nonce }))
        const token = String(issued.json["access_token"])
        const refused = yield* get(org, `DPoP ${token}`, yield* apiProof(token))
        expect(challenge(refused)).toContain('error="use_dpop_nonce"')
        expect(refused.header("dpop-nonce")).toBe(nonce)
        expect((yield* get(org, `DPoP ${token}`, yield* apiProof(token, { nonce }))).status).toBe(
          200
        )
      })
    )

    it.effect("a token expires at its lifetime's end, and revoking ends them all", () =>
      Effect.gen(function* () {
        const org = yield* orgOf({ accessTokenLifetimeSeconds: 60 })
        const first = yield* tokenRequest(org, yield* assertion())
        const bearer = `Bearer ${String(first.json["access_token"])}`
        yield* TestClock.adjust("59999 millis")
        expect((yield* get(org, bearer)).status).toBe(200)
        yield* TestClock.adjust("1 milli")
        const expired = yield* get(org, bearer)
        expect(challenge(expired)).toContain("The access token is expired.")
        const second = yield* tokenRequest(org, yield* assertion({ iat: NOW + 60, exp: NOW + 360 }))
        const fresh = `Bearer ${String(second.json["access_token"])}`
        expect((yield* get(org, fresh)).status).toBe(200)
        yield* org.revokeAccessTokens
        expect((yield* get(org, fresh)).status).toBe(401)
      })
    )
  })
})
