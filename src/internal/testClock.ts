/**
 * A hint for the test that waits on Effect's `TestClock` without knowing it. Under `it.effect` a
 * retry's backoff or a rate-limit wait sleeps on a clock that moves only when the test moves it,
 * and the test just times out, with no word of why. After {@link HINT_AFTER_MS} of real time with
 * the clock standing still, one line on standard error (test runners show it beside the test)
 * names the wait and the way out. Under any other clock: nothing, not even a timer.
 *
 * One hint per clock, shared with the simulator's watcher (testing/stuckClock.ts), which speaks
 * first and names the answer the client waits after. The state is process-wide (`globalValue`):
 * the package's entry points may be separate bundles.
 *
 * @internal
 */
import type * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as GlobalValue from "effect/GlobalValue"
import { isPending } from "./pendingWork.js"

/** Real (wall-clock) time, which a `TestClock` does not touch; a test replaces it. @internal */
export interface RealTime {
  readonly now: () => number
  readonly wait: (millis: number) => Effect.Effect<void>
  /**
   * Runs `f` once `millis` have passed; returns its cancellation. A plain timer, not a fiber: a
   * fiber forked per wait would keep Effect's `TestClock` from ever seeing the test's fibers
   * settle, which it waits for before each move.
   */
  readonly after: (millis: number, f: () => void) => () => void
}

/** @internal */
export const currentRealTime = GlobalValue.globalValue(
  Symbol.for("effect-okta-connections/testing/currentRealTime"),
  () =>
    FiberRef.unsafeMake<RealTime>({
      now: () => performance.now(),
      wait: (millis) =>
        Effect.async<void>((resume) => {
          const handle = setTimeout(() => resume(Effect.void), millis)
          // A hint never keeps a process alive.
          handle.unref()
          return Effect.sync(() => clearTimeout(handle))
        }),
      after: (millis, f) => {
        const handle = setTimeout(f, millis)
        handle.unref()
        return () => clearTimeout(handle)
      }
    })
)

// The `TestClock`s `withAdvancingClock` is moving now. It may take seconds of real time to move
// one when thousands of sleeps are due (Effect's `TestClock` waits for every fiber of the test to
// suspend at each), and a test that did not forget it must not be told it did.
const advancing = GlobalValue.globalValue(
  Symbol.for("effect-okta-connections/testing/advancing"),
  () => new WeakMap<object, number>()
)

/** Runs `effect` with `clock` counted as moved by `withAdvancingClock`. @internal */
export const advancingWhile = <A, E, R>(
  clock: object,
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.acquireUseRelease(
    Effect.sync(() => advancing.set(clock, (advancing.get(clock) ?? 0) + 1)),
    () => effect,
    () => Effect.sync(() => advancing.set(clock, (advancing.get(clock) ?? 1) - 1))
  )

/** @internal */
export const isAdvancing = (clock: object): boolean => (advancing.get(clock) ?? 0) > 0

/** A `TestClock` (which alone has `adjust`), as the clock the fiber sleeps on. @internal */
export const isTestClock = (clock: Clock.Clock): boolean => "adjust" in clock

const hinted = GlobalValue.globalValue(
  Symbol.for("effect-okta-connections/testClockHinted"),
  () => new WeakSet<object>()
)

/** Writes `message` to standard error unless `clock` had its hint already. @internal */
export const hintOnce = (clock: object, message: string): void => {
  if (hinted.has(clock)) return
  hinted.add(clock)
  console.warn(message)
}

/**
 * How long the clock stands still, in real time, before the client's hint: longer than the
 * simulator's two seconds, so that a test on the simulator gets its more precise one.
 */
export const HINT_AFTER_MS = 3_000

/**
 * Runs `wait` (a sleep of the client's) and, under a `TestClock` that stands still for
 * {@link HINT_AFTER_MS} of real time meanwhile (counted again from each move), writes the hint
 * naming `what` ("a retry of … waits 250 ms"). @internal
 */
export const hintWhileStill = <A, E, R>(
  wait: Effect.Effect<A, E, R>,
  what: () => string
): Effect.Effect<A, E, R> =>
  Effect.clockWith((clock) => {
    if (!isTestClock(clock)) return wait
    return FiberRef.getWith(currentRealTime, (real) =>
      Effect.suspend(() => {
        // Counted again from a move, as the simulator's watcher counts: a test that moved the
        // clock, not far enough, hangs all the same.
        let cancel = () => {}
        const arm = (since: number) => {
          cancel = real.after(HINT_AFTER_MS, () => {
            const now = clock.unsafeCurrentTimeMillis()
            if (now !== since || isPending() || isAdvancing(clock)) return arm(now)
            hintOnce(
              clock,
              `effect-okta-connections: ${what()} on Effect's TestClock, which has not moved ` +
                `for ${HINT_AFTER_MS / 1000} s of real time since: a TestClock moves only when the ` +
                "test moves it. Run the call inside withAdvancingClock(…) from " +
                "effect-okta-connections/testing, move the clock with TestClock.adjust, or use " +
                "it.live."
            )
          })
        }
        // Armed and disarmed as a resource: an interruption between the two would leave a timer
        // that, counted again from each move, could speak long after the wait.
        return Effect.acquireUseRelease(
          Effect.sync(() => arm(clock.unsafeCurrentTimeMillis())),
          () => wait,
          () => Effect.sync(() => cancel())
        )
      })
    )
  })

/** `Effect.sleep`, hinted: `what` ("…'s retry 1 (server_error)") and the delay. @internal */
export const sleepHinted = (millis: number, what: () => string): Effect.Effect<void> =>
  hintWhileStill(Effect.sleep(millis), () => `${what()} waits ${millis} ms`)
