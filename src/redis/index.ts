/**
 * `effect-okta-connections/redis`: one org's rate-limit budget shared by every process that calls
 * it, on Redis. Give each worker's `OktaClient` the same store (same Redis, same key prefix) and
 * their gates draw on one budget: together they neither overrun Okta's window nor its
 * concurrent-request limit. Needs `ioredis` 5.3 or later, or 6 (an optional peer dependency,
 * loaded only here).
 *
 * @since 0.1.0
 */
import { createHash } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { Redis } from "ioredis"
import { OktaConfigError } from "../errors/OktaError.js"
import {
  type RateLimitKey,
  RateLimitStore,
  RateLimitStoreError,
  type RateLimitStoreService
} from "../store/RateLimitStore.js"
import { pasteFault } from "../internal/pasted.js"
import { STORE_TIMEOUT_MS } from "../internal/sharedGate.js"
import { ACQUIRE, OBSERVE, RELEASE, WINDOW_MILLIS } from "./scripts.js"

const DEFAULT_URL = "redis://127.0.0.1:6379"

/**
 * Options of {@link RedisRateLimitStore.make}.
 *
 * @example
 * ```ts
 * import type { RedisRateLimitStoreOptions } from "effect-okta-connections/redis"
 *
 * const options: RedisRateLimitStoreOptions = { url: "redis://127.0.0.1:6379", keyPrefix: "okta:" }
 * ```
 *
 * @since 0.1.0
 */
export interface RedisRateLimitStoreOptions {
  /** The Redis to connect to (`redis://…` or `rediss://…`). Default `redis://127.0.0.1:6379`. */
  readonly url?: string | undefined
  /**
   * An `ioredis` client of your own instead of `url` (it is used as it is, and not closed when the
   * store's scope ends; `stringNumbers` is fine). Give it `commandTimeout: 250` (or less) to spare
   * the client timing each command itself.
   */
  readonly client?: Redis | undefined
  /** Prepended to every key. Default `okta-connections:`. */
  readonly keyPrefix?: string | undefined
  /**
   * The share of Okta's budget a process spends on its own gate while Redis is unreachable.
   * Default 1/4; above 0 and at most 1 (the client checks it when it is built).
   */
  readonly fallbackShare?: number | undefined
}

const sha1 = (script: string) => createHash("sha1").update(script).digest("hex")

/**
 * A script's reply, which is numbers: a client of one's own may return them as strings
 * (`stringNumbers`). Anything else fails the store call (the client falls back), not the call.
 */
const numbersOf = (reply: unknown): ReadonlyArray<number> => {
  const values = (Array.isArray(reply) ? reply : [reply]).map((value: unknown) =>
    typeof value === "number" || (typeof value === "string" && /^-?\d+$/.test(value))
      ? Number(value)
      : Number.NaN
  )
  if (!values.every(Number.isFinite)) throw new Error("the script's reply is not numbers")
  return values
}

/**
 * What is wrong with a Redis URL, never quoting it (it may hold a password); `undefined` if
 * nothing. ioredis would throw a `TypeError` holding the URL, a defect rather than an error.
 */
const urlProblem = (url: string): string | undefined => {
  const pasted = pasteFault(url.trim())
  if (pasted !== undefined) return pasted
  // `localhost:6379`, as docker-compose files write it: a host and a port, no password to hide.
  if (/^[\w.-]+:\d+$/.test(url)) return `has no scheme: redis://${url} (rediss:// for TLS)`
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return "is not a URL (expected redis://host:port or rediss://host:port)"
  }
  return parsed.protocol === "redis:" || parsed.protocol === "rediss:"
    ? undefined
    : `must be a redis:// or rediss:// URL, not ${parsed.protocol}//`
}

/**
 * The Redis store as a value (for `OktaClient.layer({ rateLimitStore })`), connected for the
 * scope's lifetime. Connection problems never fail it: operations fail with
 * `RateLimitStoreError`, and the client falls back to its own gate until Redis answers again. A
 * `url` that is not a `redis://` or `rediss://` URL fails it with `OktaConfigError` (field
 * `redisUrl`), before any connection.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { OktaClient } from "effect-okta-connections"
 * import { RedisRateLimitStore } from "effect-okta-connections/redis"
 *
 * const client = Effect.map(
 *   RedisRateLimitStore.make({ url: "redis://127.0.0.1:6379" }),
 *   (rateLimitStore) => OktaClient.layerConfig({ rateLimitStore })
 * )
 * ```
 *
 * @since 0.1.0
 */
export const make = (
  options: RedisRateLimitStoreOptions = {}
): Effect.Effect<RateLimitStoreService, OktaConfigError, Scope.Scope> =>
  Effect.gen(function* () {
    const prefix = options.keyPrefix ?? "okta-connections:"
    const problem =
      options.client === undefined ? urlProblem(options.url ?? DEFAULT_URL) : undefined
    let connectionError: string | undefined
    if (problem !== undefined)
      return yield* new OktaConfigError({ field: "redisUrl", reason: problem })
    const redis =
      options.client ??
      (yield* Effect.acquireRelease(
        Effect.sync(() => {
          const client = new Redis(options.url ?? DEFAULT_URL, {
            // A command while disconnected fails at once: the client falls back instead of
            // queueing behind a dead connection.
            enableOfflineQueue: false,
            maxRetriesPerRequest: 1,
            // A command Redis does not answer in time fails: the client then goes on with its
            // own gate, and need not time each command itself.
            commandTimeout: STORE_TIMEOUT_MS,
            // Closing a connection that is down waits this long (on a timer that keeps the
            // process alive) before dropping it: 2 s by default, after a script's last call.
            disconnectTimeout: STORE_TIMEOUT_MS,
            retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
            connectionName: "effect-okta-connections"
          })
          // Failures surface as failed commands (and the client's fallback); without a listener
          // ioredis would report each reconnection attempt as an unhandled error. The last one
          // says why a command could not be sent.
          client.on("error", (error: Error) => {
            connectionError = error.message
          })
          client.on("ready", () => {
            connectionError = undefined
          })
          return client
        }),
        (client) => Effect.sync(() => client.disconnect())
      ).pipe(
        // Commands are not queued while disconnected: wait (briefly) for the first connection. A
        // Redis that refuses it, or has not answered in 2 s, makes the client start on its local
        // gate (the store is tried again later), not fail, nor wait for ioredis's retries.
        Effect.tap((client) =>
          Effect.async<void>((resume) => {
            if (client.status === "ready") return resume(Effect.void)
            const settle = () => {
              clearTimeout(timer)
              client.off("ready", settle)
              client.off("error", settle)
              resume(Effect.void)
            }
            const timer = setTimeout(settle, 2_000)
            client.once("ready", settle)
            client.once("error", settle)
            return Effect.sync(() => {
              clearTimeout(timer)
              client.off("ready", settle)
              client.off("error", settle)
            })
          })
        )
      ))

    const scripts = { acquire: ACQUIRE, observe: OBSERVE, release: RELEASE }
    const digests = {
      acquire: sha1(ACQUIRE),
      observe: sha1(OBSERVE),
      release: sha1(RELEASE)
    }
    const run = (
      operation: keyof typeof scripts,
      keys: ReadonlyArray<string>,
      args: ReadonlyArray<string | number>
    ): Effect.Effect<ReadonlyArray<number>, RateLimitStoreError> =>
      Effect.tryPromise({
        try: async () => {
          let reply: unknown
          try {
            reply = await redis.evalsha(digests[operation], keys.length, ...keys, ...args)
          } catch (error) {
            // First use on this Redis (or after a restart): load the script.
            if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error
            reply = await redis.eval(scripts[operation], keys.length, ...keys, ...args)
          }
          return numbersOf(reply)
        },
        catch: (error) =>
          new RateLimitStoreError({
            operation,
            reason: !(error instanceof Error)
              ? String(error)
              : // ioredis's words for a command while disconnected (enableOfflineQueue off).
                error.message.startsWith("Stream isn't writeable")
                ? `not connected to Redis${connectionError === undefined ? "" : ` (${connectionError})`}`
                : error.message
          })
      })

    const keysOf = (key: RateLimitKey) => [
      `${prefix}{${key.org}}:${key.bucket}:window`,
      `${prefix}{${key.org}}:leases`,
      `${prefix}{${key.org}}:concurrency`
    ]

    return {
      // Left to the client's default (1/4) unless given.
      fallbackShare: options.fallbackShare,
      // An own client's commands are bounded only if it was configured so.
      callTimeoutMillis: redis.options.commandTimeout,
      acquire: (key, lease, leaseMillis) =>
        Effect.map(run("acquire", keysOf(key), [lease, leaseMillis, WINDOW_MILLIS]), (reply) => {
          const [admitted, reason, millis, inFlight] = reply
          return admitted === 1
            ? { _tag: "Admitted" as const }
            : {
                _tag: "Wait" as const,
                reason: reason === 1 ? ("window_exhausted" as const) : ("concurrency_cap" as const),
                millis: Math.max(0, millis ?? 0),
                ...(inFlight === 1 ? { inFlight: true } : {})
              }
        }),
      observe: (key, lease, observation, { adaptiveConcurrency, keepLeaseMillis }) => {
        const window = observation.window
        const kind = observation.concurrencyLimited
          ? "concurrency"
          : window !== undefined
            ? "window"
            : "none"
        return Effect.map(
          run("observe", keysOf(key), [
            lease,
            kind,
            window?.limit ?? "",
            window?.remaining ?? 0,
            Math.round(window?.resetInMillis ?? 0),
            adaptiveConcurrency ? "1" : "0",
            WINDOW_MILLIS,
            window?.reset ?? 0,
            keepLeaseMillis !== undefined ? "1" : "0",
            keepLeaseMillis ?? 0
          ]),
          ([kept]) => kept === 1
        )
      },
      release: (key, lease, sent, tried) => {
        const [window, leases] = keysOf(key)
        const ended = [lease, sent ? "1" : "0", sent || tried === true ? "1" : "0"]
        return Effect.asVoid(run("release", [window!, leases!], ended))
      }
    } satisfies RateLimitStoreService
  })

/**
 * The Redis store as the `RateLimitStore` service: every `OktaClient` built where it is provided
 * shares its gate through it.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Layer } from "effect"
 * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
 * import { RedisRateLimitStore } from "effect-okta-connections/redis"
 *
 * const Live = ApplicationConnections.layer.pipe(
 *   Layer.provide(OktaClient.layerConfig()),
 *   Layer.provide(RedisRateLimitStore.layer({ url: "redis://127.0.0.1:6379" })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  options: RedisRateLimitStoreOptions = {}
): Layer.Layer<RateLimitStore, OktaConfigError> => Layer.scoped(RateLimitStore, make(options))

/**
 * The Redis rate-limit store: {@link make} (a value) and {@link layer} (the service).
 *
 * @example
 * ```ts
 * import { RedisRateLimitStore } from "effect-okta-connections/redis"
 *
 * const Shared = RedisRateLimitStore.layer({ keyPrefix: "okta:" })
 * ```
 *
 * @since 0.1.0
 */
export const RedisRateLimitStore = { make, layer } as const
