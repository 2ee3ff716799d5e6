/**
 * Running client code under `TestClock` (`it.effect`): retries back off and the rate-limit gate
 * waits on the clock, and a `TestClock` only moves when the test moves it.
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Order from "effect/Order"
import * as TestClock from "effect/TestClock"
import { isPending } from "../internal/pendingWork.js"
import { advancingWhile } from "./stuckClock.js"

/** One turn of the event loop: lets I/O and promises the effect started make progress. */
const turn = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * A turn that ends after the timers already set: Effect's scheduler now and then hands a fiber's
 * work to a `setTimeout` (to let I/O in), and that work must run before the clock moves.
 */
const timerTurn = Effect.async<void>((resume) => {
  const handle = setTimeout(() => resume(Effect.void), 0)
  return Effect.sync(() => clearTimeout(handle))
})

/** Event-loop turns the effect may spend without a sleep to wake before it counts as stuck. */
const MAX_IDLE_TURNS = 10_000

/** When the earliest sleep on the `TestClock` ends (it lists them newest first). */
const nextWake = Effect.map(TestClock.sleeps(), (sleeps) =>
  Chunk.head(Chunk.sort(sleeps, Order.number))
)

/**
 * Runs `effect` while moving the `TestClock` to its earliest sleep, then the next, so that
 * retries, backoffs and rate-limit waits complete in a test without real time passing. Between
 * moves the event loop turns, so promises and in-process I/O settle first, and the clock never
 * moves while this package signs or checks a signature (OAuth assertions, DPoP proofs: real
 * WebCrypto work, in the client and in the simulator), so that no attempt times out waiting for
 * one. Real asynchronous work of your own inside `effect` (a file read, crypto of yours) gets a
 * few event-loop turns and a timer turn before the clock moves: when it needs more, use
 * `it.live`, as over a real loopback socket. Meant for the in-process simulator
 * (`OktaSimulator.layerConnections`). Under the live clock it simply waits for `effect`.
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
    return yield* advancingWhile(clock, advance(effect))
  })

const advance = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    // Its exit, not its failure: a fiber that fails is logged as an "unhandled error" (at Debug).
    const fiber = yield* Effect.fork(Effect.exit(effect))
    let idle = 0
    while (fiber.unsafePoll() === null) {
      yield* turn
      if (fiber.unsafePoll() !== null) break
      // A signature being made or checked: its result is coming, however many turns it takes.
      if (isPending()) continue
      if (Option.isSome(yield* nextWake)) {
        // Several turns first: a response may be a few promises away, or a scheduler timer.
        for (let i = 0; i < 3 && fiber.unsafePoll() === null; i++) yield* turn
        if (fiber.unsafePoll() === null) yield* timerTurn
        if (fiber.unsafePoll() !== null) break
        if (isPending()) continue
        // To the earliest sleep only: a later one may be the timeout of an attempt still running.
        // (The sleep of a timer that was stopped stays listed: moving to it only moves the clock.)
        const next = yield* nextWake
        if (Option.isSome(next)) yield* TestClock.setTime(next.value)
        idle = 0
      } else if (++idle > MAX_IDLE_TURNS) {
        return yield* Effect.dieMessage(
          "withAdvancingClock: the effect is waiting for something no clock move brings (no sleep is scheduled); is it waiting on a real socket? Use it.live for loopback servers"
        )
      }
    }
    return yield* Effect.flatten(Fiber.join(fiber))
  })
