/**
 * The retry policy: which failures are tried again, and after how long. `OktaClient` runs it;
 * users replace or disable it per client (`retry` option) and per call ({@link withRetryPolicy}).
 *
 * What it does better than Okta's SDKs:
 * - a window 429 waits until `X-Rate-Limit-Reset` on the server's clock, plus a little jitter,
 *   not plus a blanket second;
 * - the concurrent-request 429 (`Limit: 0, Remaining: 0`) backs off briefly, never until its
 *   estimated reset;
 * - missing, unparsable or stale reset headers fall back to exponential backoff with jitter:
 *   never a NaN, a negative delay or a tight loop;
 * - 5xx, transport failures and per-attempt timeouts are retried only when replay is safe;
 *   `verify` (a one-time OAuth code) is replayed only after a 429 or a failure to connect.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as GlobalValue from "effect/GlobalValue"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { OktaDecodeError, OktaRequestError } from "../errors/OktaError.js"

/**
 * The errors a retry decision looks at.
 *
 * @example
 * ```ts
 * import type { RetryPolicy } from "effect-okta-connections"
 *
 * const isRateLimit = (e: RetryPolicy.RetryableError) => e._tag === "OktaRateLimitError"
 * ```
 */
export type RetryableError = OktaRequestError | OktaDecodeError

/**
 * Why a request is tried again; the `reason` tag of the retry metric and log.
 *
 * @example
 * ```ts
 * import type { RetryPolicy } from "effect-okta-connections"
 *
 * const reason: RetryPolicy.RetryReason = "rate_limit"
 * ```
 */
export type RetryReason =
  | "rate_limit"
  | "concurrency_limit"
  | "rate_limit_no_reset"
  | "server_error"
  | "transport"
  | "timeout"

/**
 * A retry policy. Build one with {@link make}; {@link disabled} never retries.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-okta-connections"
 *
 * const policy: RetryPolicy.RetryPolicy = RetryPolicy.make({ maxRetries: 2 })
 * ```
 */
export interface RetryPolicy {
  /** Retries (not attempts) for any one call, whatever the reasons. */
  readonly maxRetries: number
  /**
   * The longest a window 429 may make a call wait for its reset. A reset further away fails at
   * once with the `OktaRateLimitError` (whose message says when the limit resets).
   */
  readonly maxRateLimitWait: Duration.Duration
  /** Waking after a window reset adds a uniform random delay in `[0, resetJitter]`. */
  readonly resetJitter: Duration.Duration
  /**
   * Delays for 5xx, transport failures, per-attempt timeouts and 429s without a usable reset.
   * Stepped once per such retry; when it is done, the call fails.
   */
  readonly backoff: Schedule.Schedule<unknown, RetryableError>
  /** Delays for the concurrent-request 429. Stepped once per such retry. */
  readonly concurrencyBackoff: Schedule.Schedule<unknown, RetryableError>
  /**
   * Lower the number of requests in flight when Okta answers with its concurrent-request 429, and
   * raise it again slowly as calls succeed (additive increase, multiplicative decrease).
   */
  readonly adaptiveConcurrency: boolean
}

/**
 * Options of {@link make}; every field has a default.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-okta-connections"
 *
 * const options: RetryPolicy.RetryPolicyOptions = { maxRetries: 6, resetJitter: "100 millis" }
 * const policy = RetryPolicy.make(options)
 * ```
 */
export interface RetryPolicyOptions {
  /** Default 4. `Infinity`: no limit but the backoff's and the deadline's; NaN: no retry. */
  readonly maxRetries?: number | undefined
  /** Default 70 seconds: Okta's windows are one minute, plus clock skew. */
  readonly maxRateLimitWait?: Duration.DurationInput | undefined
  /** Default 50 milliseconds. */
  readonly resetJitter?: Duration.DurationInput | undefined
  /** Default: exponential from 250 ms (×2), jittered (×0.8–1.2), each delay at most 8 s. */
  readonly backoff?: Schedule.Schedule<unknown, RetryableError> | undefined
  /** Default: exponential from 50 ms (×2), jittered, each delay at most 1 s. */
  readonly concurrencyBackoff?: Schedule.Schedule<unknown, RetryableError> | undefined
  /** Default true. */
  readonly adaptiveConcurrency?: boolean | undefined
}

const capped = (base: Duration.DurationInput, cap: Duration.DurationInput) =>
  // `union` takes the shorter of the two delays, so `spaced(cap)` caps the exponential.
  Schedule.exponential(base, 2).pipe(Schedule.jittered, Schedule.union(Schedule.spaced(cap)))

/**
 * A retry policy from options.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { OktaClient, RetryPolicy } from "effect-okta-connections"
 *
 * const patient = RetryPolicy.make({
 *   maxRetries: 8,
 *   backoff: Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("30 seconds")))
 * })
 * const layer = OktaClient.layerConfig({ retry: patient })
 * ```
 */
export const make = (options: RetryPolicyOptions = {}): RetryPolicy => ({
  // NaN (a `Number()` of an unset variable) is no retry, never a limit no count reaches.
  maxRetries: Math.max(0, Math.floor(options.maxRetries ?? 4)) || 0,
  maxRateLimitWait: Duration.decode(options.maxRateLimitWait ?? "70 seconds"),
  resetJitter: Duration.decode(options.resetJitter ?? "50 millis"),
  backoff: options.backoff ?? capped("250 millis", "8 seconds"),
  concurrencyBackoff: options.concurrencyBackoff ?? capped("50 millis", "1 second"),
  adaptiveConcurrency: options.adaptiveConcurrency ?? true
})

/**
 * Whether `u` is a {@link RetryPolicy}, as {@link make} returns one (options given where a policy
 * belongs, from JavaScript or an `unknown`, are not).
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-okta-connections"
 *
 * RetryPolicy.isRetryPolicy(RetryPolicy.make({ maxRetries: 2 })) // true
 * RetryPolicy.isRetryPolicy({ maxRetries: 2 }) // false
 * ```
 */
export const isRetryPolicy = (u: unknown): u is RetryPolicy => {
  if (typeof u !== "object" || u === null) return false
  const policy = u as { readonly [K in keyof RetryPolicy]?: unknown }
  return (
    typeof policy.maxRetries === "number" &&
    Duration.isDuration(policy.maxRateLimitWait) &&
    Duration.isDuration(policy.resetJitter) &&
    Schedule.isSchedule(policy.backoff) &&
    Schedule.isSchedule(policy.concurrencyBackoff) &&
    typeof policy.adaptiveConcurrency === "boolean"
  )
}

/**
 * The default policy: `make()`.
 *
 * @example
 * ```ts
 * import { RetryPolicy } from "effect-okta-connections"
 *
 * RetryPolicy.defaultPolicy.maxRetries // 4
 * ```
 */
export const defaultPolicy: RetryPolicy = make()

/**
 * Never retry. Rate-limit headers still feed the client's shared gate.
 *
 * @example
 * ```ts
 * import { OktaClient, RetryPolicy } from "effect-okta-connections"
 *
 * const layer = OktaClient.layerConfig({ retry: RetryPolicy.disabled })
 * ```
 */
export const disabled: RetryPolicy = make({ maxRetries: 0 })

/**
 * Runs `effect` with another retry policy for every Okta call in it (`RetryPolicy.disabled` to turn
 * retries off for one call). It governs the retry decisions; the client's shared gate keeps the
 * client's own `resetJitter` and `adaptiveConcurrency`, since it serves every call of the client.
 * Given anything but a policy (its options, from JavaScript), the effect dies saying so, unsent.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections, RetryPolicy } from "effect-okta-connections"
 *
 * const once = Effect.flatMap(ApplicationConnections, (api) =>
 *   api.getDefaultProvisioningConnectionForApplication("0oafxqCAJWWGELFTYASJ")
 * ).pipe(RetryPolicy.withRetryPolicy(RetryPolicy.disabled))
 * ```
 */
export const withRetryPolicy =
  (policy: RetryPolicy) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    // Options where a policy belongs (from JavaScript, or cast) died deep in the retry loop as
    // "Invalid DurationInput": a programming error, said where it was made.
    isRetryPolicy(policy)
      ? Effect.locally(effect, currentRetryPolicy, Option.some(policy))
      : Effect.dieMessage(
          "RetryPolicy.withRetryPolicy takes a RetryPolicy (RetryPolicy.make({ … }), or RetryPolicy.disabled), not its options"
        )

/**
 * The per-call override {@link withRetryPolicy} sets; `None` means the client's own policy.
 * One value per process (`globalValue`), so two copies of this module agree.
 *
 * @example
 * ```ts
 * import { Effect, FiberRef } from "effect"
 * import { RetryPolicy } from "effect-okta-connections"
 *
 * const overridden = Effect.map(FiberRef.get(RetryPolicy.currentRetryPolicy), (o) => o._tag === "Some")
 * ```
 */
export const currentRetryPolicy: FiberRef.FiberRef<Option.Option<RetryPolicy>> =
  GlobalValue.globalValue(Symbol.for("effect-okta-connections/RetryPolicy/current"), () =>
    FiberRef.unsafeMake<Option.Option<RetryPolicy>>(Option.none())
  )
