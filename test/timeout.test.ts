import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, TestClock } from "effect"
import { makeTimeout } from "../src/internal/timeout.js"

const timeoutFail = <A, E, E2>(effect: Effect.Effect<A, E>, millis: number, onTimeout: () => E2) =>
  makeTimeout(millis)(effect, onTimeout)

// The per-attempt timeout of every call. Under TestClock its timer is a sleep on that clock; the
// live-clock path (a setTimeout) is exercised in real time by test/integration.test.ts ("Hang").
describe("timeoutFail (the per-attempt timeout)", () => {
  it.effect("an effect that finishes in time keeps its value, and its failure", () =>
    Effect.gen(function* () {
      const ok = yield* Effect.fork(
        timeoutFail(Effect.as(Effect.sleep("999 millis"), 42), 1000, () => "timeout" as const)
      )
      const bad = yield* Effect.fork(timeoutFail(Effect.fail("boom"), 1000, () => "timeout"))
      yield* TestClock.adjust("999 millis")
      expect(yield* Fiber.join(ok)).toBe(42)
      expect(yield* Effect.flip(Fiber.join(bad))).toBe("boom")
    })
  )

  it.effect(
    "at the timeout the effect is interrupted, its finalizers run first, then onTimeout",
    () =>
      Effect.gen(function* () {
        const order: Array<string> = []
        const fiber = yield* Effect.fork(
          timeoutFail(
            Effect.onInterrupt(Effect.never, () => Effect.sync(() => order.push("finalizer"))),
            1000,
            () => {
              order.push("onTimeout")
              return "timeout" as const
            }
          )
        )
        yield* TestClock.adjust("999 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 milli")
        const exit = yield* Fiber.await(fiber)
        expect(exit).toStrictEqual(Exit.fail("timeout"))
        expect(order).toEqual(["finalizer", "onTimeout"])
      })
  )

  it.effect("interrupting the caller interrupts the effect and waits for its finalizers", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      let finalized = false
      const fiber = yield* Effect.fork(
        timeoutFail(
          Effect.zipRight(
            Deferred.succeed(started, undefined),
            Effect.onInterrupt(Effect.never, () =>
              Effect.zipRight(
                Effect.sleep("10 millis"),
                Effect.sync(() => {
                  finalized = true
                })
              )
            )
          ),
          1000,
          () => "timeout"
        )
      )
      yield* Deferred.await(started)
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust("10 millis")
      const exit = yield* Fiber.join(interrupting)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(finalized).toBe(true)
      // The timer was stopped: nothing fires later.
      yield* TestClock.adjust("1 second")
    })
  )
})

// The live clock's timer queue: one timer for all pending calls of a timeout length. This waits on
// real timers (30 ms), as test/integration.test.ts does; TestClock cannot drive a setTimeout.
describe("timeoutFail with the live clock", () => {
  it.live("calls that finish leave the queue; a later one still expires on its own deadline", () =>
    Effect.gen(function* () {
      const timeout = makeTimeout(30)
      const fast = yield* Effect.all(
        Array.from({ length: 5 }, (_, i) => timeout(Effect.succeed(i), () => "timeout")),
        { concurrency: "unbounded" }
      )
      expect(fast).toEqual([0, 1, 2, 3, 4])
      const started = Date.now()
      const slow = yield* Effect.all(
        [
          timeout(Effect.succeed("done"), () => "timeout" as const),
          Effect.flip(timeout(Effect.never, () => "timeout" as const)),
          Effect.flip(timeout(Effect.never, () => "timeout" as const))
        ],
        { concurrency: "unbounded" }
      )
      expect(slow).toEqual(["done", "timeout", "timeout"])
      expect(Date.now() - started).toBeGreaterThanOrEqual(25)
      // Nothing pending: the next call arms a fresh timer and still times out.
      expect(yield* Effect.flip(timeout(Effect.never, () => "again"))).toBe("again")
    })
  )
})
