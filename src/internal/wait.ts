/**
 * Waits for the gates: one that a wake-up can cut short, and a shared store's gate waiting out a
 * proxy's `Retry-After`.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import { hintWhileStill } from "./testClock.js"
import type { GateWait } from "./ticket.js"

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

/**
 * For a gate whose admissions a shared store decides: waits out the local gate's hold for a
 * proxy's `Retry-After`, which the store does not know of (it shares Okta's windows, not a
 * proxy's). True if it waited.
 *
 * @internal
 */
export const waitOutRetryAfter = <E>(
  local: { retryAfterUntilMs: number | undefined; retryAfterLeft(localMillis: number): number },
  onWait: (wait: GateWait) => Effect.Effect<void, E>,
  maxWaitMillis: number
): Effect.Effect<boolean, E> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const left = local.retryAfterLeft(now)
    if (left <= 0) return Effect.succeed(false)
    // Longer than the caller may wait: dropped, as a window waited on that long is forgotten.
    if (left > maxWaitMillis) local.retryAfterUntilMs = undefined
    const millis = Math.min(left, maxWaitMillis)
    const wait = onWait({ millis, reason: "window_exhausted" })
    return Effect.as(Effect.zipRight(wait, wakeOrSleep([], millis)), true)
  })
