import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Redacted, Schedule, TestClock } from "effect"
import {
  ApplicationConnections,
  RetryPolicy,
  type OktaRequestError,
  type OktaResponseError,
  type ProvisioningConnectionResponse,
  type AppConnectionUserProvisionJWKResponse
} from "../src/index.js"
import { brokenBody, connectionsWith, empty, json, ORG, text } from "./support/TestHttp.js"
import { failureOf, successOf } from "./support/exit.js"

const APP = "0oafxqCAJWWGELFTYASJ"

const tokenConnection = {
  authScheme: "TOKEN",
  status: "ENABLED",
  baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
  profile: { authScheme: "TOKEN" },
  _links: {
    self: {
      href: `${ORG}/api/v1/apps/${APP}/connections/default`,
      hints: { allow: ["GET", "POST"] }
    },
    deactivate: {
      href: `${ORG}/api/v1/apps/${APP}/connections/default/lifecycle/deactivate`,
      hints: { allow: ["POST"] }
    }
  }
}

const run = <A, E>(
  handler: Parameters<typeof connectionsWith>[0],
  f: (api: ApplicationConnections["Type"]) => Effect.Effect<A, E>
) => {
  const { requests, layer } = connectionsWith(handler)
  return Effect.map(
    Effect.exit(Effect.provide(Effect.flatMap(ApplicationConnections, f), layer)),
    (exit) => ({ exit, requests })
  )
}

describe("the wire format of each operation", () => {
  it.effect(
    "getDefaultProvisioningConnectionForApplication: GET …/connections/default, decoded",
    () =>
      Effect.gen(function* () {
        const { exit, requests } = yield* run(
          () => json(200, tokenConnection),
          (api) => api.getDefaultProvisioningConnectionForApplication(APP)
        )
        const connection = successOf(exit)
        expect(requests).toHaveLength(1)
        const [req] = requests
        expect(req!.method).toBe("GET")
        expect(req!.url.toString()).toBe(`${ORG}/api/v1/apps/${APP}/connections/default`)
        expect(req!.rawBody).toBeUndefined()
        expect(connection).toEqual(tokenConnection)
        expect(connection.status).toBe("ENABLED")
        expect(connection._links?.deactivate?.hints?.allow).toEqual(["POST"])
      })
  )

  it.effect(
    "updateDefaultProvisioningConnectionForApplication: POST with the JSON body, no activate by default",
    () =>
      Effect.gen(function* () {
        const body = {
          baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
          profile: {
            authScheme: "TOKEN" as const,
            token: "00NgAPZqUVy8cX9ehNzzahEE5b-On9sImTcInvWp-x"
          }
        }
        const { exit, requests } = yield* run(
          () => json(200, { ...tokenConnection, status: "DISABLED" }),
          (api) => api.updateDefaultProvisioningConnectionForApplication(APP, body)
        )
        expect(successOf(exit).status).toBe("DISABLED")
        const [req] = requests
        expect(req!.method).toBe("POST")
        expect(req!.path).toBe(`/api/v1/apps/${APP}/connections/default`)
        expect(req!.query).toEqual({})
        expect(req!.headers["content-type"]).toBe("application/json")
        expect(req!.body).toEqual(body)
      })
  )

  it.effect("update with { activate: true } sends ?activate=true; false sends activate=false", () =>
    Effect.gen(function* () {
      const body = {
        profile: {
          authScheme: "OAUTH2" as const,
          clientId: "0oa2h6su6bVFyJzIf1d7",
          signing: { rotationMode: "AUTO" as const }
        }
      }
      const on = yield* run(
        () => json(200, tokenConnection),
        (api) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, body, { activate: true })
      )
      expect(on.requests[0]!.url.search).toBe("?activate=true")
      expect(on.requests[0]!.body).toEqual(body)
      const off = yield* run(
        () => json(200, tokenConnection),
        (api) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, body, { activate: false })
      )
      expect(off.requests[0]!.url.search).toBe("?activate=false")
    })
  )

  it.effect("update sends OAUTH2 for the OAuth branch, Office 365 settings included", () =>
    Effect.gen(function* () {
      const body = {
        profile: {
          authScheme: "OAUTH2" as const,
          settings: {
            adminUsername: "office_admin-username",
            adminPassword: "office_admin-password"
          }
        }
      }
      const { requests } = yield* run(
        () => json(200, { status: "DISABLED", profile: { authScheme: "OAUTH2" } }),
        (api) => api.updateDefaultProvisioningConnectionForApplication(APP, body)
      )
      expect(requests[0]!.body).toEqual(body)
    })
  )

  it.effect(
    "update takes Okta's own example's authScheme \"OAUTH\" from JavaScript, and sends OAUTH2",
    () =>
      Effect.gen(function* () {
        // ProvisioningConnectionOAuthOrg2OrgWithRotationRequestEx, as the contract has it.
        const example = {
          profile: {
            authScheme: "OAUTH",
            clientId: "0oa2h6su6bVFyJzIf1d7",
            signing: { rotationMode: "AUTO" }
          }
        }
        const { exit, requests } = yield* run(
          () => json(200, { status: "DISABLED", profile: { authScheme: "OAUTH2" } }),
          (api) => api.updateDefaultProvisioningConnectionForApplication(APP, example as never)
        )
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(requests[0]!.body).toEqual({
          profile: { ...example.profile, authScheme: "OAUTH2" }
        })
      })
  )

  it.effect("activate and deactivate: POST …/lifecycle/{action} with no body, 204 → void", () =>
    Effect.gen(function* () {
      const a = yield* run(
        () => empty(204),
        (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
      )
      expect(successOf(a.exit)).toBeUndefined()
      expect(a.requests[0]!.method).toBe("POST")
      expect(a.requests[0]!.path).toBe(`/api/v1/apps/${APP}/connections/default/lifecycle/activate`)
      expect(a.requests[0]!.rawBody).toBeUndefined()
      const d = yield* run(
        () => empty(204),
        (api) => api.deactivateDefaultProvisioningConnectionForApplication(APP)
      )
      expect(successOf(d.exit)).toBeUndefined()
      expect(d.requests[0]!.path).toBe(
        `/api/v1/apps/${APP}/connections/default/lifecycle/deactivate`
      )
    })
  )

  it.effect(
    "getUserProvisioningConnectionJWKS: GET …/jwks, keys decoded with unknown members kept",
    () =>
      Effect.gen(function* () {
        const jwks = {
          jwks: {
            keys: [
              { kid: "k1", kty: "RSA", alg: "RS256", use: "sig", e: "AQAB", n: "0vx7agoebGcQSuu" },
              {
                kid: "k2",
                kty: "EC",
                crv: "P-256",
                x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
              }
            ]
          }
        }
        const { exit, requests } = yield* run(
          () => json(200, jwks),
          (api) => api.getUserProvisioningConnectionJWKS(APP)
        )
        expect(requests[0]!.method).toBe("GET")
        expect(requests[0]!.path).toBe(`/api/v1/apps/${APP}/connections/default/jwks`)
        const result = successOf(exit)
        expect(result).toEqual(jwks)
        expect(result.jwks.keys[1]!["crv"]).toBe("P-256")
      })
  )

  it.effect(
    "a `__proto__` member in a key or a link is dropped: it never becomes the decoded object's prototype",
    () =>
      Effect.gen(function* () {
        // As a server would send it: JSON text, which JSON.parse turns into an own member.
        const key = `{"kid":"k1","kty":"RSA","x":"kept","__proto__":{"alg":"none","use":"enc"}}`
        const jwks = yield* run(
          () => text(200, `{"jwks":{"keys":[${key}]}}`, "application/json"),
          (api) => api.getUserProvisioningConnectionJWKS(APP)
        )
        const decodedKey = successOf(jwks.exit).jwks.keys[0]!
        expect(Object.getPrototypeOf(decodedKey)).toBe(Object.prototype)
        expect(decodedKey.alg).toBeUndefined()
        expect(decodedKey.use).toBeUndefined()
        expect(Object.keys(decodedKey)).toEqual(["kid", "kty", "x"])

        const self = `{"href":"${ORG}/self","type":"kept","__proto__":{"templated":true}}`
        const body = `{"status":"ENABLED","profile":{"authScheme":"TOKEN"},"_links":{"self":${self}}}`
        const connection = yield* run(
          () => text(200, body, "application/json"),
          (api) => api.getDefaultProvisioningConnectionForApplication(APP)
        )
        const link = successOf(connection.exit)._links!.self!
        expect(Object.getPrototypeOf(link)).toBe(Object.prototype)
        expect(link.templated).toBeUndefined()
        expect(link).toEqual({ href: `${ORG}/self`, type: "kept" })
      })
  )

  it.effect(
    "verifyProvisioningConnectionForApplication: POST /api/v1/apps/{appName}/{appId}/oauth2/callback?code&state",
    () =>
      Effect.gen(function* () {
        const { exit, requests } = yield* run(
          () => empty(204),
          (api) =>
            api.verifyProvisioningConnectionForApplication("office365", APP, {
              code: "one-time code/+&=",
              state: "st@te 1"
            })
        )
        expect(successOf(exit)).toBeUndefined()
        const [req] = requests
        expect(req!.method).toBe("POST")
        expect(req!.path).toBe(`/api/v1/apps/office365/${APP}/oauth2/callback`)
        expect(req!.query).toEqual({ code: "one-time code/+&=", state: "st@te 1" })
        expect(req!.url.search).toBe("?code=one-time+code%2F%2B%26%3D&state=st%40te+1")
        expect(req!.rawBody).toBeUndefined()
      })
  )

  it.effect("verify without code/state sends no query", () =>
    Effect.gen(function* () {
      const { requests } = yield* run(
        () => empty(204),
        (api) => api.verifyProvisioningConnectionForApplication("slack", APP)
      )
      expect(requests[0]!.url.search).toBe("")
    })
  )

  it.effect("path segments are percent-encoded", () =>
    Effect.gen(function* () {
      const id = "app:ü+1@x"
      const { requests } = yield* run(
        () => json(200, tokenConnection),
        (api) => api.getDefaultProvisioningConnectionForApplication(id)
      )
      expect(requests[0]!.url.pathname).toBe(
        `/api/v1/apps/${encodeURIComponent(id)}/connections/default`
      )
      expect(requests[0]!.url.pathname).toContain("app%3A%C3%BC%2B1%40x")
    })
  )

  it.effect(
    "every request carries SSWS auth, Accept: application/json and the package User-Agent",
    () =>
      Effect.gen(function* () {
        const { requests } = yield* run(
          () => empty(204),
          (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
        )
        const headers = requests[0]!.headers
        expect(headers["authorization"]).toMatch(/^SSWS 00SECRET/)
        expect(headers["accept"]).toBe("application/json")
        expect(headers["user-agent"]).toMatch(/^effect-okta-connections\/\d+\.\d+\.\d+ node\/\d+/)
        expect(headers["traceparent"]).toBeUndefined()
      })
  )
})

describe("the operations as functions (the README's Effect.serviceFunctions)", () => {
  const Connections = Effect.serviceFunctions(ApplicationConnections)

  it.effect("each needs ApplicationConnections, and sends what the service's method sends", () =>
    Effect.gen(function* () {
      const { layer, requests } = connectionsWith(() => json(200, tokenConnection))
      const connection = yield* Effect.provide(
        Connections.getDefaultProvisioningConnectionForApplication(APP),
        layer
      )
      expect(connection.status).toBe("ENABLED")
      expect(requests.map((r) => `${r.method} ${r.url}`)).toEqual([
        `GET ${ORG}/api/v1/apps/${APP}/connections/default`
      ])
    })
  )
})

describe("real-org looseness when decoding", () => {
  it.effect("an app without provisioning: UNKNOWN status and scheme, no _links", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () => json(200, { status: "UNKNOWN", profile: { authScheme: "UNKNOWN" } }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      expect(successOf(exit)).toEqual({ status: "UNKNOWN", profile: { authScheme: "UNKNOWN" } })
    })
  )

  it.effect("top-level authScheme OAUTH2, an enum value added later, and extra fields", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          json(200, {
            authScheme: "OAUTH2",
            status: "SUSPENDED",
            newTopLevelField: { nested: true },
            profile: {
              authScheme: "SAML_BEARER",
              clientId: "0oa2",
              signing: { rotationMode: "SEMI_AUTO" },
              extra: 1
            }
          }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const connection: ProvisioningConnectionResponse = successOf(exit)
      expect(connection.authScheme).toBe("OAUTH2")
      expect(connection.status).toBe("SUSPENDED")
      expect(connection.profile.authScheme).toBe("SAML_BEARER")
      expect(connection.profile.signing?.rotationMode).toBe("SEMI_AUTO")
      expect(connection).not.toHaveProperty("newTopLevelField")
    })
  )
})

describe("errors by status", () => {
  const errorBody = (code: string, summary: string) => ({
    errorCode: code,
    errorSummary: summary,
    errorLink: code,
    errorId: "oae2Ci4P_qhSZ6kjiRXpxenEA",
    errorCauses: [{ errorSummary: "client_id: An object with this field already exists" }]
  })
  const cases = [
    [400, "OktaBadRequestError", "E0000001"],
    [401, "OktaUnauthorizedError", "E0000011"],
    [403, "OktaForbiddenError", "E0000006"],
    [404, "OktaNotFoundError", "E0000007"],
    [429, "OktaRateLimitError", "E0000047"],
    [500, "OktaServerError", "E0000009"],
    [502, "OktaServerError", "E0000009"],
    [503, "OktaServerError", "E0000009"],
    [504, "OktaServerError", "E0000009"],
    // Any 5xx: a gateway's own (a CDN's 520–530) is a server error too.
    [501, "OktaServerError", "E0000009"],
    [599, "OktaServerError", "E0000009"],
    [409, "OktaUnexpectedStatusError", "E0000999"],
    [418, "OktaUnexpectedStatusError", "E0000999"]
  ] as const

  type Op = (api: ApplicationConnections["Type"]) => Effect.Effect<unknown, OktaResponseError>
  const ops: ReadonlyArray<readonly [string, Op]> = [
    [
      "getDefaultProvisioningConnectionForApplication",
      (api) => api.getDefaultProvisioningConnectionForApplication(APP)
    ],
    [
      "updateDefaultProvisioningConnectionForApplication",
      (api) =>
        api.updateDefaultProvisioningConnectionForApplication(APP, {
          profile: { authScheme: "TOKEN", token: "t" }
        })
    ],
    [
      "activateDefaultProvisioningConnectionForApplication",
      (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
    ],
    [
      "deactivateDefaultProvisioningConnectionForApplication",
      (api) => api.deactivateDefaultProvisioningConnectionForApplication(APP)
    ],
    ["getUserProvisioningConnectionJWKS", (api) => api.getUserProvisioningConnectionJWKS(APP)],
    [
      "verifyProvisioningConnectionForApplication",
      (api) =>
        api.verifyProvisioningConnectionForApplication("google", APP, { code: "c", state: "s" })
    ]
  ]

  for (const [operation, op] of ops) {
    for (const [status, tag, code] of cases) {
      it.effect(`${operation}: ${status} → ${tag} with Okta's fields`, () =>
        Effect.gen(function* () {
          const { exit } = yield* run(
            () =>
              json(status, errorBody(code, `summary for ${status}`), {
                "x-okta-request-id": "req-123",
                "x-rate-limit-limit": "50",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": "1767225600",
                date: "Thu, 01 Jan 2026 00:00:00 GMT"
              }),
            op
          )
          const error = failureOf(exit)
          expect(error._tag).toBe(tag)
          expect(error).toMatchObject({
            operation,
            status,
            errorCode: code,
            errorSummary: `summary for ${status}`,
            errorLink: code,
            errorId: "oae2Ci4P_qhSZ6kjiRXpxenEA",
            errorCauses: [{ errorSummary: "client_id: An object with this field already exists" }],
            requestId: "req-123",
            rateLimit: { limit: 50, remaining: 0, reset: 1767225600 },
            serverDate: Date.UTC(2026, 0, 1)
          })
          expect(error.message).toContain(`HTTP ${status}`)
          expect(error.message).toContain(code)
          expect(error.message).toContain("oae2Ci4P_qhSZ6kjiRXpxenEA")
        })
      )
    }
  }

  describe("rate-limit and Retry-After headers, as proxies and gateways send them", () => {
    const DATE = "Thu, 01 Jan 2026 00:00:00 GMT"
    // [what, headers, the error's rateLimit, its retryAfterMillis]
    const cases: ReadonlyArray<
      readonly [string, Record<string, string>, object | undefined, number | undefined]
    > = [
      [
        "each sent twice (joined with a comma): the smallest limit and remaining, the latest reset",
        {
          "x-rate-limit-limit": "100, 50",
          "x-rate-limit-remaining": "40, 0",
          "x-rate-limit-reset": "1767225660, 1767225600"
        },
        { limit: 50, remaining: 0, reset: 1767225660 },
        undefined
      ],
      [
        "an empty copy of a header is no value (not 0)",
        { "x-rate-limit-limit": "50", "x-rate-limit-remaining": "5, " },
        { limit: 50, remaining: 5 },
        undefined
      ],
      ["a reset alone", { "x-rate-limit-reset": "1767225600" }, { reset: 1767225600 }, undefined],
      [
        "a reset with milliseconds is kept as it is",
        { "x-rate-limit-remaining": "0", "x-rate-limit-reset": "1767225600.5" },
        { remaining: 0, reset: 1767225600.5 },
        undefined
      ],
      [
        "a number too long to be one is dropped",
        { "x-rate-limit-limit": "9".repeat(400), "x-rate-limit-remaining": "0" },
        { remaining: 0 },
        undefined
      ],
      [
        "a Retry-After date already past on the server's clock is no wait",
        { date: DATE, "retry-after": "Wed, 31 Dec 2025 23:59:00 GMT" },
        undefined,
        0
      ],
      [
        "a Retry-After neither seconds nor a date",
        { date: DATE, "retry-after": "soon" },
        undefined,
        undefined
      ],
      [
        "a Retry-After date without the response's Date",
        { "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" },
        undefined,
        undefined
      ]
    ]
    for (const [what, headers, rateLimit, retryAfterMillis] of cases) {
      it.effect(what, () =>
        Effect.gen(function* () {
          const { exit } = yield* run(
            () => json(429, { errorCode: "E0000047", errorSummary: "rate limit" }, headers),
            (api) => api.getDefaultProvisioningConnectionForApplication(APP)
          )
          const error = failureOf(exit)
          expect(error._tag).toBe("OktaRateLimitError")
          if (error._tag !== "OktaRateLimitError") return
          expect(error.rateLimit).toEqual(rateLimit)
          expect(error.retryAfterMillis).toBe(retryAfterMillis)
        })
      )
    }
  })

  it.effect("an empty 401 still yields OktaUnauthorizedError, with WWW-Authenticate parsed", () =>
    Effect.gen(function* () {
      const challenge =
        'Bearer authorization_uri="https://acme.okta.com/oauth2/v1/authorize", realm="IdpMyAccountAPI", scope="okta.apps.read", error="invalid_token", error_description="The token is expired."'
      const { exit } = yield* run(
        () => empty(401, { "www-authenticate": challenge }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaUnauthorizedError")
      expect(error).toMatchObject({
        status: 401,
        wwwAuthenticate: challenge,
        challenge: {
          scheme: "Bearer",
          error: "invalid_token",
          errorDescription: "The token is expired.",
          scope: "okta.apps.read"
        }
      })
      expect(error).not.toHaveProperty("errorCode")
      expect(error.message).toContain("invalid_token")
    })
  )

  it.effect("WWW-Authenticate read as RFC 9110 writes it, not only as Okta spells it", () =>
    Effect.gen(function* () {
      // Parameter names in any case, a token value unquoted, a quoted one with escapes; a name
      // sent twice keeps its first value.
      const challenge =
        'Bearer Realm="IdpMyAccountAPI", ERROR=insufficient_scope, Error_Description="needs \\"okta.apps.manage\\"", scope="okta.apps.manage", error="invalid_token"'
      const { exit } = yield* run(
        () => empty(403, { "www-authenticate": challenge }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaForbiddenError")
      if (error._tag !== "OktaForbiddenError") return
      expect(error.challenge).toEqual({
        scheme: "Bearer",
        error: "insufficient_scope",
        errorDescription: 'needs "okta.apps.manage"',
        scope: "okta.apps.manage"
      })
    })
  )

  it.effect("an unparsable Date is no serverDate (not NaN)", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          json(404, { errorCode: "E0000007", errorSummary: "Not found" }, { date: "yesterday" }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaNotFoundError")
      expect(error).not.toHaveProperty("serverDate")
    })
  )

  it.effect("a 403 with an empty body and insufficient_scope names the missing scope", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          empty(403, {
            "www-authenticate":
              'Bearer realm="IdpMyAccountAPI", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", scope="okta.apps.manage", resource="/api/v1/apps"'
          }),
        (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaForbiddenError")
      if (error._tag !== "OktaForbiddenError") return
      expect(error.challenge?.scope).toBe("okta.apps.manage")
      expect(error.message).toContain("insufficient_scope")
      expect(error.message).toContain("okta.apps.manage")
    })
  )

  it.effect("an HTML 502 from a proxy yields OktaServerError with its content type", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () => text(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaServerError")
      expect(error).toMatchObject({ status: 502, contentType: "text/html" })
      expect(error.message).toContain("non-JSON body (text/html)")
    })
  )

  it.effect("a JSON error body of another shape still maps by status", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () => json(404, { error: "not_found", errorCode: 42 }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaNotFoundError")
      expect(error).not.toHaveProperty("errorCode")
      expect(error).toMatchObject({ contentType: "application/json" })
      expect(error.message).toContain(
        "HTTP 404 with a JSON body not in Okta's error format (application/json)"
      )
    })
  )

  it.effect("a gateway's JSON 403 (no errorCode) is told apart from Okta's own 403", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          json(
            403,
            { message: "Forbidden by policy" },
            { "content-type": "application/json; charset=utf-8" }
          ),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error).toMatchObject({
        _tag: "OktaForbiddenError",
        contentType: "application/json; charset=utf-8",
        gatewayMessage: "Forbidden by policy"
      })
      expect(error.message).toContain(
        `HTTP 403 with a JSON body not in Okta's error format (application/json; charset=utf-8): "Forbidden by policy"`
      )
      // Okta's own 403 says its code, and no content type.
      const okta = yield* run(
        () => json(403, { errorCode: "E0000006", errorSummary: "You do not have permission" }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const own = failureOf(okta.exit)
      expect(own).toMatchObject({ _tag: "OktaForbiddenError", errorCode: "E0000006" })
      expect(own).not.toHaveProperty("contentType")
      expect(own).not.toHaveProperty("gatewayMessage")
      expect(own.message).not.toContain("error format")
      // Either of Okta's two names is enough to call the body Okta's; an empty body is no
      // body at all, whatever type it claims.
      // A `message` beside them is not a gateway's.
      for (const answer of [
        () => json(403, { errorSummary: "You do not have permission", message: "not ours" }),
        () => json(403, { errorCode: "E0000006", message: "not ours" }),
        () => empty(403, { "content-type": "application/json" })
      ]) {
        const error = failureOf(
          (yield* run(answer, (api) => api.getDefaultProvisioningConnectionForApplication(APP)))
            .exit
        )
        expect(error._tag).toBe("OktaForbiddenError")
        expect(error).not.toHaveProperty("contentType")
        expect(error).not.toHaveProperty("gatewayMessage")
        expect(error.message).not.toContain("error format")
        expect(error.message).not.toContain("not ours")
      }
    })
  )

  it.effect(
    "a gateway's message is quoted as it said it, cut past 300 characters; only a non-empty string in a JSON object counts",
    () =>
      Effect.gen(function* () {
        const said = (answer: () => Response) =>
          Effect.map(
            run(answer, (api) => api.getDefaultProvisioningConnectionForApplication(APP)),
            ({ exit }) => failureOf(exit)
          )
        // Quoted, so that a line break stays in the message's one line.
        const twoLines = yield* said(() => json(502, { message: "upstream\nreset" }))
        expect(twoLines).toHaveProperty("gatewayMessage", "upstream\nreset")
        expect(twoLines.message).toContain(
          `502 with a JSON body not in Okta's error format (application/json): "upstream\\nreset"`
        )
        // Without a content type, the message still says it.
        // (Bytes, so that Response adds no text/plain of its own.)
        const untyped = yield* said(
          () =>
            new Response(new TextEncoder().encode('{"message":"Too many requests"}'), {
              status: 429
            })
        )
        expect(untyped).not.toHaveProperty("contentType")
        expect(untyped.message).toContain('failed with HTTP 429: "Too many requests"')
        // A page's worth: 299 characters and an ellipsis, cut between characters, not inside
        // one (an emoji is two UTF-16 units).
        const long = yield* said(() => json(403, { message: "x".repeat(298) + "😀".repeat(3) }))
        expect(long).toHaveProperty("gatewayMessage", "x".repeat(298) + "😀…")
        const exact = yield* said(() => json(403, { message: "y".repeat(300) }))
        expect(exact).toHaveProperty("gatewayMessage", "y".repeat(300))
        // Anything else is not a message: the body's kind is all that is said.
        for (const body of [
          '{"message":42}',
          '{"message":"  "}',
          '[{"message":"in an array"}]',
          '{"Message":"another name"}',
          '"message"'
        ]) {
          const error = yield* said(() => text(403, body, "application/json"))
          expect(error).not.toHaveProperty("gatewayMessage")
          expect(error.message).toMatch(/\(application\/json\)$/)
        }
      })
  )

  it.effect("a concurrency-limit 429 (Limit 0, Remaining 0) is marked as such", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          json(
            429,
            {
              errorCode: "E0000047",
              errorSummary: "API call exceeded rate limit due to too many requests."
            },
            {
              "x-rate-limit-limit": "0",
              "x-rate-limit-remaining": "0",
              "x-rate-limit-reset": "1767225660"
            }
          ),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      if (error._tag !== "OktaRateLimitError") throw new Error(error._tag)
      expect(error.isConcurrencyLimit).toBe(true)
      expect(error.message).toContain("concurrent-request limit")
    })
  )

  it.effect("a window 429 says when the limit resets; a duplicated reset keeps the later one", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          json(
            429,
            { errorCode: "E0000047" },
            {
              "x-rate-limit-limit": "50",
              "x-rate-limit-remaining": "0",
              "x-rate-limit-reset": "1767225600, 1767225660"
            }
          ),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      if (error._tag !== "OktaRateLimitError") throw new Error(error._tag)
      expect(error.isConcurrencyLimit).toBe(false)
      expect(error.rateLimit).toEqual({ limit: 50, remaining: 0, reset: 1767225660 })
      expect(error.message).toContain("resets at 2026-01-01T00:01:00.000Z")
    })
  )

  it.effect("a 3xx is not followed: OktaUnexpectedStatusError with the Location (no query)", () =>
    Effect.gen(function* () {
      const { exit, requests } = yield* run(
        () => empty(302, { location: "https://evil.example/steal?token=abc" }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      if (error._tag !== "OktaUnexpectedStatusError") throw new Error(error._tag)
      expect(error.status).toBe(302)
      expect(error.location).toBe("https://evil.example/steal")
      expect(error.message).not.toContain("token=abc")
      expect(requests).toHaveLength(1)
      // Every 3xx, 300 included; a fragment (where an implicit grant puts its token) goes too.
      for (const status of [300, 301, 303, 307, 308]) {
        const redirected = failureOf(
          (yield* run(
            () => empty(status, { location: "https://evil.example/cb#access_token=xyz" }),
            (api) => api.getDefaultProvisioningConnectionForApplication(APP)
          )).exit
        )
        if (redirected._tag !== "OktaUnexpectedStatusError") throw new Error(redirected._tag)
        expect([redirected.status, redirected.location]).toEqual([
          status,
          "https://evil.example/cb"
        ])
        expect(JSON.stringify(redirected)).not.toContain("xyz")
      }
    })
  )

  it.effect("a Location on anything but a 3xx, or an empty one, is not called a redirect", () =>
    Effect.gen(function* () {
      const elsewhere = { location: "https://elsewhere.example/x" }
      const conflict = failureOf(
        (yield* run(
          () => text(409, "conflict", "text/plain", elsewhere),
          (api) => api.getDefaultProvisioningConnectionForApplication(APP)
        )).exit
      )
      if (conflict._tag !== "OktaUnexpectedStatusError") throw new Error(conflict._tag)
      expect(conflict.location).toBeUndefined()
      expect(conflict.message).not.toContain("redirect")
      // A 200 to verify keeps the note that Okta answers it with an empty 204.
      const verified = failureOf(
        (yield* run(
          () => text(200, "<html>ok</html>", "text/html", elsewhere),
          (api) =>
            api.verifyProvisioningConnectionForApplication("office365", APP, {
              code: "one-time-code",
              state: "state"
            })
        )).exit
      )
      if (verified._tag !== "OktaUnexpectedStatusError") throw new Error(verified._tag)
      expect(verified.location).toBeUndefined()
      expect(verified.message).toContain("Okta answers this operation with an empty 204")
      expect(verified.message).not.toContain("redirect")
      const nowhere = failureOf(
        (yield* run(
          () => empty(302, { location: "" }),
          (api) => api.getDefaultProvisioningConnectionForApplication(APP)
        )).exit
      )
      if (nowhere._tag !== "OktaUnexpectedStatusError") throw new Error(nowhere._tag)
      expect(nowhere.location).toBeUndefined()
      expect(nowhere.message).not.toContain("redirect to ")
    })
  )

  it.effect("a dropped connection is OktaTransportError, not a defect", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () => ({ drop: true }),
        (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error._tag).toBe("OktaTransportError")
      expect(error).toMatchObject({
        afterResponse: false,
        operation: "activateDefaultProvisioningConnectionForApplication"
      })
      expect(error.message).toContain("other side closed")
    })
  )
})

describe("decode failures of a 2xx body", () => {
  it.effect("HTML with status 200 → OktaDecodeError NotJson", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          text(200, "<html>login</html>", "text/html; charset=utf-8", {
            "x-okta-request-id": "r1"
          }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      expect(error).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "NotJson",
        status: 200,
        contentType: "text/html; charset=utf-8",
        requestId: "r1"
      })
    })
  )

  it.effect("JSON of the wrong shape → OktaDecodeError Schema, with paths and no values", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () =>
          json(200, { status: 7, profile: { authScheme: "secret-looking-value", signing: "x" } }),
        (api) => api.getDefaultProvisioningConnectionForApplication(APP)
      )
      const error = failureOf(exit)
      if (error._tag !== "OktaDecodeError") throw new Error(error._tag)
      expect(error.kind).toBe("Schema")
      expect(error.issues).toContain("status")
      expect(error.message).not.toContain("secret-looking-value")
    })
  )

  it.effect("an empty 200 body for a JSON operation → OktaDecodeError", () =>
    Effect.gen(function* () {
      const { exit } = yield* run(
        () => empty(200),
        (api) => api.getUserProvisioningConnectionJWKS(APP)
      )
      expect(failureOf(exit)).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "NotJson",
        issues: "the body is empty"
      })
    })
  )

  it.effect(
    "a 204 operation takes another 2xx with no body, a blank one, JSON or declared JSON",
    () =>
      Effect.gen(function* () {
        for (const answer of [
          () => empty(200),
          () => text(200, " \r\n", "text/plain"),
          () => json(200, { status: "DISABLED" }),
          () => json(202, {}),
          // Truncated, but declared JSON: not a page from something else. The media type is
          // matched as HTTP says, whatever its case, and a +json one is JSON too.
          () => text(200, '{"status":"ENAB', "application/json; charset=utf-8"),
          () => text(200, '{"status":"ENAB', "Application/Problem+JSON ; charset=utf-8"),
          // A body that breaks off as it is read: the 2xx said it all, the call succeeds.
          () =>
            new Response(
              new ReadableStream({ start: (c) => c.error(new Error("connection reset")) }),
              { status: 200, headers: { "content-type": "text/html" } }
            )
        ]) {
          const { exit } = yield* run(answer, (api) =>
            api.deactivateDefaultProvisioningConnectionForApplication(APP)
          )
          expect(Exit.isSuccess(exit)).toBe(true)
        }
      })
  )

  it.effect(
    "a 2xx page that is not JSON to activate, deactivate or verify fails, once, as not Okta's",
    () =>
      Effect.gen(function* () {
        const calls = [
          (api: ApplicationConnections["Type"]) =>
            api.activateDefaultProvisioningConnectionForApplication(APP),
          (api: ApplicationConnections["Type"]) =>
            api.deactivateDefaultProvisioningConnectionForApplication(APP),
          (api: ApplicationConnections["Type"]) =>
            api.verifyProvisioningConnectionForApplication("office365", APP, {
              code: "one-time-code",
              state: "state-1"
            })
        ]
        for (const call of calls) {
          const { exit, requests } = yield* run(
            () =>
              text(200, "<html>Sign in to the proxy</html>", "text/html; charset=utf-8", {
                "x-okta-request-id": "p1"
              }),
            call
          )
          const error = failureOf(exit)
          expect(error).toMatchObject({
            _tag: "OktaUnexpectedStatusError",
            method: "POST",
            status: 200,
            contentType: "text/html; charset=utf-8",
            requestId: "p1"
          })
          expect(error.message).toContain(
            "failed with HTTP 200 with a non-JSON body (text/html; charset=utf-8); Okta answers this operation with an empty 204"
          )
          expect(error.message).not.toContain("one-time-code")
          // Not Okta's answer, so not a failure to send again: one request.
          expect(requests).toHaveLength(1)
        }
        // Another 2xx page, or a type that only begins as JSON's (JSONP), the same; the error
        // keeps the status.
        for (const [status, body, type] of [
          [202, "<html>Accepted by the proxy</html>", "text/html"],
          [200, 'callback({"status":"ENABLED"})', "application/jsonp"]
        ] as const) {
          const { exit } = yield* run(
            () => text(status, body, type),
            (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
          )
          expect(failureOf(exit)).toMatchObject({
            _tag: "OktaUnexpectedStatusError",
            status,
            contentType: type
          })
        }
        // A page past the size cap, the same: not read to its end, and not Okta's either.
        const { layer } = connectionsWith(
          () => text(200, `<html>${"x".repeat(4096)}</html>`, "text/html"),
          { maxResponseBytes: 1024 }
        )
        const tooLarge = yield* Effect.flip(
          Effect.provide(
            Effect.flatMap(ApplicationConnections, (api) =>
              api.activateDefaultProvisioningConnectionForApplication(APP)
            ),
            layer
          )
        )
        expect(tooLarge).toMatchObject({ _tag: "OktaUnexpectedStatusError", status: 200 })
        // Without a Content-Type (a byte body gets none), the same.
        const { exit } = yield* run(
          () => new Response(new TextEncoder().encode("Access denied"), { status: 200 }),
          (api) => api.activateDefaultProvisioningConnectionForApplication(APP)
        )
        expect(failureOf(exit)).toMatchObject({ _tag: "OktaUnexpectedStatusError", status: 200 })
      })
  )
})

describe("bad input fails with OktaInvalidInputError and sends nothing", () => {
  const badIds = [
    "",
    " ",
    "a".repeat(101),
    "a/b",
    "../users",
    "a?b",
    "a#b",
    "a%2Fb",
    "a b",
    "a\nb",
    "a\u0000b",
    "a\tb",
    "a\\b",
    "..",
    "x..y"
  ]
  for (const id of badIds) {
    it.effect(`appId ${JSON.stringify(id).slice(0, 30)}`, () =>
      Effect.gen(function* () {
        const ops: ReadonlyArray<
          (api: ApplicationConnections["Type"]) => Effect.Effect<unknown, OktaResponseError>
        > = [
          (api: ApplicationConnections["Type"]) =>
            api.getDefaultProvisioningConnectionForApplication(id),
          (api: ApplicationConnections["Type"]) =>
            api.activateDefaultProvisioningConnectionForApplication(id),
          (api: ApplicationConnections["Type"]) =>
            api.verifyProvisioningConnectionForApplication("zoomus", id)
        ]
        for (const op of ops) {
          const { exit, requests } = yield* run(() => empty(204), op)
          const error = failureOf(exit)
          expect(error).toMatchObject({ _tag: "OktaInvalidInputError", field: "appId" })
          expect(error.message).toContain("nothing was sent")
          expect(requests).toHaveLength(0)
        }
      })
    )
  }

  it.effect("an appName outside OAuthProvisioningEnabledApp", () =>
    Effect.gen(function* () {
      const { exit, requests } = yield* run(
        () => empty(204),
        (api) => api.verifyProvisioningConnectionForApplication("github" as "google", APP)
      )
      const error = failureOf(exit)
      expect(error).toMatchObject({ _tag: "OktaInvalidInputError", field: "appName" })
      // The names it takes, in full: what to write instead.
      expect(error.message).toBe(
        'verifyProvisioningConnectionForApplication: invalid appName: expected one of "google", "office365", "slack", "zoomus"; nothing was sent'
      )
      expect(requests).toHaveLength(0)
      // The name as the Admin Console writes it: the spelling the API takes.
      const cased = yield* run(
        () => empty(204),
        (api) => api.verifyProvisioningConnectionForApplication("Office365" as "office365", APP)
      )
      expect(failureOf(cased.exit).message).toBe(
        'verifyProvisioningConnectionForApplication: invalid appName: expected one of "google", "office365", "slack", "zoomus" (in lower case: "office365"); nothing was sent'
      )
      expect(cased.requests).toHaveLength(0)
    })
  )

  it.effect("with several bad arguments, the first in the signature's order is named", () =>
    Effect.gen(function* () {
      const fieldOf = (
        call: (api: ApplicationConnections["Type"]) => Effect.Effect<unknown, OktaResponseError>
      ) =>
        Effect.map(
          run(() => empty(204), call),
          ({ exit, requests }) => {
            expect(requests).toHaveLength(0)
            return (failureOf(exit) as { readonly field?: string }).field
          }
        )
      expect(
        yield* fieldOf((api) =>
          api.updateDefaultProvisioningConnectionForApplication("a/b", null as never)
        )
      ).toBe("appId")
      expect(
        yield* fieldOf((api) =>
          api.verifyProvisioningConnectionForApplication("github" as "google", "a/b")
        )
      ).toBe("appName")
      expect(
        yield* fieldOf((api) =>
          api.verifyProvisioningConnectionForApplication("slack", APP, { code: "", state: "" })
        )
      ).toBe("code")
    })
  )

  it.effect(
    "a body that is neither branch, with a misspelt member, or with a non-boolean activate",
    () =>
      Effect.gen(function* () {
        const bodies: ReadonlyArray<unknown> = [
          { profile: { authScheme: "UNKNOWN" } },
          { profile: { authScheme: "TOKEN", tokn: "00secret-typo" } },
          { profile: { authScheme: "OAUTH2", settings: { adminUsername: "u" } } },
          { profile: { authScheme: "OAUTH2", signing: { rotationMode: "SOMETIMES" } } },
          { profile: { authScheme: "TOKEN", token: "" } },
          null
        ]
        for (const body of bodies) {
          const { exit, requests } = yield* run(
            () => json(200, tokenConnection),
            (api) => api.updateDefaultProvisioningConnectionForApplication(APP, body as never)
          )
          const error = failureOf(exit)
          expect(error).toMatchObject({ _tag: "OktaInvalidInputError", field: "body" })
          expect(error.message).not.toContain("00secret-typo")
          expect(requests).toHaveLength(0)
        }
        const { exit, requests } = yield* run(
          () => json(200, tokenConnection),
          (api) =>
            api.updateDefaultProvisioningConnectionForApplication(
              APP,
              { profile: { authScheme: "TOKEN" } },
              { activate: "yes" as never }
            )
        )
        expect(failureOf(exit)).toMatchObject({ _tag: "OktaInvalidInputError", field: "activate" })
        expect(requests).toHaveLength(0)
        // From JavaScript, `true` for `{ activate: true }`: it was sent without, saved DISABLED.
        const bare = yield* run(
          () => json(200, tokenConnection),
          (api) =>
            api.updateDefaultProvisioningConnectionForApplication(
              APP,
              { profile: { authScheme: "TOKEN" } },
              true as never
            )
        )
        expect(failureOf(bare.exit)).toMatchObject({
          _tag: "OktaInvalidInputError",
          field: "options",
          issues: "expected an object, such as { activate: true }"
        })
        expect(bare.requests).toHaveLength(0)
      })
  )

  it.effect("a mistyped body gets the issues of the variant its authScheme names, only", () =>
    Effect.gen(function* () {
      const issuesOf = (body: unknown) =>
        Effect.map(
          run(
            () => json(200, tokenConnection),
            (api) => api.updateDefaultProvisioningConnectionForApplication(APP, body as never)
          ),
          ({ exit }) => {
            const error = failureOf(exit)
            if (error._tag !== "OktaInvalidInputError") throw new Error(error._tag)
            return error.issues
          }
        )
      expect(yield* issuesOf({ profile: { authScheme: "TOKEN", tokn: "x" } })).toBe(
        "profile.tokn: is not allowed (did you mean token?)"
      )
      expect(
        yield* issuesOf({ profile: { authScheme: "OAUTH2", settings: { adminUsername: "u" } } })
      ).toBe("profile.settings.adminPassword: is missing")
      expect(yield* issuesOf({ profile: { authScheme: "OAUTH2", clientID: "0oa" } })).toBe(
        "profile.clientID: is not allowed (did you mean clientId?)"
      )
      // Every issue at once, not one per attempt.
      expect(
        yield* issuesOf({
          profile: { authScheme: "OAUTH2", clientID: "0oa", settings: { adminUsername: "u" } }
        })
      ).toBe(
        "profile.clientID: is not allowed (did you mean clientId?); profile.settings.adminPassword: is missing"
      )
      // Spelt as Okta's example spells it, the OAuth variant all the same.
      expect(yield* issuesOf({ profile: { authScheme: "OAUTH", clientID: "0oa" } })).toBe(
        "profile.clientID: is not allowed (did you mean clientId?)"
      )
      // An empty or blank secret would replace a working one in Okta.
      expect(yield* issuesOf({ profile: { authScheme: "TOKEN", token: "" } })).toBe(
        "profile.token: must not be empty or blank"
      )
      expect(
        yield* issuesOf({
          profile: { authScheme: "OAUTH2", settings: { adminUsername: "u", adminPassword: " \n" } }
        })
      ).toBe("profile.settings.adminPassword: must not be empty or blank")
      // Read from a file whole (`readFileSync` without a trim): its newline, or a Windows
      // editor's byte-order mark, would be saved as part of the secret.
      const newline =
        "must not contain line breaks or control characters (a trailing newline from a file?)"
      expect(yield* issuesOf({ profile: { authScheme: "TOKEN", token: "00abc\n" } })).toBe(
        `profile.token: ${newline}`
      )
      expect(yield* issuesOf({ profile: { authScheme: "TOKEN", token: "\ufeff00abc" } })).toBe(
        `profile.token: ${newline}`
      )
      expect(
        yield* issuesOf({
          profile: {
            authScheme: "OAUTH2",
            settings: { adminUsername: "u", adminPassword: "pw\r\n" }
          }
        })
      ).toBe(`profile.settings.adminPassword: ${newline}`)
      // A variable's name where its value goes (a template never filled in, a manifest's
      // reference in a body): saved, the app's working credential would be gone.
      const unexpanded =
        "is a variable that was never expanded (${…} or $NAME): give the value it stands for"
      for (const variable of ["${ZSCALER_TOKEN}", "${env:ZSCALER_TOKEN}", "$ZSCALER_TOKEN"]) {
        expect(yield* issuesOf({ profile: { authScheme: "TOKEN", token: variable } })).toBe(
          `profile.token: ${unexpanded}`
        )
      }
      expect(
        yield* issuesOf({
          profile: { authScheme: "OAUTH2", settings: { adminUsername: "u", adminPassword: "$PW" } }
        })
      ).toBe(`profile.settings.adminPassword: ${unexpanded}`)
      // No secrets, but a variable's name there breaks a working connection as surely.
      expect(yield* issuesOf({ profile: { authScheme: "OAUTH2", clientId: "${env:CID}" } })).toBe(
        `profile.clientId: ${unexpanded}`
      )
      expect(
        yield* issuesOf({
          profile: {
            authScheme: "OAUTH2",
            settings: { adminUsername: "$ADMIN", adminPassword: "p" }
          }
        })
      ).toBe(`profile.settings.adminUsername: ${unexpanded}`)
      // Spaces are a password's own (Microsoft's passwords may have them): sent as given.
      const spaced = yield* run(
        () => json(200, tokenConnection),
        (api) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, {
            profile: {
              authScheme: "OAUTH2",
              settings: { adminUsername: "u", adminPassword: " correct horse " }
            }
          })
      )
      expect(spaced.requests.map((r) => r.body)).toEqual([
        {
          profile: {
            authScheme: "OAUTH2",
            settings: { adminUsername: "u", adminPassword: " correct horse " }
          }
        }
      ])
      // A base URL Okta would save as it is, and provisioning then fail far from this update.
      const token = { authScheme: "TOKEN", token: "00abc" }
      expect(yield* issuesOf({ baseUrl: "scim.example.com/v2", profile: token })).toBe(
        "baseUrl: must be an absolute URL, starting with https://"
      )
      expect(yield* issuesOf({ baseUrl: "ftp://scim.example.com", profile: token })).toBe(
        "baseUrl: must be an absolute URL, starting with https://"
      )
      expect(yield* issuesOf({ baseUrl: "https://scim.example.com\n", profile: token })).toBe(
        "baseUrl: must not contain whitespace or control characters"
      )
      expect(yield* issuesOf({ baseUrl: "", profile: token })).toBe(
        "baseUrl: must not be empty (leave it out instead)"
      )
      // A template never filled in parses as a URL: its host "${host}".
      for (const template of [
        "https://${SCIM_HOST}/scim",
        "https://$SCIM_HOST/scim",
        "https://{scimHost}/scim",
        "https://scim.example.com/${TENANT}/v2"
      ]) {
        expect(yield* issuesOf({ baseUrl: template, profile: token })).toBe(
          "baseUrl: has a variable or placeholder never filled in (${…}, $NAME or {…})"
        )
      }
      expect(yield* issuesOf({ baseUrl: "https://", profile: token })).toBe(
        "baseUrl: is not a valid URL"
      )
      const local = yield* run(
        () => json(200, tokenConnection),
        (api) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, {
            baseUrl: "http://127.0.0.1:8080/scim/v2",
            profile: { authScheme: "TOKEN", token: "00abc" }
          })
      )
      expect(local.requests.map((r) => r.body)).toEqual([
        {
          baseUrl: "http://127.0.0.1:8080/scim/v2",
          profile: { authScheme: "TOKEN", token: "00abc" }
        }
      ])
      // No variant named: what authScheme may be, in one line, and nothing of what each variant
      // would make of the other members.
      expect(yield* issuesOf({ profile: { authScheme: "SAML" } })).toBe(
        'profile.authScheme: expected "TOKEN" | "OAUTH2"'
      )
      expect(yield* issuesOf({ profile: { authScheme: "SAML", token: "x" } })).toBe(
        'profile.authScheme: expected "TOKEN" | "OAUTH2"'
      )
      expect(yield* issuesOf({ profile: { token: "x" } })).toBe("profile.authScheme: is missing")
      // In lower case: the spelling Okta takes, and the rest checked as the variant meant.
      expect(yield* issuesOf({ profile: { authScheme: "token", tokn: "x" } })).toBe(
        'profile.authScheme: expected "TOKEN" | "OAUTH2" (in capitals: "TOKEN"); profile.tokn: is not allowed (did you mean token?)'
      )
      expect(yield* issuesOf({ profile: { authScheme: "oauth2", clientId: "0oa" } })).toBe(
        'profile.authScheme: expected "TOKEN" | "OAUTH2" (in capitals: "OAUTH2")'
      )
      // A value of a closed list in another case: the list's spelling (never the value).
      expect(
        yield* issuesOf({ profile: { authScheme: "OAUTH2", signing: { rotationMode: "auto" } } })
      ).toBe('profile.signing.rotationMode: expected "AUTO" | "MANUAL" (in capitals: "AUTO")')
      expect(
        yield* issuesOf({
          profile: { authScheme: "OAUTH2", signing: { rotationMode: "AUTOMATIC" } }
        })
      ).toBe('profile.signing.rotationMode: expected "AUTO" | "MANUAL"')
      // Not a string at all: its kind is said (never its value).
      expect(yield* issuesOf({ profile: { authScheme: 1 } })).toBe(
        'profile.authScheme: expected "TOKEN" | "OAUTH2", got a number'
      )
      // A token given as the client's own options take one: named, never shown.
      const redacted = yield* issuesOf({
        profile: { authScheme: "TOKEN", token: Redacted.make("00secret") }
      })
      expect(redacted).toBe(
        "profile.token: expected string, got a Redacted (give its string, Redacted.value(…))"
      )
      // A member left undefined by JavaScript code.
      expect(
        yield* issuesOf({
          profile: {
            authScheme: "OAUTH2",
            settings: { adminUsername: undefined, adminPassword: "pw" }
          }
        })
      ).toBe("profile.settings.adminUsername: expected string, got undefined")
    })
  )
})

describe("the error channel of each operation is exactly its possible errors", () => {
  type Api = ApplicationConnections["Type"]
  type ErrorOf<K extends keyof Api> = Effect.Effect.Error<ReturnType<Api[K]>>
  type SuccessOf<K extends keyof Api> = Effect.Effect.Success<ReturnType<Api[K]>>

  it("operations with a body fail with OktaResponseError, the others with OktaRequestError", () => {
    expectTypeOf<
      ErrorOf<"getDefaultProvisioningConnectionForApplication">
    >().toEqualTypeOf<OktaResponseError>()
    expectTypeOf<
      ErrorOf<"updateDefaultProvisioningConnectionForApplication">
    >().toEqualTypeOf<OktaResponseError>()
    expectTypeOf<ErrorOf<"getUserProvisioningConnectionJWKS">>().toEqualTypeOf<OktaResponseError>()
    expectTypeOf<
      ErrorOf<"activateDefaultProvisioningConnectionForApplication">
    >().toEqualTypeOf<OktaRequestError>()
    expectTypeOf<
      ErrorOf<"deactivateDefaultProvisioningConnectionForApplication">
    >().toEqualTypeOf<OktaRequestError>()
    expectTypeOf<
      ErrorOf<"verifyProvisioningConnectionForApplication">
    >().toEqualTypeOf<OktaRequestError>()
    expectTypeOf<
      SuccessOf<"getUserProvisioningConnectionJWKS">
    >().toEqualTypeOf<AppConnectionUserProvisionJWKResponse>()
    expectTypeOf<
      SuccessOf<"activateDefaultProvisioningConnectionForApplication">
    >().toEqualTypeOf<void>()
  })

  it("the unions hold exactly the documented tags", () => {
    expectTypeOf<OktaRequestError["_tag"]>().toEqualTypeOf<
      | "OktaBadRequestError"
      | "OktaUnauthorizedError"
      | "OktaForbiddenError"
      | "OktaNotFoundError"
      | "OktaRateLimitError"
      | "OktaServerError"
      | "OktaUnexpectedStatusError"
      | "OktaTransportError"
      | "OktaTimeoutError"
      | "OktaInvalidInputError"
      | "OktaAuthError"
    >()
    expectTypeOf<
      Exclude<OktaResponseError, OktaRequestError>["_tag"]
    >().toEqualTypeOf<"OktaDecodeError">()
  })
})

describe("what each error's message says, as a log line shows it", () => {
  const get = (api: ApplicationConnections["Type"]) =>
    api.getDefaultProvisioningConnectionForApplication(APP)
  const where = `getDefaultProvisioningConnectionForApplication (GET /api/v1/apps/${APP}/connections/default)`
  const messageOf = (
    handler: Parameters<typeof connectionsWith>[0],
    settings: Parameters<typeof connectionsWith>[1] = {}
  ) => {
    const { layer } = connectionsWith(handler, settings)
    return Effect.map(
      Effect.flip(Effect.provide(Effect.flatMap(ApplicationConnections, get), layer)),
      (error) => `${error._tag}: ${error.message}`
    )
  }

  it.effect("decode failures name the status, what is wrong, the limit and the request id", () =>
    Effect.gen(function* () {
      expect(
        yield* messageOf(() => text(200, "<html/>", "text/html", { "x-okta-request-id": "r1" }))
      ).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body is not JSON (text/html): 7 characters that do not parse as JSON; Okta's API sends no HTML: a proxy or gateway may have answered in its place (request id r1)`
      )
      // A media type is case-insensitive (RFC 9110 §8.3.1): a proxy's TEXT/HTML page gets the hint.
      expect(yield* messageOf(() => text(200, "<html/>", "Text/HTML; charset=UTF-8"))).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body is not JSON (Text/HTML; charset=UTF-8): 7 characters that do not parse as JSON; Okta's API sends no HTML: a proxy or gateway may have answered in its place`
      )
      // Nor plain text: a gateway's, or a server that is not Okta's at the org URL.
      expect(yield* messageOf(() => text(200, "Service unavailable", "text/plain"))).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body is not JSON (text/plain): 19 characters that do not parse as JSON; Okta's API answers in JSON: a proxy or gateway may have answered in its place, or the org URL is not an Okta org's`
      )
      // JSON cut short is Okta's, in its media type (or a vendor's +json one): no hint.
      expect(yield* messageOf(() => text(200, "{", "application/json"))).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body is not JSON (application/json): 1 character that does not parse as JSON`
      )
      // What the members of an open enum expected, in one line; the value itself never.
      expect(yield* messageOf(() => json(200, { status: 7 }))).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body does not match the expected schema: profile: is missing; status: expected "DISABLED" | "ENABLED" | "UNKNOWN" | string, got a number`
      )
      // A body of the wrong shape altogether: its kind, not the schema's whole type.
      expect(yield* messageOf(() => json(200, []))).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body does not match the expected schema: expected an object, got an array`
      )
      expect(yield* messageOf(() => json(200, { status: "ENABLED", profile: null }))).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body does not match the expected schema: profile: expected an object, got null`
      )
      const large = json(200, { padding: "x".repeat(2048) })
      expect(yield* messageOf(() => large, { maxResponseBytes: 1024 })).toBe(
        `OktaDecodeError: ${where}: the HTTP 200 response body is too large: more than 1024 bytes, the maxResponseBytes limit`
      )
    })
  )

  it.effect("an error body past maxResponseBytes is not read, and the message says so", () =>
    Effect.gen(function* () {
      const page = `<html>${"x".repeat(4096)}</html>`
      const { layer } = connectionsWith(() => text(403, page, "text/html"), {
        maxResponseBytes: 1024
      })
      const error = yield* Effect.flip(
        Effect.provide(Effect.flatMap(ApplicationConnections, get), layer)
      )
      expect(error).toMatchObject({
        _tag: "OktaForbiddenError",
        bodyTooLarge: true,
        contentType: "text/html"
      })
      expect(error.message).toBe(
        `${where} failed with HTTP 403 with a body (text/html) larger than maxResponseBytes, not read`
      )
      // Within the limit, nothing is said of it.
      const read = yield* messageOf(() => text(403, "<html>x</html>", "text/html"), {
        maxResponseBytes: 1024
      })
      expect(read).toBe(
        `OktaForbiddenError: ${where} failed with HTTP 403 with a non-JSON body (text/html)`
      )
    })
  )

  it.effect(
    "a 404 for an id not shaped like Okta's says it may be a name; for a JWKS, why else",
    () =>
      Effect.gen(function* () {
        const notFound = () =>
          json(404, { errorCode: "E0000007", errorSummary: "Not found: Resource not found: x" })
        const { layer } = connectionsWith(notFound)
        const messageFor = (
          op: (api: ApplicationConnections["Type"]) => Effect.Effect<unknown, OktaResponseError>
        ) =>
          Effect.map(
            Effect.flip(Effect.provide(Effect.flatMap(ApplicationConnections, op), layer)),
            (error) => error.message
          )
        const hint =
          "; the app id does not look like Okta's (0oa and 17 more letters or digits, as in the app's Admin Console URL): an app name or label?"
        // The app's name, where its id goes: Okta said only "Resource not found".
        expect(
          yield* messageFor((api) =>
            api.getDefaultProvisioningConnectionForApplication("zscalerbyz")
          )
        ).toContain(hint)
        // verify's path has the app's name first, then its id.
        expect(
          yield* messageFor((api) =>
            api.verifyProvisioningConnectionForApplication("office365", "office365", { code: "c" })
          )
        ).toContain(hint)
        // An id of Okta's shape: no app with it in this org, nothing to add.
        expect(
          yield* messageFor((api) => api.activateDefaultProvisioningConnectionForApplication(APP))
        ).not.toContain(hint)
        // Too short, one letter too long, or 0oa not at its start: not Okta's shape either.
        for (const id of ["0oa12345", `${APP}X`, `x${APP}`]) {
          expect(
            yield* messageFor((api) => api.getDefaultProvisioningConnectionForApplication(id))
          ).toContain(hint)
        }
        // Another 404 than Okta's "no such resource": the id may be right; no guess.
        const { layer: otherLayer } = connectionsWith(() =>
          json(404, {
            errorCode: "E0000022",
            errorSummary: "The endpoint does not support the provided HTTP method"
          })
        )
        const other = yield* Effect.flip(
          Effect.provide(
            Effect.flatMap(ApplicationConnections, (api) =>
              api.getDefaultProvisioningConnectionForApplication("zscalerbyz")
            ),
            otherLayer
          )
        )
        expect(other.message).not.toContain(hint)
        // The JWKS of an app of Okta's shape: no such app, or a connection without keys.
        const jwks = yield* messageFor((api) => api.getUserProvisioningConnectionJWKS(APP))
        expect(jwks).toMatch(
          /HTTP 404: E0000007 Not found: Resource not found: x; no such app, or its connection has no signing keys: only an Org2Org app's OAuth 2.0 connection has a JWKS/
        )
        expect(
          yield* messageFor((api) => api.getUserProvisioningConnectionJWKS("zscalerbyz"))
        ).toContain(hint)
        // Not Okta's 404 (a web server's page, a proxy's empty answer): no app was looked for.
        for (const answer of [
          () => text(404, "<html>Not Found</html>", "text/html"),
          () => empty(404)
        ]) {
          expect(yield* messageOf(answer)).toMatch(
            /failed with HTTP 404( with a non-JSON body \(text\/html\))?; not Okta's answer, which would be its E0000007 error: check the org URL, or the proxy in between$/
          )
        }
      })
  )

  it.effect("transport failures say whether the request got through, and why not", () =>
    Effect.gen(function* () {
      expect(yield* messageOf(() => ({ drop: true, code: "ECONNREFUSED" }))).toBe(
        `OktaTransportError: ${where} failed: could not connect (fetch failed <- ECONNREFUSED: connect ECONNREFUSED)`
      )
      // No such host: most often a typo in the org URL.
      expect(yield* messageOf(() => ({ drop: true, code: "ENOTFOUND" }))).toBe(
        `OktaTransportError: ${where} failed: could not connect (fetch failed <- ENOTFOUND: connect ENOTFOUND; the host name does not resolve: check the org URL (and the proxy's, if one is used) for a typo, or this machine's DNS)`
      )
      expect(yield* messageOf(() => ({ drop: true }))).toBe(
        `OktaTransportError: ${where} failed: no response (fetch failed <- UND_ERR_SOCKET: other side closed)`
      )
      // A certificate Node does not trust (a TLS-inspecting proxy's), or one for another host: the
      // connection failed (nothing was sent), and the first says what to do.
      expect(
        yield* messageOf(() => ({ drop: true, code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }))
      ).toBe(
        `OktaTransportError: ${where} failed: could not connect (fetch failed <- UNABLE_TO_VERIFY_LEAF_SIGNATURE: connect UNABLE_TO_VERIFY_LEAF_SIGNATURE; Node does not trust the server's certificate: behind a TLS-inspecting proxy, give Node the proxy's CA certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem)`
      )
      expect(yield* messageOf(() => ({ drop: true, code: "ERR_TLS_CERT_ALTNAME_INVALID" }))).toBe(
        `OktaTransportError: ${where} failed: could not connect (fetch failed <- ERR_TLS_CERT_ALTNAME_INVALID: connect ERR_TLS_CERT_ALTNAME_INVALID)`
      )
      expect(yield* messageOf(() => brokenBody(200, '{"status":'))).toBe(
        `OktaTransportError: ${where} failed: the response body could not be read (UND_ERR_SOCKET: other side closed)`
      )
    })
  )

  it.effect(
    "HTTP errors read in full: Okta's fields, the challenge, the body, the wait, the ids",
    () =>
      Effect.gen(function* () {
        const limited = (limit: string, remaining: string) =>
          json(
            429,
            {
              errorCode: "E0000047",
              errorSummary: "API call exceeded rate limit due to too many requests."
            },
            {
              "x-rate-limit-limit": limit,
              "x-rate-limit-remaining": remaining,
              "x-rate-limit-reset": "1767225660"
            }
          )
        const answers: ReadonlyArray<() => Response> = [
          // Okta's error body: code and summary, the causes that say something, then the ids.
          () =>
            json(
              400,
              {
                errorCode: "E0000001",
                errorSummary: "Api validation failed: profile",
                errorId: "oae1",
                errorCauses: [
                  { errorSummary: "token: required" },
                  { errorSummary: "" },
                  {},
                  { errorSummary: "baseUrl: not a URL" }
                ]
              },
              { "x-okta-request-id": "r1" }
            ),
          // A summary alone, a code alone.
          () => json(500, { errorSummary: "Internal Server Error" }),
          () => json(500, { errorCode: "E0000009" }),
          // A scope refused in WWW-Authenticate alone, with an empty body.
          () =>
            empty(403, {
              "www-authenticate":
                'Bearer realm="IdpMyAccountAPI", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", scope="okta.apps.read"'
            }),
          // With a page too, the challenge's error says it: the page is not named.
          () =>
            text(403, "<html>Forbidden</html>", "text/html", {
              "www-authenticate": 'Bearer error="insufficient_scope", scope="okta.apps.read"'
            }),
          // A challenge that names no error, from something that sent a page.
          () =>
            text(401, "<html>Log in</html>", "text/html", {
              "www-authenticate": 'Basic realm="proxy"'
            }),
          // A gateway's JSON and a gateway's page, one with Retry-After.
          () => text(502, '{"message":"upstream timed out"}', "Application/JSON"),
          () => text(503, "<html>busy</html>", "text/html", { "retry-after": "3" }),
          // Okta's body with a Content-Type: nothing to say of the body's kind.
          () =>
            json(403, {
              errorCode: "E0000006",
              errorSummary: "You do not have permission to perform the requested action"
            }),
          // A window spent, and the concurrent-request limit.
          () => limited("50", "0"),
          () => limited("0", "0"),
          // A limit of 0 with requests left is not the concurrent-request limit: its window's.
          () => limited("0", "3"),
          // A redirect, and a status with no class of its own.
          () => empty(302, { location: "https://login.example.net/steal?from=okta" }),
          () => empty(300),
          () => empty(418)
        ]
        const messages: Array<string> = []
        for (const answer of answers) {
          messages.push((yield* messageOf(answer)).replace(`: ${where} failed with HTTP `, " "))
        }
        expect(messages).toEqual([
          "OktaBadRequestError 400: E0000001 Api validation failed: profile (causes: token: required; baseUrl: not a URL) (errorId oae1, request id r1)",
          "OktaServerError 500: Internal Server Error",
          "OktaServerError 500: E0000009",
          "OktaForbiddenError 403 [Bearer insufficient_scope: The access token provided does not contain the required scopes., required scope okta.apps.read]",
          "OktaForbiddenError 403 [Bearer insufficient_scope, required scope okta.apps.read]",
          "OktaUnauthorizedError 401 with a non-JSON body (text/html)",
          'OktaServerError 502 with a JSON body not in Okta\'s error format (Application/JSON): "upstream timed out"',
          "OktaServerError 503 with a non-JSON body (text/html); Retry-After 3 s",
          "OktaForbiddenError 403: E0000006 You do not have permission to perform the requested action",
          "OktaRateLimitError 429: E0000047 API call exceeded rate limit due to too many requests.; the limit resets at 2026-01-01T00:01:00.000Z",
          "OktaRateLimitError 429: E0000047 API call exceeded rate limit due to too many requests.; concurrent-request limit reached (clears when a request in flight completes)",
          "OktaRateLimitError 429: E0000047 API call exceeded rate limit due to too many requests.; the limit resets at 2026-01-01T00:01:00.000Z",
          "OktaUnexpectedStatusError 302; redirect to https://login.example.net/steal not followed (credentials are never sent to another URL)",
          "OktaUnexpectedStatusError 300",
          "OktaUnexpectedStatusError 418"
        ])
      })
  )

  it.effect("timeouts say which bound ran out", () =>
    Effect.gen(function* () {
      const attempt = yield* Effect.fork(messageOf(() => Effect.never, { timeout: "2 seconds" }))
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(attempt)).toBe(
        `OktaTimeoutError: ${where} timed out: an attempt took longer than its 2000 ms timeout`
      )
      const deadline = yield* Effect.fork(
        messageOf(() => Effect.never, { timeout: "1 minute", deadline: "5 seconds" })
      )
      yield* TestClock.adjust("5 seconds")
      expect(yield* Fiber.join(deadline)).toBe(
        `OktaTimeoutError: ${where} did not complete within its 5000 ms deadline (retries and rate-limit waits included) after 1 attempt`
      )
    })
  )

  it.effect("a deadline names the failure the call was retrying after, with its request id", () =>
    Effect.gen(function* () {
      const limited = () =>
        json(
          429,
          {
            errorCode: "E0000047",
            errorSummary: "API call exceeded rate limit due to too many requests."
          },
          {
            "x-okta-request-id": "r429",
            "x-rate-limit-limit": "50",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "60",
            date: new Date(0).toUTCString()
          }
        )
      expect(
        yield* messageOf(limited, { deadline: "30 seconds", retry: RetryPolicy.defaultPolicy })
      ).toBe(
        `OktaTimeoutError: ${where} would not complete within its 30000 ms deadline (retries and rate-limit waits included) after 1 attempt, with 60.0 s still to wait; the last failure (OktaRateLimitError): HTTP 429: E0000047 API call exceeded rate limit due to too many requests.; the limit resets at 1970-01-01T00:01:00.000Z (request id r429)`
      )
      const dropped = yield* Effect.fork(
        messageOf(() => ({ drop: true }), {
          deadline: "1 second",
          retry: RetryPolicy.make({ backoff: Schedule.spaced("400 millis") })
        })
      )
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(dropped)).toBe(
        `OktaTimeoutError: ${where} would not complete within its 1000 ms deadline (retries and rate-limit waits included) after 3 attempts, with 0.4 s still to wait; the last failure (OktaTransportError): no response (fetch failed <- UND_ERR_SOCKET: other side closed)`
      )
    })
  )
})
