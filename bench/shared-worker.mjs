// One worker process of the multi-process benchmark (bench/shared.ts): the built package, as an
// application imports it. Argument: a JSON object
//   { url, token, ids, concurrency, startAt, redisUrl?, keyPrefix?, timeout? }
// It waits until `startAt` (epoch ms), runs one GET per id at `concurrency`, and prints one JSON
// line { ok, failures, finishedAt, fallbacks, localRequests, cpuMillis, doneAt } (requests its own
// gate admitted while the store was unreachable; its CPU time from the start to its end; when each
// successful call ended, epoch ms).
import { FetchHttpClient } from "@effect/platform"
import { Effect, Layer, Metric, Redacted } from "effect"
import { ApplicationConnections, OktaClient, OktaMetrics } from "effect-okta-connections"

const options = JSON.parse(process.argv[2] ?? "{}")

const store =
  options.redisUrl !== undefined
    ? Layer.unwrapScoped(
        Effect.map(
          Effect.promise(() => import("effect-okta-connections/redis")),
          ({ RedisRateLimitStore }) =>
            RedisRateLimitStore.layer({ url: options.redisUrl, keyPrefix: options.keyPrefix })
        )
      )
    : Layer.empty

const Live = ApplicationConnections.layer.pipe(
  Layer.provide(
    OktaClient.layer({
      orgUrl: options.url,
      apiToken: Redacted.make(options.token),
      timeout: options.timeout ?? "30 seconds",
      metrics: true
    })
  ),
  Layer.provide(store),
  Layer.provide(FetchHttpClient.layer)
)

const program = Effect.gen(function* () {
  const api = yield* ApplicationConnections
  yield* Effect.sleep(Math.max(0, options.startAt - Date.now()))
  const cpuAtStart = process.cpuUsage()
  let ok = 0
  let failures = 0
  const doneAt = []
  yield* Effect.forEach(
    options.ids,
    (id) =>
      api.getDefaultProvisioningConnectionForApplication(id).pipe(
        Effect.match({
          onSuccess: () => {
            ok += 1
            doneAt.push(Date.now())
          },
          onFailure: () => void (failures += 1)
        })
      ),
    { concurrency: options.concurrency, discard: true }
  )
  const fallbacks = yield* Metric.value(
    Metric.tagged(OktaMetrics.rateLimitStoreFallbacks, "bucket", "api")
  )
  const local = yield* Metric.value(
    Metric.tagged(OktaMetrics.rateLimitStoreLocalRequests, "bucket", "api")
  )
  const { user, system } = process.cpuUsage(cpuAtStart)
  console.log(
    JSON.stringify({
      ok,
      failures,
      finishedAt: Date.now(),
      fallbacks: fallbacks.count,
      localRequests: local.count,
      cpuMillis: (user + system) / 1000,
      doneAt
    })
  )
})

Effect.runPromise(Effect.scoped(Effect.provide(program, Live))).then(
  () => process.exit(0),
  (error) => {
    console.error(String(error))
    process.exit(1)
  }
)
