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
import * as GlobalValue from "effect/GlobalValue"
import type * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import { isPending } from "../internal/pendingWork.js"

/** Real (wall-clock) time, which a `TestClock` does not touch; a test replaces it. @internal */
export interface RealTime {
  readonly now: () => number
  readonly wait: (millis: number) => Effect.Effect<void>
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
          // The hint never keeps a process alive.
          handle.unref()
          return Effect.sync(() => clearTimeout(handle))
        })
    })
)

/** How long, in real time, the clock stands still after an answer the client waits after. */
export const QUIET_MILLIS = 2_000
const POLL_MILLIS = 250

/** What the in-process face tells the watcher of each answer. @internal */
export type OnAnswer = (what: string, clientWaits: boolean) => void

/**
 * Under a `TestClock`, watches the simulator's answers: once the client got one it waits after
 * (a 429, a 5xx, a dropped or hung request, a spent window) and for `QUIET_MILLIS` of real time
 * neither the clock moved nor another request came while a sleep is scheduled, it writes one hint
 * to standard error (test runners show it beside the test). Under a live clock it does nothing.
 *
 * @internal
 */
export const watch: Effect.Effect<OnAnswer, never, Scope.Scope> = Effect.gen(function* () {
  const clock = yield* Effect.clock
  if (!("adjust" in clock)) return () => {}
  const real = yield* FiberRef.get(currentRealTime)
  let last: { readonly what: string; readonly waits: boolean; readonly at: number } | undefined
  const onAnswer: OnAnswer = (what, clientWaits) => {
    last = { what, waits: clientWaits, at: real.now() }
  }
  const loop = Effect.gen(function* () {
    let time = clock.unsafeCurrentTimeMillis()
    let movedAt = real.now()
    while (true) {
      yield* real.wait(POLL_MILLIS)
      const now = clock.unsafeCurrentTimeMillis()
      if (now !== time || isPending()) {
        time = now
        movedAt = real.now()
        continue
      }
      if (last === undefined || !last.waits) continue
      if (real.now() - Math.max(movedAt, last.at) < QUIET_MILLIS) continue
      const sleeps = yield* TestClock.sleeps()
      if (!Chunk.some(sleeps, (wake) => wake > now)) continue
      console.warn(
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
  return onAnswer
})
