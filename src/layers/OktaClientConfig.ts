/**
 * `OktaClient.layerConfig`: the org URL, credentials and retry settings read from `Config`, with
 * Okta's standard variables as defaults.
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { RateLimitStoreService } from "../store/RateLimitStore.js"
import { OktaConfigError } from "../errors/OktaError.js"
import * as RetryPolicy from "./RetryPolicy.js"
import type {
  OktaClientConfigOptions,
  OktaClientOptions,
  OktaClientSettings,
  OktaOAuthOptions
} from "./OktaClientOptions.js"

/**
 * The Redis store named by `REDIS_URL` (or the `redisUrl` option), connected for the layer's
 * lifetime; nothing when neither is set (or is empty) or a store was given. `ioredis` is loaded
 * only then.
 */
const sharedStore = (
  settings: { readonly rateLimitStore?: RateLimitStoreService | undefined },
  url: Config.Config<string> | undefined,
  keyPrefix: Config.Config<string> | undefined
) =>
  Effect.gen(function* () {
    if (settings.rateLimitStore !== undefined) return {}
    // Set but empty (`REDIS_URL= okta-connections …`) is unset: the way to opt out of a
    // REDIS_URL the environment holds for something else.
    const redis = Option.filter(
      yield* Config.option(url ?? Config.string("REDIS_URL")),
      (value) => value.trim() !== ""
    )
    if (Option.isNone(redis)) return {}
    const prefix = yield* Config.option(keyPrefix ?? Config.string("REDIS_KEY_PREFIX"))
    const { RedisRateLimitStore } = yield* Effect.tryPromise({
      try: () => import("../redis/index.js"),
      catch: () =>
        new OktaConfigError({
          field: "redisUrl",
          reason:
            "REDIS_URL is set, which needs the ioredis package, 5.3 or later: npm install ioredis"
        })
    })
    const store = yield* RedisRateLimitStore.make({
      url: redis.value,
      ...(Option.isSome(prefix) ? { keyPrefix: prefix.value } : {})
    })
    return { rateLimitStore: store }
  })

/**
 * A whole number of at least 0, named by its variable when it is not one; unset when empty (as a
 * template leaves `OKTA_CLIENT_REQUESTTIMEOUT=${TIMEOUT}` with nothing to put in), and not read
 * at all when the option it stands for is given (a stray value then fails nothing).
 */
const wholeNumber = (name: string, given: boolean) =>
  given
    ? Config.succeed(Option.none<number>())
    : Config.option(Config.string(name)).pipe(
        Config.mapOrFail((value) => {
          const text = Option.getOrElse(value, () => "").trim()
          if (text === "") return Either.right(Option.none<number>())
          return /^\d+$/.test(text)
            ? Either.right(Option.some(Number(text)))
            : Either.left(
                ConfigError.InvalidData(
                  [name],
                  // Named in the message too: `ConfigError.message` drops the path, and the
                  // message is what a caller's log shows. A short word is echoed; anything else
                  // might be a secret in the wrong variable.
                  `${name} must be a whole number, 0 or more${/^[\w .+-]{1,12}$/.test(text) ? `, not "${text}"` : ""}`
                )
              )
        })
      )

/**
 * The two retry settings Okta's SDKs read, for a `deadline` or `retry` the options do not give:
 * `OKTA_CLIENT_REQUESTTIMEOUT` (seconds for the whole call, retries included; 0 is none) and
 * `OKTA_CLIENT_RATELIMIT_MAXRETRIES` (0 is no retry, as in the Node SDK).
 */
const retrySettings = (settings: OktaClientSettings) =>
  Effect.map(
    Config.all({
      requestTimeout: wholeNumber("OKTA_CLIENT_REQUESTTIMEOUT", settings.deadline !== undefined),
      maxRetries: wholeNumber("OKTA_CLIENT_RATELIMIT_MAXRETRIES", settings.retry !== undefined)
    }),
    ({ requestTimeout, maxRetries }) => ({
      ...(Option.isSome(requestTimeout) && requestTimeout.value > 0
        ? { deadline: Duration.seconds(requestTimeout.value) }
        : {}),
      ...(Option.isSome(maxRetries)
        ? { retry: RetryPolicy.make({ maxRetries: maxRetries.value }) }
        : {})
    })
  )

// What may be set where a standard variable is missing, named (never its value): another tool's
// name for it (terraform-provider-okta's `OKTA_API_TOKEN` …), or a service app's variables
// without the mode that reads them (SSWS, the default, asks for a token).
const ELSEWHERE: ReadonlyArray<
  readonly [missing: string, set: ReadonlyArray<string>, says: string | undefined]
> = [
  ["OKTA_CLIENT_ORGURL", ["OKTA_ORG_URL", "OKTA_DOMAIN", "OKTA_ORG_NAME"], undefined],
  ["OKTA_CLIENT_TOKEN", ["OKTA_API_TOKEN", "OKTA_TOKEN"], undefined],
  [
    "OKTA_CLIENT_TOKEN",
    ["OKTA_CLIENT_CLIENTID", "OKTA_CLIENT_PRIVATEKEY"],
    "for a service app's key, set OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey"
  ],
  ["OKTA_CLIENT_CLIENTID", ["OKTA_API_CLIENT_ID", "OKTA_CLIENT_ID"], undefined],
  ["OKTA_CLIENT_SCOPES", ["OKTA_API_SCOPES"], undefined],
  ["OKTA_CLIENT_PRIVATEKEY", ["OKTA_API_PRIVATE_KEY", "OKTA_PRIVATE_KEY"], undefined]
]

const isSet = (name: string) =>
  Effect.orElseSucceed(
    Effect.map(Config.option(Config.string(name)), (value) =>
      Option.exists(value, (v) => v.trim() !== "")
    ),
    () => false
  )

/** `read`, whose missing standard variables say what is set in their place (`ELSEWHERE`). */
const namingOthers = <A>(read: Config.Config<A>): Effect.Effect<A, ConfigError.ConfigError> =>
  Effect.catchAll(read, (error) =>
    Effect.gen(function* () {
      const hints = new Map<string, Array<string>>()
      for (const [missing, names, says] of ELSEWHERE) {
        const set = yield* Effect.filter(names, isSet)
        if (set.length === 0) continue
        const are = `${set.join(" and ")} ${set.length > 1 ? "are" : "is"} set`
        const hint =
          says === undefined
            ? `${are}, but this client reads ${missing} (the name Okta's SDKs read)`
            : `${are}: ${says}`
        hints.set(missing, [...(hints.get(missing) ?? []), hint])
      }
      const rebuild = (e: ConfigError.ConfigError): ConfigError.ConfigError => {
        if (e._op === "And") return ConfigError.And(rebuild(e.left), rebuild(e.right))
        if (e._op === "Or") return ConfigError.Or(rebuild(e.left), rebuild(e.right))
        const hint = e._op === "MissingData" ? hints.get(e.path.join(".")) : undefined
        return hint === undefined
          ? e
          : ConfigError.MissingData(e.path, [e.message, ...hint].join("; "))
      }
      return yield* Effect.fail(hints.size > 0 ? rebuild(error) : error)
    })
  )

/**
 * Reads the org URL and credentials of {@link OktaClientConfigOptions} from `Config`, with Okta's
 * standard variables as defaults.
 */
const fromConfig = (
  options: OktaClientConfigOptions
): Effect.Effect<OktaClientOptions, ConfigError.ConfigError | OktaConfigError, Scope.Scope> => {
  const {
    orgUrl,
    apiToken,
    accessToken,
    authorizationMode,
    clientId,
    scopes,
    privateKey,
    keyId,
    dpop,
    redisUrl,
    redisKeyPrefix,
    ...rest
  } = options
  // `Config.redacted`'s own failure message is "<redacted>": read the text, then redact it, so a
  // missing variable is named.
  const secret = (name: string) => Config.map(Config.string(name), Redacted.make)
  const url = orgUrl ?? Config.string("OKTA_CLIENT_ORGURL")
  return Effect.gen(function* () {
    const settings = {
      ...rest,
      ...(yield* retrySettings(rest)),
      ...(yield* sharedStore(rest, redisUrl, redisKeyPrefix))
    }
    const given = (yield* (
      authorizationMode ??
      Config.string("OKTA_CLIENT_AUTHORIZATIONMODE").pipe(Config.withDefault("SSWS"))
    )).trim()
    const mode = given.toLowerCase()
    // Each mode's variables are read together, so every missing one is reported at once.
    if (accessToken !== undefined) {
      const read = yield* namingOthers(Config.all({ orgUrl: url, accessToken }))
      return { ...settings, ...read }
    }
    if (mode === "ssws") {
      const read = yield* namingOthers(
        Config.all({ orgUrl: url, apiToken: apiToken ?? secret("OKTA_CLIENT_TOKEN") })
      )
      return { ...settings, ...read }
    }
    if (mode === "privatekey") {
      const read = yield* namingOthers(
        Config.all({
          orgUrl: url,
          clientId: clientId ?? Config.string("OKTA_CLIENT_CLIENTID"),
          scopes: scopes ?? Config.string("OKTA_CLIENT_SCOPES"),
          privateKey: privateKey ?? secret("OKTA_CLIENT_PRIVATEKEY"),
          keyId: Config.option(keyId ?? Config.string("OKTA_CLIENT_KEYID"))
        })
      )
      const oauth: OktaOAuthOptions = {
        clientId: read.clientId,
        scopes: read.scopes.split(/[\s,]+/).filter((scope) => scope !== ""),
        privateKey: read.privateKey,
        ...(Option.isSome(read.keyId) ? { keyId: read.keyId.value } : {}),
        ...(dpop !== undefined ? { dpop } : {})
      }
      return { ...settings, orgUrl: read.orgUrl, oauth }
    }
    return yield* new OktaConfigError({
      field: "authorizationMode",
      // A word is named; anything else might be a secret pasted into the wrong variable.
      reason: `must be SSWS or PrivateKey${
        /^[A-Za-z _-]{1,24}$/.test(given) ? `, not "${given}"` : ""
      } (OKTA_CLIENT_AUTHORIZATIONMODE)`
    })
  })
}

/** The standard variable an option is read from when the application gives no `Config` for it. */
const VARIABLES: ReadonlyArray<
  readonly [field: string, option: keyof OktaClientConfigOptions, variable: string]
> = [
  ["orgUrl", "orgUrl", "OKTA_CLIENT_ORGURL"],
  ["apiToken", "apiToken", "OKTA_CLIENT_TOKEN"],
  ["oauth.clientId", "clientId", "OKTA_CLIENT_CLIENTID"],
  ["oauth.scopes", "scopes", "OKTA_CLIENT_SCOPES"],
  ["oauth.keyId", "keyId", "OKTA_CLIENT_KEYID"],
  ["oauth.privateKey", "privateKey", "OKTA_CLIENT_PRIVATEKEY"]
]

/**
 * `make` over the options read from `Config`: an unusable value read from a standard variable is
 * reported with the variable's name, as a missing one is.
 *
 * @internal
 */
export const makeFromConfig = <A, R>(
  options: OktaClientConfigOptions,
  make: (options: OktaClientOptions) => Effect.Effect<A, OktaConfigError, R>
): Effect.Effect<A, ConfigError.ConfigError | OktaConfigError, R | Scope.Scope> =>
  Effect.flatMap(fromConfig(options), (read) =>
    Effect.mapError(make(read), (error) => {
      const source = VARIABLES.find(([field]) => field === error.field)
      return source === undefined || options[source[1]] !== undefined
        ? error
        : new OktaConfigError({ field: error.field, reason: `${error.reason} (${source[2]})` })
    })
  )
