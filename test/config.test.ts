/**
 * Configuration errors name the problem: every missing variable of a mode at once, by name; an org
 * URL pasted with an API path is refused with a hint; behind a proxy prefix, errors show the path
 * as sent.
 */
import { describe, expect, it } from "@effect/vitest"
import { generateKeyPairSync } from "node:crypto"
import {
  Cause,
  Config,
  ConfigProvider,
  Effect,
  Exit,
  FastCheck as fc,
  Layer,
  Redacted
} from "effect"
import { withAdvancingClock } from "effect-okta-connections/testing"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientConfigOptions,
  type RateLimitStoreService,
  RetryPolicy
} from "../src/index.js"
import { RedisRateLimitStore } from "../src/redis/index.js"
import { json, scriptedHttp } from "./support/TestHttp.js"

const build = (env: Record<string, string>, options: OktaClientConfigOptions = {}) =>
  Layer.build(OktaClient.layerConfig(options)).pipe(
    Effect.scoped,
    Effect.provide(scriptedHttp(() => json(200, {})).layer),
    Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
  )

/** The error `layerConfig` fails with under `env`. */
const buildFrom = (env: Record<string, string>, options?: OktaClientConfigOptions) =>
  Effect.flip(build(env, options))

describe("a REDIS_URL that is not a Redis URL", () => {
  it.effect.each([
    // Port out of range: ioredis threw a TypeError holding the URL, password included.
    ["redis://:s3cret-pw@127.0.0.1:99999", "is not a URL"],
    ["redis://[::1", "is not a URL"],
    ["http://127.0.0.1:6379", "must be a redis:// or rediss:// URL, not http://"],
    // As docker-compose files write it, and as an env file leaves a variable.
    ["localhost:6379", "has no scheme: redis://localhost:6379 (rediss:// for TLS)"],
    ["${REDIS_URL}", "is a variable that was never expanded"]
  ] as const)(
    "%s: OktaConfigError redisUrl before any connection, never the URL",
    ([url, reason]) =>
      Effect.gen(function* () {
        const error = yield* buildFrom({
          OKTA_CLIENT_ORGURL: "https://acme.okta.com",
          OKTA_CLIENT_TOKEN: "00abc",
          REDIS_URL: url
        })
        expect(error).toMatchObject({ _tag: "OktaConfigError", field: "redisUrl" })
        expect(String(error)).toContain(reason)
        expect(String(error)).not.toContain("s3cret-pw")
        // The store's own layer says the same.
        const direct = yield* Effect.flip(
          Effect.scoped(Layer.build(RedisRateLimitStore.layer({ url })))
        )
        expect(direct).toMatchObject({ _tag: "OktaConfigError", field: "redisUrl" })
      })
  )
})

describe("an empty REDIS_URL", () => {
  it.effect("is unset: the way to opt out of one the environment holds for something else", () =>
    Effect.gen(function* () {
      const built = yield* Effect.either(
        build({
          OKTA_CLIENT_ORGURL: "https://acme.okta.com",
          OKTA_CLIENT_TOKEN: "00abc",
          REDIS_URL: " "
        })
      )
      expect(built._tag).toBe("Right")
    })
  )
})

describe("a rateLimitStore given in code", () => {
  it.effect("is the one used: REDIS_URL is not read", () =>
    Effect.gen(function* () {
      const asked: Array<string> = []
      const store: RateLimitStoreService = {
        acquire: () => Effect.sync(() => (asked.push("acquire"), { _tag: "Admitted" as const })),
        observe: () => Effect.sync(() => (asked.push("observe"), false)),
        release: () => Effect.void
      }
      const http = scriptedHttp(() =>
        json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } })
      )
      yield* Effect.flatMap(ApplicationConnections, (api) =>
        api.getDefaultProvisioningConnectionForApplication("0oa1abcd")
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(OktaClient.layerConfig({ rateLimitStore: store })),
            Layer.provide(http.layer)
          )
        ),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["OKTA_CLIENT_ORGURL", "https://acme.okta.com"],
              ["OKTA_CLIENT_TOKEN", "00abc"],
              // Not even a Redis URL: read, it would fail the layer.
              ["REDIS_URL", "http://127.0.0.1:6379"]
            ])
          )
        )
      )
      expect(asked).toEqual(["acquire", "observe"])
    })
  )
})

describe("layerConfig from Okta's variables", () => {
  it.effect("SSWS: a missing token is named, with the org URL, in one failure", () =>
    Effect.gen(function* () {
      const error = yield* buildFrom({})
      const message = String(error)
      expect(message).toContain("OKTA_CLIENT_ORGURL")
      expect(message).toContain("OKTA_CLIENT_TOKEN")
      expect(message).not.toContain("<redacted>")
      const tokenOnly = yield* buildFrom({ OKTA_CLIENT_ORGURL: "https://acme.okta.com" })
      expect("message" in tokenOnly ? tokenOnly.message : "").toContain("OKTA_CLIENT_TOKEN")
    })
  )

  it.effect("what is set in a missing variable's place is named, never its value", () =>
    Effect.gen(function* () {
      const PASTED = "00SeCrEt-value-5a4b3c"
      const org = { OKTA_CLIENT_ORGURL: "https://acme.okta.com" }
      const messageFrom = (env: Record<string, string>) => Effect.map(buildFrom(env), String)
      // terraform-provider-okta's variables: the user saw only "Expected OKTA_CLIENT_TOKEN to exist".
      const terraform = yield* messageFrom({
        OKTA_ORG_NAME: "acme",
        OKTA_BASE_URL: "okta.com",
        OKTA_API_TOKEN: PASTED
      })
      expect(terraform).toContain(
        "OKTA_API_TOKEN is set, but this client reads OKTA_CLIENT_TOKEN (the name Okta's SDKs read)"
      )
      expect(terraform).toContain(
        "OKTA_ORG_NAME is set, but this client reads OKTA_CLIENT_ORGURL (the name Okta's SDKs read)"
      )
      const oauth = yield* messageFrom({
        ...org,
        OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey",
        OKTA_API_SCOPES: "okta.apps.read",
        OKTA_API_CLIENT_ID: "0oa1",
        OKTA_PRIVATE_KEY: PASTED,
        OKTA_API_PRIVATE_KEY: "",
        OKTA_CLIENT_ID: "  "
      })
      expect(oauth).toContain(
        "OKTA_API_CLIENT_ID is set, but this client reads OKTA_CLIENT_CLIENTID"
      )
      expect(oauth).toContain(
        "OKTA_PRIVATE_KEY is set, but this client reads OKTA_CLIENT_PRIVATEKEY"
      )
      expect(oauth).toContain("OKTA_API_SCOPES is set, but this client reads OKTA_CLIENT_SCOPES")
      // An empty or blank one is not set.
      expect(oauth).not.toContain("OKTA_API_PRIVATE_KEY")
      expect(oauth).not.toContain("OKTA_CLIENT_ID")
      // A service app's variables, without the mode that reads them.
      const mode = yield* messageFrom({
        ...org,
        OKTA_CLIENT_CLIENTID: "0oa1",
        OKTA_CLIENT_PRIVATEKEY: PASTED
      })
      expect(mode).toContain(
        "OKTA_CLIENT_CLIENTID and OKTA_CLIENT_PRIVATEKEY are set: for a service app's key, set OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey"
      )
      // Two things set in one variable's place: both are named.
      const both = yield* messageFrom({
        ...org,
        OKTA_API_TOKEN: PASTED,
        OKTA_CLIENT_CLIENTID: "0oa1",
        OKTA_CLIENT_PRIVATEKEY: PASTED
      })
      expect(both).toContain(
        "OKTA_API_TOKEN is set, but this client reads OKTA_CLIENT_TOKEN (the name Okta's SDKs read); OKTA_CLIENT_CLIENTID and OKTA_CLIENT_PRIVATEKEY are set: for a service app's key"
      )
      for (const message of [terraform, oauth, mode, both]) expect(message).not.toContain(PASTED)
      // Nothing else set: Effect's own message, unchanged.
      expect(yield* messageFrom(org)).toBe(
        '(Missing data at OKTA_CLIENT_TOKEN: "Expected OKTA_CLIENT_TOKEN to exist in the provided map")'
      )
    })
  )

  it.effect.each([
    ["OKTA_ORG_URL", "OKTA_CLIENT_ORGURL"],
    ["OKTA_DOMAIN", "OKTA_CLIENT_ORGURL"],
    ["OKTA_ORG_NAME", "OKTA_CLIENT_ORGURL"],
    ["OKTA_API_TOKEN", "OKTA_CLIENT_TOKEN"],
    ["OKTA_TOKEN", "OKTA_CLIENT_TOKEN"],
    ["OKTA_API_CLIENT_ID", "OKTA_CLIENT_CLIENTID"],
    ["OKTA_CLIENT_ID", "OKTA_CLIENT_CLIENTID"],
    ["OKTA_API_SCOPES", "OKTA_CLIENT_SCOPES"],
    ["OKTA_API_PRIVATE_KEY", "OKTA_CLIENT_PRIVATEKEY"],
    ["OKTA_PRIVATE_KEY", "OKTA_CLIENT_PRIVATEKEY"]
  ] as const)("%s, set where %s is missing, is named", ([other, standard]) =>
    Effect.gen(function* () {
      const mode = ["OKTA_CLIENT_ORGURL", "OKTA_CLIENT_TOKEN"].includes(standard)
        ? {}
        : { OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey" }
      expect(String(yield* buildFrom({ ...mode, [other]: "x" }))).toContain(
        `${other} is set, but this client reads ${standard} (the name Okta's SDKs read)`
      )
    })
  )

  it.effect("PrivateKey: every missing variable of the mode, at once", () =>
    Effect.gen(function* () {
      const message = String(yield* buildFrom({ OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey" }))
      for (const name of [
        "OKTA_CLIENT_ORGURL",
        "OKTA_CLIENT_CLIENTID",
        "OKTA_CLIENT_SCOPES",
        "OKTA_CLIENT_PRIVATEKEY"
      ]) {
        expect(message).toContain(name)
      }
      expect(message).not.toContain("OKTA_CLIENT_KEYID")
      expect(message).not.toContain("<redacted>")
    })
  )

  it.effect(
    "the mode is read case-blind, and one it does not know is named with the two it does",
    () =>
      Effect.gen(function* () {
        const org = { OKTA_CLIENT_ORGURL: "https://acme.okta.com" }
        const error = yield* buildFrom({ ...org, OKTA_CLIENT_AUTHORIZATIONMODE: "OAuth" })
        expect(error).toMatchObject({ _tag: "OktaConfigError", field: "authorizationMode" })
        expect(error.message).toContain(
          'must be SSWS or PrivateKey, not "OAuth" (OKTA_CLIENT_AUTHORIZATIONMODE)'
        )
        // A value that is no word may be a secret in the wrong variable: it is not repeated.
        const pasted = yield* buildFrom({ ...org, OKTA_CLIENT_AUTHORIZATIONMODE: "00aBc-123" })
        expect(pasted.message).toContain(
          "must be SSWS or PrivateKey (OKTA_CLIENT_AUTHORIZATIONMODE)"
        )
        // " privatekey " is PrivateKey: its own variables are then the ones missing.
        const lower = String(
          yield* buildFrom({ ...org, OKTA_CLIENT_AUTHORIZATIONMODE: " privatekey " })
        )
        expect(lower).toContain("OKTA_CLIENT_CLIENTID")
        expect(lower).not.toContain("OKTA_CLIENT_TOKEN")
      })
  )
})

describe("a bad value read from a standard variable", () => {
  // The error names the variable, as the missing ones are named: "apiToken" alone does not say
  // which of the environment's values to fix.
  it.effect.each([
    [{ OKTA_CLIENT_TOKEN: "" }, "apiToken", "apiToken is empty (OKTA_CLIENT_TOKEN)"],
    [{ OKTA_CLIENT_TOKEN: "SSWS 00abc" }, "apiToken", "pass the token alone (OKTA_CLIENT_TOKEN)"],
    [{ OKTA_CLIENT_TOKEN: '"00abc"' }, "apiToken", "give the value alone (OKTA_CLIENT_TOKEN)"],
    [
      { OKTA_CLIENT_ORGURL: "https://{yourOktaDomain}" },
      "orgUrl",
      "placeholder (OKTA_CLIENT_ORGURL)"
    ],
    [
      {
        OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey",
        OKTA_CLIENT_CLIENTID: " ",
        OKTA_CLIENT_SCOPES: "okta.apps.read",
        OKTA_CLIENT_PRIVATEKEY: "not a key"
      },
      "oauth.clientId",
      "oauth.clientId is empty (OKTA_CLIENT_CLIENTID)"
    ],
    // As `docker --env-file` passes them, quotes kept: Okta answered `invalid_scope`.
    [
      {
        OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey",
        OKTA_CLIENT_CLIENTID: "0oa1",
        OKTA_CLIENT_SCOPES: '"okta.apps.read okta.apps.manage"',
        OKTA_CLIENT_PRIVATEKEY: "not a key"
      },
      "oauth.scopes",
      'has "\\"okta.apps.read", which is not one scope (no spaces, quotes or backslashes) (OKTA_CLIENT_SCOPES)'
    ],
    [
      {
        OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey",
        OKTA_CLIENT_CLIENTID: "0oa1",
        OKTA_CLIENT_SCOPES: "okta.apps.read",
        OKTA_CLIENT_KEYID: "'kid-1'",
        OKTA_CLIENT_PRIVATEKEY: "not a key"
      },
      "oauth.keyId",
      "oauth.keyId is wrapped in quotes (from an env file that keeps them?); give the value alone (OKTA_CLIENT_KEYID)"
    ],
    [
      {
        OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey",
        OKTA_CLIENT_CLIENTID: "0oa1",
        OKTA_CLIENT_SCOPES: "okta.apps.read",
        OKTA_CLIENT_PRIVATEKEY: "not a key"
      },
      "oauth.privateKey",
      "(OKTA_CLIENT_PRIVATEKEY)"
    ]
  ] as const)("%o: OktaConfigError %s, naming the variable", ([env, field, says]) =>
    Effect.gen(function* () {
      const error = yield* buildFrom({
        OKTA_CLIENT_ORGURL: "https://acme.okta.com",
        OKTA_CLIENT_TOKEN: "00abc",
        ...env
      })
      expect(error).toMatchObject({ _tag: "OktaConfigError", field })
      expect(error.message).toContain(says)
    })
  )

  it.effect("a value from a Config of the application's is not said to be the variable's", () =>
    Effect.gen(function* () {
      const error = yield* buildFrom(
        { OKTA_CLIENT_ORGURL: "https://acme.okta.com", MY_TOKEN: "" },
        { apiToken: Config.redacted("MY_TOKEN") }
      )
      expect(error.message).toBe("invalid Okta client configuration: apiToken is empty")
    })
  )
})

describe("orgUrl", () => {
  const build = (orgUrl: string) =>
    Layer.build(OktaClient.layer({ orgUrl, apiToken: Redacted.make("00abc") })).pipe(
      Effect.scoped,
      Effect.provide(scriptedHttp(() => json(200, {})).layer),
      Effect.flip
    )

  it.effect("with an API or console path is refused with a hint", () =>
    Effect.gen(function* () {
      for (const [url, path] of [
        ["https://acme.okta.com/api/v1", "/api/v1"],
        ["https://acme.okta.com/api/v1/", "/api/v1"],
        ["https://acme.oktapreview.com/admin/dashboard", "/admin/dashboard"],
        ["https://login.acme.com/oauth2/default", "/oauth2/default"],
        ["https://acme.okta.com/anything", "/anything"]
      ] as const) {
        const error = yield* build(url)
        expect(error).toMatchObject({ _tag: "OktaConfigError", field: "orgUrl" })
        expect(error.message).toContain(`has a path (${path})`)
        expect(error.message).toContain(new URL(url).origin)
      }
    })
  )

  it.effect("behind a proxy prefix is kept, and errors show the path as sent", () =>
    Effect.gen(function* () {
      const http = scriptedHttp(() => json(404, { errorCode: "E0000007" }))
      const error = yield* Effect.flatMap(ApplicationConnections, (api) =>
        Effect.flip(api.getDefaultProvisioningConnectionForApplication("0oa1"))
      ).pipe(
        Effect.provide(
          ApplicationConnections.layer.pipe(
            Layer.provide(
              OktaClient.layer({
                orgUrl: "https://gateway.example.com/okta/",
                apiToken: Redacted.make("00abc"),
                retry: false
              })
            ),
            Layer.provide(http.layer)
          )
        )
      )
      expect(http.requests[0]!.path).toBe("/okta/api/v1/apps/0oa1/connections/default")
      expect(error).toMatchObject({
        _tag: "OktaNotFoundError",
        path: "/okta/api/v1/apps/0oa1/connections/default"
      })
    })
  )
})

describe("the retry settings Okta's SDKs read", () => {
  const org = { OKTA_CLIENT_ORGURL: "https://acme.okta.com", OKTA_CLIENT_TOKEN: "00abc" }
  /** A get through `layerConfig` under `env`, on an Okta that always answers `status`. */
  const callUnder = (
    env: Record<string, string>,
    reply: () => Response,
    options: OktaClientConfigOptions = {}
  ) => {
    const http = scriptedHttp(reply)
    const get = Effect.flatMap(ApplicationConnections, (connections) =>
      connections.getDefaultProvisioningConnectionForApplication("0oa1abcd")
    ).pipe(
      Effect.provide(
        ApplicationConnections.layer.pipe(
          Layer.provide(OktaClient.layerConfig(options)),
          Layer.provide(http.layer)
        )
      ),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
    return Effect.map(withAdvancingClock(Effect.flip(get)), (error) => ({
      error,
      sent: http.requests.length
    }))
  }
  const failing = () => json(500, { errorCode: "E0000009", errorSummary: "Internal Server Error" })

  it.effect("OKTA_CLIENT_RATELIMIT_MAXRETRIES bounds the retries; 0 is none", () =>
    Effect.gen(function* () {
      expect((yield* callUnder(org, failing)).sent).toBe(5) // the default: 4 retries
      const once = yield* callUnder({ ...org, OKTA_CLIENT_RATELIMIT_MAXRETRIES: "1" }, failing)
      expect(once).toMatchObject({ sent: 2, error: { _tag: "OktaServerError", status: 500 } })
      const none = yield* callUnder({ ...org, OKTA_CLIENT_RATELIMIT_MAXRETRIES: "0" }, failing)
      expect(none.sent).toBe(1)
      // A policy given in code wins over the variable.
      const given = yield* callUnder({ ...org, OKTA_CLIENT_RATELIMIT_MAXRETRIES: "0" }, failing, {
        retry: RetryPolicy.make({ maxRetries: 2 })
      })
      expect(given.sent).toBe(3)
    })
  )

  it.effect("OKTA_CLIENT_REQUESTTIMEOUT is the call's deadline in seconds; 0 is none", () =>
    Effect.gen(function* () {
      // A rate-limit window that resets in 60 s: a 10 s deadline cannot wait for it.
      const limited = () =>
        json(
          429,
          { errorCode: "E0000047" },
          {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "60"
          }
        )
      const bounded = yield* callUnder({ ...org, OKTA_CLIENT_REQUESTTIMEOUT: "10" }, limited)
      expect(bounded).toMatchObject({
        sent: 1,
        error: { _tag: "OktaTimeoutError", kind: "deadline" }
      })
      // Seconds, not milliseconds: a window that resets in 5 s is waited for within 10.
      const soon = () =>
        json(
          429,
          { errorCode: "E0000047" },
          { "x-rate-limit-limit": "100", "x-rate-limit-remaining": "0", "x-rate-limit-reset": "5" }
        )
      const waited = yield* callUnder(
        { ...org, OKTA_CLIENT_REQUESTTIMEOUT: "10", OKTA_CLIENT_RATELIMIT_MAXRETRIES: "1" },
        soon
      )
      expect(waited).toMatchObject({ sent: 2, error: { _tag: "OktaRateLimitError" } })
      const unbounded = yield* callUnder(
        { ...org, OKTA_CLIENT_REQUESTTIMEOUT: "0", OKTA_CLIENT_RATELIMIT_MAXRETRIES: "1" },
        limited
      )
      expect(unbounded).toMatchObject({ sent: 2, error: { _tag: "OktaRateLimitError" } })
      // A deadline given in code wins over the variable.
      const given = yield* callUnder(
        { ...org, OKTA_CLIENT_REQUESTTIMEOUT: "10", OKTA_CLIENT_RATELIMIT_MAXRETRIES: "1" },
        limited,
        { deadline: "5 minutes" }
      )
      expect(given.sent).toBe(2)
    })
  )

  it.effect("an empty variable is unset, as a template leaves it", () =>
    Effect.gen(function* () {
      const empty = {
        ...org,
        OKTA_CLIENT_REQUESTTIMEOUT: "",
        OKTA_CLIENT_RATELIMIT_MAXRETRIES: " "
      }
      expect((yield* callUnder(empty, failing)).sent).toBe(5) // the default: 4 retries
    })
  )

  it.effect.each([
    ["OKTA_CLIENT_REQUESTTIMEOUT", "thirty"],
    ["OKTA_CLIENT_REQUESTTIMEOUT", "-1"],
    ["OKTA_CLIENT_RATELIMIT_MAXRETRIES", "2.5"],
    ["OKTA_CLIENT_RATELIMIT_MAXRETRIES", "-1"]
  ] as const)("%s=%s is refused by name before anything is sent", ([name, value]) =>
    Effect.gen(function* () {
      const { error, sent } = yield* callUnder({ ...org, [name]: value }, failing)
      expect(sent).toBe(0)
      // A short word is repeated, to show what was read.
      const says = `${name} must be a whole number, 0 or more, not "${value}"`
      expect(String(error)).toContain(`Invalid data at ${name}: "${says}"`)
      // What a log of the error's message shows names the variable too.
      expect(error).toMatchObject({ message: says })
      // Not read when the option it stands for is given: the call is made.
      const options: OktaClientConfigOptions =
        name === "OKTA_CLIENT_REQUESTTIMEOUT" ? { deadline: "1 minute" } : { retry: false }
      expect((yield* callUnder({ ...org, [name]: value }, failing, options)).sent).toBe(
        name === "OKTA_CLIENT_REQUESTTIMEOUT" ? 5 : 1
      )
    })
  )
})

describe("any environment", () => {
  const TOKEN = "00SeCrEt-token-9f8e7d6c"
  const pem = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" }
  }).privateKey
  const KEY_PART = pem.split("\n")[5]!
  // Each variable unset, or one of the values people put there, or anything at all.
  // (The first common value, usually a good one, most often: the checks after it are reached.)
  const value = (...common: ReadonlyArray<string>) =>
    fc.option(
      fc.oneof(
        { weight: 6, arbitrary: fc.constant(common[0]!) },
        { weight: 3, arbitrary: fc.constantFrom(...common, "", " ") },
        { weight: 1, arbitrary: fc.string({ maxLength: 40 }) }
      ),
      { nil: undefined, freq: 8 }
    )
  const env = fc.record({
    OKTA_CLIENT_ORGURL: value(
      "https://acme.okta.com",
      "https://acme.okta.com/",
      "https://acme.okta.com/api/v1",
      "https://acme-admin.okta.com",
      "https://{yourOktaDomain}",
      "http://127.0.0.1:8080/okta",
      "acme.okta.com",
      TOKEN
    ),
    OKTA_CLIENT_AUTHORIZATIONMODE: fc.oneof(
      fc.constantFrom("SSWS", "PrivateKey"),
      value("PrivateKey", "privatekey", "OAuth", TOKEN)
    ),
    OKTA_CLIENT_TOKEN: value(TOKEN, ` ${TOKEN} `, `SSWS ${TOKEN}`, `Bearer ${TOKEN}`, pem),
    OKTA_CLIENT_CLIENTID: value("0oaserviceapp0000001", TOKEN),
    OKTA_CLIENT_SCOPES: value(
      "okta.apps.read okta.apps.manage",
      "okta.apps.read,okta.apps.manage",
      TOKEN
    ),
    OKTA_CLIENT_PRIVATEKEY: value(pem, pem.replace(/\n/g, "\\n"), `x${KEY_PART}`, TOKEN),
    OKTA_CLIENT_KEYID: value("key-1", TOKEN),
    OKTA_CLIENT_REQUESTTIMEOUT: value("30", "0", "-1", "2.5", "99999999999999999999", TOKEN),
    OKTA_CLIENT_RATELIMIT_MAXRETRIES: value("2", "0", "-1", "x", TOKEN)
  })

  it.effect.prop(
    "the client is built, or fails with one OktaConfigError or ConfigError that names no secret",
    { env },
    ({ env }) =>
      Effect.gen(function* () {
        const set = Object.fromEntries(
          Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)
        )
        const exit = yield* Effect.exit(build(set))
        if (Exit.isSuccess(exit)) return
        expect([...Cause.defects(exit.cause)]).toEqual([])
        const failures = [...Cause.failures(exit.cause)]
        expect(failures).toHaveLength(1)
        const error = failures[0]!
        expect(["OktaConfigError", "ConfigError"]).toContain(error._tag)
        const said = `${String(error)} ${JSON.stringify(error)}`
        for (const secret of [TOKEN, KEY_PART, "<redacted>"]) expect(said).not.toContain(secret)
      }),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 300 } }
  )
})
