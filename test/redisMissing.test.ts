/**
 * `layerConfig` with REDIS_URL set where ioredis cannot be loaded (not installed, or a 5.x older
 * than 5.3, whose module lacks the named `Redis` export the store imports).
 */
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { vi } from "vitest"
import { OktaClient } from "../src/index.js"
import { json, scriptedHttp } from "./support/TestHttp.js"

vi.mock("ioredis", () => {
  throw new SyntaxError("The requested module 'ioredis' does not provide an export named 'Redis'")
})

describe("REDIS_URL without a usable ioredis", () => {
  it.effect("fails the layer with OktaConfigError naming the version to install", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(OktaClient.layerConfig()).pipe(
          Effect.scoped,
          Effect.provide(scriptedHttp(() => json(200, {})).layer),
          Effect.withConfigProvider(
            ConfigProvider.fromMap(
              new Map([
                ["OKTA_CLIENT_ORGURL", "https://acme.okta.com"],
                ["OKTA_CLIENT_TOKEN", "00abc"],
                ["REDIS_URL", "redis://127.0.0.1:6379"]
              ])
            )
          )
        )
      )
      expect(error).toMatchObject({ _tag: "OktaConfigError", field: "redisUrl" })
      expect(String(error)).toContain("5.3 or later: npm install ioredis")
    })
  )
})
