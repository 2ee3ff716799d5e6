import { FetchHttpClient, HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { chai } from "vitest"
import {
  Arbitrary,
  Cause,
  ConfigProvider,
  Effect,
  Exit,
  FastCheck,
  Fiber,
  FiberRef,
  Layer,
  Option,
  Redacted,
  Schema,
  TestClock,
  Tracer
} from "effect"
import { createServer, type IncomingMessage, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { readFileSync } from "node:fs"
import { types } from "node:util"
import {
  ApplicationConnections,
  OktaClient,
  OktaFetch,
  OktaAuthError,
  OktaError,
  OktaRateLimitError,
  OktaTimeoutError,
  OktaTransportError,
  RetryPolicy,
  VERSION,
  type OktaClientOptions
} from "../src/index.js"
import { reachableStrings, recordingTracer } from "./support/tracing.js"
import { connectionsWith, empty, json, ORG, scriptedHttp, TOKEN } from "./support/TestHttp.js"
import { failureOf } from "./support/exit.js"

const APP = "0oafxqCAJWWGELFTYASJ"

const buildWith = (options: OktaClientOptions) =>
  Effect.exit(
    Effect.provide(
      OktaClient,
      OktaClient.layer(options).pipe(Layer.provide(scriptedHttp(() => empty(204)).layer))
    )
  )

const configFailure = (exit: Exit.Exit<unknown, unknown>) =>
  failureOf(exit) as { _tag: string; field: string; reason: string; message: string }

describe("OktaClient configuration", () => {
  const token = Redacted.make(TOKEN)

  it.effect("accepts https org URLs and loopback http, normalising the trailing slash", () =>
    Effect.gen(function* () {
      for (const [input, expected] of [
        ["https://acme.okta.com/", "https://acme.okta.com"],
        [new URL("https://acme.oktapreview.com"), "https://acme.oktapreview.com"],
        ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
        ["http://localhost:3000/", "http://localhost:3000"],
        ["http://[::1]:9/", "http://[::1]:9"],
        ["https://proxy.example.com/okta/", "https://proxy.example.com/okta"],
        ["https://proxy.example.com/okta//", "https://proxy.example.com/okta"],
        // Any of 127.0.0.0/8; the blank a copy from a console or a file brings along.
        ["http://127.0.0.2:8080", "http://127.0.0.2:8080"],
        [" https://acme.okta.com\n", "https://acme.okta.com"]
      ] as const) {
        const exit = yield* buildWith({ orgUrl: input, apiToken: token })
        if (Exit.isFailure(exit)) throw new Error(Cause.pretty(exit.cause))
        expect(exit.value.orgUrl).toBe(expected)
      }
    })
  )

  it.effect("rejects unusable org URLs with OktaConfigError saying what is wrong", () =>
    Effect.gen(function* () {
      for (const [input, says] of [
        ["http://acme.okta.com", "must use https://"],
        ["ftp://acme.okta.com", "must use https://"],
        // Both read "is not an absolute URL" (the second, "must use https:// (got localhost://)").
        ["acme.okta.com", "has no scheme: give it as https://acme.okta.com"],
        ["localhost:8080/", "has no scheme: give it as http://localhost:8080"],
        // Anything else is not echoed: it may be a secret in the wrong variable.
        [
          "00QCjAl4MlV-WPXM-cqgECr1xB0cg3Da8o7pH4o5wR",
          "is not an absolute URL (expected something"
        ],
        ["", "is empty"],
        // From JavaScript, `process.env.OKTA_ORG_URL` unset: it read "is not an absolute URL".
        [undefined as never, "is undefined (an environment variable that is not set?)"],
        ["https://{yourOktaDomain}", "placeholder"],
        // It read "is not an absolute URL".
        ["${OKTA_ORG_URL}", "is a variable that was never expanded (${…} or $NAME"],
        // Both were sent, to fail in DNS after the retries.
        ["https://${OKTA_ORG}.okta.com", "has a variable or placeholder in its host"],
        ["https://$ORG.oktapreview.com", "has a variable or placeholder in its host"],
        ["https://{org}.okta.com", "has a variable or placeholder in its host"],
        ["https://{YourOktaDomain}", "still contains the {yourOktaDomain} placeholder"],
        ["https://user:pw@acme.okta.com", "user info"],
        ["https://:pw@acme.okta.com", "user info"],
        ["https://acme.okta.com?x=1", "query"],
        [
          "https://acme.okta.com/#/dashboard",
          "query or fragment; give the org URL alone, e.g. https://acme.okta.com"
        ],
        // The Admin Console's page of an app, copied from the browser: said as a path.
        [
          "https://acme.okta.com/admin/app/zscalerbyz/instance/0oafxqCAJWWGELFTYASJ/#tab-provisioning",
          "has a path (/admin/app/zscalerbyz/instance/0oafxqCAJWWGELFTYASJ); give the org URL alone, e.g. https://acme.okta.com"
        ],
        ["https://sso.example.com/admin/dashboard?x=1", "has a path (/admin/dashboard)"],
        ["https://acme-admin.okta.com", "Admin Console"],
        ["https://acme-admin.oktapreview.com", "Admin Console"],
        // A page of the org pasted for its URL, behind a custom domain as on Okta's own host.
        ["https://sso.example.com/app/UserHome", "has a path (/app/UserHome)"],
        ["https://sso.example.com/.well-known/okta-organization", "has a path"],
        ["https://sso.example.com/API/v1", "has a path (/API/v1)"],
        // It read "is not an absolute URL".
        ['"https://acme.okta.com"', "is wrapped in quotes (from an env file that keeps them?)"],
        ["`https://acme.okta.com`", "is wrapped in quotes"]
      ] as const) {
        const error = configFailure(yield* buildWith({ orgUrl: input, apiToken: token }))
        expect(error._tag).toBe("OktaConfigError")
        expect(error.field).toBe("orgUrl")
        expect(error.message).toContain(says)
      }
      // The URL to give instead, whole: an Okta host in any case (Okta for Government's too) or
      // a loopback one, without the trailing slash or the blanks it was typed with.
      for (const [input, url] of [
        ["localhost:8080/", "http://localhost:8080"],
        ["app.localhost:3000", "http://app.localhost:3000"],
        ["Acme.OKTA.com", "https://Acme.OKTA.com"],
        ["acme.okta-gov.com/", "https://acme.okta-gov.com"],
        ["acme.okta.mil", "https://acme.okta.mil"],
        [" acme.okta.com\n", "https://acme.okta.com"]
      ] as const) {
        const error = configFailure(yield* buildWith({ orgUrl: input, apiToken: token }))
        expect(error.reason).toBe(`has no scheme: give it as ${url}`)
      }
    })
  )

  it.effect("rejects unusable tokens without ever printing them", () =>
    Effect.gen(function* () {
      for (const [value, says] of [
        ["", "is empty"],
        [`SSWS ${TOKEN}`, "scheme prefix"],
        [`ssws ${TOKEN}`, "scheme prefix"],
        // An access token's header copied whole: which kind it is, not only the prefix to drop.
        [
          `DPoP ${TOKEN}`,
          "includes its scheme prefix (DPoP): an OAuth 2.0 access token: give the token alone as accessToken, or an API token (00…) here"
        ],
        [`Bearer ${TOKEN}`, "includes its scheme prefix (Bearer): an OAuth 2.0 access token"],
        [`${TOKEN}\u007f`, "whitespace or control characters"],
        [`${TOKEN}\n`, "whitespace"],
        // A CRLF .env file: the "\r" is nowhere to be seen where the token was typed.
        [`${TOKEN}\r`, "ends with a carriage return (\\r: a file or .env saved with Windows line"],
        [`${TOKEN}\r\n`, "ends with a carriage return"],
        ["{apiToken}", "placeholder"],
        // Both were sent, to be refused with a 401 that said no more.
        ["${OKTA_CLIENT_TOKEN}", "is a variable that was never expanded (${…} or $NAME"],
        ["$OKTA_CLIENT_TOKEN", "is a variable that was never expanded"],
        // As `docker --env-file` passes OKTA_CLIENT_TOKEN="…": sent as it was, refused with a 401.
        [`"${TOKEN}"`, "is wrapped in quotes"],
        [`'${TOKEN}'`, "is wrapped in quotes"],
        // From JavaScript, `Redacted.make(process.env.OKTA_TOKEN!)` with it unset.
        [undefined as never, "is undefined (an environment variable that is not set?)"]
      ] as const) {
        const error = configFailure(
          yield* buildWith({ orgUrl: "https://acme.okta.com", apiToken: Redacted.make(value) })
        )
        expect(error.field).toBe("apiToken")
        expect(error.message).toContain(says)
        expect(error.message).not.toContain(TOKEN)
      }
      // Each kind pasted as the other: both got Okta's bare 401 "Invalid token provided".
      for (const [field, value, says] of [
        [
          "apiToken",
          "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMHUxIn0.c2lnbmF0dXJl",
          "is an OAuth 2.0 access token (a JWT), which Okta takes as Bearer: give it as accessToken, or an API token (00…) here"
        ],
        [
          "accessToken",
          "00QCjAl4MlV-WPXM-cqgECr1xB0cg3Da8o7pH4o5wR",
          "is an Okta API token (SSWS), not an OAuth 2.0 access token: give it as apiToken"
        ],
        [
          "accessToken",
          "SSWS 00QCjAl4MlV-WPXM-cqgECr1xB0cg3Da8o7pH4o5wR",
          "includes its scheme prefix (SSWS): an Okta API token: give the token alone as apiToken"
        ]
      ] as const) {
        const options = { orgUrl: "https://acme.okta.com", [field]: Redacted.make(value) }
        const error = configFailure(yield* buildWith(options as never))
        expect(error).toMatchObject({ _tag: "OktaConfigError", field })
        expect(error.message).toContain(says)
        expect(error.message).not.toContain(value)
      }
      const both = configFailure(
        yield* buildWith({
          orgUrl: "https://acme.okta.com",
          apiToken: token,
          accessToken: token
        } as never)
      )
      expect(both.message).toContain("not several")
      const plain = configFailure(
        yield* buildWith({ orgUrl: "https://acme.okta.com", apiToken: TOKEN } as never)
      )
      expect(plain.message).toContain("Redacted")
      expect(plain.message).not.toContain(TOKEN)
      // From JavaScript, or through a cast: no credential at all is named too.
      const none = configFailure(yield* buildWith({ orgUrl: "https://acme.okta.com" } as never))
      expect(none).toMatchObject({ _tag: "OktaConfigError", field: "credentials" })
      expect(none.message).toContain("give apiToken, accessToken or oauth")
    })
  )

  it.effect("an accessToken is sent as Bearer", () =>
    Effect.gen(function* () {
      const http = scriptedHttp(() => empty(204))
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.activateDefaultProvisioningConnectionForApplication(APP)
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(
              OktaClient.layer({
                orgUrl: "https://acme.okta.com",
                accessToken: Redacted.make("eyJaccess")
              })
            ),
            Layer.provide(http.layer)
          )
        )
      )
      expect(http.requests[0]!.headers["authorization"]).toBe("Bearer eyJaccess")
    })
  )

  it.effect("userAgentExtra is appended; tracerPropagation sends traceparent", () =>
    Effect.gen(function* () {
      const { requests, layer } = connectionsWith(() => empty(204), {
        userAgentExtra: "my-provisioner/1.4",
        tracerPropagation: true
      })
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.activateDefaultProvisioningConnectionForApplication(APP)
      ).pipe(Effect.provide(layer))
      expect(requests[0]!.headers["user-agent"]).toBe(
        `effect-okta-connections/${VERSION} node/${process.versions.node} my-provisioner/1.4`
      )
      expect(requests[0]!.headers["traceparent"]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
    })
  )

  it.effect("userAgentExtra is trimmed, and a blank one adds nothing", () =>
    Effect.gen(function* () {
      const base = `effect-okta-connections/${VERSION} node/${process.versions.node}`
      for (const [extra, sent] of [
        ["  my-provisioner/1.4 ", `${base} my-provisioner/1.4`],
        ["   ", base],
        ["", base]
      ] as const) {
        const { requests, layer } = connectionsWith(() => empty(204), { userAgentExtra: extra })
        yield* Effect.flatMap(ApplicationConnections, (api) =>
          api.activateDefaultProvisioningConnectionForApplication(APP)
        ).pipe(Effect.provide(layer))
        expect(requests[0]!.headers["user-agent"]).toBe(sent)
      }
    })
  )

  it.effect("with no tracer installed, tracerPropagation still continues the caller's trace", () =>
    Effect.gen(function* () {
      const { requests, layer } = connectionsWith(() => empty(204), { tracerPropagation: true })
      const incoming = Tracer.externalSpan({
        traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
        spanId: "00f067aa0ba902b7"
      })
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.activateDefaultProvisioningConnectionForApplication(APP)
      ).pipe(Effect.provide(layer), Effect.withParentSpan(incoming))
      const [version, traceId, spanId] = requests[0]!.headers["traceparent"]!.split("-")
      expect([version, traceId]).toEqual(["00", incoming.traceId])
      // The call's own span, a child of the caller's.
      expect(spanId).not.toBe(incoming.spanId)
    })
  )

  it.effect("a tracer installed through a layer gets each call's span", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const { layer } = connectionsWith(() => empty(204))
      const activate = Effect.flatMap(ApplicationConnections, (api) =>
        api.activateDefaultProvisioningConnectionForApplication(APP)
      )
      yield* activate.pipe(Effect.provide(Layer.merge(layer, Layer.setTracer(tracer))))
      expect(spans.map((span) => span.name)).toEqual([
        "ApplicationConnections.activateDefaultProvisioningConnectionForApplication"
      ])
    })
  )

  it.effect("transformClient sees every request after the client's own setup", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const { layer } = connectionsWith(() => empty(204), {
        transformClient: HttpClient.tapRequest((request) =>
          Effect.sync(() => seen.push(`${request.method} ${request.url}`))
        )
      })
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.deactivateDefaultProvisioningConnectionForApplication(APP)
      ).pipe(Effect.provide(layer))
      expect(seen).toEqual([
        `POST https://acme.okta.com/api/v1/apps/${APP}/connections/default/lifecycle/deactivate`
      ])
    })
  )

  it("VERSION matches package.json", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
      version: string
    }
    expect(VERSION).toBe(pkg.version)
  })
})

describe("OktaClient.layerConfig", () => {
  const withEnv = (entries: ReadonlyArray<readonly [string, string]>) =>
    Layer.setConfigProvider(ConfigProvider.fromMap(new Map(entries)))

  it.effect("reads OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN by default", () =>
    Effect.gen(function* () {
      const http = scriptedHttp(() => empty(204))
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.activateDefaultProvisioningConnectionForApplication(APP)
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(OktaClient.layerConfig()),
            Layer.provide(http.layer),
            Layer.provide(
              withEnv([
                ["OKTA_CLIENT_ORGURL", "https://env.okta.com"],
                ["OKTA_CLIENT_TOKEN", TOKEN]
              ])
            )
          )
        )
      )
      expect(http.requests[0]!.url.origin).toBe("https://env.okta.com")
      expect(http.requests[0]!.headers["authorization"]).toBe(`SSWS ${TOKEN}`)
    })
  )

  it.effect("takes any Config, including an access token", () =>
    Effect.gen(function* () {
      const http = scriptedHttp(() => empty(204))
      const { Config } = yield* Effect.promise(() => import("effect"))
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.activateDefaultProvisioningConnectionForApplication(APP)
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(
              OktaClient.layerConfig({
                orgUrl: Config.string("MY_URL"),
                accessToken: Config.redacted("MY_ACCESS")
              })
            ),
            Layer.provide(http.layer),
            Layer.provide(
              withEnv([
                ["MY_URL", "https://mine.okta.com"],
                ["MY_ACCESS", "eyJx"]
              ])
            )
          )
        )
      )
      expect(http.requests[0]!.headers["authorization"]).toBe("Bearer eyJx")
    })
  )

  it.effect("a missing variable is a ConfigError naming it; a bad value is OktaConfigError", () =>
    Effect.gen(function* () {
      const missing = yield* Effect.exit(
        Effect.provide(
          OktaClient,
          OktaClient.layerConfig().pipe(
            Layer.provide(scriptedHttp(() => empty(204)).layer),
            Layer.provide(withEnv([["OKTA_CLIENT_ORGURL", "https://env.okta.com"]]))
          )
        )
      )
      expect(Exit.isFailure(missing) && Cause.pretty(missing.cause)).toContain("OKTA_CLIENT_TOKEN")
      const bad = yield* Effect.exit(
        Effect.provide(
          OktaClient,
          OktaClient.layerConfig().pipe(
            Layer.provide(scriptedHttp(() => empty(204)).layer),
            Layer.provide(
              withEnv([
                ["OKTA_CLIENT_ORGURL", "http://env.okta.com"],
                ["OKTA_CLIENT_TOKEN", TOKEN]
              ])
            )
          )
        )
      )
      expect(configFailure(bad)._tag).toBe("OktaConfigError")
    })
  )
})

describe("per-attempt timeout", () => {
  it.effect("a response that never comes fails with OktaTimeoutError at exactly the timeout", () =>
    Effect.gen(function* () {
      const { layer, requests } = connectionsWith(() => Effect.never, { timeout: "5 seconds" })
      const fiber = yield* Effect.fork(
        Effect.flatMap(ApplicationConnections, (api) =>
          api.getDefaultProvisioningConnectionForApplication(APP)
        ).pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("4999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 milli")
      const exit = yield* Fiber.await(fiber)
      expect(requests).toHaveLength(1)
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
        _tag: "Some",
        value: {
          _tag: "OktaTimeoutError",
          timeoutMillis: 5000,
          operation: "getDefaultProvisioningConnectionForApplication"
        }
      })
    })
  )

  it.effect("the default timeout is 30 seconds", () =>
    Effect.gen(function* () {
      const { layer } = connectionsWith(() => Effect.never)
      const fiber = yield* Effect.fork(
        Effect.flatMap(ApplicationConnections, (api) =>
          api.activateDefaultProvisioningConnectionForApplication(APP)
        ).pipe(Effect.provide(layer))
      )
      yield* TestClock.adjust("29 seconds")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
        value: { _tag: "OktaTimeoutError", timeoutMillis: 30000 }
      })
    })
  )

  it.effect("a non-positive timeout is a configuration error", () =>
    Effect.gen(function* () {
      const error = configFailure(
        yield* buildWith({
          orgUrl: "https://acme.okta.com",
          apiToken: Redacted.make(TOKEN),
          timeout: 0
        })
      )
      expect(error.field).toBe("timeout")
    })
  )

  it.effect("so are a non-positive deadline and a fractional or zero maxResponseBytes", () =>
    Effect.gen(function* () {
      const base = { orgUrl: "https://acme.okta.com", apiToken: Redacted.make(TOKEN) }
      expect(configFailure(yield* buildWith({ ...base, deadline: "0 seconds" })).field).toBe(
        "deadline"
      )
      // 0 is not "no limit": every body would be too large.
      for (const maxResponseBytes of [1.5, 0]) {
        const error = configFailure(yield* buildWith({ ...base, maxResponseBytes }))
        expect(error.field).toBe("maxResponseBytes")
        expect(error.message).toContain("must be a positive integer")
      }
    })
  )

  it.effect("a retry that is not a RetryPolicy (from JavaScript) is a configuration error", () =>
    Effect.gen(function* () {
      const base = { orgUrl: "https://acme.okta.com", apiToken: Redacted.make(TOKEN) }
      // Options where the policy belongs, and `true`: they died at build with "Invalid DurationInput".
      for (const retry of [{ maxRetries: 2 }, true, null]) {
        const error = configFailure(yield* buildWith({ ...base, retry: retry as never }))
        expect(error.field).toBe("retry")
        expect(error.message).toContain("RetryPolicy.make")
      }
      const accepted: ReadonlyArray<RetryPolicy.RetryPolicy | false> = [
        RetryPolicy.make({ maxRetries: 2 }),
        RetryPolicy.disabled,
        false
      ]
      for (const retry of accepted) {
        expect(Exit.isSuccess(yield* buildWith({ ...base, retry }))).toBe(true)
      }
    })
  )

  it.effect("switches that are not booleans, and a transformClient that is not a function", () =>
    Effect.gen(function* () {
      const base = { orgUrl: "https://acme.okta.com", apiToken: Redacted.make(TOKEN) }
      // From JavaScript, or options read from a file: "false" read as true, a typo as tracing on.
      for (const [options, field, says] of [
        [{ metrics: "false" }, "metrics", 'must be true or false, not "false"'],
        [
          { tracing: "exchange" },
          "tracing",
          'must be true or false, or "exchanges", not "exchange"'
        ],
        [{ tracerPropagation: 1 }, "tracerPropagation", "must be true or false, not 1"],
        [{ transformClient: "log" }, "transformClient", "must be a function"]
      ] as const) {
        const error = configFailure(yield* buildWith({ ...base, ...(options as object) }))
        expect(error).toMatchObject({ _tag: "OktaConfigError", field })
        expect(error.message).toContain(says)
      }
      for (const tracing of [true, false, "exchanges"] as const) {
        expect(Exit.isSuccess(yield* buildWith({ ...base, tracing }))).toBe(true)
      }
    })
  )
})

describe("secrets never leak", () => {
  const SECRETS = [
    TOKEN,
    "00body-token-secret",
    "office-admin-password-secret",
    "one-time-oauth-code-secret",
    "oauth-state-secret"
  ]

  const allFailures = Effect.gen(function* () {
    const results: Array<unknown> = []
    const scenarios: ReadonlyArray<Parameters<typeof connectionsWith>[0]> = [
      () =>
        json(400, {
          errorCode: "E0000001",
          errorSummary: "Api validation failed: token",
          errorCauses: [{ errorSummary: "token: invalid" }]
        }),
      () => empty(401, { "www-authenticate": 'SSWS realm="okta", error="invalid_token"' }),
      () => empty(403),
      () => json(404, { errorCode: "E0000007" }),
      () =>
        json(
          429,
          { errorCode: "E0000047" },
          {
            "x-rate-limit-limit": "50",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1767225600"
          }
        ),
      () =>
        new Response("<html>bad gateway</html>", {
          status: 502,
          headers: { "content-type": "text/html" }
        }),
      () => empty(302, { location: "https://elsewhere.example/?code=one-time-oauth-code-secret" }),
      () => ({ drop: true }),
      () => new Response("not json", { status: 200 })
    ]
    for (const handler of scenarios) {
      const { layer } = connectionsWith(handler)
      const ops: ReadonlyArray<
        (api: ApplicationConnections["Type"]) => Effect.Effect<unknown, { readonly _tag: string }>
      > = [
        (api: ApplicationConnections["Type"]) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, {
            profile: { authScheme: "TOKEN", token: "00body-token-secret" }
          }),
        (api: ApplicationConnections["Type"]) =>
          api.verifyProvisioningConnectionForApplication("office365", APP, {
            code: "one-time-oauth-code-secret",
            state: "oauth-state-secret"
          })
      ]
      for (const op of ops) {
        const exit = yield* Effect.exit(
          Effect.provide(Effect.flatMap(ApplicationConnections, op), layer)
        )
        // verify has no body to decode; a 200 page that is not JSON fails it all the same.
        if (Exit.isFailure(exit)) results.push(exit)
      }
    }
    // Rejected input: a body whose secret-bearing members are present but the shape is wrong.
    const { layer } = connectionsWith(() => empty(204))
    results.push(
      yield* Effect.exit(
        Effect.provide(
          Effect.flatMap(ApplicationConnections, (api) =>
            api.updateDefaultProvisioningConnectionForApplication(APP, {
              profile: {
                authScheme: "OAUTH2",
                settings: { adminUsername: 7, adminPassword: "office-admin-password-secret" }
              }
            } as never)
          ),
          layer
        )
      )
    )
    return results
  })

  it.effect("not in any error's message, toString, JSON, encoded form or Cause.pretty", () =>
    Effect.gen(function* () {
      const exits = yield* allFailures
      expect(exits).toHaveLength(19)
      const tags = new Set<string>()
      for (const exit of exits as Array<Exit.Exit<unknown, { _tag: string }>>) {
        if (Exit.isSuccess(exit)) throw new Error("expected a failure")
        const error = Cause.failureOption(exit.cause)
        if (error._tag === "None") throw new Error(`a defect: ${Cause.pretty(exit.cause)}`)
        tags.add(error.value._tag)
        const renderings = [
          (error.value as unknown as Error).message,
          String(error.value),
          JSON.stringify(error.value),
          JSON.stringify(Schema.encodeUnknownSync(OktaError)(error.value)),
          Cause.pretty(exit.cause)
        ]
        for (const rendering of renderings) {
          for (const secret of SECRETS) expect(rendering).not.toContain(secret)
        }
      }
      expect([...tags].sort()).toEqual([
        "OktaBadRequestError",
        "OktaDecodeError",
        "OktaForbiddenError",
        "OktaInvalidInputError",
        "OktaNotFoundError",
        "OktaRateLimitError",
        "OktaServerError",
        "OktaTransportError",
        "OktaUnauthorizedError",
        "OktaUnexpectedStatusError"
      ])
    })
  )

  /** The update's span in `tracedCalls`, with or without the exchanges' spans under it. */
  const UPDATE_ATTRIBUTES = {
    "okta.app_id": APP,
    "http.request.method": "POST",
    "url.path": `/api/v1/apps/${APP}/connections/default`,
    "server.address": "acme.okta.com",
    "server.port": 443,
    "http.response.status_code": 200,
    "okta.request_id": "req-1"
  }

  const tracedCalls = (tracing: true | "exchanges") =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const { layer, requests } = connectionsWith(
        () =>
          json(
            200,
            { status: "ENABLED", profile: { authScheme: "TOKEN" } },
            { "x-okta-request-id": "req-1" }
          ),
        { tracing }
      )
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        Effect.all([
          api.updateDefaultProvisioningConnectionForApplication(APP, {
            profile: { authScheme: "TOKEN", token: "00body-token-secret" }
          }),
          api.verifyProvisioningConnectionForApplication("office365", APP, {
            code: "one-time-oauth-code-secret",
            state: "oauth-state-secret"
          })
        ])
      ).pipe(Effect.provide(layer), Effect.withTracer(tracer))
      const byName = (name: string) => spans.find((span) => span.name === name)!
      const rendered = JSON.stringify(
        spans.map((span) => ({
          name: span.name,
          attributes: [...span.attributes.entries()],
          events: (span as unknown as { events?: unknown }).events
        }))
      )
      for (const secret of SECRETS) expect(rendered).not.toContain(secret)
      // Nor in what a span ended with: a tracer may record the exit value.
      const exits = reachableStrings(spans.map((span) => span.status)).join("\n")
      for (const secret of SECRETS) expect(exits).not.toContain(secret)
      return {
        names: spans.map((span) => span.name),
        update: byName("ApplicationConnections.updateDefaultProvisioningConnectionForApplication"),
        verify: byName("ApplicationConnections.verifyProvisioningConnectionForApplication"),
        http: spans.filter((span) => span.name.startsWith("http.client")),
        rendered,
        // Trace context sent to Okta (tracerPropagation is off by default).
        propagated: requests.flatMap((r) =>
          ["traceparent", "b3"].filter((name) => r.headers[name] !== undefined)
        )
      }
    })

  it.effect(
    "not in any span; by default one span per call, with the HTTP facts as attributes",
    () =>
      Effect.gen(function* () {
        const { http, update, verify, propagated } = yield* tracedCalls(true)
        expect(http).toEqual([])
        expect(propagated).toEqual([])
        expect(Object.fromEntries(update.attributes)).toEqual(UPDATE_ATTRIBUTES)
        expect(verify.attributes.get("okta.app_name")).toBe("office365")
        // The path only: the query of the verify callback holds the one-time code.
        expect(verify.attributes.get("url.path")).toBe(
          `/api/v1/apps/office365/${APP}/oauth2/callback`
        )
      })
  )

  it.effect("each of the six operations' spans names its app: okta.app_id, and okta.app_name", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const { layer } = connectionsWith(
        (request) =>
          request.url.pathname.endsWith("/jwks")
            ? json(200, { jwks: { keys: [] } })
            : request.method === "POST" && !request.url.pathname.endsWith("/default")
              ? empty(204)
              : json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } }),
        { tracing: true }
      )
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        Effect.all([
          api.getDefaultProvisioningConnectionForApplication(APP),
          api.updateDefaultProvisioningConnectionForApplication(APP, {
            profile: { authScheme: "TOKEN", token: "00body-token-secret" }
          }),
          api.activateDefaultProvisioningConnectionForApplication(APP),
          api.deactivateDefaultProvisioningConnectionForApplication(APP),
          api.getUserProvisioningConnectionJWKS(APP),
          api.verifyProvisioningConnectionForApplication("office365", APP)
        ])
      ).pipe(Effect.provide(layer), Effect.withTracer(tracer))
      expect(
        spans.map((span) => [
          span.name,
          span.attributes.get("okta.app_id"),
          span.attributes.get("okta.app_name")
        ])
      ).toEqual([
        ["ApplicationConnections.getDefaultProvisioningConnectionForApplication", APP, undefined],
        [
          "ApplicationConnections.updateDefaultProvisioningConnectionForApplication",
          APP,
          undefined
        ],
        [
          "ApplicationConnections.activateDefaultProvisioningConnectionForApplication",
          APP,
          undefined
        ],
        [
          "ApplicationConnections.deactivateDefaultProvisioningConnectionForApplication",
          APP,
          undefined
        ],
        ["ApplicationConnections.getUserProvisioningConnectionJWKS", APP, undefined],
        ["ApplicationConnections.verifyProvisioningConnectionForApplication", APP, "office365"]
      ])
    })
  )

  it.effect(
    'tracing: "exchanges" adds the HTTP span of each exchange, under its call\'s span',
    () =>
      Effect.gen(function* () {
        const { http, update, verify, propagated } = yield* tracedCalls("exchanges")
        expect(propagated).toEqual([])
        // The call's span keeps its attributes, the last answer's included.
        expect(Object.fromEntries(update.attributes)).toEqual(UPDATE_ATTRIBUTES)
        expect(http.map((span) => [span.name, span.kind])).toEqual([
          ["http.client POST", "client"],
          ["http.client POST", "client"]
        ])
        expect(http.map((span) => Option.map(span.parent, (parent) => parent.spanId))).toEqual([
          Option.some(update.spanId),
          Option.some(verify.spanId)
        ])
        expect(Object.fromEntries(http[0]!.attributes)).toEqual({
          "http.request.method": "POST",
          "url.full": `${ORG}/api/v1/apps/${APP}/connections/default`,
          "server.address": "acme.okta.com",
          "server.port": 443,
          "http.response.status_code": 200,
          "okta.request_id": "req-1"
        })
        // The verify callback's span has its URL without the query (the one-time code).
        expect(http[1]!.attributes.get("url.full")).toBe(
          `${ORG}/api/v1/apps/office365/${APP}/oauth2/callback`
        )
        // Each ends with no value: a tracer that records exits keeps nothing of the answer.
        for (const span of http) {
          expect(span.status).toMatchObject({
            _tag: "Ended",
            exit: { _tag: "Success", value: undefined }
          })
        }
      })
  )

  it.effect("a success's request id that echoes the request reaches no span with its secrets", () =>
    Effect.gen(function* () {
      const named = []
      for (const tracing of [true, "exchanges"] as const) {
        const { spans, tracer } = yield* recordingTracer
        // A proxy that stamps its own request id, made of what it received.
        const { layer } = connectionsWith(
          (request) =>
            json(
              200,
              { status: "ENABLED", profile: { authScheme: "TOKEN" } },
              { "x-okta-request-id": `req ${request.headers["authorization"]} ${request.rawBody}` }
            ),
          { tracing }
        )
        yield* Effect.flatMap(ApplicationConnections, (api) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, {
            profile: { authScheme: "TOKEN", token: "00body-token-secret" }
          })
        ).pipe(Effect.provide(layer), Effect.withTracer(tracer))
        for (const span of spans) {
          const id = span.attributes.get("okta.request_id")
          if (id !== undefined) named.push([tracing, span.name, id])
        }
      }
      const scrubbed = 'req <redacted> {"profile":{"authScheme":"TOKEN","token":"<redacted>"}}'
      expect(named).toEqual([
        [
          true,
          "ApplicationConnections.updateDefaultProvisioningConnectionForApplication",
          scrubbed
        ],
        [
          "exchanges",
          "ApplicationConnections.updateDefaultProvisioningConnectionForApplication",
          scrubbed
        ],
        ["exchanges", "http.client POST", scrubbed]
      ])
    })
  )

  it.effect(
    "server.address is the host name alone and server.port its port, as OTel names them",
    () =>
      Effect.gen(function* () {
        const { spans, tracer } = yield* recordingTracer
        const http = scriptedHttp(() =>
          json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } })
        )
        yield* Effect.flatMap(OktaClient, (client) =>
          client.execute(
            { operation: "probe", method: "GET", path: "/api/v1/probe" },
            () => Effect.void
          )
        ).pipe(
          Effect.provide(
            OktaClient.layer({
              orgUrl: "http://[::1]:8080",
              apiToken: Redacted.make(TOKEN),
              tracing: "exchanges"
            }).pipe(Layer.provide(http.layer))
          ),
          Effect.withTracer(tracer)
        )
        const servers = spans.map((span) => [
          span.name,
          span.attributes.get("server.address"),
          span.attributes.get("server.port")
        ])
        expect(servers).toEqual([
          ["OktaClient.probe", "::1", 8080],
          ["http.client GET", "::1", 8080]
        ])
      })
  )

  it.effect(
    "a query written into execute's path stays out of the spans; an http URL's port is 80",
    () =>
      Effect.gen(function* () {
        const { spans, tracer } = yield* recordingTracer
        const http = scriptedHttp(() => json(200, {}))
        yield* Effect.flatMap(OktaClient, (client) =>
          client.execute(
            { operation: "probe", method: "GET", path: "/api/v1/probe?code=s3cret#part" },
            () => Effect.void
          )
        ).pipe(
          Effect.provide(
            OktaClient.layer({
              orgUrl: "http://localhost",
              apiToken: Redacted.make(TOKEN),
              tracing: "exchanges"
            }).pipe(Layer.provide(http.layer))
          ),
          Effect.withTracer(tracer)
        )
        // Sent as written.
        expect(http.requests[0]!.url.search).toBe("?code=s3cret")
        const [call, exchange] = spans
        expect(call!.attributes.get("url.path")).toBe("/api/v1/probe")
        expect(Object.fromEntries(exchange!.attributes)).toMatchObject({
          "url.full": "http://localhost/api/v1/probe",
          "server.address": "localhost",
          "server.port": 80
        })
      })
  )

  it.effect("what a call sets for the transport is undone after it, on success and failure", () =>
    Effect.gen(function* () {
      let status = 200
      const { layer } = connectionsWith(() =>
        json(status, { status: "ENABLED", profile: { authScheme: "TOKEN" } })
      )
      const observe = Effect.all({
        propagation: FiberRef.get(HttpClient.currentTracerPropagation),
        disabledWhen: FiberRef.get(HttpClient.currentTracerDisabledWhen),
        init: Effect.serviceOption(FetchHttpClient.RequestInit),
        span: Effect.map(
          Effect.option(Effect.currentSpan),
          Option.map((span) => span.name)
        )
      })
      yield* Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const before = yield* observe
        yield* api.getDefaultProvisioningConnectionForApplication(APP)
        expect(yield* observe).toEqual(before)
        status = 500
        yield* Effect.exit(api.getDefaultProvisioningConnectionForApplication(APP))
        expect(yield* observe).toEqual(before)
        expect(before.propagation).toBe(true)
        expect(before.init).toEqual(Option.some({ keepalive: true }))
        expect(before.span).toEqual(Option.some("caller"))
      }).pipe(
        Effect.withSpan("caller"),
        Effect.provideService(FetchHttpClient.RequestInit, { keepalive: true }),
        Effect.provide(layer)
      )
    })
  )

  it.effect(
    "a decoder runs under the caller's span: the call's span is named, not made current",
    () =>
      Effect.gen(function* () {
        const { spans, tracer } = yield* recordingTracer
        const http = scriptedHttp(() => json(200, { id: "0oa1" }))
        const seen = yield* Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "probe", method: "GET", path: "/x" }, () =>
            Effect.map(Effect.currentSpan, (span) => span.name)
          )
        ).pipe(
          Effect.withSpan("caller"),
          Effect.provide(
            OktaClient.layer({ orgUrl: ORG, apiToken: Redacted.make(TOKEN) }).pipe(
              Layer.provide(http.layer)
            )
          ),
          Effect.withTracer(tracer)
        )
        expect(seen).toBe("caller")
        const call = spans.find((span) => span.name === "OktaClient.probe")!
        expect(Object.fromEntries(call.attributes)).toMatchObject({
          "http.response.status_code": 200
        })
      })
  )

  it.effect("tracing: false records no span at all", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const { layer } = connectionsWith(
        () => json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } }),
        {
          tracing: false
        }
      )
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.getDefaultProvisioningConnectionForApplication(APP)
      ).pipe(Effect.provide(layer), Effect.withTracer(tracer))
      expect(spans).toEqual([])
    })
  )

  it.effect("errors are serializable: encode → decode gives an equal error of the same class", () =>
    Effect.gen(function* () {
      const exits = yield* allFailures
      for (const exit of exits as Array<Exit.Exit<unknown, unknown>>) {
        if (Exit.isSuccess(exit)) continue
        const error = Cause.failureOption(exit.cause)
        if (error._tag === "None") continue
        const wire = JSON.parse(
          JSON.stringify(Schema.encodeUnknownSync(OktaError)(error.value))
        ) as unknown
        const back = Schema.decodeUnknownSync(OktaError)(wire)
        expect(back.constructor).toBe((error.value as object).constructor)
        expect(back.message).toBe((error.value as Error).message)
      }
    })
  )

  it.effect("so is a deadline's cause, decoded back into its own class", () =>
    Effect.gen(function* () {
      const { layer } = connectionsWith(
        () =>
          json(
            429,
            { errorCode: "E0000047", errorSummary: "echo: 00body-token-secret" },
            {
              "x-rate-limit-limit": "50",
              "x-rate-limit-remaining": "0",
              "x-rate-limit-reset": "60"
            }
          ),
        { deadline: "30 seconds", retry: RetryPolicy.defaultPolicy }
      )
      const error = yield* Effect.flip(
        Effect.provide(
          Effect.flatMap(ApplicationConnections, (api) =>
            api.updateDefaultProvisioningConnectionForApplication(APP, {
              profile: { authScheme: "TOKEN", token: "00body-token-secret" }
            })
          ),
          layer
        )
      )
      expect(error).toMatchObject({ _tag: "OktaTimeoutError", kind: "deadline", attempts: 1 })
      const wire = JSON.stringify(Schema.encodeUnknownSync(OktaError)(error))
      // The echoed secret is scrubbed in the cause as in the error it was.
      expect(wire).not.toContain("00body-token-secret")
      const back = Schema.decodeUnknownSync(OktaError)(JSON.parse(wire))
      expect(back._tag === "OktaTimeoutError" && back.cause).toBeInstanceOf(OktaRateLimitError)
      expect(back.message).toBe(error.message)
      expect(back.message).toContain("the last failure (OktaRateLimitError): HTTP 429: E0000047")
    })
  )

  it("a deadline whose cause is a refused token request (repaired, then out of time) too", () => {
    const token = { operation: "getAccessToken", method: "POST", path: "/oauth2/v1/token" }
    const error = new OktaTimeoutError({
      ...token,
      timeoutMillis: 1000,
      kind: "deadline",
      attempts: 1,
      cause: new OktaAuthError({ ...token, status: 400, error: "use_dpop_nonce" })
    })
    const back = Schema.decodeUnknownSync(OktaError)(
      JSON.parse(JSON.stringify(Schema.encodeSync(OktaError)(error)))
    )
    expect(back._tag === "OktaTimeoutError" && back.cause).toBeInstanceOf(OktaAuthError)
    expect(back.message).toBe(error.message)
  })
})

describe("the OktaError classes, as a user's code meets them", () => {
  it("an OktaTransportError without connectFailed (a test double's, or one encoded before the field) had no response", () => {
    const fields = {
      operation: "get",
      method: "GET",
      path: "/x",
      reason: "reset",
      afterResponse: false
    }
    const made = new OktaTransportError(fields)
    expect(made.connectFailed).toBe(false)
    expect(made.message).toBe("get (GET /x) failed: no response (reset)")
    const read = Schema.decodeUnknownSync(OktaError)({ _tag: "OktaTransportError", ...fields })
    expect(read).toMatchObject({ _tag: "OktaTransportError", connectFailed: false })
    expect(read.message).toBe(made.message)
    // One attempt is no retry: only more than one is said.
    expect(new OktaTransportError({ ...fields, attempts: 1 }).message).toBe(made.message)
    expect(new OktaTransportError({ ...fields, attempts: 3 }).message).toBe(
      `${made.message}, after 3 attempts`
    )
  })

  it("an OktaTimeoutError without kind is an attempt's timeout, not the call's deadline", () => {
    const made = new OktaTimeoutError({
      operation: "get",
      method: "GET",
      path: "/x",
      timeoutMillis: 50
    })
    expect(made.kind).toBe("attempt")
    expect(made.message).toBe(
      "get (GET /x) timed out: an attempt took longer than its 50 ms timeout"
    )
  })

  // One error of each of the thirteen classes, whatever their fields hold.
  const oneOfEach = () => {
    const byTag = new Map<string, OktaError>()
    for (const error of FastCheck.sample(Arbitrary.make(OktaError), { seed: 7, numRuns: 400 })) {
      byTag.set(error._tag, error)
    }
    expect([...byTag.keys()].sort()).toEqual([
      "OktaAuthError",
      "OktaBadRequestError",
      "OktaConfigError",
      "OktaDecodeError",
      "OktaForbiddenError",
      "OktaInvalidInputError",
      "OktaNotFoundError",
      "OktaRateLimitError",
      "OktaServerError",
      "OktaTimeoutError",
      "OktaTransportError",
      "OktaUnauthorizedError",
      "OktaUnexpectedStatusError"
    ])
    return [...byTag.values()]
  }

  it("is read back by the OktaError schema as the same class with the same message", () => {
    for (const error of oneOfEach()) {
      const back = Schema.decodeUnknownSync(OktaError)(Schema.encodeSync(OktaError)(error))
      expect(back.constructor).toBe(error.constructor)
      expect(back.message).toBe(error.message)
    }
  })

  it.effect(
    "failed again under the user's own span, a failing expect on it reports, not overflows",
    () =>
      Effect.gen(function* () {
        for (const error of oneOfEach()) {
          // Effect hands such an error back wrapped in a Proxy that carries the span.
          const again = yield* Effect.flip(Effect.withSpan(Effect.fail(error), "user"))
          expect(types.isProxy(again)).toBe(true)
          expect(() => expect(again).toBe("something else")).toThrow(/ to be 'something else'/)
          // What the assertion prints of it (in full when chaiConfig.truncateThreshold is 0).
          expect(chai.util.inspect(again)).toBe(`${error._tag}: ${error.message}`)
        }
      })
  )
})

describe("over a real loopback socket with FetchHttpClient", () => {
  const listen = (
    handler: (
      req: IncomingMessage,
      body: string
    ) => { status: number; headers?: Record<string, string>; body?: string }
  ) =>
    Effect.acquireRelease(
      Effect.async<{
        server: Server
        url: string
        seen: Array<{ url: string; authorization?: string }>
      }>((resume) => {
        const seen: Array<{ url: string; authorization?: string }> = []
        const server = createServer((req, res) => {
          let body = ""
          req.on("data", (chunk: Buffer) => (body += chunk.toString()))
          req.on("end", () => {
            seen.push({
              url: req.url ?? "",
              ...(req.headers.authorization !== undefined
                ? { authorization: req.headers.authorization }
                : {})
            })
            const reply = handler(req, body)
            res.writeHead(reply.status, reply.headers ?? {})
            res.end(reply.body ?? "")
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}`, seen }))
        })
      }),
      ({ server }) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )

  /** The exit of one GET through a client of the org at `orgUrl` on `transport`. */
  const getThrough = (orgUrl: string, transport: Layer.Layer<HttpClient.HttpClient>) =>
    Effect.exit(
      Effect.flatMap(ApplicationConnections, (api) =>
        api.getDefaultProvisioningConnectionForApplication(APP)
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(OktaClient.layer({ orgUrl, apiToken: Redacted.make(TOKEN) })),
            Layer.provide(transport)
          )
        )
      )
    )

  it.scopedLive("a redirect to another origin is not followed and the token never reaches it", () =>
    Effect.gen(function* () {
      const elsewhere = yield* listen(() => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: "{}"
      }))
      const okta = yield* listen(() => ({
        status: 307,
        headers: { location: `${elsewhere.url}/steal?x=1` }
      }))
      const exit = yield* getThrough(okta.url, FetchHttpClient.layer)
      expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
        value: {
          _tag: "OktaUnexpectedStatusError",
          status: 307,
          location: `${elsewhere.url}/steal`
        }
      })
      expect(okta.seen).toHaveLength(1)
      expect(okta.seen[0]!.authorization).toBe(`SSWS ${TOKEN}`)
      expect(elsewhere.seen).toHaveLength(0)
    })
  )

  // A client wrapped on its way (here with a no-op `mapRequest`) is not the one the layer built.
  const wrapped = Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (client) => HttpClient.mapRequest(client, (r) => r))
  ).pipe(Layer.provide(OktaFetch.layer()))
  for (const [name, fetchLayer] of [
    ["FetchHttpClient.layer", FetchHttpClient.layer],
    ["OktaFetch.layer()", OktaFetch.layer()],
    ["a wrapped OktaFetch.layer()", wrapped]
  ] as const) {
    it.scopedLive(`a RequestInit asking ${name} to follow redirects does not make it follow`, () =>
      Effect.gen(function* () {
        const elsewhere = yield* listen(() => ({ status: 200, body: "{}" }))
        const okta = yield* listen(() => ({
          status: 302,
          headers: { location: `${elsewhere.url}/steal` }
        }))
        const follow = Layer.succeed(FetchHttpClient.RequestInit, { redirect: "follow" })
        const exit = yield* getThrough(okta.url, fetchLayer.pipe(Layer.provide(follow)))
        expect(Exit.isFailure(exit) && Cause.failureOption(exit.cause)).toMatchObject({
          value: { _tag: "OktaUnexpectedStatusError", status: 302 }
        })
        expect(elsewhere.seen).toHaveLength(0)
      })
    )
  }

  it.scopedLive("on OktaFetch.layer, a request a decoder sends itself is its own: it follows", () =>
    Effect.gen(function* () {
      const target = yield* listen(() => ({ status: 200, body: "{}" }))
      const hop = yield* listen(() => ({ status: 302, headers: { location: `${target.url}/t` } }))
      const okta = yield* listen(() => ({
        status: 200,
        headers: { "content-type": "application/json" },
        body: "{}"
      }))
      // The decoder's own GET, through its own FetchHttpClient, sent while the call's attempt runs.
      const status = yield* Effect.flatMap(OktaClient, (client) =>
        client.execute({ operation: "probe", method: "GET", path: "/x" }, (response) =>
          Effect.zipRight(
            response.text,
            HttpClient.get(`${hop.url}/go`).pipe(
              Effect.map((r) => r.status),
              Effect.provide(FetchHttpClient.layer)
            )
          )
        )
      ).pipe(
        Effect.provide(
          OktaClient.layer({ orgUrl: okta.url, apiToken: Redacted.make(TOKEN) }).pipe(
            Layer.provide(OktaFetch.layer())
          )
        )
      )
      expect(status).toBe(200)
      expect(target.seen).toHaveLength(1)
    })
  )

  it.scopedLive("the whole flow works over fetch: update with activate, then get", () =>
    Effect.gen(function* () {
      let stored: unknown = undefined
      const okta = yield* listen((req, body) => {
        if (req.method === "POST") {
          stored = JSON.parse(body)
          return {
            status: 200,
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } })
          }
        }
        return {
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } })
        }
      })
      const result = yield* Effect.flatMap(ApplicationConnections, (api) =>
        Effect.zipRight(
          api.updateDefaultProvisioningConnectionForApplication(
            APP,
            { profile: { authScheme: "TOKEN", token: "t0k" } },
            { activate: true }
          ),
          api.getDefaultProvisioningConnectionForApplication(APP)
        )
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(OktaClient.layer({ orgUrl: okta.url, apiToken: Redacted.make(TOKEN) })),
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      expect(result.status).toBe("ENABLED")
      expect(stored).toEqual({ profile: { authScheme: "TOKEN", token: "t0k" } })
      expect(okta.seen.map((s) => s.url)).toEqual([
        `/api/v1/apps/${APP}/connections/default?activate=true`,
        `/api/v1/apps/${APP}/connections/default`
      ])
    })
  )
})
