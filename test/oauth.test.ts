import type { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Clock,
  ConfigProvider,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  HashMap,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Schedule,
  Schema,
  TestClock
} from "effect"
import { createPublicKey, generateKeyPairSync } from "node:crypto"
import { decodeJwt, decodeProtectedHeader, importPKCS8, SignJWT } from "jose"
import {
  ApplicationConnections,
  OktaClient,
  OktaError,
  type OktaClientSettings,
  type OktaOAuthOptions,
  RetryPolicy
} from "../src/index.js"
import {
  type LoggedRequest,
  OktaSimulator,
  type SimulatedOAuthClient,
  withAdvancingClock
} from "../src/testing/index.js"
import { OktaUndici } from "../src/undici/index.js"
import { empty, json, scriptedHttp, text, type WireRequest } from "./support/TestHttp.js"
import { turn } from "./support/clock.js"
import { recordingTracer } from "./support/tracing.js"
import { failureOf as failure } from "./support/exit.js"
import { interruptEverywhere } from "./support/interruptAt.js"

const CLIENT_ID = "0oaserviceapp0000001"
const APP = "0oasimzscaler0000001"
const OTHER = "0oasimorg2orgtoken01"
const ORG = "https://simulator.okta.test"

const rsa = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" }
})
const rsaPublicJwk = createPublicKey(rsa.publicKey).export({ format: "jwk" })
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
const ecPrivateJwk = JSON.stringify(ec.privateKey.export({ format: "jwk" }))
const ecPublicJwk = ec.publicKey.export({ format: "jwk" })
/** A certificate's PEM block, as a bundle holds one beside its key (its content is not read). */
const CERTIFICATE = `-----BEGIN CERTIFICATE-----\n${rsa.publicKey.split("\n").slice(1, -2).join("\n")}\n-----END CERTIFICATE-----\n`
/** A distinctive piece of each private key: none may ever show up in an error, log or span. */
const PEM_SECRET = rsa.privateKey.split("\n")[5]!
const JWK_SECRET = (JSON.parse(ecPrivateJwk) as { d: string }).d

const oauth = (overrides: Partial<OktaOAuthOptions> = {}): OktaOAuthOptions => ({
  clientId: CLIENT_ID,
  privateKey: Redacted.make(rsa.privateKey),
  keyId: "key-1",
  scopes: ["okta.apps.read", "okta.apps.manage"],
  ...overrides
})

const registered = (overrides: Partial<SimulatedOAuthClient> = {}): SimulatedOAuthClient => ({
  clientId: CLIENT_ID,
  publicKey: rsaPublicJwk,
  ...overrides
})

const org = (
  options: {
    readonly oauth?: OktaOAuthOptions
    readonly clients?: ReadonlyArray<SimulatedOAuthClient>
    readonly lifetime?: number
    readonly nonces?: boolean
    readonly clockOffsetMillis?: number
  } = {}
) =>
  OktaSimulator.layerConnections({
    clockOffsetMillis: options.clockOffsetMillis,
    oauthClients: options.clients ?? [registered()],
    accessTokenLifetimeSeconds: options.lifetime ?? 3600,
    dpopNonces: options.nonces ?? false,
    credentials: { oauth: options.oauth ?? oauth() },
    client: { retry: RetryPolicy.make({ resetJitter: 0 }) }
  })

const get = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication(APP)
)

/**
 * Lets real asynchronous work (WebCrypto signing) finish, with no time passing, until a fiber
 * sleeps on the TestClock until `millis` or later; an attempt's 30 s timeout, whose sleep is
 * listed while the attempt runs, and stays listed after it, ends earlier.
 */
const untilSleepingUntil = (millis: number) =>
  Effect.gen(function* () {
    for (let turns = 0; turns < 10_000; turns++) {
      if (Chunk.some(yield* TestClock.sleeps(), (end) => end >= millis)) return
      yield* turn
    }
    throw new Error(`no fiber went to sleep until ${millis} ms`)
  })

/** The API as a service app (`oauth()` unless given) over `http`, a scripted transport. */
const overScripted = (
  http: { readonly layer: Layer.Layer<HttpClient.HttpClient> },
  settings: OktaClientSettings & { readonly oauth?: OktaOAuthOptions } = {}
) =>
  ApplicationConnections.layer.pipe(
    Layer.provide(OktaClient.layer({ orgUrl: ORG, oauth: oauth(), ...settings })),
    Layer.provide(http.layer)
  )

const tokenRequestsIn = (log: ReadonlyArray<LoggedRequest>) =>
  log.filter((entry) => entry.path === "/oauth2/v1/token")

describe("client credentials with private_key_jwt", () => {
  // On `OktaUndici.layer` every exchange, the token request's included, runs in the caller's
  // fiber and is timed out by aborting its request: the whole flow over a real socket.
  it.live(
    "over a real socket on OktaUndici: a DPoP-bound token with nonces, then the API call",
    () =>
      Effect.gen(function* () {
        expect((yield* get).status).toBe("ENABLED")
        const sim = yield* OktaSimulator
        const log = yield* sim.requests
        expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.outcome}`)).toEqual([
          "POST /oauth2/v1/token 400",
          "POST /oauth2/v1/token 200",
          `GET /api/v1/apps/${APP}/connections/default 401`,
          `GET /api/v1/apps/${APP}/connections/default 200`
        ])
        expect(log[3]!.headers["authorization"]).toBe("DPoP <redacted>")
      }).pipe(
        Effect.provide(
          OktaSimulator.layerConnectionsServer({
            oauthClients: [registered()],
            dpopNonces: true,
            credentials: { oauth: oauth({ dpop: true }) },
            client: { retry: RetryPolicy.make({ resetJitter: 0 }) },
            httpClient: OktaUndici.layer()
          })
        )
      )
  )

  it.effect("gets a token with a signed assertion, then calls the API with it", () =>
    Effect.gen(function* () {
      const connection = yield* get
      expect(connection.status).toBe("ENABLED")
      const sim = yield* OktaSimulator
      const log = yield* sim.requests
      expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.outcome}`)).toEqual([
        "POST /oauth2/v1/token 200",
        `GET /api/v1/apps/${APP}/connections/default 200`
      ])
      const form = new URLSearchParams(log[0]!.body as string)
      expect(form.get("grant_type")).toBe("client_credentials")
      expect(form.get("scope")).toBe("okta.apps.read okta.apps.manage")
      expect(form.get("client_assertion_type")).toBe(
        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
      )
      const assertion = form.get("client_assertion")!
      const claims = decodeJwt(assertion)
      expect(claims).toMatchObject({
        iss: CLIENT_ID,
        sub: CLIENT_ID,
        aud: `${ORG}/oauth2/v1/token`
      })
      expect(claims.exp! - claims.iat!).toBe(300)
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/)
      expect(decodeProtectedHeader(assertion)).toEqual({ alg: "RS256", kid: "key-1" })
      expect(log[1]!.headers["authorization"]).toBe("Bearer <redacted>")
    }).pipe(Effect.provide(org()))
  )

  // The simulator checks the signature with the registered public key: the key was imported as
  // the right algorithm, not only named so.
  for (const [form, key] of [
    ["a JWK", ecPrivateJwk],
    ["a PKCS#8 PEM", ec.privateKey.export({ type: "pkcs8", format: "pem" }) as string]
  ] as const) {
    it.effect(`an EC P-256 private key given as ${form} signs with ES256`, () =>
      Effect.gen(function* () {
        expect((yield* get).status).toBe("ENABLED")
        const log = yield* (yield* OktaSimulator).requests
        const assertion = new URLSearchParams(log[0]!.body as string).get("client_assertion")!
        expect(log[0]!.outcome).toBe(200)
        expect(decodeProtectedHeader(assertion).alg).toBe("ES256")
      }).pipe(
        Effect.provide(
          org({
            oauth: oauth({ privateKey: Redacted.make(key), keyId: undefined }),
            clients: [registered({ publicKey: ecPublicJwk })]
          })
        )
      )
    )
  }

  // The Admin Console's "Generate new key" gives a private JWK with the kid it registered. Without
  // a kid in the assertion, Okta refuses it once the app has a second key (during a rotation).
  describe("a private JWK's own kid", () => {
    const withKid = JSON.stringify({ ...JSON.parse(ecPrivateJwk), kid: "console-kid" })
    const app = org({
      oauth: oauth({ privateKey: Redacted.make(withKid), keyId: undefined }),
      clients: [registered({ publicKey: { ...ecPublicJwk, kid: "console-kid" } })]
    })
    const kidSent = Effect.map(OktaSimulator, (sim) => sim.requests).pipe(
      Effect.flatten,
      Effect.map((log) => {
        const body = new URLSearchParams(tokenRequestsIn(log)[0]!.body as string)
        return decodeProtectedHeader(body.get("client_assertion")!).kid
      })
    )

    it.effect("goes in the assertion's header when keyId is not given", () =>
      Effect.gen(function* () {
        expect((yield* get).status).toBe("ENABLED")
        expect(yield* kidSent).toBe("console-kid")
      }).pipe(Effect.provide(app))
    )

    it.effect("gives way to keyId, and a kid naming no key of the app's is refused", () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(get)
        expect(error).toMatchObject({
          _tag: "OktaAuthError",
          error: "invalid_client",
          errorDescription: "The client_assertion JWT kid is invalid."
        })
        expect(yield* kidSent).toBe("another-kid")
      }).pipe(
        Effect.provide(
          org({
            oauth: oauth({ privateKey: Redacted.make(withKid), keyId: "another-kid" }),
            clients: [registered({ publicKey: { ...ecPublicJwk, kid: "console-kid" } })]
          })
        )
      )
    )
  })

  // A container on a laptop that slept keeps the clock it had: minutes behind. Okta refuses the
  // assertions it dates as expired (or, far ahead, as expiring too far into the future).
  describe("on a machine whose clock is off Okta's", () => {
    const warnings: Array<string> = []
    // Provided after the org's layer, in an `Effect.provide` of its own: a logger provides no
    // service, so nothing is built twice (which is what the language service warns of).
    const warned = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ annotations, logLevel, message }) => {
        if (logLevel === LogLevel.Warning)
          warnings.push(`${String(message)} ${JSON.stringify(HashMap.toEntries(annotations))}`)
      })
    )
    const assertionsSent = Effect.map(OktaSimulator, (sim) => sim.requests).pipe(
      Effect.flatten,
      Effect.map((log) =>
        tokenRequestsIn(log).map((entry) => {
          const body = new URLSearchParams(entry.body as string)
          return { outcome: entry.outcome, iat: decodeJwt(body.get("client_assertion")!).iat! }
        })
      )
    )

    it.effect(
      "seconds off (Date's resolution, an answer's travel): assertions stay on this machine's clock, and nothing is said",
      () =>
        Effect.gen(function* () {
          warnings.length = 0
          yield* TestClock.setTime(Date.parse("2026-12-04T12:00:00Z"))
          expect((yield* get).status).toBe("ENABLED")
          // The next token (the first one's expired) is asked for after the offset was learnt.
          yield* TestClock.adjust("3 minutes")
          expect((yield* get).status).toBe("ENABLED")
          const local = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const sent = yield* assertionsSent
          expect(sent.map((entry) => entry.outcome)).toEqual([200, 200])
          expect(sent[1]!.iat).toBe(local)
          expect(warnings).toEqual([])
        }).pipe(
          // @effect-diagnostics-next-line multipleEffectProvide:off
          Effect.provide(org({ clockOffsetMillis: 20_000, lifetime: 120 })),
          Effect.provide(warned)
        )
    )

    it.effect(
      "minutes off, then estimated a fraction of a second otherwise: said once, the dates kept on Okta's clock",
      () =>
        Effect.gen(function* () {
          warnings.length = 0
          yield* TestClock.setTime(Date.parse("2026-12-04T12:00:00Z"))
          expect((yield* get).status).toBe("ENABLED")
          // Five minutes on the best estimate is no longer kept: an answer read 0.7 s into
          // Okta's second tells an offset 0.7 s shorter, which the next token requests learn.
          yield* TestClock.adjust(360_700)
          expect((yield* get).status).toBe("ENABLED")
          yield* TestClock.adjust("3 minutes")
          expect((yield* get).status).toBe("ENABLED")
          expect(warnings).toHaveLength(1)
          const sent = yield* assertionsSent
          expect(sent.map((entry) => entry.outcome)).toEqual([401, 200, 200, 200])
          const local = yield* Clock.currentTimeMillis
          expect(sent.at(-1)!.iat).toBe(Math.floor((local + 600_000) / 1000))
        }).pipe(
          // @effect-diagnostics-next-line multipleEffectProvide:off
          Effect.provide(org({ clockOffsetMillis: 600_000, lifetime: 120 })),
          Effect.provide(warned)
        )
    )

    it.effect(
      "set right again: said so once more, and the assertions dated on this machine's clock",
      () =>
        Effect.gen(function* () {
          warnings.length = 0
          yield* TestClock.setTime(Date.parse("2026-12-04T12:00:00Z"))
          // Okta's `Date`, ten minutes ahead of this machine's clock until that is set right.
          let offset = 600_000
          const http = scriptedHttp((request) => {
            const date = { date: new Date(request.at + offset).toUTCString() }
            return request.path === "/oauth2/v1/token"
              ? json(200, { access_token: "at-1", token_type: "Bearer", expires_in: 120 }, date)
              : json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } }, date)
          })
          yield* Effect.gen(function* () {
            yield* get
            offset = 0
            // The clock estimate keeps its largest sample five minutes; a token lasts two.
            yield* TestClock.adjust("6 minutes")
            yield* get
            yield* TestClock.adjust("3 minutes")
            yield* get
          }).pipe(Effect.provide(overScripted(http)))
          expect(warnings).toEqual([
            `This machine's clock is off Okta's: OAuth assertions are dated on Okta's clock [["skew_seconds",600]]`,
            `This machine's clock agrees with Okta's again [["skew_seconds",0]]`
          ])
          const tokens = http.requests.filter((request) => request.path === "/oauth2/v1/token")
          const iat = (request: (typeof tokens)[number]) =>
            decodeJwt(new URLSearchParams(request.rawBody).get("client_assertion")!).iat
          // The first dated on this machine's clock (nothing known yet), the second on Okta's
          // ten minutes ahead, the third on this machine's again.
          expect(tokens.map((request) => iat(request)! - Math.floor(request.at / 1000))).toEqual([
            0, 600, 0
          ])
        }).pipe(Effect.provide(warned))
    )

    for (const [name, offsetMillis, refusal] of [
      ["ten minutes behind", 600_000, "The client_assertion token is expired."],
      [
        "two hours ahead",
        -7_200_000,
        "The client_assertion token has an expiration too far into the future."
      ]
    ] as const) {
      it.effect(`${name}: the refused assertion is dated anew on Okta's clock, once`, () =>
        Effect.gen(function* () {
          warnings.length = 0
          yield* TestClock.setTime(Date.parse("2026-12-04T12:00:00Z"))
          expect((yield* get).status).toBe("ENABLED")
          const okta = Math.floor(((yield* Clock.currentTimeMillis) + offsetMillis) / 1000)
          const sent = yield* assertionsSent
          expect(sent.map((entry) => entry.outcome)).toEqual([401, 200])
          expect(sent[1]!.iat).toBe(okta)
          expect(warnings).toEqual([
            `This machine's clock is off Okta's: OAuth assertions are dated on Okta's clock [["skew_seconds",${offsetMillis / 1000}]]`
          ])
          // The next token request (the first one's expired) is dated on Okta's clock at once.
          yield* TestClock.adjust("2 hours")
          expect((yield* get).status).toBe("ENABLED")
          expect((yield* assertionsSent).map((entry) => entry.outcome)).toEqual([401, 200, 200])
        }).pipe(
          // @effect-diagnostics-next-line multipleEffectProvide:off
          Effect.provide(org({ clockOffsetMillis: offsetMillis })),
          Effect.provide(warned)
        )
      )
      it.effect(`${name}: DPoP proofs are dated on Okta's clock too`, () =>
        Effect.gen(function* () {
          yield* TestClock.setTime(Date.parse("2026-12-04T12:00:00Z"))
          expect((yield* get).status).toBe("ENABLED")
          const log = yield* (yield* OktaSimulator).requests
          expect(log.at(-1)!.outcome).toBe(200)
          const okta = Math.floor(((yield* Clock.currentTimeMillis) + offsetMillis) / 1000)
          const proof = decodeJwt(log.at(-1)!.headers["dpop"]!)
          expect(proof.iat).toBe(okta)
        }).pipe(
          Effect.provide(
            org({
              clockOffsetMillis: offsetMillis,
              oauth: oauth({ dpop: true }),
              clients: [registered({ requireDpop: true })],
              nonces: true
            })
          )
        )
      )
      // An assertion dated on the machine's clock, as Okta (and the simulator) answers it.
      it.effect(`${name}: an assertion dated on this machine's clock is refused: ${refusal}`, () =>
        Effect.gen(function* () {
          const sim = yield* OktaSimulator
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const key = yield* Effect.promise(() => importPKCS8(rsa.privateKey, "RS256"))
          const assertion = yield* Effect.promise(() =>
            new SignJWT({})
              .setProtectedHeader({ alg: "RS256" })
              .setIssuer(CLIENT_ID)
              .setSubject(CLIENT_ID)
              .setAudience(`${ORG}/oauth2/v1/token`)
              .setIssuedAt(now)
              .setExpirationTime(now + 300)
              .setJti(crypto.randomUUID())
              .sign(key)
          )
          const outcome = yield* sim.handle({
            method: "POST",
            url: new URL(`${ORG}/oauth2/v1/token`),
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
              grant_type: "client_credentials",
              scope: "okta.apps.read",
              client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
              client_assertion: assertion
            }).toString()
          })
          const response = outcome._tag === "Respond" ? outcome.response : undefined
          expect(response?.status).toBe(401)
          expect(JSON.parse(response!.body)).toEqual({
            error: "invalid_client",
            error_description: refusal
          })
          const date = response!.headers.find(([name]) => name === "date")![1]
          expect(Date.parse(date) / 1000).toBe(now + offsetMillis / 1000)
        }).pipe(Effect.provide(org({ clockOffsetMillis: offsetMillis })))
      )
    }
  })

  // `openssl pkcs12 -in app.p12 -nocerts -nodes` writes "Bag Attributes" lines before the key,
  // and a bundle holds the certificate beside it: jose's import took neither, and the layer
  // called the key "not an RSA or EC PKCS#8 private key".
  for (const [name, pem] of [
    ["after openssl's Bag Attributes", `Bag Attributes\n    localKeyID: 01 02\n${rsa.privateKey}`],
    ["before its certificate", `${rsa.privateKey}${CERTIFICATE}`],
    ["after its certificate", `${CERTIFICATE}${rsa.privateKey}`]
  ] as const) {
    it.effect(`a PKCS#8 key ${name} signs the assertion`, () =>
      Effect.gen(function* () {
        expect((yield* get).status).toBe("ENABLED")
        const log = yield* (yield* OktaSimulator).requests
        expect(log.map((entry) => entry.outcome)).toEqual([200, 200])
      }).pipe(Effect.provide(org({ oauth: oauth({ privateKey: Redacted.make(pem) }) })))
    )
  }

  it.effect("each token request has a fresh jti (the server refuses a replayed assertion)", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      yield* sim.revokeAccessTokens
      yield* get
      const jtis = tokenRequestsIn(yield* sim.requests).map(
        (entry) => decodeJwt(new URLSearchParams(entry.body as string).get("client_assertion")!).jti
      )
      expect(jtis).toHaveLength(2)
      expect(new Set(jtis).size).toBe(2)
    }).pipe(Effect.provide(org()))
  )
})

/**
 * The simulator answers the nth API request (token request) after the nth of `apiDelays`
 * (`tokenDelays`), the rest at once.
 */
const delayEach = (apiDelays: ReadonlyArray<number>, tokenDelays: ReadonlyArray<number>) =>
  Effect.gen(function* () {
    const sim = yield* OktaSimulator
    for (const millis of apiDelays) {
      yield* sim.injectFault({ _tag: "Delay", millis }, { path: "/connections/" })
    }
    for (const millis of tokenDelays) {
      yield* sim.injectFault({ _tag: "Delay", millis }, { path: "/oauth2/v1/token" })
    }
  })

/** A fiber per list of pauses, each making a call after each pause: how every call ended. */
const callers = (thinkTimes: ReadonlyArray<ReadonlyArray<number>>) =>
  Effect.all(
    thinkTimes.map((pauses) =>
      Effect.forEach(pauses, (pause) => Effect.zipRight(Effect.sleep(pause), Effect.exit(get)))
    ),
    { concurrency: "unbounded" }
  )

/** Fibers (at least `fibers`), each pausing 0–4 s before each of its calls. */
const thinkTimesOf = (fibers: number) =>
  fc.array(fc.array(fc.integer({ min: 0, max: 4_000 }), { minLength: 1, maxLength: 4 }), {
    minLength: fibers,
    maxLength: 6
  })
/** How late the simulator answers API requests, one after another (see `delayEach`). */
const apiDelaysArb = fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 30 })

/**
 * An org whose limits no test of the token cache reaches, with a service app calling it;
 * `nonces`: its servers require the current DPoP nonce.
 */
const busyOrg = (options: {
  readonly dpop: boolean
  readonly lifetime?: number
  readonly nonces?: boolean
}) =>
  OktaSimulator.layerConnections({
    oauthClients: [registered()],
    rateLimit: { limit: 10_000, concurrencyLimit: 1_000 },
    accessTokenLifetimeSeconds: options.lifetime ?? 3600,
    dpopNonces: options.nonces ?? false,
    credentials: { oauth: oauth({ dpop: options.dpop }) },
    client: { retry: RetryPolicy.make({ resetJitter: 0 }) }
  })

describe("the token cache", () => {
  it.effect("is refreshed 5 minutes before expiry, not before", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      yield* TestClock.adjust("3299 seconds")
      yield* get
      expect(yield* sim.tokenRequests).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* get
      expect(yield* sim.tokenRequests).toBe(2)
    }).pipe(Effect.provide(org()))
  )

  it.effect("the margin is at most half the token's lifetime", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      yield* TestClock.adjust("59 seconds")
      yield* get
      expect(yield* sim.tokenRequests).toBe(1)
      yield* TestClock.adjust("1 second")
      yield* get
      expect(yield* sim.tokenRequests).toBe(2)
    }).pipe(Effect.provide(org({ lifetime: 120 })))
  )

  it.effect(
    "single flight: 50 concurrent calls needing a token make exactly one token request",
    () =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        yield* get // ends the gate's probe; then let the token expire
        yield* TestClock.adjust("2 hours")
        yield* sim.setRateLimit({ limit: 1000, concurrencyLimit: 1000 })
        const results = yield* Effect.all(
          Array.from({ length: 50 }, () => get),
          { concurrency: 50 }
        )
        expect(results).toHaveLength(50)
        expect(yield* sim.tokenRequests).toBe(2)
      }).pipe(Effect.provide(org()))
  )

  it.effect("a 401 invalid_token drops the token: one refresh, one replay, success", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      yield* sim.revokeAccessTokens
      yield* sim.clearRequests
      yield* get
      const log = yield* sim.requests
      expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.outcome}`)).toEqual([
        `GET /api/v1/apps/${APP}/connections/default 401`,
        "POST /oauth2/v1/token 200",
        `GET /api/v1/apps/${APP}/connections/default 200`
      ])
    }).pipe(Effect.provide(org()))
  )

  it.effect(
    "a token refused every time (another authorization server's, say): two refreshes, then the 401",
    () => {
      // Every token is revoked as soon as it is issued: no refresh can mend the call.
      let revoke: Effect.Effect<void> = Effect.void
      return Effect.gen(function* () {
        const sim = yield* OktaSimulator
        revoke = sim.revokeAccessTokens
        const error = yield* Effect.flip(get)
        expect(error).toMatchObject({ _tag: "OktaUnauthorizedError", status: 401, attempts: 3 })
        const log = yield* sim.requests
        expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.outcome}`)).toEqual(
          Array.from({ length: 3 }, () => [
            "POST /oauth2/v1/token 200",
            `GET /api/v1/apps/${APP}/connections/default 401`
          ]).flat()
        )
      }).pipe(
        Effect.provide(
          OktaSimulator.layerConnections({
            oauthClients: [registered()],
            credentials: { oauth: oauth() },
            onRequest: (entry) =>
              entry.path === "/oauth2/v1/token" ? Effect.suspend(() => revoke) : Effect.void
          })
        )
      )
    }
  )

  it.effect("retries of an API call reuse the cached token", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* sim.injectFault(
        { _tag: "ServerError", status: 503, body: "json" },
        { times: 2, path: APP }
      )
      yield* withAdvancingClock(get)
      expect(yield* sim.tokenRequests).toBe(1)
      const api = (yield* sim.requests).filter((entry) => entry.path.includes(APP))
      expect(api.map((entry) => entry.outcome)).toEqual([503, 503, 200])
    }).pipe(Effect.provide(org()))
  )

  it.effect.prop(
    "any token lifetime, any fibers calling over hours, any latencies: no request carries an expired token, and each token is refreshed once, its margin before expiry, not before",
    {
      lifetime: fc.integer({ min: 120, max: 1_800 }),
      thinkTimes: fc.array(
        fc.array(fc.integer({ min: 0, max: 900_000 }), { minLength: 1, maxLength: 6 }),
        { minLength: 1, maxLength: 4 }
      ),
      apiDelays: fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 30 }),
      tokenDelays: fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 10 }),
      dpop: fc.boolean()
    },
    ({ lifetime, thinkTimes, apiDelays, tokenDelays, dpop }) =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        yield* delayEach(apiDelays, tokenDelays)
        const results = yield* withAdvancingClock(callers(thinkTimes))
        expect(results.flat().filter(Exit.isFailure)).toEqual([])
        const log = yield* sim.requests
        // The simulator checks a token when it answers, after the request's delay: a request sent
        // close to expiry with a slow answer would be refused. The margin covers it.
        expect(log.filter((entry) => entry.outcome === 401)).toEqual([])
        // A token is issued when its request is answered; the next is asked for no earlier than
        // the margin (5 minutes, at most half the lifetime) before that one expires.
        const lifetimeMillis = lifetime * 1000
        const usable = lifetimeMillis - Math.min(300_000, lifetimeMillis / 2)
        const tokens = tokenRequestsIn(log)
        tokens.slice(1).forEach((next, k) => {
          const issued = tokens[k]!.at + (tokenDelays[k] ?? 0)
          expect(next.at).toBeGreaterThanOrEqual(issued + usable)
        })
      }).pipe(Effect.provide(busyOrg({ dpop, lifetime }))),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 40 } }
  )

  it.effect.prop(
    "any fibers, any latencies, Bearer or DPoP, the tokens revoked at any moment: one refresh, each rejected call replayed once",
    {
      thinkTimes: thinkTimesOf(2),
      apiDelays: apiDelaysArb,
      tokenDelays: fc.array(fc.integer({ min: 0, max: 3_000 }), { maxLength: 3 }),
      revokeAt: fc.option(fc.integer({ min: 0, max: 6_000 }), { freq: 5 }),
      dpop: fc.boolean()
    },
    ({ thinkTimes, apiDelays, tokenDelays, revokeAt, dpop }) =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        // Calls that carry the same token overlap, and a rejected one may come back after another
        // call's refresh.
        yield* delayEach(apiDelays, tokenDelays)
        const revoke =
          revokeAt === null
            ? Effect.void
            : Effect.zipRight(Effect.sleep(revokeAt), sim.revokeAccessTokens)
        const [results] = yield* withAdvancingClock(
          Effect.all([callers(thinkTimes), revoke], { concurrency: "unbounded" })
        )
        expect(results.flat().filter(Exit.isFailure)).toEqual([])
        const api = (yield* sim.requests).filter((entry) => entry.path.includes(APP))
        const rejected = api.filter((entry) => entry.outcome === 401).length
        // A token request at first, and one more when a call finds the token revoked, however
        // many calls carried it: a late 401 for the old token must not drop the new one.
        expect(yield* sim.tokenRequests).toBe(rejected > 0 ? 2 : 1)
        // Each rejected call replayed once, with the new token; nothing else sent twice.
        expect(api.length).toBe(thinkTimes.flat().length + rejected)
        expect(rejected <= thinkTimes.flat().length).toBe(true)
      }).pipe(Effect.provide(busyOrg({ dpop }))),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 40 } }
  )

  it.effect(
    "the token endpoint has a rate-limit bucket of its own: a spent API window does not hold it",
    () =>
      Effect.gen(function* () {
        // Tokens last 10 s (refreshed 5 s before); the API's window is spent until 30 s.
        const http = scriptedHttp((request) =>
          request.path === "/oauth2/v1/token"
            ? json(200, { access_token: "t", token_type: "Bearer", expires_in: 10 })
            : json(
                200,
                { status: "ENABLED", profile: { authScheme: "TOKEN" } },
                {
                  date: new Date(request.at).toUTCString(),
                  "x-rate-limit-limit": "50",
                  "x-rate-limit-remaining": "0",
                  "x-rate-limit-reset": "30"
                }
              )
        )
        const layer = overScripted(http, { retry: RetryPolicy.make({ resetJitter: 0 }) })
        yield* Effect.gen(function* () {
          yield* get
          yield* TestClock.adjust("6 seconds")
          yield* withAdvancingClock(get)
        }).pipe(Effect.provide(layer))
        // The second call's token request went at once; its API request waited for the reset.
        expect(http.requests.map((request) => `${request.path} ${request.at}`)).toEqual([
          "/oauth2/v1/token 0",
          `/api/v1/apps/${APP}/connections/default 0`,
          "/oauth2/v1/token 6000",
          `/api/v1/apps/${APP}/connections/default 30000`
        ])
      })
  )
})

describe("DPoP nonces", () => {
  it.effect.prop(
    "any fibers, any latencies, the nonce rotated at any moments: every call succeeds, the token is kept, and a call is refused only for a nonce it could not have known",
    {
      thinkTimes: thinkTimesOf(1),
      apiDelays: apiDelaysArb,
      // Rotations at least a request's longest latency apart: Okta rotates hourly or so.
      rotations: fc.array(fc.integer({ min: 3_001, max: 6_000 }), { maxLength: 3 })
    },
    ({ thinkTimes, apiDelays, rotations }) =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        yield* delayEach(apiDelays, [])
        const rotate = Effect.forEach(rotations, (gap) =>
          Effect.zipRight(Effect.sleep(gap), sim.rotateDpopNonce)
        )
        const [results] = yield* withAdvancingClock(
          Effect.all([callers(thinkTimes), rotate], { concurrency: "unbounded" })
        )
        expect(results.flat().filter(Exit.isFailure)).toEqual([])
        const log = yield* sim.requests
        // The token is fetched once (its first request refused for the nonce), and kept: a nonce
        // refusal is no reason to drop it.
        expect(tokenRequestsIn(log).map((entry) => entry.outcome)).toEqual([400, 200])
        const api = log.filter((entry) => entry.path.includes(APP))
        const refused = api.filter((entry) => entry.outcome === 401).length
        expect(api.length).toBe(thinkTimes.flat().length + refused)
        // Each fiber's call is refused at most once for the nonce it started without (the first
        // call learns it from its refusal) and once per rotation.
        expect(refused).toBeLessThanOrEqual(thinkTimes.length * (rotations.length + 1))
      }).pipe(Effect.provide(busyOrg({ dpop: true, nonces: true }))),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 40 } }
  )
})

describe("DPoP", () => {
  it.effect(
    "opt-in: DPoP-bound token, a proof per request (its URL without the query), verified by the simulator",
    () =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        yield* get
        yield* Effect.flatMap(ApplicationConnections, (api) =>
          api.activateDefaultProvisioningConnectionForApplication(APP)
        )
        // A request with a query: the proof's `htu` is the URL without it (RFC 9449 §4.2).
        yield* Effect.flatMap(ApplicationConnections, (api) =>
          api.updateDefaultProvisioningConnectionForApplication(
            APP,
            { profile: { authScheme: "TOKEN", token: "00t0ken" } },
            { activate: true }
          )
        )
        // And one written into the path given to `execute`.
        yield* Effect.flatMap(OktaClient, (client) =>
          client.execute(
            { operation: "x", method: "GET", path: `/api/v1/apps/${APP}/connections/default?x=1` },
            (response) => response.text
          )
        )
        const log = yield* sim.requests
        expect(log.map((entry) => entry.outcome)).toEqual([200, 200, 204, 200, 200])
        expect(log[3]!.query).toEqual({ activate: "true" })
        expect(log[4]!.query).toEqual({ x: "1" })
        for (const [entry, htm] of [
          [log[3]!, "POST"],
          [log[4]!, "GET"]
        ] as const) {
          expect(decodeJwt(entry.headers["dpop"]!)).toMatchObject({
            htm,
            htu: `${ORG}/api/v1/apps/${APP}/connections/default`
          })
        }
        const [token, read, write] = log
        const tokenProof = decodeJwt(token!.headers["dpop"]!)
        expect(tokenProof).toMatchObject({ htm: "POST", htu: `${ORG}/oauth2/v1/token` })
        expect(tokenProof).not.toHaveProperty("ath")
        expect(read!.headers["authorization"]).toBe("DPoP <redacted>")
        const proof = decodeJwt(read!.headers["dpop"]!)
        expect(proof).toMatchObject({
          htm: "GET",
          htu: `${ORG}/api/v1/apps/${APP}/connections/default`
        })
        expect(proof["ath"]).toMatch(/^[\w-]{43}$/)
        expect(decodeProtectedHeader(read!.headers["dpop"]!)).toMatchObject({
          typ: "dpop+jwt",
          alg: "ES256"
        })
        expect(decodeJwt(write!.headers["dpop"]!).jti).not.toBe(proof.jti)
        // One ephemeral key per client: the same key signs every proof.
        expect(decodeProtectedHeader(write!.headers["dpop"]!).jwk).toEqual(
          decodeProtectedHeader(read!.headers["dpop"]!).jwk
        )
      }).pipe(
        Effect.provide(
          org({ oauth: oauth({ dpop: true }), clients: [registered({ requireDpop: true })] })
        )
      )
  )

  it.effect("a revoked DPoP-bound token: 401 invalid_token, one refresh, one replay, success", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      yield* sim.revokeAccessTokens
      yield* sim.clearRequests
      const connection = yield* get
      expect(connection.status).toBe("ENABLED")
      const log = yield* sim.requests
      expect(log.map((entry) => `${entry.method} ${entry.path} ${entry.outcome}`)).toEqual([
        `GET /api/v1/apps/${APP}/connections/default 401`,
        "POST /oauth2/v1/token 200",
        `GET /api/v1/apps/${APP}/connections/default 200`
      ])
    }).pipe(Effect.provide(org({ oauth: oauth({ dpop: true }) })))
  )

  it.effect(
    "a new nonce on a successful answer (RFC 9449 §8.2) goes in the next proof, at the token endpoint and on the API",
    () =>
      Effect.gen(function* () {
        // The token lives 60 s: refreshed after 30 s (the margin is at most half the lifetime).
        let tokens = 0
        let calls = 0
        const http = scriptedHttp((request) =>
          request.path === "/oauth2/v1/token"
            ? json(
                200,
                { access_token: `at-${++tokens}`, token_type: "DPoP", expires_in: 60 },
                { "dpop-nonce": `token-nonce-${tokens}` }
              )
            : json(
                200,
                { status: "ENABLED", profile: { authScheme: "TOKEN" } },
                {
                  "dpop-nonce": `api-nonce-${++calls}`
                }
              )
        )
        const layer = overScripted(http, { oauth: oauth({ dpop: true }), retry: false })
        yield* Effect.gen(function* () {
          yield* get
          yield* get
          yield* TestClock.adjust("31 seconds")
          yield* get
        }).pipe(Effect.provide(layer))
        const nonces = http.requests.map((request) => [
          request.path === "/oauth2/v1/token" ? "token" : "api",
          decodeJwt(request.headers["dpop"]!).nonce
        ])
        expect(nonces).toEqual([
          ["token", undefined],
          ["api", undefined],
          ["api", "api-nonce-1"],
          ["token", "token-nonce-1"],
          ["api", "api-nonce-2"]
        ])
      })
  )

  /** A call with a DPoP token whose API request `answer` refuses: its error and its proof. */
  const refusedWithDpop = (answer: (request: WireRequest) => Response) =>
    Effect.gen(function* () {
      const http = scriptedHttp((request) =>
        request.path === "/oauth2/v1/token"
          ? json(200, {
              access_token: "access-token-secret-1",
              token_type: "DPoP",
              expires_in: 3600
            })
          : answer(request)
      )
      const exit = yield* Effect.exit(get).pipe(
        Effect.provide(overScripted(http, { oauth: oauth({ dpop: true }), retry: false }))
      )
      const error = failure(exit)
      if (error._tag !== "OktaForbiddenError") throw new Error(error._tag)
      const proof = http.requests.at(-1)!.headers["dpop"]!
      expect(decodeProtectedHeader(proof).typ).toBe("dpop+jwt")
      return { error, proof, rendered: `${error.message}\n${JSON.stringify(error)}` }
    })

  it.effect("an API error that echoes the access token and the DPoP proof carries neither", () =>
    Effect.gen(function* () {
      const { error, proof, rendered } = yield* refusedWithDpop((request) =>
        json(
          403,
          {
            errorCode: "E0000006",
            errorSummary: `refused: ${request.headers["authorization"]} with ${request.headers["dpop"]}`
          },
          {
            "www-authenticate": `DPoP realm="the \\"api\\"", error="invalid_dpop_proof", proof="${request.headers["dpop"]}"`
          }
        )
      )
      // The whole credential, scheme included, is one secret.
      expect(error.errorSummary).toBe("refused: <redacted> with <redacted>")
      // As sent, its escapes included, but for the secrets.
      expect(error.wwwAuthenticate).toBe(
        'DPoP realm="the \\"api\\"", error="invalid_dpop_proof", proof="<redacted>"'
      )
      expect(rendered).not.toContain("access-token-secret-1")
      expect(rendered).not.toContain(proof)
    })
  )

  it.effect(
    "a challenge that echoes the DPoP proof with quoted-pair escapes carries it nowhere",
    () =>
      Effect.gen(function* () {
        // `\.` in a quoted string is "." (RFC 9110): the header as sent holds no form of the proof,
        // and the challenge's parameters, once unescaped, hold it whole.
        const { error, proof, rendered } = yield* refusedWithDpop((request) =>
          empty(403, {
            "www-authenticate": `DPoP error="invalid_dpop_proof", error_description="refused ${request.headers["dpop"]!.replaceAll(".", "\\.")}"`
          })
        )
        expect(error.challenge).toEqual({
          scheme: "DPoP",
          error: "invalid_dpop_proof",
          errorDescription: "refused <redacted>"
        })
        expect(error.wwwAuthenticate).toBe(
          'DPoP error="invalid_dpop_proof", error_description="refused <redacted>"'
        )
        expect(rendered).toContain("[DPoP invalid_dpop_proof: refused <redacted>]")
        expect(rendered).not.toContain(proof.split(".")[2])
        // Nor as the scheme: a JWT is a valid scheme token.
        const schemed = yield* refusedWithDpop((request) =>
          empty(403, { "www-authenticate": `${request.headers["dpop"]} error="refused"` })
        )
        expect(schemed.error.challenge).toEqual({ scheme: "<redacted>", error: "refused" })
        expect(schemed.rendered).not.toContain(schemed.proof.split(".")[2])
      })
  )

  /** `echoed` with each "." JSON-escaped, for a body written by hand. */
  const dotted = (echoed: string) => echoed.replaceAll(".", "\\u002e")

  it.effect("a token error that echoes the assertion and the DPoP proof carries neither", () =>
    Effect.gen(function* () {
      // An OAuth error, and an HTTP error whose body and challenge echo them.
      const answers = [
        (echoed: string) =>
          json(400, { error: "invalid_request", error_description: `refused ${echoed}` }),
        (echoed: string) =>
          json(
            401,
            { errorCode: "E0000011", errorSummary: `refused ${echoed}` },
            { "www-authenticate": `DPoP error="invalid_dpop_proof", proof="${echoed}"` }
          ),
        // Both again with each "." written `\u002e`, as a JSON serializer may: the raw text holds
        // no form of either secret, and parsing brings both back.
        (echoed: string) =>
          text(
            400,
            `{"error":"invalid_request","error_description":"refused ${dotted(echoed)}"}`,
            "application/json"
          ),
        (echoed: string) =>
          text(
            401,
            `{"errorCode":"E0000011","errorSummary":"refused ${dotted(echoed)}"}`,
            "application/json"
          )
      ]
      for (const answer of answers) {
        const http = scriptedHttp((request) => {
          const assertion = new URLSearchParams(request.rawBody ?? "").get("client_assertion")
          return answer(`${assertion} with ${request.headers["dpop"]}`)
        })
        const exit = yield* Effect.exit(get).pipe(
          Effect.provide(overScripted(http, { oauth: oauth({ dpop: true }), retry: false }))
        )
        const error = failure(exit)
        const proof = http.requests.at(-1)!.headers["dpop"]!
        expect(decodeProtectedHeader(proof).typ).toBe("dpop+jwt")
        const rendered = `${error.message}\n${JSON.stringify(error)}`
        expect(rendered).toContain("refused <redacted> with <redacted>")
        const assertion = new URLSearchParams(http.requests.at(-1)!.rawBody).get(
          "client_assertion"
        )!
        for (const secret of [proof, assertion]) {
          expect(rendered).not.toContain(secret.split(".")[2])
        }
      }
    })
  )

  it.effect("a token answer's request id that echoes the assertion and proof is scrubbed", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const http = scriptedHttp((request) =>
        request.path === "/oauth2/v1/token"
          ? json(
              200,
              { access_token: "access-token-secret-1", token_type: "DPoP", expires_in: 3600 },
              { "x-okta-request-id": `req ${request.rawBody} ${request.headers["dpop"]}` }
            )
          : json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } })
      )
      yield* get.pipe(
        Effect.provide(overScripted(http, { oauth: oauth({ dpop: true }), tracing: "exchanges" })),
        Effect.withTracer(tracer)
      )
      const token = spans.find((span) => span.name === "http.client POST")!
      const id = String(token.attributes.get("okta.request_id"))
      const sent = http.requests[0]!
      const assertion = new URLSearchParams(sent.rawBody).get("client_assertion")!
      expect(id).toMatch(/^req grant_type=client_credentials&.*<redacted> <redacted>$/)
      for (const secret of [assertion, sent.headers["dpop"]!]) {
        expect(id).not.toContain(secret.split(".")[2])
      }
    })
  )

  it.effect("automatic when the token endpoint demands it", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      expect(tokenRequestsIn(yield* sim.requests).map((entry) => entry.outcome)).toEqual([400, 200])
      expect((yield* sim.requests).at(-1)!.headers["authorization"]).toBe("DPoP <redacted>")
    }).pipe(Effect.provide(org({ clients: [registered({ requireDpop: true })] })))
  )

  it.effect(
    "a DPoP refusal nothing mends (no nonce given, a proof sent already): the error, not resent",
    () =>
      Effect.gen(function* () {
        // use_dpop_nonce without a DPoP-Nonce header; invalid_dpop_proof of a request with a proof.
        for (const refusal of ["use_dpop_nonce", "invalid_dpop_proof"]) {
          const http = scriptedHttp(() =>
            json(400, { error: refusal, error_description: "the proof is not acceptable" })
          )
          const exit = yield* Effect.exit(get).pipe(
            Effect.provide(overScripted(http, { oauth: oauth({ dpop: true }) }))
          )
          expect(failure(exit)).toMatchObject({ _tag: "OktaAuthError", error: refusal })
          expect(http.requests).toHaveLength(1)
        }
      })
  )

  it.effect("a proof refused on a clock off Okta's (invalid_dpop_proof) is dated anew, once", () =>
    Effect.gen(function* () {
      // Okta's clock is ten minutes ahead of this machine's; it refuses the first proof.
      const ahead = 600_000
      let tokenRequests = 0
      const http = scriptedHttp((request) => {
        const date = { date: new Date(request.at + ahead).toUTCString() }
        if (request.path !== "/oauth2/v1/token") {
          return json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } }, date)
        }
        tokenRequests += 1
        return tokenRequests === 1
          ? json(400, { error: "invalid_dpop_proof", error_description: "iat is off" }, date)
          : json(200, { access_token: "t", token_type: "DPoP", expires_in: 3600 }, date)
      })
      const connection = yield* get.pipe(
        Effect.provide(overScripted(http, { oauth: oauth({ dpop: true }) }))
      )
      expect(connection.status).toBe("ENABLED")
      const proofs = http.requests
        .filter((request) => request.path === "/oauth2/v1/token")
        .map((request) => decodeJwt(request.headers["dpop"]!).iat)
      expect(proofs).toEqual([0, ahead / 1000])
    })
  )

  it.effect("token_type is read without regard to case (RFC 6749 §7.1): dpop is DPoP", () =>
    Effect.gen(function* () {
      for (const [tokenType, scheme] of [
        ["dpop", "DPoP"],
        ["bearer", "Bearer"]
      ] as const) {
        const http = scriptedHttp((request) =>
          request.path === "/oauth2/v1/token"
            ? json(200, { access_token: "t", token_type: tokenType, expires_in: 3600 })
            : json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } })
        )
        yield* get.pipe(Effect.provide(overScripted(http)))
        const api = http.requests.at(-1)!
        expect(api.headers["authorization"]).toBe(`${scheme} t`)
        expect(api.headers["dpop"] !== undefined).toBe(scheme === "DPoP")
      }
    })
  )

  it.effect("nonces: use_dpop_nonce at the token endpoint and on the API, each answered once", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      const log = yield* sim.requests
      expect(
        log.map(
          (entry) => `${entry.path === "/oauth2/v1/token" ? "token" : "api"} ${entry.outcome}`
        )
      ).toEqual(["token 400", "token 200", "api 401", "api 200"])
      expect(decodeJwt(log[1]!.headers["dpop"]!)["nonce"]).toBeDefined()
      expect(decodeJwt(log[3]!.headers["dpop"]!)["nonce"]).toBe(
        decodeJwt(log[1]!.headers["dpop"]!)["nonce"]
      )
      yield* get
      expect((yield* sim.requests).at(-1)!.outcome).toBe(200)
    }).pipe(
      Effect.provide(
        org({
          oauth: oauth({ dpop: true }),
          clients: [registered({ requireDpop: true })],
          nonces: true
        })
      )
    )
  )
})

describe("token-endpoint failures are typed", () => {
  it.effect("an assertion signed with an unregistered key → OktaAuthError invalid_client", () =>
    Effect.gen(function* () {
      const error = failure(yield* Effect.exit(get))
      expect(error).toMatchObject({
        _tag: "OktaAuthError",
        status: 401,
        error: "invalid_client",
        operation: "requestAccessToken",
        requestId: expect.stringMatching(/\S/)
      })
      // The request id Okta's support asks for.
      if (error._tag !== "OktaAuthError") throw new Error(error._tag)
      expect(error.message).toContain("invalid_client")
      expect(error.message).toContain(`(request id ${error.requestId})`)
    }).pipe(Effect.provide(org({ clients: [registered({ publicKey: ecPublicJwk })] })))
  )

  it.effect("an unregistered key on a clock off Okta's: dated anew once, then invalid_client", () =>
    Effect.gen(function* () {
      const error = failure(yield* Effect.exit(get))
      expect(error).toMatchObject({ _tag: "OktaAuthError", error: "invalid_client" })
      // The first assertion, dated on this machine's clock, is refused and teaches the skew; the
      // second, dated on Okta's, is refused as well (for its key): no third.
      const sim = yield* OktaSimulator
      expect(tokenRequestsIn(yield* sim.requests).map((entry) => entry.outcome)).toEqual([401, 401])
    }).pipe(
      Effect.provide(
        org({ clockOffsetMillis: 600_000, clients: [registered({ publicKey: ecPublicJwk })] })
      )
    )
  )

  it.effect("a retried token request carries X-Okta-Retry-For and X-Okta-Retry-Count", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* sim.injectFault(
        { _tag: "ServerError", status: 503, body: "json" },
        { path: "/oauth2/v1/token", times: 1 }
      )
      yield* withAdvancingClock(get)
      const [first, second] = tokenRequestsIn(yield* sim.requests)
      expect([first?.outcome, second?.outcome]).toEqual([503, 200])
      expect(first?.headers["x-okta-retry-count"]).toBeUndefined()
      expect(second?.headers["x-okta-retry-count"]).toBe("1")
      expect(second?.headers["x-okta-retry-for"]).toMatch(/^\S+$/)
    }).pipe(Effect.provide(org()))
  )

  it.effect("a scope the app was not granted → OktaAuthError invalid_scope", () =>
    Effect.gen(function* () {
      const error = failure(yield* Effect.exit(get))
      expect(error).toMatchObject({ _tag: "OktaAuthError", status: 400, error: "invalid_scope" })
    }).pipe(Effect.provide(org({ clients: [registered({ scopes: ["okta.apps.read"] })] })))
  )

  it.effect("a token without okta.apps.manage: the API's 403 names the scope", () =>
    Effect.gen(function* () {
      yield* get
      const error = failure(
        yield* Effect.exit(
          Effect.flatMap(ApplicationConnections, (api) =>
            api.activateDefaultProvisioningConnectionForApplication(APP)
          )
        )
      )
      expect(error).toMatchObject({
        _tag: "OktaForbiddenError",
        challenge: { error: "insufficient_scope", scope: "okta.apps.manage" }
      })
    }).pipe(
      Effect.provide(
        org({
          oauth: oauth({ scopes: ["okta.apps.read"] }),
          clients: [registered({ scopes: ["okta.apps.read"] })]
        })
      )
    )
  )

  it.effect(
    "a rate-limited token request waits for the reset like any request, an event on the call's span",
    () =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        const { spans, tracer } = yield* recordingTracer
        yield* sim.injectFault({ _tag: "RateLimitNoDate" }, { path: "/oauth2/v1/token" })
        const fiber = yield* Effect.fork(Effect.withTracer(get, tracer))
        yield* untilSleepingUntil(60_000)
        yield* TestClock.adjust("59 seconds")
        expect(yield* sim.tokenRequests).toBe(0)
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
        expect(tokenRequestsIn(yield* sim.requests).map((entry) => entry.outcome)).toEqual([
          429, 200
        ])
        const call = spans.find((span) =>
          span.name.endsWith("getDefaultProvisioningConnectionForApplication")
        )
        const events = (
          call as unknown as { events: Array<[string, bigint, Record<string, unknown>]> }
        ).events
        expect(
          events.map(([name, , attributes]) => [name, attributes["operation"]])
        ).toContainEqual(["okta.retry", "requestAccessToken"])
      }).pipe(Effect.provide(org()))
  )

  it.effect('with tracing: "exchanges", the token request\'s exchange is a child of the call', () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const layer = OktaSimulator.layerConnections({
        oauthClients: [registered()],
        credentials: { oauth: oauth() },
        client: { tracing: "exchanges" }
      })
      yield* get.pipe(Effect.withSpan("caller"), Effect.provide(layer), Effect.withTracer(tracer))
      const named = (name: string) => spans.filter((span) => span.name === name)
      const [caller] = named("caller")
      const [call] = named("ApplicationConnections.getDefaultProvisioningConnectionForApplication")
      const parentOf = (span: { readonly parent: Option.Option<{ readonly spanId: string }> }) =>
        Option.map(span.parent, (parent) => parent.spanId)
      expect(parentOf(call!)).toEqual(Option.some(caller!.spanId))
      // The token request (POST), then the GET: both exchanges under the call's span.
      expect(named("http.client POST").map(parentOf)).toEqual([Option.some(call!.spanId)])
      expect(named("http.client GET").map(parentOf)).toEqual([Option.some(call!.spanId)])
    })
  )
})

describe("token requests within the call's deadline", () => {
  const withDeadline = OktaSimulator.layerConnections({
    oauthClients: [registered()],
    credentials: { oauth: oauth() },
    client: {
      deadline: "10 seconds",
      retry: RetryPolicy.make({ backoff: Schedule.spaced("4 seconds"), maxRetries: 10 })
    }
  })
  /** `waitMillis`: the wait that failed the call at once (absent: the deadline ran out). */
  const expectTokenCause = (error: unknown, at: number, waitMillis?: number) =>
    Effect.gen(function* () {
      expect(yield* Clock.currentTimeMillis).toBe(at)
      expect(error).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline",
        operation: "getDefaultProvisioningConnectionForApplication",
        attempts: 0,
        cause: { _tag: "OktaServerError", status: 503, operation: "requestAccessToken" },
        waitMillis
      })
      const wait = waitMillis === undefined ? "" : `, with ${waitMillis / 1000}.0 s still to wait`
      expect((error as Error).message).toContain(
        `before its first attempt${wait}; the last failure (OktaServerError): requestAccessToken (POST /oauth2/v1/token) failed with HTTP 503`
      )
    })

  it.effect(
    "a token backoff that would pass it fails the call at once, naming the token's 503",
    () =>
      Effect.gen(function* () {
        const sim = yield* OktaSimulator
        yield* sim.injectFault(
          { _tag: "ServerError", status: 503, body: "json" },
          { path: "/oauth2/v1/token", times: 100 }
        )
        const error = yield* withAdvancingClock(Effect.flip(get))
        // Token requests at 0, 4 and 8 s; the next would be at 12 s.
        yield* expectTokenCause(error, 8_000, 4_000)
        expect(tokenRequestsIn(yield* sim.requests)).toHaveLength(3)
      }).pipe(Effect.provide(withDeadline))
  )

  it.effect("a token request hung at the deadline: the call's error names the 503 before it", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* sim.injectFault(
        { _tag: "ServerError", status: 503, body: "json" },
        { path: "/oauth2/v1/token", times: 1 }
      )
      yield* sim.injectFault({ _tag: "Hang" }, { path: "/oauth2/v1/token", times: 100 })
      const error = yield* withAdvancingClock(Effect.flip(get))
      yield* expectTokenCause(error, 10_000)
    }).pipe(Effect.provide(withDeadline))
  )

  it.effect("a fresh token's request hung at the deadline: the error names the 401 before it", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      yield* get
      // The token is revoked: the call's 401 drops it, and the request for a fresh one hangs.
      yield* sim.revokeAccessTokens
      yield* sim.injectFault({ _tag: "Hang" }, { path: "/oauth2/v1/token", times: 100 })
      const error = yield* withAdvancingClock(Effect.flip(get))
      expect(yield* Clock.currentTimeMillis).toBe(10_000)
      expect(error).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline",
        attempts: 1,
        cause: { _tag: "OktaUnauthorizedError", status: 401 }
      })
      expect(error.message).toContain(
        "after 1 attempt; the last failure (OktaUnauthorizedError): HTTP 401"
      )
    }).pipe(Effect.provide(withDeadline))
  )

  it.effect("a token request held after refusals that would pass the deadline fails at once", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      // Two refusals in a row: the next token request is held for 1 s, past the 500 ms deadline.
      for (let i = 0; i < 2; i++) expect((yield* Effect.flip(get))._tag).toBe("OktaAuthError")
      const error = yield* withAdvancingClock(Effect.flip(get))
      expect(yield* Clock.currentTimeMillis).toBe(0)
      expect(error._tag === "OktaTimeoutError" && [error.kind, error.attempts]).toEqual([
        "deadline",
        0
      ])
      expect(error.message).toContain(
        "before its first attempt, with 1.0 s still to wait; the last failure (OktaAuthError): requestAccessToken (POST /oauth2/v1/token)"
      )
      expect(yield* sim.tokenRequests).toBe(2)
    }).pipe(
      Effect.provide(
        OktaSimulator.layerConnections({
          oauthClients: [registered({ publicKey: ecPublicJwk })],
          credentials: { oauth: oauth() },
          client: { deadline: "500 millis" }
        })
      )
    )
  )

  it.effect("a call waiting on another's token request is not failed by that call's deadline", () =>
    Effect.gen(function* () {
      const sim = yield* OktaSimulator
      const api = yield* ApplicationConnections
      yield* sim.injectFault(
        { _tag: "ServerError", status: 503, body: "json" },
        { path: "/oauth2/v1/token", times: 100 }
      )
      // When the call failed, and the fields that say whose deadline it was and why.
      const failedWith = <A, R>(call: Effect.Effect<A, OktaError, R>) =>
        Effect.zipWith(Effect.flip(call), Clock.currentTimeMillis, (error, at) => ({
          at,
          ...(error._tag === "OktaTimeoutError"
            ? {
                path: error.path,
                kind: error.kind,
                attempts: error.attempts,
                cause: error.cause?._tag
              }
            : { tag: error._tag })
        }))
      const [first, second] = yield* withAdvancingClock(
        Effect.all(
          [
            failedWith(get),
            // Starts 5 s later, while the first call's token request is being retried.
            Effect.delay(
              failedWith(api.getDefaultProvisioningConnectionForApplication(OTHER)),
              "5 seconds"
            )
          ],
          { concurrency: 2 }
        )
      )
      // The first call's token requests at 0, 4 and 8 s; the next would pass its deadline.
      expect(first).toEqual({
        at: 8_000,
        path: `/api/v1/apps/${APP}/connections/default`,
        kind: "deadline",
        attempts: 0,
        cause: "OktaServerError"
      })
      // The second then asks for itself (8 and 12 s; 16 s would pass its deadline at 15 s), and
      // fails with its own deadline, naming the token's 503.
      expect(second).toEqual({
        at: 12_000,
        path: `/api/v1/apps/${OTHER}/connections/default`,
        kind: "deadline",
        attempts: 0,
        cause: "OktaServerError"
      })
      expect(tokenRequestsIn(yield* sim.requests)).toHaveLength(5)
    }).pipe(Effect.provide(withDeadline))
  )
})

describe("a token endpoint behind a proxy that answers for it", () => {
  const through = (answer: () => Response) => {
    const http = scriptedHttp((request) =>
      request.path === "/oauth2/v1/token" ? answer() : json(200, { status: "ENABLED" })
    )
    const layer = overScripted(http, { retry: false })
    return { layer, paths: () => http.requests.map((request) => request.path) }
  }

  it.effect("a 200 that is no token response (a login page) → OktaAuthError, and no API call", () =>
    Effect.gen(function* () {
      const page = () =>
        text(200, "<html>Sign in</html>", "text/html", { "x-okta-request-id": "p1" })
      const proxy = through(page)
      const error = failure(yield* Effect.exit(Effect.provide(get, proxy.layer)))
      expect(error).toMatchObject({
        _tag: "OktaAuthError",
        operation: "requestAccessToken",
        status: 200,
        error: "invalid_token_response",
        requestId: "p1"
      })
      expect(error.message).toBe(
        "requestAccessToken (POST /oauth2/v1/token): the OAuth 2.0 token request failed with HTTP 200: invalid_token_response: the token endpoint's answer is not JSON (text/html) (request id p1)"
      )
      expect(proxy.paths()).toEqual(["/oauth2/v1/token"])
      // JSON that is no token response says so.
      const other = through(() => json(200, { token: "x" }))
      expect(failure(yield* Effect.exit(Effect.provide(get, other.layer))).message).toContain(
        "the token endpoint's answer is not an OAuth 2.0 token response"
      )
      // An empty one, or one past the size cap (not read), is not called "not JSON".
      for (const [answer, description] of [
        [() => empty(200, { "content-type": "application/json" }), "is empty"],
        [
          () => json(200, { access_token: "x".repeat(2 * 1024 * 1024) }),
          "is larger than maxResponseBytes"
        ]
      ] as const) {
        expect(
          failure(yield* Effect.exit(Effect.provide(get, through(answer).layer)))
        ).toMatchObject({
          error: "invalid_token_response",
          errorDescription: `the token endpoint's answer ${description}`
        })
      }
      // An error past the cap is not read either, and says so.
      const large = through(() =>
        text(403, `<html>${"x".repeat(2 * 1024 * 1024)}</html>`, "text/html")
      )
      const refused = failure(yield* Effect.exit(Effect.provide(get, large.layer)))
      expect(refused).toMatchObject({
        _tag: "OktaForbiddenError",
        operation: "requestAccessToken",
        bodyTooLarge: true,
        contentType: "text/html"
      })
    })
  )
})

describe("a call interrupted while it waits for its token", () => {
  it.live("at any step, leaves the next call a token request of its own", () =>
    Effect.gen(function* () {
      let hang = true
      const http = scriptedHttp((request) =>
        request.path !== "/oauth2/v1/token"
          ? json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } })
          : hang
            ? Effect.never
            : json(200, { access_token: "at-1", token_type: "Bearer", expires_in: 3600 })
      )
      yield* Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const call = api.getDefaultProvisioningConnectionForApplication(APP)
        // Interrupted at each step in turn: while the token request is made, shared, awaited.
        expect(yield* interruptEverywhere(call)).toBeGreaterThan(50)
        hang = false
        const within = (seconds: number) =>
          Effect.either(
            Effect.timeoutFail(call, { duration: `${seconds} seconds`, onTimeout: () => "stuck" })
          )
        // The token request still in flight (shared, so not stopped with its callers) ends at
        // its attempt timeout, and the call that joined it with it; the next asks anew.
        expect(yield* within(5)).not.toMatchObject({ _tag: "Left", left: "stuck" })
        expect(yield* within(2)).toMatchObject({ _tag: "Right" })
      }).pipe(Effect.provide(overScripted(http, { retry: false, timeout: "1 second" })))
    })
  )
})

describe("configuration", () => {
  const build = (options: OktaOAuthOptions) =>
    Effect.exit(
      Effect.provide(
        OktaClient,
        OktaClient.layer({ orgUrl: ORG, oauth: options }).pipe(
          Layer.provide(scriptedHttp(() => new Response(null)).layer)
        )
      )
    )

  it.effect("unusable keys fail the layer with OktaConfigError, never showing the key", () =>
    Effect.gen(function* () {
      const pkcs1 = generateKeyPairSync("rsa", {
        modulusLength: 1024,
        privateKeyEncoding: { type: "pkcs1", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" }
      }).privateKey
      // A PKCS#8 RSA key too short to sign RS256 with: it failed at the first call, as
      // "could not sign the client assertion", with no word of why.
      const short = generateKeyPairSync("rsa", {
        modulusLength: 1024,
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" }
      }).privateKey
      const sec1 = generateKeyPairSync("ec", {
        namedCurve: "P-256",
        privateKeyEncoding: { type: "sec1", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" }
      }).privateKey
      const encrypted = (type: "pkcs1" | "pkcs8") =>
        generateKeyPairSync("rsa", {
          modulusLength: 2048,
          privateKeyEncoding: { type, format: "pem", cipher: "aes-256-cbc", passphrase: "pass" },
          publicKeyEncoding: { type: "spki", format: "pem" }
        }).privateKey
      for (const [key, says] of [
        [short, "is an RSA key of 1024 bits; RS256 needs 2048 bits or more"],
        [pkcs1, "is a PKCS#1/SEC1 PEM; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)"],
        [sec1, "is a PKCS#1/SEC1 PEM; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)"],
        // They read "must be a PKCS#8 PEM", and "convert it to PKCS#8".
        [encrypted("pkcs8"), "is encrypted, and the client takes no passphrase: decrypt it"],
        [encrypted("pkcs1"), "is encrypted, and the client takes no passphrase: decrypt it"],
        [rsa.publicKey, "is a public key or certificate; give the private key"],
        [CERTIFICATE, "is a public key or certificate; give the private key"],
        [`${rsa.privateKey}${short}`, "holds 2 private keys; give the one whose public key"],
        [
          JSON.stringify({ keys: [JSON.parse(ecPrivateJwk)] }),
          "is a JWK Set; give the one private JWK in it"
        ],
        ["not a key", "PKCS#8 PEM"],
        ["", "is empty"],
        // From JavaScript, `Redacted.make(process.env.OKTA_PRIVATE_KEY!)` with it unset: it died.
        [undefined as never, "is undefined (an environment variable that is not set?)"],
        // As an env file or a shell's single quotes leave it.
        ["${OKTA_PRIVATE_KEY}", "is a variable that was never expanded"],
        ["$OKTA_PRIVATE_KEY\n", "is a variable that was never expanded"],
        // Okta's Python SDK reads a path here; this client takes the key itself.
        ["/etc/okta/service-app.pem", "looks like a file path; give the key itself"],
        ["./okta/private-key", "looks like a file path"],
        ["~/okta/private-key", "looks like a file path"],
        ["C:\\okta\\private-key", "looks like a file path"],
        // A path with a space in it is still a path.
        ["C:\\Users\\Jane Doe\\okta.pem", "looks like a file path"],
        ["service-app.key", "looks like a file path"],
        ["service-app.JSON", "looks like a file path"],
        ["service-app.jwk", "looks like a file path"],
        // Several lines are no path, whatever the last one ends with.
        ["the key is in\nservice-app.pem", "must be a PKCS#8 PEM"],
        ["{not json", "not valid JSON"],
        [JSON.stringify(ecPublicJwk), "without its private part"],
        [
          `${rsa.privateKey.split("\n").slice(0, 8).join("\n")}\n-----END PRIVATE KEY-----`,
          "not an RSA or EC"
        ]
      ] as const) {
        const error = failure(yield* build(oauth({ privateKey: Redacted.make(key) })))
        expect(error).toMatchObject({ _tag: "OktaConfigError", field: "oauth.privateKey" })
        expect(error.message).toContain(says)
        expect(error.message).not.toContain(PEM_SECRET)
      }
      expect(failure(yield* build(oauth({ scopes: [] })))).toMatchObject({ field: "oauth.scopes" })
      expect(failure(yield* build(oauth({ scopes: "okta.apps.read" as never })))).toMatchObject({
        field: "oauth.scopes",
        reason: 'must be a list of scopes (["okta.apps.read"]), not one string'
      })
      expect(failure(yield* build(oauth({ clientId: " " })))).toMatchObject({
        field: "oauth.clientId"
      })
      // Pasted with their quotes or unexpanded, or two scopes in one string: Okta refused the token
      // request.
      for (const [options, field, says] of [
        [{ clientId: `"${CLIENT_ID}"` }, "oauth.clientId", "is wrapped in quotes"],
        [{ keyId: "'key-1'" }, "oauth.keyId", "is wrapped in quotes"],
        [{ clientId: "${OKTA_CLIENT_ID}" }, "oauth.clientId", "is a variable that was never"],
        [{ scopes: ["okta.apps.read okta.apps.manage"] }, "oauth.scopes", "not one scope"],
        [{ scopes: ["okta.apps.read", ""] }, "oauth.scopes", 'has "", which is not one scope'],
        [
          { scopes: ["${OKTA_SCOPES}"] },
          "oauth.scopes",
          'has "${OKTA_SCOPES}", a variable never expanded'
        ],
        // A list written as YAML or JSON, one scope out of case: Okta's invalid_scope, said here.
        [{ scopes: ["[okta.apps.read]"] }, "oauth.scopes", "a list? give the scopes alone"],
        [
          { scopes: ["okta.apps.read", "okta.apps.Manage"] },
          "oauth.scopes",
          `has "okta.apps.Manage": Okta's scopes are lower case (okta.apps.manage)`
        ],
        // From JavaScript: a number passed the pattern as its digits.
        [{ scopes: [42 as never] }, "oauth.scopes", "has 42, which is not one scope"],
        // From JavaScript: a plain string would reach any log that prints the options.
        [
          { privateKey: rsa.privateKey as never },
          "oauth.privateKey",
          "must be a Redacted<string> (Redacted.make(key)), so it never reaches a log"
        ]
      ] as const) {
        const error = failure(yield* build(oauth(options)))
        expect(error).toMatchObject({ _tag: "OktaConfigError", field })
        expect(error.message).toContain(says)
        expect(error.message).not.toContain(PEM_SECRET)
      }
      // From JavaScript, where the types do not hold: it died as "Invalid DurationInput".
      expect(failure(yield* build(oauth({ refreshMargin: "soon" as never })))).toMatchObject({
        field: "oauth.refreshMargin"
      })
      const both = failure(
        yield* Effect.exit(
          Effect.provide(
            OktaClient,
            OktaClient.layer({
              orgUrl: ORG,
              oauth: oauth(),
              apiToken: Redacted.make("x")
            } as never).pipe(Layer.provide(scriptedHttp(() => new Response(null)).layer))
          )
        )
      )
      expect(both).toMatchObject({ _tag: "OktaConfigError", field: "credentials" })
    })
  )

  it.effect("layerConfig reads OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey and Okta's variables", () =>
    Effect.gen(function* () {
      const connection = yield* get
      expect(connection.status).toBe("ENABLED")
      const log = yield* (yield* OktaSimulator).requests
      const assertion = new URLSearchParams(log[0]!.body as string).get("client_assertion")!
      expect(decodeProtectedHeader(assertion).kid).toBe("env-key")
      expect(new URLSearchParams(log[0]!.body as string).get("scope")).toBe(
        "okta.apps.read okta.apps.manage"
      )
      // The `dpop` option: the token is asked for, and used, with a proof.
      expect(log[0]!.headers["dpop"]).toBeDefined()
      expect(log[1]!.headers["authorization"]).toMatch(/^DPoP /)
    }).pipe(
      Effect.provide(
        ApplicationConnections.layer.pipe(
          Layer.provideMerge(OktaClient.layerConfig({ dpop: true })),
          Layer.provide(OktaSimulator.layerHttpClient),
          Layer.provideMerge(OktaSimulator.layer({ oauthClients: [registered()] })),
          Layer.provide(
            Layer.setConfigProvider(
              ConfigProvider.fromMap(
                new Map([
                  ["OKTA_CLIENT_ORGURL", ORG],
                  ["OKTA_CLIENT_AUTHORIZATIONMODE", "PrivateKey"],
                  ["OKTA_CLIENT_CLIENTID", CLIENT_ID],
                  // Commas or spaces, with a stray one at either end.
                  ["OKTA_CLIENT_SCOPES", " okta.apps.read, okta.apps.manage,"],
                  // As a PEM usually sits in an environment variable: one line with literal \n.
                  ["OKTA_CLIENT_PRIVATEKEY", rsa.privateKey.replace(/\n/g, "\\n")],
                  ["OKTA_CLIENT_KEYID", "env-key"]
                ])
              )
            )
          )
        )
      )
    )
  )
})

describe("the private key never leaks", () => {
  it.live("not in any error, log line or span, across the whole OAuth flow and its failures", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const logger = Logger.make(({ message, annotations }) => {
        lines.push(JSON.stringify({ message, annotations: HashMap.toEntries(annotations) }))
      })
      const { spans, tracer } = yield* recordingTracer
      const renderings: Array<string> = []
      const observe = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.exit(effect).pipe(
          Effect.tap((exit) =>
            Effect.sync(() => {
              if (Exit.isFailure(exit)) {
                renderings.push(Cause.pretty(exit.cause))
                const error = Cause.failureOption(exit.cause)
                if (error._tag === "Some") {
                  renderings.push(String(error.value), JSON.stringify(error.value))
                  if (Schema.is(OktaError)(error.value)) {
                    renderings.push(JSON.stringify(Schema.encodeSync(OktaError)(error.value)))
                  }
                }
              }
            })
          ),
          Effect.withTracer(tracer),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
      // A retried call, so that the client logs (retries log at debug level).
      const retried = Layer.effectDiscard(
        Effect.flatMap(OktaSimulator, (sim) =>
          sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { path: APP })
        )
      ).pipe(
        Layer.provideMerge(
          org({
            oauth: oauth({ dpop: true }),
            clients: [registered({ requireDpop: true })],
            nonces: true
          })
        )
      )
      const scenarios = [
        retried,
        org({ clients: [registered({ publicKey: ecPublicJwk })] }),
        org({ oauth: oauth({ privateKey: Redacted.make(ecPrivateJwk) }), clients: [registered()] })
      ]
      for (const layer of scenarios) {
        yield* observe(Effect.provide(Effect.zipRight(get, get), layer))
      }
      yield* observe(
        Effect.provide(
          OktaClient,
          OktaClient.layer({
            orgUrl: ORG,
            oauth: oauth({
              privateKey: Redacted.make(ecPrivateJwk.replace('"kty":"EC"', '"kty":"OKP"'))
            })
          }).pipe(Layer.provide(scriptedHttp(() => new Response(null)).layer))
        )
      )
      expect(renderings.length).toBeGreaterThan(0)
      expect(lines.length).toBeGreaterThan(0)
      const spanText = JSON.stringify(
        spans.map((span) => ({ name: span.name, attributes: [...span.attributes] }))
      )
      for (const text of [...renderings, ...lines, spanText]) {
        expect(text).not.toContain(PEM_SECRET)
        expect(text).not.toContain(JWK_SECRET)
      }
    })
  )
})
