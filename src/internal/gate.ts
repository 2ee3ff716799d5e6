/**
 * The shared rate-limit gate of one `OktaClient`: every response's rate-limit headers feed it, and
 * every request passes it before being sent.
 *
 * - It tracks the current window (its reset on the server's clock, and the budget left = the
 *   lowest `Remaining` Okta sent for it minus the requests still in flight, which Okta may not have
 *   counted yet, and those sent that ended without an answer, which it may have). When the budget
 *   is spent, or a 429 says so, new requests wait for the reset instead of drawing 429s.
 * - Waiters wake at the reset (plus jitter) and are admitted one at a time against the new
 *   window's budget, so resuming never bursts past the window.
 * - The server clock is estimated from `Date` headers: each response gives a lower bound of the
 *   offset (`Date` is floored to the second and stamped before the response travels), so the
 *   largest recent sample is the tightest safe estimate: waking by it is never early.
 * - The concurrent-request 429 does not touch the window; with adaptive concurrency it lowers the
 *   number of requests let in flight to those still in flight, which then grows by one after four
 *   rounds of successes at that level. Each probe above the limit costs one 429, so a probe that
 *   fails doubles the rounds before the next (up to {@link MAX_PROBE_ROUNDS}), and one that holds
 *   until the next halves them (down to four).
 * - A proxy's 429 or 503 with `Retry-After` (at most two minutes) and no window of Okta's holds
 *   every request as long, then probes, as after a distrusted reset (below); a shared store's
 *   gate waits it out before asking the store (`retryAfterUntilMs`).
 * - A freed slot or a raised budget wakes as many waiters as can go, oldest first.
 * - What the gate believes is bounded, so one response cannot stall every call: a reset more than
 *   {@link PLAUSIBLE_RESET_MS} ahead (Okta's windows are one minute) or a `Date` more than
 *   {@link PLAUSIBLE_OFFSET_MS} from the local clock, without a reset near it, is distrusted (the
 *   caller logs and counts it);
 *   a spent window with a distrusted reset is held for one window length and then probed (one
 *   request, whose response tells the truth) instead of refilled. No wait exceeds the caller's
 *   maximum (the policy's `maxRateLimitWait`): a waiter that reaches it makes the gate forget the
 *   window and probe.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import { parseDate, parseRateLimit, parseRetryAfter } from "./headers.js"
import {
  type Distrusted,
  type Gate,
  type GateOptions,
  type GateWait,
  newTicket,
  type Ticket
} from "./ticket.js"
import { wakeOrSleep } from "./wait.js"

/** Offset samples older than this are dropped, so a clock step on either side is followed. */
const OFFSET_MEMORY_MS = 5 * 60_000
/** Okta's windows are one minute; used until two resets have been seen. */
const DEFAULT_WINDOW_MS = 60_000
/** A waiter with nothing to wake it re-checks at least this often (no deadlock, no tight loop). */
const IDLE_RECHECK_MS = 1_000
/** Rounds of successes at the concurrency level before it is probed one higher. */
export const PROBE_ROUNDS = 4
/** The most rounds between probes, after failed probes in a row (4, 8, 16, 32, 64). */
export const MAX_PROBE_ROUNDS = 64
/** A reset further ahead than this (two of Okta's one-minute windows) is not believed. */
export const PLAUSIBLE_RESET_MS = 2 * DEFAULT_WINDOW_MS
/** A `Date` further than this from the local clock is not believed (a 1970 or 2100 `Date`). */
const PLAUSIBLE_OFFSET_MS = 60 * 60_000
/** How late a window's start may be known: `X-Rate-Limit-Reset` is in whole seconds. */
export const START_MARGIN_MS = 1_000

/** The in-memory gate of one client (see the module comment). @internal */
export class RateLimitGate implements Gate {
  /** Requests admitted whose response headers have not arrived yet. */
  inFlight = 0
  limit: number | undefined
  /** What may still be sent in the current window; undefined until Okta has told. */
  available: number | undefined
  /** The current window's reset, server epoch milliseconds. */
  windowResetMs: number | undefined
  /** The last reset Okta sent; `windowResetMs` runs ahead of it once a window passes unobserved. */
  private observedResetMs: number | undefined
  /**
   * The lowest `Remaining` Okta sent for that window. A window's count only grows, so a higher
   * one is the answer to an earlier request that arrived later: it must not raise the budget.
   */
  private observedRemaining = 0
  /**
   * Requests that ended without an answer after they were sent, and when the latest did (local
   * clock: the server's may not be known yet). Okta may have counted them after the answer whose
   * `Remaining` the gate holds, so they stay charged until a window that starts more than a
   * second after the latest.
   */
  private lost = 0
  private lostAtLocalMs = 0
  /** The shortest distance seen between two resets (Okta's windows are one minute). */
  windowLengthMs = DEFAULT_WINDOW_MS
  /** Server clock minus local clock (lower-bound estimate), and when it was last raised. */
  offsetMs: number | undefined
  private offsetAt = 0
  concurrencyCap = Number.POSITIVE_INFINITY
  /** No response seen yet, or the window forgotten: one request at a time (see `acquire`). */
  probing = true
  /** The current window's reset is a stand-in for a distrusted one: probe when it passes. */
  private suspect = false
  /** Until when (server clock) a proxy's `Retry-After` holds every request (see `wait.ts`). */
  retryAfterUntilMs: number | undefined
  private successesAtCap = 0
  /** Rounds of successes before the next probe (see {@link PROBE_ROUNDS}). */
  probeRounds = PROBE_ROUNDS
  /** The level was raised by a probe, and no 429 has come since. */
  private probedUp = false
  /** Fibers waiting for a slot or budget, first come first served. */
  private readonly waiters: Array<Deferred.Deferred<void>> = []

  constructor(readonly options: GateOptions) {}

  /** The server's clock now, as well as it is known. */
  serverNow(localMillis: number): number {
    return localMillis + (this.offsetMs ?? 0)
  }

  /**
   * Wakes as many waiters, oldest first, as could be admitted now (not all of them: a freed slot
   * wakes one fiber, not a thundering herd). Waiters for a window reset wake on their own timer.
   */
  private signal(): void {
    const cap = this.probing ? 1 : this.concurrencyCap
    const room = Math.min(cap - this.inFlight, this.available ?? Number.POSITIVE_INFINITY)
    for (let i = 0; i < room && this.waiters.length > 0; i++) {
      Deferred.unsafeDone(this.waiters.shift()!, Effect.void)
    }
  }

  /** What this gate may spend of Okta's `remaining`, less the requests in flight and unanswered. */
  private budget(remaining: number): number {
    const share = this.options.share ?? 1
    return (share >= 1 ? remaining : Math.floor(remaining * share)) - this.inFlight - this.lost
  }

  /** A window starting at `startMs` (server clock) does not carry charges from before it. */
  private startWindow(startMs: number): void {
    if (this.serverNow(this.lostAtLocalMs) < startMs - START_MARGIN_MS) this.lost = 0
  }

  /**
   * Spent until `resetMs` (server clock), a time no window of Okta's told: then probed (see
   * `roll`), and the next window Okta tells replaces it.
   */
  private holdUntil(resetMs: number): void {
    // A hold or a spent window that ends later stays: a shorter hold does not wake waiters early.
    const spent = this.suspect || (this.available !== undefined && this.available <= 0)
    if (spent && this.windowResetMs !== undefined && this.windowResetMs >= resetMs) return
    this.suspect = true
    this.windowResetMs = resetMs
    this.observedResetMs = undefined
    this.available = 0
  }

  /** How long a proxy's `Retry-After` still holds every request; 0 when it does not. */
  retryAfterLeft(localMillis: number): number {
    return Math.max(0, (this.retryAfterUntilMs ?? 0) - this.serverNow(localMillis))
  }

  /** Moves to the next window once the current one has reset. */
  private roll(serverMillis: number): void {
    if (this.windowResetMs === undefined || serverMillis < this.windowResetMs) return
    if (this.suspect) return this.forget()
    const behind = Math.floor((serverMillis - this.windowResetMs) / this.windowLengthMs) + 1
    this.windowResetMs += behind * this.windowLengthMs
    this.startWindow(this.windowResetMs - this.windowLengthMs)
    this.available = this.limit !== undefined ? this.budget(this.limit) : undefined
  }

  /**
   * Drops what the gate believed about the window: the next request goes alone, as the first one
   * did, and its response tells the budget.
   */
  private forget(): void {
    this.suspect = false
    this.windowResetMs = undefined
    this.observedResetMs = undefined
    this.available = undefined
    this.probing = true
  }

  /**
   * Waits until a request may be sent, then counts it in flight. `onWait` runs before each wait
   * (for logs, metrics and the caller's deadline check, which may fail the acquisition). No single
   * wait for a window exceeds `maxWaitMillis`.
   */
  admit<E>(
    onWait: (wait: GateWait) => Effect.Effect<void, E>,
    maxWaitMillis: number = Number.POSITIVE_INFINITY
  ): Effect.Effect<void, E> {
    return this.acquire(newTicket(), onWait, maxWaitMillis)
  }

  /** The common case, budget left and a free slot, decided without reading the clock. */
  private tryTake(): boolean {
    const cap = this.probing ? 1 : this.concurrencyCap
    if (this.inFlight < cap && (this.available === undefined || this.available > 0)) {
      this.inFlight += 1
      if (this.available !== undefined) this.available -= 1
      return true
    }
    return false
  }

  private acquireSlowly<E>(
    ticket: Ticket,
    onWait: (wait: GateWait) => Effect.Effect<void, E>,
    maxWaitMillis: number
  ): Effect.Effect<void, E> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const gate = this
    return Effect.gen(function* () {
      while (true) {
        const local = yield* Clock.currentTimeMillis
        const server = gate.serverNow(local)
        gate.roll(server)
        const windowSpent = gate.available !== undefined && gate.available <= 0
        // Until the first response tells the budget, one request probes for it; a burst sent
        // blind could spend a small window at once.
        const cap = gate.probing ? 1 : gate.concurrencyCap
        const capped = gate.inFlight >= cap
        if (!windowSpent && !capped) {
          gate.inFlight += 1
          if (gate.available !== undefined) gate.available -= 1
          ticket.admitted = true
          return
        }
        let millis: number | undefined
        // The window this wait is for, if the wait is cut short at the caller's maximum.
        let cutFor: number | undefined
        if (windowSpent && gate.windowResetMs !== undefined) {
          const jitter =
            gate.options.resetJitterMillis > 0
              ? yield* Random.nextIntBetween(0, gate.options.resetJitterMillis + 1)
              : 0
          millis = Math.max(0, gate.windowResetMs - server) + jitter
          if (millis > maxWaitMillis) {
            millis = Math.max(0, maxWaitMillis)
            cutFor = gate.windowResetMs
          }
        }
        const reason = windowSpent ? "window_exhausted" : "concurrency_cap"
        yield* onWait({ millis, reason, probing: !windowSpent && gate.probing })
        // A response may raise the budget or free a slot before the reset: wake on either.
        yield* wakeOrSleep(gate.waiters, millis ?? IDLE_RECHECK_MS)
        // Waited as long as the caller allows and nothing told otherwise: stop believing the
        // window and probe it (a real one answers the probe with a 429 and its reset).
        if (cutFor !== undefined && gate.windowResetMs === cutFor) gate.forget()
      }
    })
  }

  acquire<E>(
    ticket: Ticket,
    onWait: (wait: GateWait) => Effect.Effect<void, E>,
    maxWaitMillis: number
  ): Effect.Effect<void, E> {
    return Effect.suspend(() => {
      if (!this.tryTake()) return this.acquireSlowly(ticket, onWait, maxWaitMillis)
      ticket.admitted = true
      return Effect.void
    })
  }

  observe(_ticket: Ticket, headers: Headers.Headers, localMillis: number, status: number) {
    return Effect.sync(() => this.observeHeaders(headers, localMillis, true, status))
  }

  release(ticket: Ticket) {
    if (ticket.sent !== true)
      return Effect.sync(() => this.releaseSlot(undefined, ticket.sent === false))
    return Effect.clockWith((clock) =>
      Effect.sync(() => this.releaseSlot(clock.unsafeCurrentTimeMillis()))
    )
  }

  /**
   * Response headers. `admitted`: of a request this gate admitted (it leaves the in-flight count);
   * otherwise headers learnt from elsewhere (a shared gate keeping its fallback warm). `status`:
   * the response's, when known. Returns the header it did not believe, if any, for the caller to
   * log and count.
   */
  observeHeaders(
    headers: Headers.Headers,
    localMillis: number,
    admitted = true,
    status?: number
  ): Distrusted | undefined {
    if (admitted) this.inFlight = Math.max(0, this.inFlight - 1)
    this.probing = false
    let distrusted: Distrusted | undefined
    const date = parseDate(headers)
    const rate = parseRateLimit(headers)
    if (date !== undefined) {
      const sample = date - localMillis
      // A `Date` hours off the local clock is believed only with a reset near it: the two then
      // agree, and it is this machine's clock that is off (a VM's, after sleep or a time zone mix-up).
      const paired =
        rate?.reset !== undefined && Math.abs(rate.reset * 1000 - date) <= PLAUSIBLE_RESET_MS
      if (Math.abs(sample) > PLAUSIBLE_OFFSET_MS && !paired) {
        // As parsed, not as sent: the log line must not carry what else a proxy put there.
        distrusted = { header: "date", value: new Date(date).toUTCString() }
      } else if (
        this.offsetMs === undefined ||
        sample > this.offsetMs ||
        localMillis - this.offsetAt > OFFSET_MEMORY_MS
      ) {
        this.offsetMs = sample
        this.offsetAt = localMillis
      }
    }
    if (rate?.limit === 0 && rate.remaining === 0) {
      // Okta's concurrent-request limit: its headers say nothing about the window.
      if (this.options.adaptiveConcurrency) {
        this.concurrencyCap = Math.max(1, Math.min(this.concurrencyCap, this.inFlight))
        this.successesAtCap = 0
        if (this.probedUp) this.probeRounds = Math.min(MAX_PROBE_ROUNDS, this.probeRounds * 2)
        this.probedUp = false
      }
      this.signal()
      return distrusted
    }
    if (this.options.adaptiveConcurrency && Number.isFinite(this.concurrencyCap)) {
      this.successesAtCap += 1
      if (this.successesAtCap >= this.probeRounds * this.concurrencyCap) {
        // The previous probe held all this time: probe sooner. A successful round alone does not
        // tell: answers to requests sent before the level was raised arrive first.
        if (this.probedUp) this.probeRounds = Math.max(PROBE_ROUNDS, this.probeRounds / 2)
        this.concurrencyCap += 1
        this.successesAtCap = 0
        this.probedUp = true
      }
    }
    const retryAfter = status === 429 || status === 503 ? parseRetryAfter(headers, date) : undefined
    if (rate?.remaining === undefined || rate.reset === undefined) {
      // A proxy's or load balancer's 429 or 503 with `Retry-After` and no window of Okta's: every
      // request waits it out, not only the one it answered, and then one probes. One longer than
      // two of Okta's windows holds no one: the call it answered gives up or waits alone.
      if (retryAfter !== undefined && retryAfter > 0 && retryAfter <= PLAUSIBLE_RESET_MS) {
        const until = this.serverNow(localMillis) + retryAfter
        this.retryAfterUntilMs = Math.max(this.retryAfterUntilMs ?? 0, until)
        this.holdUntil(until)
      }
    } else if (rate.reset * 1000 - this.serverNow(localMillis) > PLAUSIBLE_RESET_MS) {
      const raw = headers["x-rate-limit-reset"] ?? ""
      distrusted = {
        header: "x-rate-limit-reset",
        value: /^[\d\s,]*$/.test(raw) ? raw : String(rate.reset) // as for `date`, above
      }
      // Spent, until an unknown reset: held for one window.
      if (rate.remaining <= 0) this.holdUntil(this.serverNow(localMillis) + this.windowLengthMs)
    } else {
      const resetMs = rate.reset * 1000
      const observed = this.observedResetMs
      if (observed === undefined || resetMs > observed) {
        this.suspect = false
        this.retryAfterUntilMs = undefined
        // A window not seen before. Its reset replaces whatever `roll` estimated.
        if (observed !== undefined) {
          this.windowLengthMs = Math.min(this.windowLengthMs, resetMs - observed)
        }
        this.observedResetMs = resetMs
        this.startWindow(resetMs - this.windowLengthMs)
        this.observedRemaining = rate.remaining
        this.windowResetMs = resetMs
        this.available = this.budget(rate.remaining)
      } else if (resetMs === observed && resetMs === this.windowResetMs) {
        this.observedRemaining = Math.min(this.observedRemaining, rate.remaining)
        this.available = this.budget(this.observedRemaining)
      }
      // Otherwise a late response from a window already over: it says nothing about this one.
      if (rate.limit !== undefined) this.limit = rate.limit
    }
    this.signal()
    return distrusted
  }

  /**
   * A request admitted by `admit` ended without response headers. `lostAtLocalMs` (now) when it
   * had been sent: Okta may have counted it, so it stays charged. `tried`: it failed, sent or not.
   */
  releaseSlot(lostAtLocalMs?: number, tried = lostAtLocalMs !== undefined): void {
    this.inFlight = Math.max(0, this.inFlight - 1)
    // A failed probe tells nothing; stop probing rather than serialise calls behind failures.
    if (tried) this.probing = false
    if (lostAtLocalMs !== undefined) {
      this.lost += 1
      this.lostAtLocalMs = lostAtLocalMs
    } else if (this.available !== undefined) {
      // Not sent, or its connection never made: its share of the budget comes back (no answer
      // will recompute it).
      this.available += 1
    }
    this.signal()
  }
}
