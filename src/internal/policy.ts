/**
 * The parts of the retry policy that are machinery, not API: the per-call override, the
 * classification of failures, and stepping a `Schedule` by hand.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import type { RetryableError, RetryPolicy, RetryReason } from "../layers/RetryPolicy.js"

/** @internal */
export const currentOverride: FiberRef.FiberRef<Option.Option<RetryPolicy>> = FiberRef.unsafeMake<
  Option.Option<RetryPolicy>
>(Option.none())

/**
 * How one failure is handled, before the delay is computed.
 *
 * @internal
 */
export type Classification =
  | { readonly _tag: "Stop" }
  | { readonly _tag: "WindowReset"; readonly resetMillis: number }
  | { readonly _tag: "Backoff"; readonly reason: RetryReason; readonly concurrency: boolean }

/**
 * Which failures are retried. `replaySafe` is false for `verify`: its one-time code may be
 * consumed by a request that reached Okta, so only a 429 (a rejection) or a failure to connect
 * is tried again.
 *
 * @internal
 */
export const classify = (error: RetryableError, replaySafe: boolean): Classification => {
  switch (error._tag) {
    case "OktaRateLimitError": {
      if (error.isConcurrencyLimit) {
        return { _tag: "Backoff", reason: "concurrency_limit", concurrency: true }
      }
      const reset = error.rateLimit?.reset
      return reset !== undefined
        ? { _tag: "WindowReset", resetMillis: reset * 1000 }
        : { _tag: "Backoff", reason: "rate_limit_no_reset", concurrency: false }
    }
    case "OktaServerError":
      return replaySafe && [500, 502, 503, 504].includes(error.status)
        ? { _tag: "Backoff", reason: "server_error", concurrency: false }
        : { _tag: "Stop" }
    case "OktaTransportError":
      return replaySafe || error.connectFailed
        ? { _tag: "Backoff", reason: "transport", concurrency: false }
        : { _tag: "Stop" }
    case "OktaTimeoutError":
      return replaySafe && error.kind === "attempt"
        ? { _tag: "Backoff", reason: "timeout", concurrency: false }
        : { _tag: "Stop" }
    default:
      return { _tag: "Stop" }
  }
}

/**
 * Steps a `Schedule` by hand, so the retry loop can see each delay before sleeping (to check the
 * deadline, log it and put it on the span) instead of letting `Effect.retry` sleep blindly.
 * Returns `None` when the schedule is done.
 *
 * @internal
 */
export const makeStepper = <In>(schedule: Schedule.Schedule<unknown, In>) => {
  let state: unknown = schedule.initial
  return (now: number, input: In): Effect.Effect<Option.Option<number>> =>
    Effect.map(schedule.step(now, input, state), ([next, , decision]) => {
      state = next
      if (ScheduleDecision.isDone(decision)) return Option.none()
      const delay = Intervals.start(decision.intervals) - now
      // Whole milliseconds: jittered schedules yield fractions, which clocks (and logs) do not need.
      return Option.some(Number.isFinite(delay) && delay > 0 ? Math.ceil(delay) : 0)
    })
}
