/**
 * A rate-limit gate whose state lives in a shared store (Redis), so that every process calling
 * the same org draws on one budget. Beside it runs the process's own in-memory gate, fed every
 * response so it stays warm: when the store fails or is slow, requests go through it, which keeps
 * a conservative share of what is left in flight (logged and counted), and back through the store
 * a few seconds later. A store failure never fails a call. In one process one fiber at a time asks
 * the store for a slot (the others queue behind it): a crowd of waiting fibers costs one request
 * per poll.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Either from "effect/Either"
import * as Metric from "effect/Metric"
import { rateLimitStoreFallbacks, rateLimitStoreLocalRequests } from "../metrics/OktaMetrics.js"
import type {
  RateLimitKey,
  RateLimitObservation,
  RateLimitStoreError,
  RateLimitStoreService
} from "../store/RateLimitStore.js"
import { PLAUSIBLE_RESET_MS, RateLimitGate } from "./gate.js"
import { parseRateLimit } from "./headers.js"
import { Lock } from "./lock.js"
import { checkAdmission, storeCall, RETRY_STORE_AFTER_MS, StoreHealth } from "./storeHealth.js"
import type { Gate, GateOptions, GateWait, Ticket } from "./ticket.js"
import { waitOutRetryAfter, wakeOrSleep } from "./wait.js"

/** A store call slower than this counts as a failure. @internal */
export const STORE_TIMEOUT_MS = 250
/**
 * A waiter for a concurrency slot (or a window's budget held by requests in flight) asks the store
 * again after this, doubling while refused, up to `POLL_MAX_MS`, or `POLL_HELD_MAX_MS` while the
 * process holds leases (its requests that end hand their slots on or wake the waiter), so that
 * processes with nothing to gain do not flood the store. The interval is the process's, not the
 * waiter's: the next waiter does not start again from the shortest one.
 */
const POLL_MS = 2
const POLL_MAX_MS = 32
const POLL_HELD_MAX_MS = 128
/** Leases kept to end once the store answers again (see `orphans`). */
const MAX_ORPHANS = 64

/** @internal */
export interface SharedGateSettings {
  readonly key: RateLimitKey
  /** How long a lease lasts if its process never ends it (the attempt timeout and a margin). */
  readonly leaseMillis: number
  readonly adaptiveConcurrency: boolean
  /** A store call slower than this counts as a failure. */
  readonly storeTimeoutMillis: number
  /** Runs when the gate falls back to its local gate (for the log line and the metric). */
  readonly onFallback: (error: RateLimitStoreError | "timeout") => Effect.Effect<void>
  /** Runs when the gate is back on the store. */
  readonly onRecovered: Effect.Effect<void>
  /** Runs for each request admitted by the local gate instead of the store (for the metric). */
  readonly onLocalRequest: Effect.Effect<void>
}

let leases = 0
const newLease = () => `${process.pid}-${Date.now().toString(36)}-${(leases++).toString(36)}`

/** @internal */
export class SharedGate implements Gate {
  private readonly health: StoreHealth
  /**
   * The turn to ask the store: one fiber of this process asks, the others queue. With nobody
   * left waiting, the next wait starts again from the shortest interval.
   */
  private readonly turn = new Lock(() => {
    this.pollMillis = POLL_MS
  })
  /** The polling fiber (the turn's holder), woken early when a slot of this process is freed. */
  private readonly sleepers: Array<Deferred.Deferred<void>> = []
  /** A slot of this process was freed since the store last refused it: ask again at once. */
  private freed = false
  /** Leases the store handed on from a finished request to this process's next one. */
  private readonly spare: Array<string> = []
  /** Leases this process holds: its requests in flight and the spare ones. */
  private held = 0
  /**
   * Leases whose store call failed or timed out, which the store may hold all the same (a slow
   * store admits one after the client stopped waiting): ended once the store answers again, not
   * left to narrow every process's budget until their TTL. `sent`: as `release`.
   */
  private readonly orphans: Array<{ readonly lease: string; readonly sent: boolean }> = []
  /** After the store refused a slot: when to ask again (local ms), why, and the next interval. */
  private askAgainAt = Number.NEGATIVE_INFINITY
  private refusedFor: GateWait["reason"] = "concurrency_cap"
  private pollMillis = POLL_MS

  constructor(
    readonly store: RateLimitStoreService,
    readonly local: RateLimitGate,
    readonly settings: SharedGateSettings
  ) {
    this.health = new StoreHealth(settings.onFallback, settings.onRecovered)
  }

  serverNow(localMillis: number): number {
    return this.local.serverNow(localMillis)
  }

  private call<A>(
    operation: string,
    thunk: () => Effect.Effect<A, RateLimitStoreError>
  ): Effect.Effect<Either.Either<A, RateLimitStoreError | "timeout">> {
    const effect = storeCall(operation, thunk)
    // A store that bounds its own calls as tightly is not timed again; 0 may mean "none".
    const bounded = this.store.callTimeoutMillis
    if (bounded !== undefined && bounded > 0 && bounded <= this.settings.storeTimeoutMillis) {
      return Effect.either(effect)
    }
    // In an interruptible fiber of its own: timed out also where the caller is uninterruptible
    // (ending a lease), and not cut short by the caller's interruption. The fiber succeeds with
    // the store's failure, which the runtime would otherwise log as an "unhandled error".
    const timeout = {
      duration: this.settings.storeTimeoutMillis,
      onTimeout: () => "timeout" as const
    }
    const timed = Effect.interruptible(Effect.either(Effect.timeoutFail(effect, timeout)))
    return Effect.flatMap(Effect.forkDaemon(timed), Fiber.join)
  }

  /** Ends `lease`; `sent`: its request may have reached Okta; `tried`: sent, or refused. */
  private endLease(lease: string, sent: boolean, tried = sent) {
    return this.call("release", () => this.store.release(this.settings.key, lease, sent, tried))
  }

  /** Ends `lease`, or keeps it to end once the store answers again (see `orphans`). */
  private endOrOrphan(lease: string, sent: boolean): Effect.Effect<void> {
    return Effect.map(this.endLease(lease, sent), (result) => {
      if (result._tag === "Left") this.orphan(lease, sent)
    })
  }

  /** A slot of this process ended: handed on to its next request (`spare`) or back to the store. */
  private wakePoller(backToStore: boolean) {
    if (backToStore) this.freed = true
    for (const sleeper of this.sleepers) Deferred.unsafeDone(sleeper, Effect.void)
  }

  private orphan(lease: string, sent: boolean): void {
    // Bounded while the store stays down: the oldest are left to their TTL.
    if (this.orphans.push({ lease, sent }) > MAX_ORPHANS) this.orphans.shift()
  }

  private endOrphans(): Effect.Effect<void> {
    // One at a time, each kept until the store ends it: a store failing again costs the asking
    // call one bounded store call; the rest wait for its next answer (also if it is interrupted).
    const orphan = this.orphans[0]
    if (orphan === undefined) return Effect.void
    return Effect.flatMap(this.endLease(orphan.lease, orphan.sent), (result) => {
      if (result._tag === "Left") return Effect.void
      const index = this.orphans.indexOf(orphan)
      if (index >= 0) this.orphans.splice(index, 1)
      return this.endOrphans()
    })
  }

  private releaseSpares(): Effect.Effect<void> {
    if (this.turn.held || this.spare.length === 0) return Effect.void
    const unused = this.spare.splice(0)
    this.held -= unused.length
    return Effect.forEach(unused, (lease) => this.endOrOrphan(lease, false), { discard: true })
  }

  acquire<E>(
    ticket: Ticket,
    onWait: (wait: GateWait) => Effect.Effect<void, E>,
    maxWaitMillis: number
  ): Effect.Effect<void, E> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const gate = this
    // A lease this acquisition took and has not put on its ticket yet: if it is interrupted, the
    // lease goes to the process's next waiter or back to the store, not held until its TTL. Once
    // on the ticket, the lease is the caller's to give back.
    let taken: string | undefined
    const admit = (lease: string) => {
      ticket.lease = lease
      ticket.admitted = true
      taken = undefined
      return true
    }
    const ask: Effect.Effect<boolean, E> = Effect.gen(function* () {
      let lastReason: GateWait["reason"] | undefined
      while (true) {
        const handedOn = gate.spare.pop()
        if (handedOn !== undefined) return admit(handedOn)
        if (yield* waitOutRetryAfter(gate.local, onWait, maxWaitMillis)) continue
        const now = yield* Clock.currentTimeMillis
        if (now < gate.health.degradedUntil) return false
        // The store refused this process a slot a moment ago and none of its own went back to the
        // store since: asking again now would only be refused again.
        if (now < gate.askAgainAt && !gate.freed) {
          // One log line and count per wait, not per poll.
          if (lastReason !== gate.refusedFor) {
            lastReason = gate.refusedFor
            yield* onWait({ millis: undefined, reason: gate.refusedFor })
          }
          yield* wakeOrSleep(gate.sleepers, gate.askAgainAt - now)
          continue
        }
        const lease = newLease()
        gate.freed = false
        const answer = yield* gate
          .call("acquire", () =>
            gate.store.acquire(gate.settings.key, lease, gate.settings.leaseMillis)
          )
          .pipe(
            Effect.map(checkAdmission),
            Effect.tap((answer) =>
              Effect.sync(() => {
                if (answer._tag === "Right" && answer.right._tag === "Admitted") {
                  gate.held += 1
                  taken = lease
                }
              })
            ),
            // Interrupted before the answer: the store may have admitted the lease all the same.
            Effect.onInterrupt(() => gate.endOrOrphan(lease, false))
          )
        if (answer._tag === "Left") {
          gate.orphan(lease, false)
          yield* gate.health.failed(answer.left)
          return false
        }
        yield* gate.health.succeeded()
        yield* gate.endOrphans()
        const admission = answer.right
        if (admission._tag === "Admitted") {
          gate.pollMillis = POLL_MS
          return admit(lease)
        }
        // A window spent for good waits for its reset; one held by requests in flight is polled
        // (at the top of the loop, unless a slot of this process is freed meanwhile).
        if (admission.reason === "window_exhausted" && admission.inFlight !== true) {
          // Longer than the caller may wait (`maxRateLimitWait`): left to the local gate, which
          // waits at most that long and then probes, as a lone process does.
          if (admission.millis > maxWaitMillis) return false
          const millis = Math.max(0, admission.millis)
          lastReason = admission.reason
          yield* onWait({ millis, reason: admission.reason })
          yield* wakeOrSleep(gate.sleepers, millis)
          continue
        }
        gate.askAgainAt =
          (yield* Clock.currentTimeMillis) +
          Math.min(Math.max(1, admission.millis), gate.pollMillis)
        gate.refusedFor = admission.reason
        gate.pollMillis = Math.min(
          gate.pollMillis * 2,
          gate.held > 0 ? POLL_HELD_MAX_MS : POLL_MAX_MS
        )
      }
    })
    const local = Effect.zipLeft(
      gate.local.acquire(ticket, onWait, maxWaitMillis),
      gate.settings.onLocalRequest
    )
    return Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (now < gate.health.degradedUntil) return local
      // With nobody left waiting once the turn is handed on, leases handed on for them end.
      return gate.turn
        .with(
          ask,
          Effect.suspend(() => gate.releaseSpares())
        )
        .pipe(
          Effect.flatMap((admitted) => (admitted ? Effect.void : local)),
          Effect.onInterrupt(() =>
            Effect.suspend(() => {
              if (taken === undefined) return Effect.void
              gate.spare.push(taken)
              gate.wakePoller(false)
              return gate.releaseSpares()
            })
          )
        )
    })
  }

  observe(ticket: Ticket, headers: Headers.Headers, localMillis: number, status: number) {
    // The local gate learns every response; it counts in flight only what it admitted.
    const lease = ticket.lease
    const doubted = this.local.observeHeaders(headers, localMillis, lease === undefined, status)
    if (lease === undefined) return Effect.succeed(doubted)
    const rate = parseRateLimit(headers)
    const concurrencyLimited = rate?.limit === 0 && rate.remaining === 0
    let window: RateLimitObservation["window"]
    if (!concurrencyLimited && rate?.remaining !== undefined && rate.reset !== undefined) {
      const resetInMillis = rate.reset * 1000 - this.local.serverNow(localMillis)
      // A reset the local gate did not believe is not shared either.
      if (resetInMillis <= PLAUSIBLE_RESET_MS) {
        window = { limit: rate.limit, remaining: rate.remaining, reset: rate.reset, resetInMillis }
      }
    }
    // A request of this process is waiting: it gets this slot, if the store allows; not under a
    // proxy's `Retry-After` hold, which the slot would skip (and its lease could outlive its TTL).
    const keep = this.turn.held && this.local.retryAfterLeft(localMillis) === 0
    let answered = false
    return Effect.flatMap(
      this.call("observe", () =>
        this.store.observe(
          this.settings.key,
          lease,
          { window, concurrencyLimited },
          {
            adaptiveConcurrency: this.settings.adaptiveConcurrency,
            ...(keep ? { keepLeaseMillis: this.settings.leaseMillis } : {})
          }
        )
      ),
      (result) => {
        answered = true
        const kept = result._tag === "Right" && result.right
        if (kept) this.spare.push(lease)
        else this.held -= 1
        // The request was answered: Okta counted it, whether or not the store saw it end.
        if (result._tag === "Left") this.orphan(lease, true)
        this.wakePoller(!kept)
        return Effect.as(
          result._tag === "Left"
            ? this.health.failed(result.left)
            : // Nobody is waiting any more: end a lease handed on for nothing.
              Effect.zipRight(this.health.succeeded(), this.releaseSpares()),
          doubted
        )
      }
    ).pipe(
      // Interrupted before the answer (the store may not have seen it): ended as unused if the
      // store may have kept it for this process, otherwise as a request Okta counted.
      Effect.onInterrupt(() =>
        Effect.suspend(() => {
          if (answered) return Effect.void
          this.held -= 1
          this.wakePoller(true)
          return this.endOrOrphan(lease, !keep)
        })
      )
    )
  }

  release(ticket: Ticket): Effect.Effect<void> {
    const lease = ticket.lease
    if (lease === undefined) return this.local.release(ticket)
    // The attempt ended without a response: if it was sent, the request may have reached Okta.
    this.held -= 1
    const sent = ticket.sent === true
    return Effect.flatMap(this.endLease(lease, sent, ticket.sent !== undefined), (result) => {
      this.wakePoller(true)
      if (result._tag === "Right") return this.health.succeeded()
      this.orphan(lease, sent)
      return this.health.failed(result.left)
    })
  }
}

/**
 * A shared gate over `store` for one bucket, with its local fallback gate (a conservative share
 * of what is left), the fallback's warning and metric, and the recovery's log line.
 *
 * @internal
 */
export const make = (
  store: RateLimitStoreService,
  options: {
    readonly key: RateLimitKey
    readonly gateOptions: GateOptions
    readonly leaseMillis: number
    readonly metrics: boolean
  }
): SharedGate => {
  const share = store.fallbackShare ?? 0.25
  const bucket = options.key.bucket
  const fallbacks = Metric.tagged(rateLimitStoreFallbacks, "bucket", bucket)
  const localRequests = Metric.tagged(rateLimitStoreLocalRequests, "bucket", bucket)
  return new SharedGate(store, new RateLimitGate({ ...options.gateOptions, share }), {
    key: options.key,
    leaseMillis: options.leaseMillis,
    adaptiveConcurrency: options.gateOptions.adaptiveConcurrency,
    storeTimeoutMillis: STORE_TIMEOUT_MS,
    onFallback: (error) =>
      Effect.zipRight(
        Effect.logWarning(
          `Okta rate-limit store failing (${error === "timeout" ? `no answer within ${STORE_TIMEOUT_MS} ms` : error.message}): this process uses its own gate, with at most ${Math.round(share * 100)} % of what Okta reports left in flight, and tries the store again in ${RETRY_STORE_AFTER_MS / 1000} s`
        ).pipe(Effect.annotateLogs({ org: options.key.org, bucket })),
        options.metrics ? Metric.update(fallbacks, 1) : Effect.void
      ),
    onRecovered: Effect.logInfo("Okta rate-limit store answering again: the gate is shared").pipe(
      Effect.annotateLogs({ org: options.key.org, bucket })
    ),
    onLocalRequest: options.metrics ? Metric.update(localRequests, 1) : Effect.void
  })
}
