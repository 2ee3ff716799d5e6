/**
 * A wait that a wake-up can cut short, for the gates.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import { hintWhileStill } from "./testClock.js"

/**
 * Waits in `waiters` until woken or `millis` pass. The place is taken and its removal installed in
 * one uninterruptible step, so an interrupted waiter never leaves a place a wake-up would be spent
 * on. `timeoutOption`, not `raceFirst`: Effect 3's `raceFirst` creates its two fibers one step
 * before starting them, and a caller interrupted in between never ends (`timeoutOption` races
 * inside an uninterruptible region).
 *
 * @internal
 */
export const wakeOrSleep = (
  waiters: Array<Deferred.Deferred<void>>,
  millis: number
): Effect.Effect<void> =>
  Effect.uninterruptibleMask((restore) => {
    const woken = Deferred.unsafeMake<void>(FiberId.none)
    waiters.push(woken)
    return Effect.ensuring(
      restore(
        hintWhileStill(
          Effect.timeoutOption(Deferred.await(woken), millis),
          () => `a request held at the client's rate-limit gate waits (up to ${millis} ms)`
        )
      ),
      Effect.sync(() => {
        const index = waiters.indexOf(woken)
        if (index >= 0) waiters.splice(index, 1)
      })
    )
  })
