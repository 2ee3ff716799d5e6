/**
 * Effect steps per call: how many effects the fiber runtime evaluates for one GET + decode, this
 * client against the bare `HttpClient` of the same transport, against the lean server. Not part of
 * `npm run bench`; `npm run bench:steps`. Unlike time, the count does not drift with the machine,
 * so it shows a change of a few steps exactly, and where a caller's way of calling costs steps
 * (each call its own `runPromise`, as scripts and request handlers call, against calls in one
 * fiber). Counted with an op-supervising `Supervisor` (public API: `Supervisor.AbstractSupervisor`,
 * `RuntimeFlags.OpSupervision`), over every fiber a call forks.
 */
import { Effect, RuntimeFlags, RuntimeFlagsPatch, Supervisor } from "effect"
import { bare, type EffectImpl, type Form, ours, type Transport } from "./overhead.js"
import { startLeanServer } from "./server.js"

const CALLS = 200
// This client's transport in each row; the bare client is on the platform's layer in every row.
const labels: Record<Transport, string> = {
  fetch: "fetch (this client on OktaFetch.layer)",
  layerFetch: "fetch (this client on FetchHttpClient.layer)",
  undici: "undici (this client on OktaUndici.layer)",
  layerUndici: "undici (this client on NodeHttpClient.layerUndici)",
  layerNode: "node:http (both on NodeHttpClient.layer)"
}

class StepCounter extends Supervisor.AbstractSupervisor<void> {
  steps = 0
  readonly value = Effect.void
  override onEffect(): void {
    this.steps += 1
  }
}

const counted = <A, E, R>(counter: StepCounter, effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.supervised(counter),
    Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
  )

/** Steps per call, each call its own `runPromise`, then all calls in one fiber. */
const measure = async (impl: EffectImpl) => {
  const { run } = impl
  await impl.many(300, 1)
  const each = new StepCounter()
  for (let i = 0; i < CALLS; i++) await run((call) => counted(each, call))
  const oneFiber = new StepCounter()
  await run((call) =>
    counted(
      oneFiber,
      Effect.forEach(Array.from({ length: CALLS }), () => call, { discard: true })
    )
  )
  // The one-fiber run's `forEach` adds a step or two in all, not per call: rounded away.
  return { each: each.steps / CALLS, oneFiber: Math.round(oneFiber.steps / CALLS) }
}

const main = async () => {
  const forms: ReadonlyArray<Form> = ["chunked", "gzip", "length"]
  const transports: ReadonlyArray<Transport> = [
    "fetch",
    "layerFetch",
    "undici",
    "layerUndici",
    "layerNode"
  ]
  const server = await startLeanServer({ forms })
  try {
    console.log(
      "| transport, body | bare client: each its own runPromise / one fiber | this client | this client / bare |"
    )
    console.log("| --- | --- | --- | --- |")
    for (const transport of transports) {
      for (const form of forms) {
        const url = server.urls[form]!
        const pair = [bare(url, form, transport), ours(url, form, transport)]
        const [b, o] = [await measure(pair[0]!), await measure(pair[1]!)]
        for (const impl of pair) await impl.dispose()
        console.log(
          `| ${labels[transport]}, ${form} | ${b.each} / ${b.oneFiber} | ${o.each} / ${o.oneFiber} | ${(o.each / b.each).toFixed(2)}× / ${(o.oneFiber / b.oneFiber).toFixed(2)}× |`
        )
      }
    }
  } finally {
    await server.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
