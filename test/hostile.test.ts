/**
 * A hostile or broken server and hostile input: nothing odd reaches the wire, nothing dies, one
 * implausible response cannot stall the client, a refused token never wedges it, and what the
 * server echoes never carries the call's secrets into an error.
 */
import { FetchHttpClient, type HttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import {
  Arbitrary,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  HashMap,
  Layer,
  Logger,
  Metric,
  Redacted,
  Schedule,
  Schema,
  TestClock
} from "effect"
import { generateKeyPairSync, createPublicKey } from "node:crypto"
import {
  AppId,
  ApplicationConnections,
  type ApplicationConnectionsService,
  OktaClient,
  OktaMetrics,
  RetryPolicy,
  type OktaClientSettings,
  UpdateDefaultProvisioningConnectionForApplicationRequest
} from "../src/index.js"
import { OktaSimulator, withAdvancingClock } from "../src/testing/index.js"
import { failureOf } from "./support/exit.js"
import { allFaces, inProcess } from "./support/faces.js"
import { loopbackServer } from "./support/loopback.js"
import { OPERATIONS } from "./support/operations.js"
import { turn } from "./support/clock.js"
import {
  connectionsWith,
  json,
  ORG,
  scriptedHttp,
  TOKEN,
  type Handler
} from "./support/TestHttp.js"

const APP = "0oasimzscaler0000001"
const OK = { status: "ENABLED", profile: { authScheme: "TOKEN" } }

const errorOf = (exit: Exit.Exit<unknown, unknown>) =>
  failureOf(exit) as { _tag: string; [k: string]: unknown }

const throwingGetter = {
  profile: {
    authScheme: "TOKEN",
    get token(): string {
      throw new Error("getter")
    }
  }
}
const throwingProxy = new Proxy(
  {},
  {
    get: () => {
      throw new Error("trap")
    },
    ownKeys: () => {
      throw new Error("trap")
    }
  }
)
const cyclic: Record<string, unknown> = {}
cyclic["self"] = cyclic

for (const face of allFaces) {
  describe(`input that must not reach the wire, over the ${face.name}`, () => {
    it.effect("dot segments, lone surrogates, empty codes, unreadable bodies: typed, unsent", () =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const client = yield* OktaClient
        // A request through `execute`, whose answer (none comes) would be ignored.
        const executed = (request: Parameters<typeof client.execute>[0]) =>
          client.execute(request, () => Effect.void)
        const sim = yield* OktaSimulator
        // [the field named, the call, what the error's issues say (where a case is about it)]
        const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, unknown>, string?]> = [
          ["appId", api.activateDefaultProvisioningConnectionForApplication(".")],
          ["appId", api.deactivateDefaultProvisioningConnectionForApplication(".")],
          ["appId", api.getDefaultProvisioningConnectionForApplication(".")],
          ["appId", api.getUserProvisioningConnectionJWKS(".")],
          ["appId", api.verifyProvisioningConnectionForApplication("google", ".")],
          ["appId", api.getDefaultProvisioningConnectionForApplication("\uD800")],
          ["appId", api.getDefaultProvisioningConnectionForApplication("a\uDC00b")],
          ["appId", api.activateDefaultProvisioningConnectionForApplication("0oa\uD83D")],
          ["code", api.verifyProvisioningConnectionForApplication("office365", APP, { code: "" })],
          [
            "code",
            api.verifyProvisioningConnectionForApplication("office365", APP, { code: 42 as never }),
            "expected a string"
          ],
          [
            "state",
            api.verifyProvisioningConnectionForApplication("office365", APP, {
              code: "c0de",
              state: ""
            })
          ],
          [
            "code",
            api.verifyProvisioningConnectionForApplication("office365", APP, {
              code: "a\uD800"
            })
          ],
          [
            "state",
            api.verifyProvisioningConnectionForApplication("office365", APP, {
              state: "\uDFFF"
            })
          ],
          [
            "body",
            api.updateDefaultProvisioningConnectionForApplication(APP, throwingGetter as never),
            "could not be read (Error thrown)"
          ],
          [
            "body",
            api.updateDefaultProvisioningConnectionForApplication(APP, throwingProxy as never)
          ],
          ["path", executed({ operation: "x", method: "GET", path: "https://evil.example/x" })],
          ["path", executed({ operation: "x", method: "GET", path: "//evil.example/x" })],
          ["path", executed({ operation: "x", method: "GET", path: undefined as never })],
          ["path", executed({ operation: "x", method: "GET", path: "/api/v1/apps/\uD800" })],
          // The URL parser would drop a tab or a line break and encode a space: not what was meant.
          [
            "path",
            executed({ operation: "x", method: "GET", path: "/api/v1/apps/0oa1\n/lifecycle" })
          ],
          ["path", executed({ operation: "x", method: "GET", path: "/api/v1/apps/0oa 1" })],
          // The URL parser would resolve these to another path than the one errors name.
          ["path", executed({ operation: "x", method: "GET", path: "/api/v1/apps/../users" })],
          ["path", executed({ operation: "x", method: "DELETE", path: "/api/v1/apps/.." })],
          ["path", executed({ operation: "x", method: "GET", path: "/api/v1/%2E%2e/users" })],
          ["path", executed({ operation: "x", method: "GET", path: "/api/v1/./apps?q=1" })],
          ["path", executed({ operation: "x", method: "GET", path: "/api/v1\\..\\users" })],
          [
            "urlParams.q",
            executed({
              operation: "x",
              method: "GET",
              path: "/api/v1/apps",
              urlParams: { q: "\uDC00" }
            })
          ],
          [
            "urlParams.\uD800",
            executed({
              operation: "x",
              method: "GET",
              path: "/api/v1/apps",
              urlParams: { "\uD800": "x" }
            })
          ],
          [
            "urlParams.limit",
            executed({
              operation: "x",
              method: "GET",
              path: "/api/v1/apps",
              urlParams: { limit: 20 as never }
            }),
            "expected a string"
          ],
          [
            "body",
            executed({ operation: "x", method: "POST", path: "/api/v1/apps", body: { n: 1n } }),
            "cannot be encoded as JSON (TypeError thrown)"
          ],
          // JSON.stringify gives no JSON for it at all.
          [
            "body",
            executed({ operation: "x", method: "POST", path: "/api/v1/apps", body: () => 1 }),
            "cannot be encoded as JSON"
          ],
          [
            "body",
            executed({ operation: "x", method: "POST", path: "/api/v1/apps", body: cyclic })
          ],
          // fetch would refuse it after the gate, undici would send it: neither is what was meant.
          ["body", executed({ operation: "x", method: "GET", path: "/api/v1/apps", body: {} })],
          // From JavaScript, where the type does not hold: no transport sends these as written.
          [
            "method",
            executed({ operation: "x", method: "get" as never, path: "/api/v1/apps" }),
            "must be one of GET, POST, PUT, PATCH or DELETE (in capitals: GET)"
          ],
          ["method", executed({ operation: "x", method: "HEAD" as never, path: "/api/v1/apps" })],
          // A member the client would drop without a word (from JavaScript, or a spread).
          [
            "headers",
            executed({
              operation: "x",
              method: "GET",
              path: "/api/v1/apps",
              headers: { "if-match": "x" }
            } as never),
            "is not a member of a request: the client sets the headers"
          ],
          [
            "query",
            executed({
              operation: "x",
              method: "GET",
              path: "/api/v1/apps",
              query: "q=1"
            } as never),
            "is not a member of a request (its members: operation, method, path, urlParams,"
          ],
          ["method", executed({ operation: "x", method: "GE T" as never, path: "/api/v1/apps" })],
          // What errors, spans and metrics name the call by: not blank, and there at all.
          [
            "operation",
            executed({ operation: " ", method: "GET", path: "/api/v1/apps" }),
            "must name the call"
          ],
          [
            "operation",
            executed({ operation: undefined as never, method: "GET", path: "/api/v1/apps" }),
            "must name the call"
          ]
        ]
        for (const [field, effect, issues] of cases) {
          const error = errorOf(yield* Effect.exit(effect))
          expect({ tag: error._tag, field: error["field"] }).toEqual({
            tag: "OktaInvalidInputError",
            field
          })
          if (issues !== undefined) expect(error["issues"]).toContain(issues)
          expect(String(error["message"])).toContain("nothing was sent")
        }
        expect(yield* sim.requests).toEqual([])
        // Well-formed astral characters are not surrogate errors (they fail other rules).
        const emoji = errorOf(
          yield* Effect.exit(api.getDefaultProvisioningConnectionForApplication("0oa😀"))
        )
        expect(emoji._tag).toBe("OktaNotFoundError")
      }).pipe(Effect.provide(face.layer()))
    )
  })
}

describe("any argument", () => {
  const PROPS = { fastCheck: { seed: 20261203, numRuns: 300 } }
  /** Runs `call` over a client whose server answers every request with a 200. */
  const sent = <A, E>(call: (api: ApplicationConnectionsService) => Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const { requests, layer } = connectionsWith(() => json(200, OK))
      const exit = yield* Effect.exit(Effect.flatMap(ApplicationConnections, call)).pipe(
        Effect.provide(layer)
      )
      return { requests, exit }
    })
  const isAppId = Schema.is(AppId)

  it.effect.prop(
    "an app id the AppId schema refuses is an OktaInvalidInputError and unsent; one it takes is sent in its own path segment",
    [
      fc.constantFrom(...OPERATIONS),
      fc.oneof(
        fc.string({ maxLength: 24 }),
        fc.fullUnicodeString({ maxLength: 12 }),
        fc.string16bits({ maxLength: 12 }),
        fc.constantFrom(".", "..", "0oa/../x", "%2e%2e", "0oa?x=1", "0oa#f", " 0oa", "0oa😀", APP)
      )
    ],
    ([operation, id]) =>
      Effect.gen(function* () {
        const { requests, exit } = yield* sent((api) => operation.call(api, id))
        if (!isAppId(id)) {
          expect(errorOf(exit)).toMatchObject({ _tag: "OktaInvalidInputError", field: "appId" })
          expect(requests).toEqual([])
        } else {
          expect(requests.map((r) => r.path)).toEqual([
            operation.path.replace("{id}", encodeURIComponent(id))
          ])
        }
      }),
    PROPS
  )

  const Body = UpdateDefaultProvisioningConnectionForApplicationRequest
  const blank = (value: unknown) => typeof value === "string" && value.trim() === ""
  // A body of the contract's type, unless its token or admin password is blank.
  const sendable = (body: UpdateDefaultProvisioningConnectionForApplicationRequest) =>
    !blank(body.profile.authScheme === "TOKEN" ? body.profile.token : undefined) &&
    !blank(body.profile.authScheme === "OAUTH2" ? body.profile.settings?.adminPassword : undefined)

  it.effect.prop(
    "an update body is sent encoded as the contract's schema has it, or is an OktaInvalidInputError and unsent",
    [
      fc.oneof(
        Arbitrary.make(Body).map((body) => ({ kind: "typed", body }) as const),
        fc.anything().map((body) => ({ kind: "any", body }) as const),
        // A typo'd or unknown member, at the top or in the profile: never dropped and sent.
        Arbitrary.make(Body).map(
          (body) => ({ kind: "typo", body: { ...body, tokn: "00x" } }) as const
        ),
        Arbitrary.make(Body).map(
          (body) =>
            ({ kind: "typo", body: { ...body, profile: { ...body.profile, extra: 1 } } }) as const
        )
      )
    ],
    ([{ kind, body }]) =>
      Effect.gen(function* () {
        const { requests, exit } = yield* sent((api) =>
          api.updateDefaultProvisioningConnectionForApplication(APP, body as never)
        )
        if (requests.length === 0) {
          expect(errorOf(exit)).toMatchObject({ _tag: "OktaInvalidInputError", field: "body" })
          if (kind === "typed") expect(sendable(body)).toBe(false)
        } else {
          expect(kind).not.toBe("typo")
          if (kind === "typed") expect(sendable(body)).toBe(true)
          expect(requests).toHaveLength(1)
          const encoded = JSON.parse(JSON.stringify(Schema.encodeUnknownSync(Body)(body)))
          expect(requests[0]!.body).toEqual(encoded)
        }
      }),
    PROPS
  )
})

describe("credentials an HTTP header cannot carry are refused at construction", () => {
  const build = (settings: Record<string, unknown>) =>
    Effect.exit(
      Layer.build(
        OktaClient.layer({ orgUrl: ORG, apiToken: Redacted.make("00abc"), ...settings } as never)
      ).pipe(Effect.provide(scriptedHttp(() => json(200, OK)).layer), Effect.scoped)
    )

  it.effect("a token outside Latin-1, a user agent with a newline or a non-Latin-1 character", () =>
    Effect.gen(function* () {
      const cases = [
        ["apiToken", { apiToken: Redacted.make("00abc\u2026") }],
        ["accessToken", { apiToken: undefined, accessToken: Redacted.make("eyJ\u201ctoken") }],
        ["userAgentExtra", { userAgentExtra: "my-app/1.0\r\nx-injected: 1" }],
        ["userAgentExtra", { userAgentExtra: "my-app/1.0 \u2013 sync" }],
        // DEL: fetch would send it, undici refuses the header on every call.
        ["userAgentExtra", { userAgentExtra: "my-app/1.0\u007f" }],
        // From JavaScript, a version number given as a number.
        ["userAgentExtra", { userAgentExtra: 1.4 }]
      ] as const
      for (const [field, settings] of cases) {
        const error = errorOf(yield* build(settings))
        expect({ tag: error._tag, field: error["field"] }).toEqual({
          tag: "OktaConfigError",
          field
        })
        expect(String(error["message"])).not.toContain("00abc")
      }
      // Latin-1 itself is fine.
      expect(Exit.isSuccess(yield* build({ userAgentExtra: "café-sync/1.0" }))).toBe(true)
    })
  )
})

// ---------------------------------------------------------------------------------------------
// Rate-limit state a server cannot poison.

const NOW = Date.parse("2026-12-01T12:00:00Z")
const secondsFromNow = (seconds: number) => String(Math.floor(NOW / 1000) + seconds)
const dateAt = (millis: number) => new Date(millis).toUTCString()

const exact = (options: RetryPolicy.RetryPolicyOptions = {}) =>
  RetryPolicy.make({
    resetJitter: 0,
    backoff: Schedule.spaced("200 millis"),
    adaptiveConcurrency: false,
    ...options
  })

/** A response whose rate-limit headers say the window is spent until `reset`. */
const spent = (status: 200 | 429, reset: string, date: number = NOW) =>
  json(status, status === 200 ? OK : { errorCode: "E0000047", errorSummary: "rate limit" }, {
    date: dateAt(date),
    "x-rate-limit-limit": "50",
    "x-rate-limit-remaining": "0",
    "x-rate-limit-reset": reset
  })

const fine = (date: number) =>
  json(200, OK, {
    date: dateAt(date),
    "x-rate-limit-limit": "50",
    "x-rate-limit-remaining": "40",
    "x-rate-limit-reset": String(Math.floor(date / 1000) + 60)
  })

/**
 * A logger that keeps the warnings' messages, and what it kept. Provided in an `Effect.provide` of
 * its own, after the client's layer (the language service flags that): a logger provides no
 * service, so nothing is built twice.
 */
const warningsKept = () => {
  const warnings: Array<string> = []
  const annotations: Array<Record<string, unknown>> = []
  const logger = Logger.make(({ logLevel, message, annotations: annotated }) => {
    if (logLevel._tag !== "Warning") return
    warnings.push(String(message))
    annotations.push(Object.fromEntries(HashMap.toEntries(annotated)))
  })
  return { warnings, annotations, keeping: Logger.replace(Logger.defaultLogger, logger) }
}

/** Two calls through one client: the first gets `first`, every later request `later`. */
const twoCalls = (first: Handler, later: Handler, settings: OktaClientSettings = {}) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(NOW)
    let n = 0
    const { requests, layer } = connectionsWith((r) => (n++ === 0 ? first(r) : later(r)), {
      retry: exact(),
      ...settings
    })
    const { warnings, annotations, keeping } = warningsKept()
    const fiber = yield* Effect.fork(
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const firstExit = yield* Effect.exit(
          api.getDefaultProvisioningConnectionForApplication(APP)
        )
        const secondExit = yield* Effect.exit(
          api.getDefaultProvisioningConnectionForApplication(APP)
        )
        return [firstExit, secondExit] as const
      }).pipe(
        // @effect-diagnostics-next-line multipleEffectProvide:off
        Effect.provide(layer),
        Effect.provide(keeping)
      )
    )
    return { requests, fiber, warnings, annotations }
  })

const distrustedCount = (header: string) =>
  Effect.map(
    Metric.value(
      OktaMetrics.rateLimitDistrusted.pipe(
        Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
        Metric.tagged("header", header)
      )
    ),
    (state) => state.count
  )

describe("implausible rate-limit headers never stall the client", () => {
  for (const [name, reset, quoted = reset.slice(0, 64)] of [
    ["an hour ahead", secondsFromNow(3600)],
    ["beyond the timer's range", "99999999999"],
    // The warning quotes at most 64 characters of it.
    ["80 digits long", "9".repeat(80)],
    // And only the number: a proxy's echo of the credential next to it stays out of the log.
    ["with the token after it", `99999999999, ${TOKEN}`, "99999999999"]
  ] as const) {
    it.effect(
      `a 200 with Remaining 0 and a reset ${name}: the next call probes within a window`,
      () =>
        Effect.gen(function* () {
          const before = yield* distrustedCount("x-rate-limit-reset")
          const { requests, fiber, warnings, annotations } = yield* twoCalls(
            () => spent(200, reset),
            () => fine(NOW + 60_000)
          )
          yield* TestClock.adjust("59999 millis")
          expect(requests).toHaveLength(1)
          yield* TestClock.adjust("1 milli")
          const [first, second] = yield* Fiber.join(fiber)
          expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true)
          expect(requests.map((r) => r.at - NOW)).toEqual([0, 60_000])
          expect((yield* distrustedCount("x-rate-limit-reset")) - before).toBe(1)
          expect(warnings.join("\n")).toContain(
            "implausible x-rate-limit-reset header (more than two minutes ahead)"
          )
          expect(annotations[0]).toMatchObject({
            header: "x-rate-limit-reset",
            value: quoted
          })
        })
    )
  }

  it.effect("no gate wait exceeds the policy's maxRateLimitWait, even for a plausible reset", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* twoCalls(
        () => spent(200, secondsFromNow(50)),
        () => fine(NOW + 5_000),
        { retry: exact({ maxRateLimitWait: "5 seconds" }) }
      )
      yield* TestClock.adjust("5 seconds")
      const [first, second] = yield* Fiber.join(fiber)
      expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true)
      // Waited 5 s, then probed: Okta answers a real window's probe with a 429 and its reset.
      expect(requests.map((r) => r.at - NOW)).toEqual([0, 5_000])
    })
  )

  it.effect("a 429 with a reset an hour ahead is retried with backoff, not after an hour", () =>
    Effect.gen(function* () {
      const { requests, fiber } = yield* twoCalls(
        () => spent(429, secondsFromNow(3600)),
        () => fine(NOW),
        { retry: exact({ maxRateLimitWait: "2 seconds" }) }
      )
      yield* TestClock.adjust("2200 millis")
      const [first, second] = yield* Fiber.join(fiber)
      expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true)
      // The backoff (200 ms), then a gate wait cut at maxRateLimitWait (2 s), then the probe.
      expect(requests.map((r) => r.at - NOW)).toEqual([0, 2_200, 2_200])
    })
  )

  it.effect("a Date of 1970 does not move the server clock: a real reset is waited for", () =>
    Effect.gen(function* () {
      const before = yield* distrustedCount("date")
      const { requests, fiber } = yield* twoCalls(
        () => spent(200, secondsFromNow(30), 0),
        () => fine(NOW + 30_000)
      )
      yield* TestClock.adjust("30 seconds")
      const [first, second] = yield* Fiber.join(fiber)
      expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true)
      expect(requests.map((r) => r.at - NOW)).toEqual([0, 30_000])
      expect((yield* distrustedCount("date")) - before).toBe(1)
    })
  )

  it.effect("an implausible Date is quoted in the warning as parsed, without what follows it", () =>
    Effect.gen(function* () {
      // V8 reads a parenthesised comment after a date: a proxy's echo of the credential there.
      const { fiber, annotations } = yield* twoCalls(
        () => json(200, OK, { date: `${dateAt(0)} (${TOKEN})` }),
        () => fine(NOW)
      )
      const [first, second] = yield* Fiber.join(fiber)
      expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true)
      expect(annotations).toEqual([expect.objectContaining({ header: "date", value: dateAt(0) })])
    })
  )

  it.effect(
    "a proxy's Date of 1970 on every response: each counted, one warning in 5 minutes",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const before = yield* distrustedCount("date")
        // Okta's rate-limit headers pass through; the proxy stamps its own Date.
        const { layer } = connectionsWith(
          ({ at }) =>
            json(200, OK, {
              date: dateAt(0),
              "x-rate-limit-limit": "50",
              "x-rate-limit-remaining": "40",
              "x-rate-limit-reset": String(Math.floor(at / 1000) + 60)
            }),
          { retry: exact() }
        )
        const { warnings, keeping } = warningsKept()
        yield* Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const get = api.getDefaultProvisioningConnectionForApplication(APP)
          for (let i = 0; i < 4; i++) {
            yield* get
            yield* TestClock.adjust("1 minute")
          }
          expect((yield* distrustedCount("date")) - before).toBe(4)
          expect(warnings).toHaveLength(1)
          expect(warnings[0]).toContain(
            "implausible date header (more than an hour from the local clock)"
          )
          expect(warnings[0]).toContain("Repeats within 5 minutes are only counted")
          // Five minutes after the first warning, the next one is logged.
          yield* TestClock.adjust("1 minute")
          yield* get
          expect((yield* distrustedCount("date")) - before).toBe(5)
          expect(warnings).toHaveLength(2)
          // This machine's clock set back (NTP stepping a VM's clock): the warning is not held
          // back until the clock catches up with it again.
          yield* TestClock.setTime(NOW)
          yield* get
          expect((yield* distrustedCount("date")) - before).toBe(6)
          expect(warnings).toHaveLength(3)
        }).pipe(
          // @effect-diagnostics-next-line multipleEffectProvide:off
          Effect.provide(layer),
          Effect.provide(keeping)
        )
      })
  )

  // Not the server's doing: this machine's clock is hours off (a VM after sleep, a time zone
  // mix-up). Okta's `Date` and reset agree, so the gate keeps to them, and says nothing.
  for (const hours of [3, -3]) {
    it.effect(
      `a Date 3 hours ${hours > 0 ? "ahead of" : "behind"} ours, with its reset 30 s after it, is believed, unannounced`,
      () =>
        Effect.gen(function* () {
          const before = yield* distrustedCount("date")
          const okta = NOW + hours * 3_600_000
          const { requests, fiber, warnings } = yield* twoCalls(
            () => spent(200, String(okta / 1000 + 30), okta),
            () => fine(okta + 30_000)
          )
          yield* TestClock.adjust("30 seconds")
          const [first, second] = yield* Fiber.join(fiber)
          expect(Exit.isSuccess(first) && Exit.isSuccess(second)).toBe(true)
          expect(requests.map((r) => r.at - NOW)).toEqual([0, 30_000])
          expect((yield* distrustedCount("date")) - before).toBe(0)
          expect(warnings).toEqual([])
        })
    )
  }
})

// ---------------------------------------------------------------------------------------------
// A refused token never wedges the client.

const CLIENT_ID = "0oaserviceapp0000001"
const rsa = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" }
})
const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
const registered = {
  clientId: CLIENT_ID,
  publicKey: createPublicKey(rsa.publicKey).export({ format: "jwk" })
}
const wrongKey = { clientId: CLIENT_ID, publicKey: otherKey.publicKey.export({ format: "jwk" }) }
const oauth = {
  oauth: {
    clientId: CLIENT_ID,
    privateKey: Redacted.make(rsa.privateKey),
    scopes: ["okta.apps.read", "okta.apps.manage"]
  }
}

for (const face of allFaces) {
  describe(`a refused token, over the ${face.name}`, () => {
    const layer = () =>
      face.layer({
        oauthClients: [wrongKey],
        credentials: oauth,
        client: { deadline: "20 seconds", retry: exact() }
      })

    // In process, the refusals' backoff (1 s, 2 s …) passes on the TestClock; over a socket, in
    // real time.
    const run = face === inProcess ? it.effect : it.live
    run(
      "fails its call with OktaAuthError; the next calls try again and recover",
      () =>
        withAdvancingClock(
          Effect.gen(function* () {
            const api = yield* ApplicationConnections
            const sim = yield* OktaSimulator
            const get = api.getDefaultProvisioningConnectionForApplication(APP)
            const refused = errorOf(yield* Effect.exit(get))
            expect(refused).toMatchObject({ _tag: "OktaAuthError", error: "invalid_client" })
            expect(yield* sim.tokenRequests).toBe(1)
            // Five at once after a refusal: one token request for all, each call typed, none hangs.
            const five = yield* Effect.all(
              Array.from({ length: 5 }, () => Effect.exit(get)),
              {
                concurrency: "unbounded"
              }
            )
            for (const exit of five) expect(errorOf(exit)._tag).toBe("OktaAuthError")
            expect(yield* sim.tokenRequests).toBe(2)
            // The key fixed: the next call asks again (after a backoff of 1 s, the second refusal in
            // a row) and succeeds, and calls run side by side again.
            yield* sim.addOAuthClient(registered)
            yield* get
            expect(yield* sim.tokenRequests).toBe(3)
            const eight = yield* Effect.all(
              Array.from({ length: 8 }, () => get),
              {
                concurrency: "unbounded"
              }
            )
            expect(eight).toHaveLength(8)
            expect(yield* sim.tokenRequests).toBe(3)
            // After a good token, refusals leak nothing either: revoke, refuse three times, fix.
            yield* sim.addOAuthClient(wrongKey)
            yield* sim.revokeAccessTokens
            for (let i = 0; i < 3; i++) {
              expect(errorOf(yield* Effect.exit(get))._tag).toBe("OktaAuthError")
            }
            yield* sim.addOAuthClient(registered)
            const again = yield* Effect.all(
              Array.from({ length: 8 }, () => get),
              {
                concurrency: "unbounded"
              }
            ).pipe(Effect.timeout("15 seconds"))
            expect(again).toHaveLength(8)
          })
        ).pipe(Effect.provide(layer())),
      30_000
    )
  })
}

describe("the token endpoint's refusals", () => {
  /** An org that refuses the client's key, and when each token request came (test clock). */
  const refusingOrg = () => {
    const at: Array<number> = []
    const layer = OktaSimulator.layerConnections({
      oauthClients: [wrongKey],
      credentials: oauth,
      client: { retry: exact() },
      onRequest: (entry) =>
        entry.path === "/oauth2/v1/token"
          ? Effect.map(
              Effect.clockWith((clock) => clock.currentTimeMillis),
              (now) => {
                at.push(now)
              }
            )
          : Effect.void
    })
    return { at, layer }
  }

  it.effect(
    "are asked again with backoff when they keep coming (0, 1 s, 2 s, 4 s … up to 30 s)",
    () =>
      Effect.gen(function* () {
        const { at, layer } = refusingOrg()
        const fiber = yield* Effect.fork(
          Effect.flatMap(ApplicationConnections, (api) =>
            Effect.forEach(
              Array.from({ length: 8 }),
              () => Effect.exit(api.getDefaultProvisioningConnectionForApplication(APP)),
              { discard: true }
            )
          ).pipe(Effect.provide(layer))
        )
        // The assertion is signed off the fiber (WebCrypto): let the event loop turn until the
        // expected token request has arrived, and move the clock only between them.
        const arrived = (count: number) =>
          Effect.gen(function* () {
            for (let i = 0; i < 10_000 && at.length < count; i++) yield* turn
            return at.length
          })
        expect(yield* arrived(2)).toBe(2)
        for (const [gap, count] of [
          [1_000, 3],
          [2_000, 4],
          [4_000, 5],
          [8_000, 6],
          [16_000, 7],
          // 32 s, were it not capped.
          [30_000, 8]
        ] as const) {
          yield* TestClock.adjust(gap - 1)
          expect(yield* arrived(count)).toBe(count - 1)
          yield* TestClock.adjust(1)
          expect(yield* arrived(count)).toBe(count)
        }
        yield* Fiber.join(fiber)
        expect(at).toEqual([0, 0, 1_000, 3_000, 7_000, 15_000, 31_000, 61_000])
      })
  )

  it.effect("start again from no wait once a token is issued", () =>
    Effect.gen(function* () {
      const { at, layer } = refusingOrg()
      yield* withAdvancingClock(
        Effect.gen(function* () {
          const sim = yield* OktaSimulator
          const api = yield* ApplicationConnections
          const get = Effect.exit(api.getDefaultProvisioningConnectionForApplication(APP))
          // Refused twice: the next request is held 1 s, and the key, fixed meanwhile, gets a token.
          yield* get
          yield* get
          yield* sim.addOAuthClient(registered)
          expect(Exit.isSuccess(yield* get)).toBe(true)
          // Refused again later: a first refusal in a row, asked again at once, not after 2 s.
          yield* sim.addOAuthClient(wrongKey)
          yield* sim.revokeAccessTokens
          yield* get
          yield* get
        })
      ).pipe(Effect.provide(layer))
      expect(at).toEqual([0, 0, 1_000, 1_000, 1_000])
    })
  )
})

// ---------------------------------------------------------------------------------------------
// Secrets a server echoes.

/** Calls whose requests carry secrets: a body's token, an O365 password, a verify code and state. */
const callsCarryingSecrets = Effect.flatMap(ApplicationConnections, (api) =>
  Effect.all([
    Effect.exit(
      api.updateDefaultProvisioningConnectionForApplication(APP, {
        profile: { authScheme: "TOKEN", token: "00body-token-secret-1" }
      })
    ),
    Effect.exit(
      api.updateDefaultProvisioningConnectionForApplication(APP, {
        profile: {
          authScheme: "OAUTH2",
          settings: { adminUsername: "admin", adminPassword: "office-admin-password-2" }
        }
      })
    ),
    Effect.exit(
      api.verifyProvisioningConnectionForApplication("office365", APP, {
        code: "one-time-code-secret-3",
        state: "state-secret-4"
      })
    )
  ])
)

/** The secrets `callsCarryingSecrets` hold: the client's token and each call's own. */
const secretsCarried = [
  TOKEN,
  "00body-token-secret-1",
  "office-admin-password-2",
  "one-time-code-secret-3",
  "state-secret-4"
]

describe("a server that echoes the request", () => {
  // Every string of Okta's error body repeats the request: a server may put it anywhere.
  const echo: Handler = (request) => {
    const repeated = `${request.headers["authorization"]} ${request.url.href} ${request.rawBody ?? ""}`
    return json(
      400,
      {
        errorCode: `E0000001 ${repeated}`,
        errorSummary: `Api validation failed: ${repeated}`,
        errorLink: `https://developer.okta.com/errors?request=${repeated}`,
        errorId: `oae-${repeated}`,
        errorCauses: [
          { errorSummary: `token=${encodeURIComponent(String(request.rawBody))}` },
          { errorSummary: JSON.stringify(request.query) }
        ]
      },
      {
        "www-authenticate": `Bearer error="invalid_request", error_description="${request.headers["authorization"]}"`
      }
    )
  }

  it.effect("gets none of the call's secrets into the error, its message or its JSON", () =>
    Effect.gen(function* () {
      const { layer } = connectionsWith(echo)
      const exits = yield* Effect.provide(callsCarryingSecrets, layer)
      for (const exit of exits) {
        const error = errorOf(exit)
        expect(error._tag).toBe("OktaBadRequestError")
        const rendered = [String(error["message"]), JSON.stringify(error)].join("\n")
        expect(rendered).toContain("<redacted>")
        for (const secret of secretsCarried) expect(rendered).not.toContain(secret)
        // Each field is kept, scrubbed, not dropped.
        for (const field of ["errorCode", "errorSummary", "errorLink", "errorId"]) {
          expect(error[field]).toContain("<redacted>")
        }
      }
    })
  )

  it.effect("a 2xx it cannot decode, whose headers echo the request, keeps none of them", () =>
    Effect.gen(function* () {
      // A proxy's page, answered 200 with the request repeated in its request id and content type.
      const { layer } = connectionsWith((request) => {
        const repeated = `${request.headers["authorization"]} ${request.rawBody ?? ""}`
        return new Response("<html>signed out</html>", {
          status: 200,
          headers: { "content-type": `text/html; echo=${repeated}`, "x-okta-request-id": repeated }
        })
      })
      const exits = yield* Effect.provide(callsCarryingSecrets, layer)
      // The updates fail to decode; verify, which expects no body, gets an unexpected status.
      expect(exits.map((exit) => errorOf(exit)._tag)).toEqual([
        "OktaDecodeError",
        "OktaDecodeError",
        "OktaUnexpectedStatusError"
      ])
      for (const exit of exits) {
        const error = errorOf(exit)
        const rendered = [String(error["message"]), JSON.stringify(error)].join("\n")
        expect(rendered).toContain("<redacted>")
        for (const secret of secretsCarried) expect(rendered).not.toContain(secret)
      }
    })
  )

  it.effect(
    "gets no form of a secret in: as sent, in the query's form encoding, URL- or JSON-escaped, the token without its scheme",
    () =>
      Effect.gen(function* () {
        // Characters each encoding treats its own way: space, quotes, backslash, + / ! ' ( ) ~,
        // and letters outside ASCII.
        const token = `00tok"en\\ wi+th/slash!`
        const password = `pä ss'wörd (x)~`
        const code = `co de!(1)~'2`
        const state = `st"ate+4/5`
        const echoEvery: Handler = (request) => {
          const authorization = request.headers["authorization"] ?? ""
          return json(400, {
            errorCode: "E0000001",
            // The URL as the server received it, the body as sent (inside this JSON, escaped),
            // the credential without its scheme, the query's values URL-encoded.
            errorSummary: `${request.url.href} ${request.rawBody ?? ""}`,
            errorCauses: [
              { errorSummary: `token ${authorization.split(" ")[1]} refused` },
              // The query's values re-encoded, as a server building a link of its own would.
              ...Object.values(request.query).flatMap((value) => [
                { errorSummary: encodeURIComponent(value) },
                { errorSummary: encodeURIComponent(value).replace(/%20/g, "+") }
              ])
            ]
          })
        }
        const { layer } = connectionsWith(echoEvery)
        const exits = yield* Effect.flatMap(ApplicationConnections, (api) =>
          Effect.all([
            Effect.exit(
              api.updateDefaultProvisioningConnectionForApplication(APP, {
                profile: { authScheme: "TOKEN", token }
              })
            ),
            Effect.exit(
              api.updateDefaultProvisioningConnectionForApplication(APP, {
                profile: {
                  authScheme: "OAUTH2",
                  settings: { adminUsername: "admin", adminPassword: password }
                }
              })
            ),
            Effect.exit(
              api.verifyProvisioningConnectionForApplication("office365", APP, { code, state })
            )
          ])
        ).pipe(Effect.provide(layer))
        const formsOf = (secret: string) => [
          secret,
          encodeURIComponent(secret),
          encodeURIComponent(secret).replace(/%20/g, "+"),
          new URLSearchParams({ s: secret }).toString().slice(2),
          JSON.stringify(secret).slice(1, -1)
        ]
        for (const exit of exits) {
          const error = errorOf(exit)
          expect(error._tag).toBe("OktaBadRequestError")
          const rendered = [String(error["message"]), JSON.stringify(error)].join("\n")
          for (const secret of [TOKEN, token, password, code, state]) {
            for (const form of formsOf(secret)) expect(rendered).not.toContain(form)
          }
        }
      })
  )

  it.effect("a gateway's message that echoes the request keeps none of the call's secrets", () =>
    Effect.gen(function* () {
      const gateways: ReadonlyArray<Handler> = [
        (request) =>
          json(403, {
            message: `Denied: ${request.headers["authorization"]} ${request.url.href} ${request.rawBody ?? ""}`
          }),
        // The credential astride the 300-character cut: cut first, its start would stay.
        (request) => json(403, { message: `${"x".repeat(280)}${request.headers["authorization"]}` })
      ]
      for (const gateway of gateways) {
        const { layer } = connectionsWith(gateway)
        for (const exit of yield* Effect.provide(callsCarryingSecrets, layer)) {
          const error = errorOf(exit)
          expect(error._tag).toBe("OktaForbiddenError")
          expect(error["gatewayMessage"]).toContain("<redacted>")
          const rendered = [String(error["message"]), JSON.stringify(error)].join("\n")
          for (const secret of secretsCarried) expect(rendered).not.toContain(secret)
          expect(rendered).not.toContain(TOKEN.slice(0, 8))
        }
      }
    })
  )

  it.effect("redacts a secret that contains another whole, in whichever order they are given", () =>
    Effect.gen(function* () {
      const http = scriptedHttp(echo)
      const layer = OktaClient.layer({
        orgUrl: ORG,
        apiToken: Redacted.make(TOKEN),
        retry: false
      }).pipe(Layer.provide(http.layer))
      const short = "pass-1234"
      const long = "pass-1234-and-its-tail"
      for (const secrets of [
        [short, long],
        [long, short]
      ]) {
        const exit = yield* Effect.exit(
          Effect.flatMap(OktaClient, (client) =>
            client.execute(
              { operation: "x", method: "POST", path: "/api/v1/x", body: { long }, secrets },
              () => Effect.void
            )
          )
        ).pipe(Effect.provide(layer))
        const rendered = JSON.stringify(errorOf(exit))
        expect(rendered).toContain("<redacted>")
        expect(rendered).not.toContain("and-its-tail")
      }
    })
  )
})

// ---------------------------------------------------------------------------------------------
// The same hostile server over real sockets, on fetch and undici.

const transports = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
] as const

describe.each(transports)("a hostile loopback server over %s", (_name, transport) => {
  const clientOver = (url: string, settings: OktaClientSettings) =>
    ApplicationConnections.layer.pipe(
      Layer.provideMerge(
        OktaClient.layer({ orgUrl: url, apiToken: Redacted.make(TOKEN), ...settings })
      ),
      Layer.provide(transport as Layer.Layer<HttpClient.HttpClient>)
    )

  it.live("an hour-ahead reset with Remaining 0 holds the next call only to maxRateLimitWait", () =>
    Effect.gen(function* () {
      let n = 0
      const { url } = yield* loopbackServer((_req, res) => {
        const now = Date.now()
        res.writeHead(200, {
          "content-type": "application/json",
          "x-rate-limit-limit": "50",
          "x-rate-limit-remaining": n++ === 0 ? "0" : "40",
          "x-rate-limit-reset": String(Math.floor(now / 1000) + (n === 1 ? 3600 : 60))
        })
        res.end(JSON.stringify(OK))
      })
      const started = Date.now()
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        Effect.zipRight(
          api.getDefaultProvisioningConnectionForApplication(APP),
          api.getDefaultProvisioningConnectionForApplication(APP)
        )
      ).pipe(
        Effect.provide(
          clientOver(url, {
            deadline: "10 seconds",
            retry: exact({ maxRateLimitWait: "300 millis" })
          })
        )
      )
      const took = Date.now() - started
      expect(n).toBe(2)
      expect(took).toBeGreaterThanOrEqual(290)
      expect(took).toBeLessThan(5_000)
    }).pipe(Effect.scoped)
  )

  it.live(
    "a status past 599 (a load balancer's own, as 999) is unexpected, not a 5xx to retry",
    () =>
      Effect.gen(function* () {
        let n = 0
        const { url } = yield* loopbackServer((_req, res) => {
          n += 1
          res.writeHead(n === 1 ? 999 : 200, { "content-type": "application/json" })
          res.end(JSON.stringify(OK))
        })
        const exit = yield* Effect.exit(
          Effect.flatMap(ApplicationConnections, (api) =>
            api.getDefaultProvisioningConnectionForApplication(APP)
          ).pipe(Effect.provide(clientOver(url, {})))
        )
        const error = errorOf(exit)
        expect([error._tag, error["status"], n]).toEqual(["OktaUnexpectedStatusError", 999, 1])
      }).pipe(Effect.scoped)
  )

  it.live("echoed secrets are scrubbed from what the error copies", () =>
    Effect.gen(function* () {
      const { url } = yield* loopbackServer((req, res) => {
        let body = ""
        req.on("data", (chunk: Buffer) => (body += chunk.toString()))
        req.on("end", () => {
          res.writeHead(403, {
            "content-type": "application/json",
            "www-authenticate": `SSWS error="insufficient_scope", error_description="${req.headers.authorization}"`
          })
          res.end(
            JSON.stringify({
              errorCode: "E0000006",
              errorSummary: `You do not have permission: ${req.headers.authorization} ${req.url} ${body}`
            })
          )
        })
      })
      const exits = yield* Effect.provide(callsCarryingSecrets, clientOver(url, { retry: false }))
      for (const exit of exits) {
        const error = errorOf(exit)
        expect(error._tag).toBe("OktaForbiddenError")
        const rendered = `${String(error["message"])}\n${JSON.stringify(error)}`
        expect(rendered).toContain("<redacted>")
        for (const secret of secretsCarried) {
          expect(rendered).not.toContain(secret)
        }
      }
    }).pipe(Effect.scoped)
  )
})
