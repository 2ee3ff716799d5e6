/**
 * What the Redis suite's tests share: the Redis they use (REDIS_URL, default
 * redis://127.0.0.1:6379) and a store under a key prefix of its own, with a raw client to look at
 * its keys, which it deletes when the scope ends.
 */
import { Effect } from "effect"
import { Redis } from "ioredis"
import { randomUUID } from "node:crypto"
import type { RateLimitKey } from "effect-okta-connections"
import { RedisRateLimitStore } from "effect-okta-connections/redis"

export const REDIS_URL = process.env["REDIS_URL"] ?? "redis://127.0.0.1:6379"
export const KEY: RateLimitKey = { org: "acme.okta.com", bucket: "api" }

/** A raw client to look at the keys under `keyPrefix`, which it deletes when the scope ends. */
export const rawClient = (keyPrefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => new Redis(REDIS_URL)),
    (client) =>
      Effect.promise(async () => {
        const keys = await client.keys(`${keyPrefix}*`)
        if (keys.length > 0) await client.del(...keys)
        client.disconnect()
      })
  )

/** A store with a key prefix of its own, a raw client to look at its keys, both closed after. */
export const fixture = Effect.gen(function* () {
  const keyPrefix = `test-${randomUUID()}:`
  const store = yield* RedisRateLimitStore.make({ url: REDIS_URL, keyPrefix })
  const raw = yield* rawClient(keyPrefix)
  const window = (key: RateLimitKey = KEY) =>
    Effect.promise(() => raw.hgetall(`${keyPrefix}{${key.org}}:${key.bucket}:window`))
  const leases = Effect.promise(() => raw.zcard(`${keyPrefix}{${KEY.org}}:leases`))
  return { store, raw, window, leases, keyPrefix }
})
