/**
 * Running client code under `TestClock` (`it.effect`): retries back off and the rate-limit gate
 * waits on the clock, and a `TestClock` only moves when the test moves it.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"

/** One turn of the event loop: lets I/O and promises the effect started make progress. */
const turn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/** Event-loop turns the effect may spend without a sleep to wake before it counts as stuck. */
const MAX_IDLE_TURNS = 10_000

/**
 * Runs `effect` while moving the `TestClock` from one of its sleeps to the next, so that retries,
 * backoffs and rate-limit waits complete in a test without real time passing. Between moves the
 * event loop turns, so promises and in-process I/O (the in-process simulator, key signing) settle
 * first. Meant for the in-process simulator (`OktaSimulator.layerConnections`); over a real
 * loopback socket use `it.live`. Under the live clock it simply waits for `effect`.
 *
 * If `effect` waits for something no clock move can bring (a `Deferred` nobody completes), it dies
 * with a message saying so instead of hanging the test.
 *
 * @example
 * ```ts
 * import { expect, it } from "@effect/vitest"
 * import { Effect } from "effect"
 * import { ApplicationConnections } from "effect-okta-connections"
 * import { OktaSimulator, withAdvancingClock } from "effect-okta-connections/testing"
 *
 * it.effect("a 503 is retried", () =>
 *   Effect.gen(function* () {
 *     const sim = yield* OktaSimulator
 *     const api = yield* ApplicationConnections
 *     yield* sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { times: 1 })
 *     const connection = yield* withAdvancingClock(
 *       api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
 *     )
 *     expect(connection.status).toBe("ENABLED")
 *   }).pipe(Effect.provide(OktaSimulator.layerConnections()))
 * )
 * ```
 *
 * @since 0.1.0
 * @category testing
 */
export const withAdvancingClock = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    // Under the live clock (it.live, a script) sleeps end by themselves.
    const clock = yield* Effect.clock
    if (!("adjust" in clock)) return yield* effect
    const fiber = yield* Effect.fork(effect)
    let idle = 0
    while (fiber.unsafePoll() === null) {
      yield* turn
      if (fiber.unsafePoll() !== null) break
      const next = Chunk.head(yield* TestClock.sleeps())
      if (Option.isSome(next)) {
        // Several turns first: a response or a signature may be one promise away.
        for (let i = 0; i < 3 && fiber.unsafePoll() === null; i++) yield* turn
        if (fiber.unsafePoll() !== null) break
        yield* TestClock.setTime(next.value)
        idle = 0
      } else if (++idle > MAX_IDLE_TURNS) {
        return yield* Effect.dieMessage(
          "withAdvancingClock: the effect is waiting for something no clock move brings (no sleep is scheduled); is it waiting on a real socket? Use it.live for loopback servers"
        )
      }
    }
    return yield* Fiber.join(fiber)
  })
