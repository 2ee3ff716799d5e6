/**
 * Drives the TestClock through a forked fiber's sleeps one by one, letting the event loop turn
 * between them (no real time passes), until the fiber is done. For tests whose sleeps are
 * scheduled at random times (jitter), where a fixed `TestClock.adjust` could race the fiber.
 */
import { Chunk, Effect, type Fiber, Option, Order, TestClock } from "effect"

/** One turn of the event loop (no time passes on any clock). */
export const turn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

export const runToCompletion = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, maxSteps = 10_000) =>
  Effect.gen(function* () {
    for (let step = 0; step < maxSteps; step++) {
      if (fiber.unsafePoll() !== null) return
      // The earliest sleep (the TestClock lists them newest first).
      const sleeps = Chunk.sort(yield* TestClock.sleeps(), Order.number)
      const next = Chunk.head(sleeps)
      if (Option.isSome(next)) yield* TestClock.setTime(next.value)
      else yield* turn
    }
    throw new Error("the fiber did not finish")
  })
