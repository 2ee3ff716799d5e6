/**
 * Where a client's rate-limit gate keeps its state. By default each `OktaClient` keeps it in
 * memory: right for one process. Several processes that call the same org (workers of a queue, a
 * CLI beside a sync job) share Okta's budget, and so must share the state: give them one store
 * (`effect-okta-connections/redis` provides one on Redis).
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { inspectableByChai } from "../errors/fields.js"

/**
 * A store operation failed (the store is unreachable, slow, refused the command, answered what the
 * gate cannot act on, or threw). The client never fails a call for it: it falls back to its local
 * gate and logs and counts the fallback.
 *
 * @example
 * ```ts
 * import { RateLimitStoreError } from "effect-okta-connections"
 *
 * const error = new RateLimitStoreError({ operation: "acquire", reason: "connection refused" })
 * ```
 */
export class RateLimitStoreError extends Schema.TaggedError<RateLimitStoreError>(
  "effect-okta-connections/RateLimitStoreError"
)("RateLimitStoreError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `rate-limit store ${this.operation} failed: ${this.reason}`
  }
}

inspectableByChai([RateLimitStoreError])

/**
 * Which shared budget a request draws on: Okta's limits are per org and, for the request rate,
 * per endpoint bucket (the API calls, the token endpoint).
 *
 * @example
 * ```ts
 * import type { RateLimitKey } from "effect-okta-connections"
 *
 * const key: RateLimitKey = { org: "acme.okta.com", bucket: "api" }
 * ```
 */
export interface RateLimitKey {
  readonly org: string
  readonly bucket: string
}

/**
 * The answer to `acquire`: admitted (a lease is held until `observe` or `release`, or until it
 * expires), or how long to wait: until the window's reset, or until the earliest lease ends.
 *
 * @example
 * ```ts
 * import type { RateLimitAdmission } from "effect-okta-connections"
 *
 * const admitted: RateLimitAdmission = { _tag: "Admitted" }
 * ```
 */
export type RateLimitAdmission =
  | { readonly _tag: "Admitted" }
  | {
      readonly _tag: "Wait"
      readonly reason: "window_exhausted" | "concurrency_cap"
      /** Milliseconds until the reset (window) or until the earliest lease ends (concurrency). */
      readonly millis: number
      /**
       * The window's budget is held by requests in flight: it may come back before the reset, as
       * their answers arrive, so the client asks again soon instead of waiting `millis`.
       */
      readonly inFlight?: boolean | undefined
    }

/**
 * What a response said, as the store folds it in. Times are relative (milliseconds from now), so
 * the store can apply them on its own clock whatever the clocks of Okta and of each process.
 *
 * @example
 * ```ts
 * import type { RateLimitObservation } from "effect-okta-connections"
 *
 * const spent: RateLimitObservation = {
 *   window: { limit: 50, remaining: 0, reset: 1_790_000_012, resetInMillis: 12_000 },
 *   concurrencyLimited: false
 * }
 * ```
 */
export interface RateLimitObservation {
  /**
   * Okta's `X-Rate-Limit-Limit/-Remaining/-Reset`, the reset as milliseconds from now on the
   * server's clock; absent when the response had none or the client did not believe them.
   */
  readonly window?:
    | {
        readonly limit?: number | undefined
        readonly remaining: number
        /** `X-Rate-Limit-Reset` as Okta sent it (epoch seconds): the window's identity. */
        readonly reset: number
        /** The same reset as milliseconds from now, on the server's clock as the process knows it. */
        readonly resetInMillis: number
      }
    | undefined
  /** A 429 of Okta's concurrent-request limit (`Limit: 0, Remaining: 0`). */
  readonly concurrencyLimited: boolean
}

/**
 * A shared rate-limit state. Each operation must be atomic: many processes call it at once.
 *
 * - `acquire` admits a request if the bucket's window has budget and the org's requests in flight
 *   are under its concurrency level, and holds a lease for it (`leaseMillis`, after which it ends by
 *   itself, so a process that dies mid-call does not hold a slot for ever); otherwise says how long
 *   to wait. Any other answer (a `Wait` of NaN milliseconds, an unknown `_tag` or `reason`) counts
 *   as a failure of the store, as a `RateLimitStoreError` would.
 * - `observe` ends the lease and folds in the response: the server is authoritative (a newer
 *   window replaces the state; within a window the lower remaining count wins, and what may
 *   still be sent is that count less the requests in flight; a 429 empties the
 *   window until its reset; a concurrent-request 429 lowers the concurrency level, which grows back
 *   by one after four rounds of successes when `adaptiveConcurrency`; each failed probe doubles
 *   the rounds before the next, up to 64, and each that holds halves them). With `keepLeaseMillis` it
 *   may instead hand the lease on to the process's next request (answering `true`).
 * - `release` ends a lease whose request got no response (charged to the window if it may have
 *   been sent) or that was never used.
 *
 * An operation that throws or dies (a bug in a store of your own) counts as a failure too: the
 * call it was asked for goes on, and returns Okta's response when `observe` is the one that died.
 *
 * A call interrupted while its `acquire` is unanswered releases the lease at once, without waiting
 * for the answer: a store must apply one lease's calls in the order they were made (commands on
 * one connection do), or that lease is held until it expires.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { RateLimitStoreService } from "effect-okta-connections"
 *
 * // A store that admits everything (what a test of your own store might start from).
 * const open: RateLimitStoreService = {
 *   acquire: () => Effect.succeed({ _tag: "Admitted" }),
 *   observe: () => Effect.succeed(false),
 *   release: () => Effect.void
 * }
 * ```
 */
export interface RateLimitStoreService {
  readonly acquire: (
    key: RateLimitKey,
    lease: string,
    leaseMillis: number
  ) => Effect.Effect<RateLimitAdmission, RateLimitStoreError>
  readonly observe: (
    key: RateLimitKey,
    lease: string,
    observation: RateLimitObservation,
    options: {
      readonly adaptiveConcurrency: boolean
      /**
       * The process has a request waiting: if the gate allows, keep the lease for it (for this
       * many milliseconds) instead of ending it, and answer `true`. A store may always answer
       * `false`.
       */
      readonly keepLeaseMillis?: number | undefined
    }
  ) => Effect.Effect<boolean, RateLimitStoreError>
  readonly release: (
    key: RateLimitKey,
    lease: string,
    /**
     * Whether the request may have reached Okta (it ended without a response: a timeout, a
     * dropped connection): Okta may have counted it, so the window is charged for it. `false` for
     * a lease that was never used, or whose connection was never made (refused, unreachable).
     */
    sent: boolean,
    /**
     * The request was tried: sent, or its connection refused (`false`: the lease was never used;
     * absent: as `sent`). A first request tried and unanswered tells nothing of the budget, and
     * ends the probing.
     */
    tried?: boolean
  ) => Effect.Effect<void, RateLimitStoreError>
  /**
   * The store fails each of its own calls that takes longer than this many milliseconds. When it
   * is at most the client's bound on a store call (250 ms), the client does not time each call
   * itself (a timeout costs two fibers a call); otherwise, or when absent, 0 (read as "none"),
   * negative or NaN, it does.
   */
  readonly callTimeoutMillis?: number | undefined
  /**
   * While the store is failing, the share of what Okta reports left in the window that a process
   * keeps in flight at once on its local gate (default 1/4: a few workers falling back together
   * leave each other room). Above 0 and at most 1: otherwise building the client fails with
   * `OktaConfigError` (field `rateLimitStore.fallbackShare`).
   */
  readonly fallbackShare?: number | undefined
}

/**
 * The shared rate-limit store, as a service: an `OktaClient` built where it is provided shares its
 * gate through it (the `rateLimitStore` option says so explicitly instead).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { RateLimitStore } from "effect-okta-connections"
 *
 * const shared = Effect.serviceOption(RateLimitStore)
 * ```
 */
export class RateLimitStore extends Context.Tag("effect-okta-connections/RateLimitStore")<
  RateLimitStore,
  RateLimitStoreService
>() {}
