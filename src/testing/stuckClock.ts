/**
 * A hint for the test that hangs on `TestClock`: under `it.effect` a retry backoff, a rate-limit
 * wait or an attempt timeout sleeps on a clock that moves only when the test moves it, and a test
 * that forgot `withAdvancingClock` otherwise just times out, with no word of why.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as Scope from "effect/Scope"
import type * as TestClock from "effect/TestClock"
import { isPending } from "../internal/pendingWork.js"
import { currentRealTime, hintOnce, isAdvancing, isTestClock } from "../internal/testClock.js"

export { advancingWhile, currentRealTime, type RealTime } from "../internal/testClock.js"

/** How long, in real time, the clock stands still after an answer the client waits after. */
export const QUIET_MILLIS = 2_000
const POLL_MILLIS = 250

/** What each face of the simulator tells the watcher of each request. @internal */
export interface Watcher {
  /** A request came in: it is in flight until `ended`. */
  readonly sent: (what: string) => Effect.Effect<void>
  /** The model answered it; `clientWaits`: the client waits on its clock after such an answer. */
  readonly answered: (what: string, clientWaits: boolean) => Effect.Effect<void>
  readonly ended: Effect.Effect<void>
}

/** What the watcher is under a live clock: nothing to tell it. @internal */
export const unwatched: Watcher = {
  sent: () => Effect.void,
  answered: () => Effect.void,
  ended: Effect.void
}

/**
 * Under a `TestClock`, watches the simulator's requests. Once for `QUIET_MILLIS` of real time the
 * clock has not moved and nothing came in while the client waits on it, it writes one hint to
 * standard error (test runners show it beside the test). The client waits on the clock when a
 * request is in flight (a `Hang` or `Delay` fault: its attempt timeout, the simulator's delay), or
 * when, after an answer it waits after (a 429, a 5xx, a drop, a spent window), a sleep was
 * scheduled (its backoff or gate wait). Under a live clock it does nothing.
 *
 * @internal
 */
export const watch: Effect.Effect<Watcher, never, Scope.Scope> = Effect.gen(function* () {
  const clock = yield* Effect.clock
  if (!isTestClock(clock)) return unwatched
  const testClock = clock as TestClock.TestClock
  const real = yield* FiberRef.get(currentRealTime)
  let inFlight = 0
  let last:
    | {
        readonly what: string
        readonly waits: boolean
        readonly at: number
        readonly sleeps: number
      }
    | undefined
  const note = (what: string, waits: boolean) =>
    Effect.map(testClock.sleeps, (sleeps) => {
      last = { what, waits, at: real.now(), sleeps: Chunk.size(sleeps) }
    })
  const watcher: Watcher = {
    sent: (what) =>
      Effect.suspend(() => {
        inFlight += 1
        return note(`has not answered ${what} yet`, true)
      }),
    answered: note,
    ended: Effect.sync(() => {
      inFlight -= 1
    })
  }
  const loop = Effect.gen(function* () {
    let time = clock.unsafeCurrentTimeMillis()
    let movedAt = real.now()
    while (true) {
      yield* real.wait(POLL_MILLIS)
      const now = clock.unsafeCurrentTimeMillis()
      if (now !== time || isPending() || isAdvancing(clock)) {
        time = now
        movedAt = real.now()
        continue
      }
      if (last === undefined || !last.waits) continue
      if (real.now() - Math.max(movedAt, last.at) < QUIET_MILLIS) continue
      const sleeps = yield* testClock.sleeps
      const waiting = inFlight > 0 || Chunk.size(sleeps) > last.sleeps
      if (!waiting || !Chunk.some(sleeps, (wake) => wake > now)) continue
      hintOnce(
        clock,
        `effect-okta-connections/testing: the simulator ${last.what}, and Effect's TestClock has ` +
          `not moved for ${QUIET_MILLIS / 1000} s of real time since: the client waits on it (a ` +
          "retry backoff, a rate-limit wait or an attempt timeout), and a TestClock moves only " +
          "when the test moves it. Run the call inside withAdvancingClock(…) from " +
          "effect-okta-connections/testing, move the clock with TestClock.adjust, or use it.live."
      )
      return
    }
  })
  yield* Effect.forkScoped(loop)
  return watcher
})
