/**
 * The gate's adaptive concurrency level, driven directly: which level a concurrent-request 429
 * sets, and when the level is probed upwards again.
 */
import { Headers } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { RateLimitGate } from "../src/internal/gate.js"

const ok = Headers.fromInput({
  "x-rate-limit-limit": "1000",
  "x-rate-limit-remaining": "900",
  "x-rate-limit-reset": "4000000000"
})
// Okta's concurrent-request 429: Limit 0, Remaining 0.
const concurrencyLimited = Headers.fromInput({
  "x-rate-limit-limit": "0",
  "x-rate-limit-remaining": "0",
  "x-rate-limit-reset": "4000000000"
})

const never = () => Effect.die("the gate should not make this request wait")

describe("adaptive concurrency", () => {
  it.effect(
    "a concurrent-request 429 sets the level to the requests in flight when the rejected one was admitted",
    () =>
      Effect.gen(function* () {
        const gate = new RateLimitGate({ resetJitterMillis: 0, adaptiveConcurrency: true })
        // The first request goes alone, until a response has been seen.
        expect(yield* gate.acquire(never)).toBe(1)
        gate.observe(ok, 0, 1)
        const admitted: Array<number> = []
        for (let i = 0; i < 6; i++) admitted.push(yield* gate.acquire(never))
        expect(admitted).toEqual([1, 2, 3, 4, 5, 6])
        // Two requests end before the sixth's 429 arrives: 3 are still in flight then, but 5
        // were when the sixth was sent, and those 5 are what the server let through.
        gate.observe(ok, 0, 1)
        gate.observe(ok, 0, 2)
        gate.observe(concurrencyLimited, 0, 6)
        expect(gate.concurrencyCap).toBe(5)
        expect(gate.inFlight).toBe(3)
        // A later 429 of a request admitted at a higher count does not raise it again.
        gate.observe(concurrencyLimited, 0, 5)
        expect(gate.concurrencyCap).toBe(4)
      })
  )

  it.effect("the level grows by one after four rounds of successes at it", () =>
    Effect.gen(function* () {
      const gate = new RateLimitGate({ resetJitterMillis: 0, adaptiveConcurrency: true })
      gate.observe(ok, 0, yield* gate.acquire(never))
      for (let i = 0; i < 3; i++) yield* gate.acquire(never)
      gate.observe(concurrencyLimited, 0, 3)
      expect(gate.concurrencyCap).toBe(2)
      for (let i = 0; i < 4 * 2 - 1; i++) gate.observe(ok, 0, 1)
      expect(gate.concurrencyCap).toBe(2)
      gate.observe(ok, 0, 1)
      expect(gate.concurrencyCap).toBe(3)
    })
  )

  it.effect("without adaptiveConcurrency the 429 leaves the level alone", () =>
    Effect.gen(function* () {
      const gate = new RateLimitGate({ resetJitterMillis: 0, adaptiveConcurrency: false })
      gate.observe(ok, 0, yield* gate.acquire(never))
      for (let i = 0; i < 3; i++) yield* gate.acquire(never)
      gate.observe(concurrencyLimited, 0, 3)
      expect(gate.concurrencyCap).toBe(Number.POSITIVE_INFINITY)
    })
  )
})
