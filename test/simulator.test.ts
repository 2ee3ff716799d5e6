import { describe, expect, it } from "@effect/vitest"
import { HttpBody, HttpClient, HttpClientRequest } from "@effect/platform"
import {
  Cause,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Option,
  Redacted,
  Schedule,
  Schema,
  Scope,
  TestClock
} from "effect"
import { createPublicKey } from "node:crypto"
import {
  ApplicationConnections,
  OktaClient,
  OktaError,
  type OktaResponseError,
  RetryPolicy
} from "../src/index.js"
import {
  DEFAULT_APPS,
  generatedApps,
  make,
  OktaSimulator,
  type OktaSimulatorService,
  type SimulatorFault,
  serve,
  withAdvancingClock
} from "../src/testing/index.js"
import { faces, inProcess, Raw, type FaceServices } from "./support/faces.js"
import { failureOf as failure } from "./support/exit.js"
import { interruptEverywhere } from "./support/interruptAt.js"
import { handled } from "./support/model.js"

const ZSCALER = "0oasimzscaler0000001"
const ORG2ORG_TOKEN = "0oasimorg2orgtoken01"
const ORG2ORG_OAUTH = "0oasimorg2orgoauth01"
const OFFICE365 = "0oasimoffice36500001"
const BOOKMARK = "0oasimbookmark000001"
const FORBIDDEN = "0oasimforbidden00001"
const TOKEN = "00sim-test-token"
/** The org URL of the in-process face (never resolved). */
const IN_PROCESS_URL = "https://simulator.okta.test"

const api = ApplicationConnections
const attempt = <A>(
  f: (a: ApplicationConnections["Type"]) => Effect.Effect<A, OktaResponseError>
) => Effect.exit(Effect.flatMap(api, f))

for (const face of faces) {
  describe(`simulator over the ${face.name}`, () => {
    const run = <A, E>(
      body: Effect.Effect<A, E, FaceServices>,
      options: Parameters<typeof face.layer>[0] = {}
      // These tests look at what the simulator answers, so the client does not retry.
    ) =>
      Effect.scoped(
        Effect.provide(
          body,
          face.layer({
            tokens: [{ token: TOKEN }],
            ...options,
            client: { retry: false, ...options.client }
          })
        )
      )

    it.scoped(
      "GET decodes the seeded connection; every response has the request id, Date and rate-limit headers",
      () =>
        run(
          Effect.gen(function* () {
            const connection = yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
            expect(connection).toMatchObject({
              authScheme: "TOKEN",
              status: "ENABLED",
              baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
              profile: { authScheme: "TOKEN" }
            })
            expect(connection._links?.deactivate?.href).toMatch(
              /\/api\/v1\/apps\/0oasimzscaler0000001\/connections\/default\/lifecycle\/deactivate$/
            )
            expect(connection._links?.activate).toBeUndefined()
            const raw = yield* Raw
            for (const [method, path, authorization] of [
              ["GET", `/api/v1/apps/${ZSCALER}/connections/default`, `SSWS ${TOKEN}`],
              ["GET", `/api/v1/apps/nope/connections/default`, `SSWS ${TOKEN}`],
              ["GET", `/api/v1/apps/${ZSCALER}/connections/default`, "SSWS wrong"],
              [
                "POST",
                `/api/v1/apps/${ZSCALER}/connections/default/lifecycle/activate`,
                `SSWS ${TOKEN}`
              ]
            ] as const) {
              const response = yield* raw.send(method, path, { authorization })
              expect(response.headers["x-okta-request-id"]).toMatch(/^\S+$/)
              expect(Date.parse(response.headers["date"]!)).not.toBeNaN()
              expect(response.headers["x-rate-limit-limit"]).toBe("50")
              expect(Number(response.headers["x-rate-limit-remaining"])).toBeGreaterThanOrEqual(0)
              expect(Number(response.headers["x-rate-limit-reset"])).toBeGreaterThan(0)
            }
          })
        )
    )

    it.scoped(
      "update stores the TOKEN configuration; ?activate=true enables it, without it stays DISABLED",
      () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            const saved = yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(ORG2ORG_TOKEN, {
                baseUrl: "https://target.okta.com",
                profile: { authScheme: "TOKEN", token: "00new-target-token" }
              })
            )
            expect(saved.status).toBe("DISABLED")
            expect(saved._links?.activate).toBeDefined()
            expect((yield* sim.inspect(ORG2ORG_TOKEN)).connection).toMatchObject({
              authScheme: "TOKEN",
              status: "DISABLED",
              token: "00new-target-token",
              baseUrl: "https://target.okta.com"
            })
            const enabled = yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(
                ORG2ORG_TOKEN,
                { profile: { authScheme: "TOKEN", token: "00t2" } },
                { activate: true }
              )
            )
            expect(enabled.status).toBe("ENABLED")
            expect(enabled._links?.deactivate).toBeDefined()
            // Okta's guides spell it TRUE.
            const raw = yield* Raw
            yield* Effect.flatMap(api, (a) =>
              a.deactivateDefaultProvisioningConnectionForApplication(ORG2ORG_TOKEN)
            )
            const upper = yield* raw.send(
              "POST",
              `/api/v1/apps/${ORG2ORG_TOKEN}/connections/default?activate=TRUE`,
              {
                authorization: `SSWS ${TOKEN}`,
                body: JSON.stringify({ profile: { authScheme: "TOKEN", token: "00t3" } })
              }
            )
            expect(JSON.parse(upper.text)).toMatchObject({ status: "ENABLED" })
          })
        )
    )

    it.scoped(
      "Org2Org OAuth 2.0: rotation defaults to MANUAL, AUTO when asked; top-level authScheme OAUTH2",
      () =>
        run(
          Effect.gen(function* () {
            const manual = yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(ORG2ORG_OAUTH, {
                profile: { authScheme: "OAUTH2", clientId: "0oaclient" }
              })
            )
            expect(manual).toMatchObject({
              authScheme: "OAUTH2",
              profile: {
                authScheme: "OAUTH2",
                clientId: "0oaclient",
                signing: { rotationMode: "MANUAL" }
              }
            })
            const auto = yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(ORG2ORG_OAUTH, {
                profile: {
                  authScheme: "OAUTH2",
                  clientId: "0oaclient",
                  signing: { rotationMode: "AUTO" }
                }
              })
            )
            expect(auto.profile.signing?.rotationMode).toBe("AUTO")
          })
        )
    )

    it.scoped(
      "activate and deactivate flip the status; on an app without provisioning they are 204 no-ops",
      () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* Effect.flatMap(api, (a) =>
              a.activateDefaultProvisioningConnectionForApplication(ORG2ORG_TOKEN)
            )
            expect((yield* sim.inspect(ORG2ORG_TOKEN)).connection?.status).toBe("ENABLED")
            yield* Effect.flatMap(api, (a) =>
              a.deactivateDefaultProvisioningConnectionForApplication(ORG2ORG_TOKEN)
            )
            expect((yield* sim.inspect(ORG2ORG_TOKEN)).connection?.status).toBe("DISABLED")
            yield* Effect.flatMap(api, (a) =>
              a.activateDefaultProvisioningConnectionForApplication(BOOKMARK)
            )
            const bookmark = yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(BOOKMARK)
            )
            expect(bookmark).toEqual({ status: "UNKNOWN", profile: { authScheme: "UNKNOWN" } })
          })
        )
    )

    it.scoped(
      "the three-legged consent flow: authorize link → consent → verify once → activate",
      () =>
        run(
          Effect.gen(function* () {
            const raw = yield* Raw
            const configured = yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(OFFICE365, {
                profile: {
                  authScheme: "OAUTH2",
                  settings: { adminUsername: "admin@contoso.com", adminPassword: "pw" }
                }
              })
            )
            const authorize = configured._links?.authorize?.href
            expect(authorize).toBeDefined()
            expect(configured._links?.authorize?.hints?.guidance?.length).toBe(1)
            // Activated before its consent (the simulator's choice; Okta's is not documented):
            // enabled, and the consent still offered until a verify.
            yield* Effect.flatMap(api, (a) =>
              a.activateDefaultProvisioningConnectionForApplication(OFFICE365)
            )
            const early = yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(OFFICE365)
            )
            expect([early.status, early._links?.authorize?.href]).toEqual(["ENABLED", authorize])
            // The admin's browser: the consent page answers with Okta's continue URL.
            const consentPage = yield* raw.send("GET", authorize!)
            expect(consentPage.status).toBe(200)
            const continueUrl = new URL(
              (JSON.parse(consentPage.text) as { continue_oauth_flow_url: string })
                .continue_oauth_flow_url
            )
            expect(continueUrl.pathname).toBe(`/api/v1/apps/office365/${OFFICE365}/oauth2/callback`)
            const code = continueUrl.searchParams.get("code")!
            const state = continueUrl.searchParams.get("state")!

            const wrongName = failure(
              yield* attempt((a) =>
                a.verifyProvisioningConnectionForApplication("google", OFFICE365, { code, state })
              )
            )
            expect(wrongName).toMatchObject({ _tag: "OktaNotFoundError", errorCode: "E0000007" })
            const wrongCode = failure(
              yield* attempt((a) =>
                a.verifyProvisioningConnectionForApplication("office365", OFFICE365, {
                  code: "forged",
                  state
                })
              )
            )
            expect(wrongCode).toMatchObject({ _tag: "OktaBadRequestError", errorCode: "E0000001" })

            yield* Effect.flatMap(api, (a) =>
              a.verifyProvisioningConnectionForApplication("office365", OFFICE365, { code, state })
            )
            const replay = failure(
              yield* attempt((a) =>
                a.verifyProvisioningConnectionForApplication("office365", OFFICE365, {
                  code,
                  state
                })
              )
            )
            expect(replay).toMatchObject({ _tag: "OktaBadRequestError", status: 400 })

            yield* Effect.flatMap(api, (a) =>
              a.activateDefaultProvisioningConnectionForApplication(OFFICE365)
            )
            const done = yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(OFFICE365)
            )
            expect(done.status).toBe("ENABLED")
            expect(done._links?.authorize).toBeUndefined()
            const sim = yield* OktaSimulator
            expect((yield* sim.inspect(OFFICE365)).connection).toMatchObject({
              verified: true,
              adminUsername: "admin@contoso.com"
            })
          })
        )
    )

    it.scoped("consent can also be granted from code, for each consent-flow app", () =>
      run(
        Effect.gen(function* () {
          const sim = yield* OktaSimulator
          for (const name of ["google", "office365", "slack", "zoomus"] as const) {
            const app = DEFAULT_APPS.find((a) => a.name === name)!
            yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(app.id, {
                profile: { authScheme: "OAUTH2" }
              })
            )
            const { code, state } = yield* sim.consent(app.id)
            yield* Effect.flatMap(api, (a) =>
              a.verifyProvisioningConnectionForApplication(name, app.id, { code, state })
            )
            expect((yield* sim.inspect(app.id)).connection?.verified).toBe(true)
          }
          const noConsent = yield* Effect.exit(sim.consent(ZSCALER))
          expect(failure(noConsent)._tag).toBe("OktaSimulatorError")
        })
      )
    )

    it.scoped(
      "JWKS: a real RSA public key for an Org2Org OAuth 2.0 connection, 404 otherwise",
      () =>
        run(
          Effect.gen(function* () {
            const { jwks } = yield* Effect.flatMap(api, (a) =>
              a.getUserProvisioningConnectionJWKS(ORG2ORG_OAUTH)
            )
            expect(jwks.keys).toHaveLength(1)
            const key = jwks.keys[0]!
            expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", e: "AQAB" })
            const publicKey = createPublicKey({
              key: { kty: "RSA", n: key.n!, e: key.e! },
              format: "jwk"
            })
            expect(publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048)
            // The same key on every call.
            const again = yield* Effect.flatMap(api, (a) =>
              a.getUserProvisioningConnectionJWKS(ORG2ORG_OAUTH)
            )
            expect(again.jwks.keys[0]!.kid).toBe(key.kid)
            const notOAuth = failure(
              yield* attempt((a) => a.getUserProvisioningConnectionJWKS(ZSCALER))
            )
            expect(notOAuth).toMatchObject({ _tag: "OktaNotFoundError", errorCode: "E0000007" })
            // The keys sign an Org2Org connection's client assertion: Google's OAuth 2.0 has none.
            const google = failure(
              yield* attempt((a) => a.getUserProvisioningConnectionJWKS("0oasimgoogle00000001"))
            )
            expect(google).toMatchObject({ _tag: "OktaNotFoundError", errorCode: "E0000007" })
          })
        )
    )

    it.scoped(
      "unknown app → 404 E0000007, forbidden app → 403 E0000006, each with a fresh errorId",
      () =>
        run(
          Effect.gen(function* () {
            const a1 = failure(
              yield* attempt((a) =>
                a.getDefaultProvisioningConnectionForApplication("0oanosuchapp00000001")
              )
            )
            const a2 = failure(
              yield* attempt((a) =>
                a.activateDefaultProvisioningConnectionForApplication("0oanosuchapp00000001")
              )
            )
            expect(a1).toMatchObject({
              _tag: "OktaNotFoundError",
              errorCode: "E0000007",
              errorLink: "E0000007",
              errorCauses: []
            })
            expect(a2._tag).toBe("OktaNotFoundError")
            if (a1._tag === "OktaNotFoundError" && a2._tag === "OktaNotFoundError") {
              expect(a1.errorId).toBeDefined()
              expect(a1.errorId).not.toBe(a2.errorId)
              expect(a1.requestId).not.toBe(a2.requestId)
            }
            const forbidden = failure(
              yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(FORBIDDEN))
            )
            expect(forbidden).toMatchObject({ _tag: "OktaForbiddenError", errorCode: "E0000006" })
          })
        )
    )

    it.scoped("a method the endpoint does not support → 405 E0000022; an unknown path → 404", () =>
      run(
        Effect.gen(function* () {
          const raw = yield* Raw
          const authorization = `SSWS ${TOKEN}`
          for (const [method, path] of [
            ["DELETE", `/api/v1/apps/${ZSCALER}/connections/default`],
            ["PUT", `/api/v1/apps/${ZSCALER}/connections/default`],
            ["GET", `/api/v1/apps/${ZSCALER}/connections/default/lifecycle/activate`],
            ["POST", `/api/v1/apps/${ZSCALER}/connections/default/jwks`]
          ] as const) {
            const answer = yield* raw.send(method, path, { authorization })
            expect([method, path, answer.status]).toEqual([method, path, 405])
            expect(JSON.parse(answer.text)).toMatchObject({
              errorCode: "E0000022",
              errorSummary: "The endpoint does not support the provided HTTP method"
            })
          }
          const unknown = yield* raw.send("GET", `/api/v1/apps/${ZSCALER}/connections/other`, {
            authorization
          })
          expect(unknown.status).toBe(404)
          // Through the client: a status with no class of its own.
          const viaClient = yield* Effect.flip(
            Effect.flatMap(OktaClient, (client) =>
              client.execute(
                {
                  operation: "deleteConnection",
                  method: "DELETE",
                  path: `/api/v1/apps/${ZSCALER}/connections/default`
                },
                (r) => r.text
              )
            )
          )
          expect(viaClient).toMatchObject({
            _tag: "OktaUnexpectedStatusError",
            status: 405,
            errorCode: "E0000022"
          })
        })
      )
    )

    it.scoped(
      "a body the contract rejects → 400 E0000001 with errorCauses; a scheme the app lacks → 400",
      () =>
        run(
          Effect.gen(function* () {
            const raw = yield* Raw
            const bad = yield* raw.send("POST", `/api/v1/apps/${OFFICE365}/connections/default`, {
              authorization: `SSWS ${TOKEN}`,
              body: JSON.stringify({
                profile: { authScheme: "OAUTH2", settings: { adminUsername: "u" } }
              })
            })
            expect(bad.status).toBe(400)
            const body = JSON.parse(bad.text) as {
              errorCode: string
              errorCauses: Array<{ errorSummary: string }>
            }
            expect(body.errorCode).toBe("E0000001")
            expect(body.errorCauses.map((c) => c.errorSummary).join(" ")).toContain("adminPassword")
            // A base URL the client refuses, sent by another: refused too, nothing saved.
            const noScheme = yield* raw.send(
              "POST",
              `/api/v1/apps/${ZSCALER}/connections/default`,
              {
                authorization: `SSWS ${TOKEN}`,
                body: JSON.stringify({
                  baseUrl: "scim.example.com/v2",
                  profile: { authScheme: "TOKEN", token: "00x" }
                })
              }
            )
            expect(noScheme.status).toBe(400)
            expect(noScheme.text).toContain(
              "baseUrl: must be an absolute URL, starting with https://"
            )
            const notJson = yield* raw.send(
              "POST",
              `/api/v1/apps/${OFFICE365}/connections/default`,
              {
                authorization: `SSWS ${TOKEN}`,
                body: "{nope"
              }
            )
            expect(notJson.status).toBe(400)
            // Okta reads bodies only as JSON: fetch's default type for a string body is refused.
            const update = (contentType: string) =>
              raw.send("POST", `/api/v1/apps/${ORG2ORG_TOKEN}/connections/default`, {
                authorization: `SSWS ${TOKEN}`,
                body: JSON.stringify({ profile: { authScheme: "TOKEN", token: "00plain" } }),
                contentType
              })
            const plain = yield* update("text/plain;charset=UTF-8")
            expect(plain.status).toBe(415)
            expect(JSON.parse(plain.text)).toMatchObject({ errorCode: "E0000021" })
            const sim = yield* OktaSimulator
            expect((yield* sim.inspect(ORG2ORG_TOKEN)).connection?.token).not.toBe("00plain")
            expect((yield* update("Application/JSON; charset=utf-8")).status).toBe(200)
            expect((yield* sim.inspect(ORG2ORG_TOKEN)).connection?.token).toBe("00plain")
            const wrongScheme = failure(
              yield* attempt((a) =>
                a.updateDefaultProvisioningConnectionForApplication(OFFICE365, {
                  profile: { authScheme: "TOKEN", token: "x" }
                })
              )
            )
            expect(wrongScheme).toMatchObject({
              _tag: "OktaBadRequestError",
              errorCode: "E0000001"
            })
            const unknownOnBookmark = yield* raw.send(
              "POST",
              `/api/v1/apps/${BOOKMARK}/connections/default?activate=true`,
              {
                authorization: `SSWS ${TOKEN}`,
                body: JSON.stringify({ profile: { authScheme: "UNKNOWN" } })
              }
            )
            expect(unknownOnBookmark.status).toBe(200)
            expect(JSON.parse(unknownOnBookmark.text)).toEqual({
              status: "UNKNOWN",
              profile: { authScheme: "UNKNOWN" }
            })
          })
        )
    )

    it.scoped(
      "authentication: a wrong or missing token → 401 E0000011 with WWW-Authenticate; Bearer tokens work",
      () =>
        run(
          Effect.gen(function* () {
            const raw = yield* Raw
            for (const authorization of [undefined, "SSWS wrong", `Bearer ${TOKEN}`, "Basic abc"]) {
              const response = yield* raw.send(
                "GET",
                `/api/v1/apps/${ZSCALER}/connections/default`,
                authorization !== undefined ? { authorization } : {}
              )
              expect(response.status).toBe(401)
              expect(JSON.parse(response.text)).toMatchObject({
                errorCode: "E0000011",
                errorSummary: "Invalid token provided"
              })
              expect(response.headers["www-authenticate"]).toBeDefined()
            }
            const bearer = yield* raw.send("GET", `/api/v1/apps/${ZSCALER}/connections/default`, {
              authorization: "Bearer eyJaccess"
            })
            expect(bearer.status).toBe(200)
          }),
          { tokens: [{ token: TOKEN }, { token: "eyJaccess", scheme: "Bearer" }] }
        )
    )

    it.scoped(
      "a revoked token: the client sees OktaUnauthorizedError E0000011 with the challenge",
      () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
            yield* sim.revokeToken(TOKEN)
            const error = failure(
              yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
            )
            expect(error).toMatchObject({
              _tag: "OktaUnauthorizedError",
              errorCode: "E0000011",
              challenge: { scheme: "SSWS" }
            })
            expect(error.message).toContain(
              "E0000011 Invalid token provided; the token is not valid in this org: another org's, revoked, or expired (an API token lapses after 30 days unused, or when its admin is deactivated) (errorId "
            )
          })
        )
    )

    it.scoped(
      "scopes: a token without okta.apps.manage reads but cannot write (403, empty body, scope in WWW-Authenticate)",
      () =>
        run(
          Effect.gen(function* () {
            yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
            const error = failure(
              yield* attempt((a) => a.activateDefaultProvisioningConnectionForApplication(ZSCALER))
            )
            expect(error).toMatchObject({
              _tag: "OktaForbiddenError",
              challenge: { error: "insufficient_scope", scope: "okta.apps.manage" }
            })
            expect(error).not.toHaveProperty("errorCode")
            expect(error.message).toContain("okta.apps.manage")
          }),
          { tokens: [{ token: TOKEN, scheme: "Bearer", scopes: ["okta.apps.read"] }] }
        )
    )

    it.scoped(
      "rate limit: 429 E0000047 past the limit with Remaining 0 and the window's reset; the next window is open",
      () =>
        run(
          Effect.gen(function* () {
            // Raw requests: the client's gate would hold the fourth back instead of sending it.
            const raw = yield* Raw
            const get = () =>
              raw.send("GET", `/api/v1/apps/${ZSCALER}/connections/default`, {
                authorization: `SSWS ${TOKEN}`
              })
            const answers = [yield* get(), yield* get(), yield* get(), yield* get()]
            expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429])
            expect(answers.map((a) => a.headers["x-rate-limit-remaining"])).toEqual([
              "2",
              "1",
              "0",
              "0"
            ])
            expect(answers.every((a) => a.headers["x-rate-limit-reset"] === "10")).toBe(true)
            expect(JSON.parse(answers[3]!.text)).toMatchObject({ errorCode: "E0000047" })
            yield* TestClock.adjust("10 seconds")
            const next = yield* get()
            expect(next.status).toBe(200)
            expect(next.headers["x-rate-limit-reset"]).toBe("20")
          }),
          { rateLimit: { limit: 3, windowSeconds: 10 } }
        )
    )

    it.scoped("the client turns a 429 into OktaRateLimitError with Remaining 0 and the reset", () =>
      run(
        Effect.gen(function* () {
          const sim = yield* OktaSimulator
          yield* sim.injectFault({ _tag: "RateLimitNoDate" })
          const limited = failure(
            yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
          )
          expect(limited).toMatchObject({
            _tag: "OktaRateLimitError",
            errorCode: "E0000047",
            rateLimit: { limit: 3, remaining: 0, reset: 10 }
          })
          expect(limited._tag === "OktaRateLimitError" && limited.isConcurrencyLimit).toBe(false)
        }),
        { rateLimit: { limit: 3, windowSeconds: 10 } }
      )
    )

    const faultCases: ReadonlyArray<
      readonly [string, Parameters<OktaSimulator["Type"]["injectFault"]>[0], (e: unknown) => void]
    > = [
      [
        "Drop",
        { _tag: "Drop" },
        (e) => expect(e).toMatchObject({ _tag: "OktaTransportError", afterResponse: false })
      ],
      [
        "ServerError json",
        { _tag: "ServerError", status: 500, body: "json" },
        (e) =>
          expect(e).toMatchObject({ _tag: "OktaServerError", status: 500, errorCode: "E0000009" })
      ],
      [
        "ServerError html",
        { _tag: "ServerError", status: 502, body: "html" },
        (e) =>
          expect(e).toMatchObject({
            _tag: "OktaServerError",
            status: 502,
            contentType: "text/html"
          })
      ],
      [
        "ServerError gateway, its message kept",
        { _tag: "ServerError", status: 504, body: "gateway" },
        (e) =>
          expect(e).toMatchObject({
            _tag: "OktaServerError",
            status: 504,
            contentType: "application/json",
            gatewayMessage: "Endpoint request timed out",
            message: expect.stringContaining(`(application/json): "Endpoint request timed out"`)
          })
      ],
      [
        "ServerError empty",
        { _tag: "ServerError", status: 503, body: "empty" },
        (e) => expect(e).toMatchObject({ _tag: "OktaServerError", status: 503 })
      ],
      [
        "ServerError with a proxy's Retry-After",
        { _tag: "ServerError", status: 503, body: "html", retryAfterSeconds: 4 },
        (e) =>
          expect(e).toMatchObject({ _tag: "OktaServerError", status: 503, retryAfterMillis: 4000 })
      ],
      [
        "MalformedJson",
        { _tag: "MalformedJson" },
        (e) => expect(e).toMatchObject({ _tag: "OktaDecodeError", kind: "NotJson" })
      ],
      [
        "WrongShape",
        { _tag: "WrongShape" },
        (e) => expect(e).toMatchObject({ _tag: "OktaDecodeError", kind: "Schema" })
      ],
      [
        "RateLimitNoDate",
        { _tag: "RateLimitNoDate" },
        (e) => {
          expect(e).toMatchObject({ _tag: "OktaRateLimitError" })
          expect(e).not.toHaveProperty("serverDate")
        }
      ],
      [
        "DuplicateReset",
        { _tag: "DuplicateReset" },
        (e) => expect(e).toMatchObject({ _tag: "OktaRateLimitError", rateLimit: { reset: 120 } })
      ],
      [
        "Oversized, past the client's 1 MiB cap",
        { _tag: "Oversized", bytes: 2 * 1024 * 1024 },
        (e) => expect(e).toMatchObject({ _tag: "OktaDecodeError", kind: "TooLarge" })
      ],
      [
        "Redirect",
        { _tag: "Redirect", location: "https://elsewhere.example/x?token=1" },
        (e) =>
          expect(e).toMatchObject({
            _tag: "OktaUnexpectedStatusError",
            status: 302,
            location: "https://elsewhere.example/x"
          })
      ]
    ]
    for (const [name, fault, check] of faultCases) {
      it.scoped(`fault ${name} ends in its typed error`, () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* sim.injectFault(fault)
            check(
              failure(
                yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
              )
            )
            // The fault was used up: the next call is normal (after any reset a 429 announced).
            yield* TestClock.adjust("3 minutes")
            yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
          })
        )
      )
    }

    it.scoped(
      "fault ProxyPage: get fails as not JSON, activate fails too and nothing was activated",
      () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* Effect.flatMap(api, (a) =>
              a.deactivateDefaultProvisioningConnectionForApplication(ZSCALER)
            )
            yield* sim.injectFault({ _tag: "ProxyPage" }, { times: 2 })
            expect(
              failure(
                yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
              )
            ).toMatchObject({
              _tag: "OktaDecodeError",
              kind: "NotJson",
              contentType: "text/html; charset=utf-8"
            })
            expect(
              failure(
                yield* attempt((a) =>
                  a.activateDefaultProvisioningConnectionForApplication(ZSCALER)
                )
              )
            ).toMatchObject({
              _tag: "OktaUnexpectedStatusError",
              status: 200,
              contentType: "text/html; charset=utf-8"
            })
            // The page stood in for Okta: the connection was not activated.
            const connection = yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
            expect(connection.status).toBe("DISABLED")
          })
        )
    )

    it.scoped(
      "faults ExtraFields and Oversized still decode; path/method/times select the requests",
      () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* sim.injectFault({ _tag: "ExtraFields" }, { times: 2, path: "/jwks" })
            yield* sim.injectFault(
              { _tag: "Oversized", bytes: 300_000 },
              { method: "GET", path: ZSCALER }
            )
            const connection = yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
            expect(connection.status).toBe("ENABLED")
            const jwks1 = yield* Effect.flatMap(api, (a) =>
              a.getUserProvisioningConnectionJWKS(ORG2ORG_OAUTH)
            )
            expect(jwks1.jwks.keys[0]!["simulatorAddedField"]).toBeDefined()
            yield* Effect.flatMap(api, (a) => a.getUserProvisioningConnectionJWKS(ORG2ORG_OAUTH))
            const jwks3 = yield* Effect.flatMap(api, (a) =>
              a.getUserProvisioningConnectionJWKS(ORG2ORG_OAUTH)
            )
            expect(jwks3.jwks.keys[0]!["simulatorAddedField"]).toBeUndefined()
          })
        )
    )

    it.scoped("fault Hang: no answer, so the client's timeout fires", () =>
      run(
        Effect.gen(function* () {
          const sim = yield* OktaSimulator
          yield* sim.injectFault({ _tag: "Hang" })
          const fiber = yield* Effect.fork(
            attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
          )
          yield* TestClock.adjust("2 seconds")
          expect(failure(yield* Fiber.join(fiber))).toMatchObject({
            _tag: "OktaTimeoutError",
            timeoutMillis: 2000
          })
        }),
        { tokens: [{ token: TOKEN }], client: { timeout: "2 seconds" } }
      )
    )

    it.scoped(
      "the request log records method, path, query, body and headers with the token redacted",
      () =>
        run(
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* Effect.flatMap(api, (a) =>
              a.updateDefaultProvisioningConnectionForApplication(
                ORG2ORG_TOKEN,
                { profile: { authScheme: "TOKEN", token: "00t" } },
                { activate: true }
              )
            )
            yield* sim.injectFault({ _tag: "Drop" })
            yield* attempt((a) =>
              a.activateDefaultProvisioningConnectionForApplication(ORG2ORG_TOKEN)
            )
            const log = yield* sim.requests
            expect(log).toHaveLength(2)
            expect(log[0]).toMatchObject({
              method: "POST",
              path: `/api/v1/apps/${ORG2ORG_TOKEN}/connections/default`,
              query: { activate: "true" },
              body: { profile: { authScheme: "TOKEN", token: "00t" } },
              outcome: 200
            })
            expect(log[0]!.headers["authorization"]).toBe("SSWS <redacted>")
            // The fault a request met is named; one the org answered as it is has none.
            expect(log[0]).not.toHaveProperty("fault")
            expect(log[1]).toMatchObject({ outcome: "drop", fault: "Drop" })
            expect(JSON.stringify(log)).not.toContain(TOKEN)
            yield* sim.clearRequests
            expect(yield* sim.requests).toHaveLength(0)
          })
        )
    )
  })
}

describe("simulator timing (in-process face, real clock)", () => {
  // With the live clock the client times an attempt out by aborting the request's signal, once
  // the transport has shown it listens for that; the in-process face does, as sockets do.
  it.live("Hang and a Delay past the timeout end at the client's timeout, as over a socket", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
      for (const fault of [{ _tag: "Hang" } as const, { _tag: "Delay", millis: 60_000 } as const]) {
        yield* sim.injectFault(fault)
        const started = Date.now()
        expect(
          failure(yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER)))
        ).toMatchObject({ _tag: "OktaTimeoutError", kind: "attempt", timeoutMillis: 50 })
        expect(Date.now() - started).toBeLessThan(5_000)
        yield* sim.clearFaults
      }
    }).pipe(
      Effect.scoped,
      Effect.provide(
        inProcess.layer({
          tokens: [{ token: TOKEN }],
          client: { retry: false, timeout: "50 millis" }
        })
      )
    )
  )
})

describe("the in-process face interrupted at each step", () => {
  it.live(
    "a call interrupted anywhere, in the caller or in the org, ends and keeps no concurrency slot",
    () =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        const get = Effect.flatMap(api, (a) =>
          a.getDefaultProvisioningConnectionForApplication(ZSCALER)
        )
        // One request in flight at a time: a slot kept by an interrupted request would answer
        // every later one with Okta's concurrency 429.
        yield* sim.setRateLimit({ concurrencyLimit: 1 })
        yield* sim.injectFault({ _tag: "Delay", millis: 600_000 }, { times: 100_000 })
        for (const victim of ["supervised", "running"] as const) {
          expect(yield* interruptEverywhere(get, victim)).toBeGreaterThan(50)
        }
        yield* sim.clearFaults
        expect((yield* get).status).toBe("ENABLED")
      }).pipe(
        Effect.scoped,
        Effect.provide(inProcess.layer({ tokens: [{ token: TOKEN }], client: { retry: false } }))
      ),
    60_000
  )
})

describe("simulator timing (in-process face, TestClock)", () => {
  const run = <A, E>(
    body: Effect.Effect<A, E, FaceServices>,
    options: Parameters<typeof inProcess.layer>[0] = {}
  ) =>
    Effect.scoped(
      Effect.provide(
        body,
        inProcess.layer({ ...options, client: { retry: false, ...options?.client } })
      )
    )

  it.scoped("fault Delay answers after exactly the delay", () =>
    run(
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        yield* sim.injectFault({ _tag: "Delay", millis: 1500 })
        const fiber = yield* Effect.fork(
          Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
        )
        yield* TestClock.adjust("1499 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 milli")
        expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
      }),
      { tokens: [{ token: TOKEN }] }
    )
  )

  it.scoped("the concurrent-request limit answers 429 with Limit 0 and Remaining 0", () =>
    run(
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        // A first call ends the client's probing (one request until a response tells the budget).
        yield* Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
        yield* sim.injectFault({ _tag: "Delay", millis: 1000 }, { times: 2 })
        const slow = yield* Effect.fork(
          Effect.all(
            [0, 1].map(() =>
              Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
            ),
            { concurrency: "unbounded" }
          )
        )
        yield* TestClock.adjust("500 millis")
        const third = failure(
          yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
        )
        expect(third).toMatchObject({
          _tag: "OktaRateLimitError",
          rateLimit: { limit: 0, remaining: 0 }
        })
        expect(third._tag === "OktaRateLimitError" && third.isConcurrencyLimit).toBe(true)
        yield* TestClock.adjust("500 millis")
        expect(yield* Fiber.join(slow)).toHaveLength(2)
        // A slot is free again.
        yield* Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
      }),
      { tokens: [{ token: TOKEN }], rateLimit: { concurrencyLimit: 2 } }
    )
  )

  it.effect("each logged request says when it came in, on the TestClock", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* TestClock.adjust("10 seconds")
      yield* sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { times: 1 })
      yield* withAdvancingClock(
        Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
      )
      expect((yield* sim.requests).map((r) => [r.outcome, r.at, r.fault])).toEqual([
        [503, 10_000, "ServerError"],
        [200, 12_000, undefined]
      ])
    }).pipe(
      Effect.provide(
        OktaSimulator.layerConnections({
          client: { retry: RetryPolicy.make({ backoff: Schedule.spaced("2 seconds") }) }
        })
      )
    )
  )

  it.effect("the model can be seeded from code, and apps added later", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* sim.addApp({
        id: "0oamine0000000000001",
        name: "zscalerbyz",
        connection: { authScheme: "TOKEN", status: "ENABLED" }
      })
      const connection = yield* Effect.flatMap(api, (a) =>
        a.getDefaultProvisioningConnectionForApplication("0oamine0000000000001")
      )
      expect(connection.status).toBe("ENABLED")
      expect((yield* sim.apps).map((a) => a.id)).toEqual([
        "0oaonly000000000001",
        "0oamine0000000000001"
      ])
    }).pipe(
      Effect.provide(
        OktaSimulator.layerConnections({ apps: [{ id: "0oaonly000000000001", name: "bookmark" }] })
      )
    )
  )
})

describe("rate limits that mean nothing", () => {
  const nonsense = [
    [{ windowSeconds: 0 }, "windowSeconds", "0"],
    [{ windowSeconds: 0.5 }, "windowSeconds", "0.5"],
    [{ limit: 0 }, "limit", "0"],
    [{ limit: Number.POSITIVE_INFINITY }, "limit", "Infinity"],
    [{ concurrencyLimit: Number.NaN }, "concurrencyLimit", "NaN"]
  ] as const
  it.effect("die where they are given, naming the field, and leave the org as it was", () =>
    Effect.gen(function* () {
      for (const [rateLimit, field, shown] of nonsense) {
        const message = `OktaSimulator: rateLimit.${field} must be a whole number, at least 1; got ${shown}`
        // Building the simulator with them.
        const built = yield* Effect.exit(
          Effect.provide(OktaSimulator, OktaSimulator.layerConnections({ rateLimit }))
        )
        expect(Exit.isFailure(built) && Cause.squash(built.cause)).toMatchObject({
          name: "RangeError",
          message
        })
        // Setting them on a running org: refused whole, so its limits stay as they were.
        yield* Effect.gen(function* () {
          const sim = yield* OktaSimulator
          const set = yield* Effect.exit(sim.setRateLimit({ limit: 1, ...rateLimit }))
          expect(Exit.isFailure(set) && Cause.squash(set.cause)).toMatchObject({ message })
          for (const _ of [1, 2, 3]) {
            yield* Effect.flatMap(api, (a) =>
              a.getDefaultProvisioningConnectionForApplication(ZSCALER)
            )
          }
          expect((yield* sim.requests).map((r) => r.outcome)).toEqual([200, 200, 200])
        }).pipe(Effect.provide(OktaSimulator.layerConnections({ client: { retry: false } })))
      }
    })
  )
})

describe("other settings that mean nothing", () => {
  it.effect("die when the simulator is built, naming the setting", () =>
    Effect.gen(function* () {
      const cases = [
        [
          { latencyMillis: Number.NaN },
          "latencyMillis must be a finite number, 0 or more; got NaN"
        ],
        [{ latencyMillis: -5 }, "latencyMillis must be a finite number, 0 or more; got -5"],
        [
          { clockOffsetMillis: Number.POSITIVE_INFINITY },
          "clockOffsetMillis must be a finite number; got Infinity"
        ],
        [
          { accessTokenLifetimeSeconds: 0 },
          "accessTokenLifetimeSeconds must be a whole number, at least 1; got 0"
        ]
      ] as const
      for (const [options, message] of cases) {
        const built = yield* Effect.exit(
          Effect.provide(OktaSimulator, OktaSimulator.layer(options))
        )
        expect(Exit.isFailure(built) && Cause.squash(built.cause)).toMatchObject({
          name: "RangeError",
          message: `OktaSimulator: ${message}`
        })
      }
    })
  )

  it.effect("an org given no tokens lends its ready-made client none, and says so", () =>
    Effect.gen(function* () {
      const built = yield* Effect.exit(
        Effect.provide(OktaSimulator, OktaSimulator.layerConnections({ tokens: [] }))
      )
      expect(Exit.isFailure(built) && Cause.squash(built.cause)).toMatchObject({
        name: "RangeError",
        message: expect.stringMatching(
          /^OktaSimulator: tokens is empty, so the ready-made client has no token of the org's to send; give it credentials/
        )
      })
      // With credentials of the test's own, an org that accepts no token refuses them.
      const refused = yield* Effect.flip(
        Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER)).pipe(
          Effect.provide(
            OktaSimulator.layerConnections({
              tokens: [],
              credentials: { apiToken: Redacted.make("00not-the-orgs") }
            })
          )
        )
      )
      expect(refused._tag).toBe("OktaUnauthorizedError")
    })
  )
})

describe("faults that could never fire", () => {
  it.effect("die naming what is wrong, and arm nothing", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      const cases = [
        [
          { _tag: "Drop" },
          { times: 0 },
          "a fault's times must be a whole number, at least 1 (or Infinity); got 0"
        ],
        [
          { _tag: "Drop" },
          { times: Number.NaN },
          "a fault's times must be a whole number, at least 1 (or Infinity); got NaN"
        ],
        [
          { _tag: "Drop" },
          { times: 1.5 },
          "a fault's times must be a whole number, at least 1 (or Infinity); got 1.5"
        ],
        [
          { _tag: "Delay", millis: Number.NaN },
          {},
          "a Delay's millis must be a finite number, 0 or more; got NaN"
        ],
        [
          { _tag: "Delay", millis: -1 },
          {},
          "a Delay's millis must be a finite number, 0 or more; got -1"
        ]
      ] as const
      for (const [fault, options, message] of cases) {
        const armed = yield* Effect.exit(sim.injectFault(fault, options))
        expect(Exit.isFailure(armed) && Cause.squash(armed.cause)).toMatchObject({
          name: "RangeError",
          message: `OktaSimulator: ${message}`
        })
      }
      yield* Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
      expect((yield* sim.requests).map((r) => r.outcome)).toEqual([200])
      // Infinity is every matching request.
      yield* sim.injectFault(
        { _tag: "ServerError", status: 503, body: "json" },
        { times: Infinity }
      )
      for (const _ of [1, 2]) {
        expect(
          failure(yield* attempt((a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER)))
        ).toMatchObject({ _tag: "OktaServerError", status: 503 })
      }
    }).pipe(Effect.provide(OktaSimulator.layerConnections({ client: { retry: false } })))
  )
})

describe("the token endpoint's own bucket", () => {
  it.effect(
    "answers with its own rate-limit headers, apart from the API's, and a 429 past 600",
    () =>
      Effect.gen(function* () {
        const sim = make({ rateLimit: { limit: 3, windowSeconds: 60 } })
        const ask = Effect.map(
          sim.handle({
            method: "POST",
            url: new URL("https://simulator.okta.test/oauth2/v1/token"),
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: "grant_type=client_credentials&client_assertion=not-a-jwt"
          }),
          (outcome) => {
            const response = outcome._tag === "Respond" ? outcome.response : undefined
            const header = (name: string) => response?.headers.find(([key]) => key === name)?.[1]
            return {
              status: response?.status,
              limit: header("x-rate-limit-limit"),
              remaining: header("x-rate-limit-remaining"),
              reset: header("x-rate-limit-reset")
            }
          }
        )
        yield* TestClock.setTime(30_000)
        expect(yield* ask).toEqual({ status: 401, limit: "600", remaining: "599", reset: "60" })
        for (let i = 0; i < 598; i++) yield* ask
        expect(yield* ask).toMatchObject({ status: 401, remaining: "0" })
        expect(yield* ask).toEqual({ status: 429, limit: "600", remaining: "0", reset: "60" })
        // The API's window is untouched by them.
        const api = yield* sim.handle({
          method: "GET",
          url: new URL("https://simulator.okta.test/api/v1/apps/x/connections/default"),
          headers: { authorization: `SSWS ${sim.token}` },
          body: undefined
        })
        const headers = api._tag === "Respond" ? api.response.headers : []
        expect(headers.find(([key]) => key === "x-rate-limit-remaining")?.[1]).toBe("2")
        yield* TestClock.adjust("30 seconds")
        expect(yield* ask).toMatchObject({ status: 401, remaining: "599", reset: "120" })
      })
  )
})

describe("the default token", () => {
  it.effect("is random per simulator and accepted by layerConnections", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      expect(sim.token).toMatch(/^00sim[\w-]{20,}$/)
      yield* Effect.flatMap(api, (a) => a.getDefaultProvisioningConnectionForApplication(ZSCALER))
    }).pipe(Effect.provide(OktaSimulator.layerConnections()))
  )
})

describe("the ready-made client layers", () => {
  it.effect.each([
    ["layerConnections", OktaSimulator.layerConnections({ client: { timeout: "-5 seconds" } })],
    [
      "layerConnectionsServer",
      OktaSimulator.layerConnectionsServer({ client: { timeout: "-5 seconds" } })
    ]
  ] as const)(
    "%s: a client setting the client refuses dies with its OktaConfigError",
    ([, layer]) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Effect.provide(Effect.void, layer))
        const defect = Exit.isFailure(exit) ? Cause.dieOption(exit.cause) : Option.none()
        expect(Option.getOrUndefined(defect)).toMatchObject({
          _tag: "OktaConfigError",
          message: "invalid Okta client configuration: timeout must be a positive duration"
        })
      })
  )
})

describe("serve", () => {
  it.effect.each([
    [{ host: "0.0.0.0" }, "the simulator listens on loopback only (got host 0.0.0.0)"],
    // Node throws for these instead of emitting "error": still the typed error, not a defect.
    [{ port: 70_000 }, "cannot listen on 127.0.0.1:70000: "],
    [{ port: -1 }, "cannot listen on 127.0.0.1:-1: "]
  ] as const)("refuses %o with SimulatorServeError", ([options, message]) =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(Effect.scoped(serve(options)))
      expect(error._tag).toBe("SimulatorServeError")
      expect(error.message).toContain(message)
    }).pipe(Effect.provide(OktaSimulator.layer()))
  )
})

describe("any rate limits, any faults, the default policy", () => {
  const isOktaError = Schema.is(OktaError)
  const FINAL = new Set(["MalformedJson", "ProxyPage"])
  const fault = fc.constantFrom<SimulatorFault>(
    { _tag: "ServerError", status: 503, body: "json" },
    { _tag: "ServerError", status: 502, body: "html", retryAfterSeconds: 2 },
    { _tag: "ServerError", status: 500, body: "empty" },
    { _tag: "Drop" },
    { _tag: "Delay", millis: 1_500 },
    { _tag: "MalformedJson" },
    { _tag: "RateLimitNoDate" },
    { _tag: "DuplicateReset" },
    { _tag: "ProxyPage" }
  )

  it.effect.prop(
    "every call ends in its value or a typed error, and fails only where a fault was injected",
    {
      limit: fc.integer({ min: 2, max: 20 }),
      windowSeconds: fc.integer({ min: 1, max: 5 }),
      concurrencyLimit: fc.integer({ min: 1, max: 8 }),
      latencyMillis: fc.constantFrom(0, 5, 40),
      faults: fc.array(fc.record({ fault, times: fc.integer({ min: 1, max: 3 }) }), {
        maxLength: 4
      }),
      calls: fc.integer({ min: 1, max: 30 }),
      concurrency: fc.integer({ min: 1, max: 12 })
    },
    ({ limit, windowSeconds, concurrencyLimit, latencyMillis, faults, calls, concurrency }) =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        for (const { fault, times } of faults) yield* sim.injectFault(fault, { times })
        const exits = yield* withAdvancingClock(
          Effect.flatMap(ApplicationConnections, (api) =>
            Effect.forEach(
              Array.from({ length: calls }),
              () => Effect.exit(api.getDefaultProvisioningConnectionForApplication(ZSCALER)),
              { concurrency }
            )
          )
        )
        const failed = exits.filter(Exit.isFailure)
        const errors = failed.map((exit) => {
          expect([...Cause.defects(exit.cause)]).toEqual([])
          expect(Cause.isInterrupted(exit.cause)).toBe(false)
          const error = Cause.squash(exit.cause)
          expect(isOktaError(error)).toBe(true)
          return error as OktaError
        })
        // Only the injected faults fail calls: a body that is not the connection at once, a
        // transient one only once the four retries are spent. Okta's own limits are retried, but
        // their 429s count as retries too: after injected faults took four, one may take a
        // call's last. So a call that fails has sent five requests, each refused (a fault, a
        // drop or a 429).
        const count = (final: boolean) =>
          faults
            .filter(({ fault }) => FINAL.has(fault._tag) === final)
            .reduce((sum, { times }) => sum + times, 0)
        const decoding = errors.filter((error) => error._tag === "OktaDecodeError")
        const transient = errors.filter((error) => error._tag !== "OktaDecodeError")
        expect(decoding.length).toBeLessThanOrEqual(count(true))
        for (const error of transient) expect(error).toMatchObject({ attempts: 5 })
        if (count(false) === 0) expect(transient).toEqual([])
        const refused = (yield* sim.requests).filter((r) => r.outcome !== 200).length
        expect(transient.length * 5).toBeLessThanOrEqual(refused)
      }).pipe(
        Effect.provide(
          OktaSimulator.layerConnections({
            rateLimit: { limit, windowSeconds, concurrencyLimit },
            latencyMillis
          })
        )
      ),
    { timeout: 120_000, fastCheck: { seed: 20261204, numRuns: 30 } }
  )
})

describe("the model answers as Okta does, request by request", () => {
  const send = (
    sim: OktaSimulatorService,
    method: string,
    path: string,
    options: { readonly authorization?: string; readonly body?: string } = {}
  ) =>
    handled(
      sim,
      method,
      IN_PROCESS_URL + path,
      {
        ...(options.authorization !== undefined ? { authorization: options.authorization } : {}),
        ...(options.body !== undefined ? { "content-type": "application/json" } : {})
      },
      options.body
    )
  const connection = (id: string) => `/api/v1/apps/${id}/connections/default`
  const auth = { authorization: `SSWS ${TOKEN}` }

  it.effect("a limit lowered mid-window answers Remaining 0 and 429, never a negative count", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }], rateLimit: { limit: 5 } })
      for (let i = 0; i < 3; i++) yield* send(sim, "GET", connection(ZSCALER), auth)
      yield* sim.setRateLimit({ limit: 2 })
      const refused = yield* send(sim, "GET", connection(ZSCALER), auth)
      expect([refused.status, refused.all("x-rate-limit-remaining")]).toEqual([429, ["0"]])
      // Before authentication the headers describe the window as it stands: spent.
      const unauthenticated = yield* send(sim, "GET", connection(ZSCALER))
      expect(unauthenticated.all("x-rate-limit-remaining")).toEqual(["0"])
    })
  )

  it.effect("headers sent before a request is counted describe the window of their time", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }], rateLimit: { limit: 5, windowSeconds: 60 } })
      for (let i = 0; i < 3; i++) yield* send(sim, "GET", connection(ZSCALER), auth)
      const sameWindow = yield* send(sim, "GET", connection(ZSCALER), { authorization: "SSWS x" })
      expect([sameWindow.status, sameWindow.all("x-rate-limit-remaining")]).toEqual([401, ["2"]])
      yield* TestClock.adjust("60 seconds")
      const nextWindow = yield* send(sim, "GET", connection(ZSCALER), { authorization: "SSWS x" })
      expect(nextWindow.all("x-rate-limit-remaining")).toEqual(["5"])
      expect(nextWindow.all("x-rate-limit-reset")).toEqual(["120"])
    })
  )

  it.effect(
    "the concurrent-request 429 (limit set by setRateLimit) says Limit 0, Remaining 0, a reset a minute on",
    () =>
      Effect.gen(function* () {
        const sim = make({ tokens: [{ token: TOKEN }] })
        yield* sim.setRateLimit({ concurrencyLimit: 1 })
        yield* TestClock.setTime(10_500)
        yield* sim.injectFault({ _tag: "Delay", millis: 1_000 })
        const first = yield* Effect.fork(send(sim, "GET", connection(ZSCALER), auth))
        yield* TestClock.adjust("1 milli")
        const refused = yield* send(sim, "GET", connection(ZSCALER), auth)
        expect(refused.status).toBe(429)
        expect(
          ["limit", "remaining", "reset"].map((h) => refused.all(`x-rate-limit-${h}`)[0])
        ).toEqual(["0", "0", String(11 + 60)])
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(first)).status).toBe(200)
      })
  )

  it.effect("with latency, the request that finds every slot taken is refused, at once", () =>
    Effect.gen(function* () {
      const sim = make({
        tokens: [{ token: TOKEN }],
        rateLimit: { concurrencyLimit: 2 },
        latencyMillis: 100
      })
      const fibers = []
      for (let i = 0; i < 3; i++) {
        fibers.push(yield* Effect.fork(send(sim, "GET", connection(ZSCALER), auth)))
        yield* TestClock.adjust("1 milli")
      }
      // The third arrived while the first two held both slots: refused on arrival.
      expect(fibers.map((fiber) => fiber.unsafePoll() !== null)).toEqual([false, false, true])
      expect((yield* Fiber.join(fibers[2]!)).status).toBe(429)
      yield* TestClock.adjust("100 millis")
      const statuses = yield* Effect.forEach(fibers.slice(0, 2), (fiber) => Fiber.join(fiber))
      expect(statuses.map((answer) => answer.status)).toEqual([200, 200])
      expect((yield* sim.requests).map((entry) => [entry.outcome, entry.at])).toEqual([
        [429, 2],
        [200, 0],
        [200, 1]
      ])
    })
  )

  it.effect("latencyMillis and a Delay fault add up", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }], latencyMillis: 100 })
      yield* sim.injectFault({ _tag: "Delay", millis: 50 })
      const fiber = yield* Effect.fork(send(sim, "GET", connection(ZSCALER), auth))
      yield* TestClock.adjust("149 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 milli")
      expect((yield* Fiber.join(fiber)).status).toBe(200)
    })
  )

  it.effect("DuplicateReset sends both resets and a Date; RateLimitNoDate no Date", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      yield* sim.setRateLimit({ windowSeconds: 10 })
      yield* TestClock.setTime(25_000)
      yield* sim.injectFault({ _tag: "DuplicateReset" })
      const duplicate = yield* send(sim, "GET", connection(ZSCALER), auth)
      expect(duplicate.status).toBe(429)
      expect(duplicate.all("x-rate-limit-reset")).toEqual(["30", "40"])
      expect(duplicate.all("date")).toEqual([new Date(25_000).toUTCString()])
      yield* sim.injectFault({ _tag: "RateLimitNoDate" })
      const noDate = yield* send(sim, "GET", connection(ZSCALER), auth)
      expect([noDate.status, noDate.all("date")]).toEqual([429, []])
    })
  )

  it.effect("a fault's method matches in any case", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      yield* sim.injectFault({ _tag: "Drop" }, { method: "post" })
      expect((yield* send(sim, "GET", connection(ZSCALER), auth)).status).toBe(200)
      const activate = yield* send(sim, "POST", `${connection(ZSCALER)}/lifecycle/deactivate`, auth)
      expect(activate.status).toBe("Drop")
    })
  )

  it.effect("the log keeps a body that is not JSON as its text", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      yield* send(sim, "POST", connection(ZSCALER), { ...auth, body: "not json" })
      const [entry] = yield* sim.requests
      expect([entry?.outcome, entry?.body]).toEqual([400, "not json"])
    })
  )

  it.effect("a path past the verify callback, or an app id with a broken escape: 404", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      const path = `/api/v1/apps/office365/${OFFICE365}/oauth2/callback`
      expect((yield* send(sim, "POST", `${path}?code=c&state=s`, auth)).status).toBe(400)
      expect((yield* send(sim, "POST", `${path}/more?code=c&state=s`, auth)).status).toBe(404)
      // A malformed escape is kept as sent, so the 404 names the app id the caller wrote.
      const malformed = yield* send(sim, "GET", connection("0oa%E0%A4%A"), auth)
      expect(malformed.status).toBe(404)
      expect(JSON.parse(malformed.body).errorSummary).toContain("0oa%E0%A4%A (AppInstance)")
    })
  )

  it.effect("consent: the page checks the state, repeats its code, and verify checks both", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      const page = `/simulator/consent/office365/${OFFICE365}`
      const wrongState = yield* send(sim, "GET", `${page}?state=forged`)
      expect(wrongState.status).toBe(400)
      expect(wrongState.body).toContain("unknown state")
      const first = yield* sim.consent(OFFICE365)
      const second = yield* sim.consent(OFFICE365)
      expect(second).toEqual(first)
      const viaPage = yield* send(sim, "GET", `${page}?state=${first.state}`)
      expect(viaPage.body).toContain(`code=${first.code}`)
      const callback = `/api/v1/apps/office365/${OFFICE365}/oauth2/callback`
      const forgedState = yield* send(sim, "POST", `${callback}?code=${first.code}&state=x`, auth)
      expect(forgedState.status).toBe(400)
      const verified = `${callback}?code=${first.code}&state=${first.state}`
      expect((yield* send(sim, "POST", verified, auth)).status).toBe(204)
    })
  )

  it.effect("the seed's rotation mode and verified consent are what GET answers", () =>
    Effect.gen(function* () {
      const sim = make({
        tokens: [{ token: TOKEN }],
        apps: [
          ...DEFAULT_APPS,
          {
            id: "0oaverifiedslack0001",
            name: "slack",
            connection: { authScheme: "OAUTH2", verified: true }
          }
        ]
      })
      const org2org = yield* send(sim, "GET", connection(ORG2ORG_OAUTH), auth)
      expect(JSON.parse(org2org.body)).toMatchObject({
        authScheme: "OAUTH2",
        profile: { signing: { rotationMode: "AUTO" } }
      })
      expect((yield* sim.inspect(ORG2ORG_OAUTH)).connection?.rotationMode).toBe("AUTO")
      const pending = JSON.parse((yield* send(sim, "GET", connection(OFFICE365), auth)).body)
      // Only Org2Org's OAuth 2.0 connection carries a top-level authScheme, as Okta documents.
      expect(pending.authScheme).toBeUndefined()
      expect(pending._links.authorize).toBeDefined()
      const slack = yield* send(sim, "GET", connection("0oaverifiedslack0001"), auth)
      expect(JSON.parse(slack.body)._links.authorize).toBeUndefined()
      expect((yield* sim.inspect("0oaverifiedslack0001")).connection?.verified).toBe(true)
    })
  )

  it("generatedApps: Okta-length ids in order, alternately ENABLED and DISABLED, own baseUrls", () => {
    const apps = generatedApps(12)
    expect(apps.slice(0, 2).map((app) => app.id)).toEqual([
      "0oasimbatch000000000",
      "0oasimbatch000000001"
    ])
    expect(apps[11]!.id).toBe("0oasimbatch000000011")
    expect(apps.every((app) => app.id.length === 20 && app.name === "zscalerbyz")).toBe(true)
    expect(apps.slice(0, 4).map((app) => app.connection?.status)).toEqual([
      "ENABLED",
      "DISABLED",
      "ENABLED",
      "DISABLED"
    ])
    const baseUrls = apps.map((app) => (app.connection as { baseUrl?: string }).baseUrl)
    expect(new Set(baseUrls).size).toBe(12)
  })

  it.effect("a TOKEN update without baseUrl keeps the stored one", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      const body = JSON.stringify({ profile: { authScheme: "TOKEN", token: "00new" } })
      expect((yield* send(sim, "POST", connection(ZSCALER), { ...auth, body })).status).toBe(200)
      expect((yield* sim.inspect(ZSCALER)).connection).toMatchObject({
        token: "00new",
        baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim"
      })
    })
  )
})

describe("the faces deliver the model's answers as a socket would", () => {
  const inProcessOrg = Layer.provideMerge(
    OktaSimulator.layerHttpClient,
    OktaSimulator.layer({ tokens: [{ token: TOKEN }], contentLength: true })
  )
  const authorized = HttpClientRequest.setHeader("authorization", `SSWS ${TOKEN}`)
  const connectionUrl = (appId: string) =>
    `${IN_PROCESS_URL}/api/v1/apps/${appId}/connections/default`

  it.effect("in-process: a string body is read, Content-Length counts bytes, a drop resets", () =>
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      const sim = yield* OktaSimulator
      const update = HttpClientRequest.post(connectionUrl(ZSCALER)).pipe(
        authorized,
        HttpClientRequest.setHeader("content-type", "application/json"),
        HttpClientRequest.setBody(
          HttpBody.raw(JSON.stringify({ profile: { authScheme: "TOKEN", token: "00raw" } }))
        )
      )
      expect((yield* http.execute(update)).status).toBe(200)
      expect((yield* sim.inspect(ZSCALER)).connection?.token).toBe("00raw")
      // A 404 that names an app id with a non-ASCII letter: more bytes than characters.
      const notFound = yield* http.execute(
        authorized(HttpClientRequest.get(connectionUrl("0oa%C3%A9")))
      )
      const text = yield* notFound.text
      expect(text).toContain("0oaé")
      expect(notFound.headers["content-length"]).toBe(String(Buffer.byteLength(text)))
      yield* sim.injectFault({ _tag: "Drop" })
      const dropped = yield* Effect.flip(
        http.execute(authorized(HttpClientRequest.get(connectionUrl(ZSCALER))))
      )
      expect(dropped._tag === "RequestError" && (dropped.cause as { code?: unknown }).code).toBe(
        "ECONNRESET"
      )
    }).pipe(Effect.provide(inProcessOrg))
  )

  /** Serves a fresh org on `host` for the body, over real sockets. */
  const served = <A, E>(
    body: (url: string, sim: OktaSimulatorService) => Effect.Effect<A, E>,
    host?: string
  ) =>
    Effect.scoped(
      Effect.gen(function* () {
        const { url } = yield* serve(host !== undefined ? { host } : {})
        return yield* body(url, yield* OktaSimulator)
      })
    ).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: TOKEN }] })))
  const fetchOf = (url: string, init: RequestInit = {}) =>
    Effect.promise(async () => {
      const response = await fetch(url, init)
      return { status: response.status, headers: response.headers, text: await response.text() }
    })

  it.live("loopback: any 127.x address, a body cap of 1 MiB, no gzip of an empty body", () =>
    served(
      (url) =>
        Effect.gen(function* () {
          expect(url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/)
          const path = `${url}/api/v1/apps/${ZSCALER}/connections/default`
          const mebibyte = "x".repeat(1024 * 1024)
          expect((yield* fetchOf(path, { method: "POST", body: mebibyte })).status).toBe(401)
          const tooLarge = yield* fetchOf(path, { method: "POST", body: `${mebibyte}x` })
          expect([tooLarge.status, tooLarge.text]).toEqual([413, "request body too large"])
          const headers = { authorization: `SSWS ${TOKEN}`, "accept-encoding": "gzip" }
          const activated = yield* fetchOf(`${path}/lifecycle/activate`, {
            method: "POST",
            headers
          })
          expect([activated.status, activated.headers.get("content-encoding")]).toEqual([204, null])
          const got = yield* fetchOf(path, { headers })
          expect([got.status, got.headers.get("content-encoding")]).toEqual([200, "gzip"])
        }),
      "127.0.0.2"
    )
  )

  it.live("loopback: a header the model sends twice arrives twice", () =>
    served((url, sim) =>
      Effect.gen(function* () {
        yield* sim.injectFault({ _tag: "DuplicateReset" })
        const answer = yield* fetchOf(`${url}/api/v1/apps/${ZSCALER}/connections/default`, {
          headers: { authorization: `SSWS ${TOKEN}` }
        })
        expect(answer.status).toBe(429)
        expect(answer.headers.get("x-rate-limit-reset")).toMatch(/^(\d+), (\d+)$/)
      })
    )
  )

  it.live("loopback: the server stops while a request hangs", () =>
    Effect.gen(function* () {
      const sim = make({ tokens: [{ token: TOKEN }] })
      yield* sim.injectFault({ _tag: "Hang" })
      const scope = yield* Scope.make()
      const { url } = yield* serve().pipe(
        Scope.extend(scope),
        Effect.provideService(OktaSimulator, sim)
      )
      const controller = new AbortController()
      const hanging = fetch(`${url}/api/v1/apps/${ZSCALER}/connections/default`, {
        signal: controller.signal
      }).catch((error: unknown) => error)
      while ((yield* sim.requests).length === 0) yield* Effect.sleep("10 millis")
      const closed = yield* Scope.close(scope, Exit.void).pipe(
        Effect.timeout("5 seconds"),
        Effect.option
      )
      controller.abort()
      expect(Option.isSome(closed)).toBe(true)
      expect(yield* Effect.promise(() => hanging)).toBeInstanceOf(Error)
    })
  )
})
