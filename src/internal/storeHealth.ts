/**
 * Whether the shared rate-limit store is used: failed or slow calls in a row send the process to
 * its local gate for a few seconds, and the first call that succeeds after that brings it back.
 * An answer the gate cannot act on (`checkAdmission`) and a call that throws or dies (`storeCall`)
 * count as failed calls.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { type RateLimitAdmission, RateLimitStoreError } from "../store/RateLimitStore.js"

/** How long a process stays on its local gate after the store failed, before trying it again. */
export const RETRY_STORE_AFTER_MS = 5_000
/**
 * Store calls that must fail in a row before the process falls back: one slow or failed call (a
 * pause of the process or of Redis) sends only its own request through the local gate.
 */
const FAILURES_BEFORE_FALLBACK = 2

/** @internal */
export class StoreHealth {
  /** Until then (local ms) requests go through the local gate without asking the store. */
  degradedUntil = 0
  private degraded = false
  /** Store calls that failed in a row. */
  private failures = 0

  constructor(
    /** Runs when the process falls back to its local gate (for the log line and the metric). */
    private readonly onFallback: (error: RateLimitStoreError | "timeout") => Effect.Effect<void>,
    /** Runs when the process is back on the store. */
    private readonly onRecovered: Effect.Effect<void>
  ) {}

  /** A store call failed or was too slow. */
  failed(error: RateLimitStoreError | "timeout"): Effect.Effect<void> {
    this.failures += 1
    if (this.failures < FAILURES_BEFORE_FALLBACK) return Effect.void
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const first = !this.degraded
      this.degraded = true
      this.degradedUntil = now + RETRY_STORE_AFTER_MS
      return first ? this.onFallback(error) : Effect.void
    })
  }

  /** A store call answered. */
  succeeded(): Effect.Effect<void> {
    this.failures = 0
    if (!this.degraded) return Effect.void
    this.degraded = false
    return this.onRecovered
  }
}

/** A value as a message shows it; not `String()`, which throws for an object without a prototype. */
const shown = (value: unknown) =>
  typeof value === "string"
    ? `"${value}"`
    : (typeof value === "object" && value !== null) || typeof value === "function"
      ? typeof value
      : String(value)

/**
 * A store call that fails with a `RateLimitStoreError` where the store throws or dies (it is the
 * user's code): a broken store sends requests through the local gate, as a failing one does,
 * instead of failing, as a defect, the Okta call it was asked for (after Okta answered it, for
 * `observe`).
 *
 * @internal
 */
export const storeCall = <A>(
  operation: string,
  call: () => Effect.Effect<A, RateLimitStoreError>
): Effect.Effect<A, RateLimitStoreError> =>
  Effect.catchAllDefect(Effect.suspend(call), (defect) =>
    Effect.fail(
      new RateLimitStoreError({
        operation,
        reason: `died: ${defect instanceof Error ? defect.message : shown(defect)}`
      })
    )
  )

/**
 * A store's answer to `acquire` as the gate can act on it, or a failure (the store is the user's
 * code, and its type is not checked at run time): a `Wait` of NaN milliseconds would have the
 * gate ask again at once, for ever.
 *
 * @internal
 */
export const checkAdmission = <E>(
  answer: Either.Either<RateLimitAdmission, E>
): Either.Either<RateLimitAdmission, E | RateLimitStoreError> => {
  if (Either.isLeft(answer)) return answer
  const admission: Partial<Record<string, unknown>> | undefined = answer.right
  if (
    admission?._tag === "Admitted" ||
    (admission?._tag === "Wait" &&
      (admission.reason === "window_exhausted" || admission.reason === "concurrency_cap") &&
      typeof admission.millis === "number" &&
      !Number.isNaN(admission.millis))
  ) {
    return answer
  }
  return Either.left(
    new RateLimitStoreError({
      operation: "acquire",
      reason:
        typeof admission !== "object" || admission === null
          ? `answered neither Admitted nor a Wait: ${shown(admission)}`
          : `answered neither Admitted nor a Wait with a reason and a number of milliseconds: _tag ${shown(admission._tag)}, reason ${shown(admission.reason)}, millis ${shown(admission.millis)}`
    })
  )
}
