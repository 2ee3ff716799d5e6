/**
 * A batch over many apps under a rate limit: read every app's connection at concurrency 10.
 * The client's shared gate holds requests back when the window's budget is spent (instead of
 * drawing 429s), and transient failures are retried; progress shows both as they happen.
 *
 *   npx tsx examples/batch.ts
 *   # against a real org: OKTA_APP_IDS=0oa…,0oa…
 */
import { Console, Effect, Metric, MetricState, Ref } from "effect"
import { performance } from "node:perf_hooks"
import { ApplicationConnections } from "effect-okta-connections"
import { OktaSimulator } from "effect-okta-connections/testing"
import { Example, isMain, runMain } from "./support/Example.js"

// The client's metric names (see OktaMetrics in the README).
const RETRIES = "okta_connections_retries_total"
const GATE_WAITS = "okta_connections_gate_waits_total"

/** The sum of a counter over all its tags (operations and reasons). */
const total = (name: string) =>
  Effect.map(Metric.snapshot, (pairs) =>
    pairs.reduce(
      (sum, pair) =>
        pair.metricKey.name === name && MetricState.isCounterState(pair.metricState)
          ? sum + Number(pair.metricState.count)
          : sum,
      0
    )
  )

export const program = Effect.gen(function* () {
  const example = yield* Example
  const api = yield* ApplicationConnections
  const ids = yield* example.batchAppIds
  if (example.target === "simulator") {
    // Show retries as well as gate waits: the simulated Okta fails a few requests with 503s.
    const sim = yield* Effect.serviceOption(OktaSimulator)
    if (sim._tag === "Some") {
      yield* sim.value.injectFault(
        { _tag: "ServerError", status: 503, body: "json" },
        { times: 3, path: "0oasimbatch" }
      )
    }
  }
  const retriesBefore = yield* total(RETRIES)
  const waitsBefore = yield* total(GATE_WAITS)
  const done = yield* Ref.make({ ok: 0, failed: 0, enabled: 0 })
  const started = performance.now()
  // "1 retry", "3 retries": a short batch on a real org may see one of each.
  const counted = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`
  const progress = Effect.gen(function* () {
    const d = yield* Ref.get(done)
    const retries = (yield* total(RETRIES)) - retriesBefore
    const waits = (yield* total(GATE_WAITS)) - waitsBefore
    yield* Console.log(
      `   [${String(d.ok + d.failed).padStart(3)}/${ids.length}] ${d.enabled} enabled · ${counted(retries, "retry", "retries")} · ${counted(waits, "gate wait", "gate waits")} · ${((performance.now() - started) / 1000).toFixed(1)} s`
    )
  })
  yield* Effect.forEach(
    ids,
    (id) =>
      api.getDefaultProvisioningConnectionForApplication(id).pipe(
        Effect.matchEffect({
          onFailure: (error) =>
            Effect.zipRight(
              Ref.update(done, (d) => ({ ...d, failed: d.failed + 1 })),
              Console.error(`   ${id}: ${error.message}`)
            ),
          onSuccess: (connection) =>
            Ref.update(done, (d) => ({
              ...d,
              ok: d.ok + 1,
              enabled: d.enabled + (connection.status === "ENABLED" ? 1 : 0)
            }))
        }),
        Effect.zipRight(
          Effect.flatMap(Ref.get(done), (d) =>
            (d.ok + d.failed) % 30 === 0 ? progress : Effect.void
          )
        )
      ),
    { concurrency: 10, discard: true }
  )
  const d = yield* Ref.get(done)
  const retries = (yield* total(RETRIES)) - retriesBefore
  const waits = (yield* total(GATE_WAITS)) - waitsBefore
  yield* Console.log(
    `   done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${d.ok} read, ${d.failed} failed · ${counted(retries, "retry", "retries")} · ${counted(waits, "request", "requests")} held at the rate-limit gate`
  )
  if (d.failed > 0) process.exitCode = 1
})

if (isMain(import.meta.url)) runMain(program)
