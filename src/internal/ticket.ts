/**
 * What the retry loop and the exchange need of a rate-limit gate, whichever it is (the in-memory
 * `RateLimitGate` of `gate.ts`, or the `SharedGate` over a store): the ticket of one admission and
 * the gate's interface.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as Effect from "effect/Effect"

/** A rate-limit header the gate did not believe. @internal */
export interface Distrusted {
  readonly header: "x-rate-limit-reset" | "date"
  readonly value: string
}

/** @internal */
export interface GateWait {
  /** Milliseconds until the planned wake-up, when known. */
  readonly millis: number | undefined
  readonly reason: "window_exhausted" | "concurrency_cap"
  /** Held while one request learns the budget (the first call, or a window not believed). */
  readonly probing?: boolean
}

/** @internal */
export interface GateOptions {
  readonly resetJitterMillis: number
  readonly adaptiveConcurrency: boolean
  /**
   * The share of Okta's latest `Remaining` this gate keeps in flight at once (default 1). A
   * process that stands in for a shared store it cannot reach takes a conservative share, as it
   * does not know what the other processes spend; each answer sets it anew from what is left.
   */
  readonly share?: number | undefined
}

/**
 * One admission through a gate. The exchange settles it when the response headers arrive (the gate
 * observes them); the retry loop releases it on every other way the attempt ends.
 *
 * @internal
 */
export interface Ticket {
  /**
   * Set by the gate in the same step as it takes the slot (or lease) for this ticket: from then on
   * the slot is the caller's to give back, even if it is interrupted before `acquire` returns.
   */
  admitted: boolean
  /**
   * Set by the exchange when it sends the request; `false` again if its connection was never made
   * (Okta cannot have counted it), `undefined` if it was never tried.
   */
  sent?: boolean
  settled: boolean
  /** The lease a shared store granted, when a shared store admitted it. */
  lease?: string | undefined
}

/** A ticket not admitted yet, for {@link Gate.acquire}. @internal */
export const newTicket = (): Ticket => ({ admitted: false, settled: false })

/**
 * What the retry loop and the exchange need of a rate-limit gate: the in-memory `RateLimitGate`,
 * or one over a shared store (`SharedGate`).
 *
 * @internal
 */
export interface Gate {
  /**
   * Waits until a request may be sent, and admits `ticket` (see {@link Ticket.admitted}); `onWait`
   * runs before each wait (logs, deadline check).
   */
  readonly acquire: <E>(
    ticket: Ticket,
    onWait: (wait: GateWait) => Effect.Effect<void, E>,
    maxWaitMillis: number
  ) => Effect.Effect<void, E>
  /** An admitted request's response status and headers; the header not believed, if any. */
  readonly observe: (
    ticket: Ticket,
    headers: Headers.Headers,
    localMillis: number,
    status: number
  ) => Effect.Effect<Distrusted | undefined>
  /** An admitted request ended without response headers. */
  readonly release: (ticket: Ticket) => Effect.Effect<void>
  /** The server's clock now, as well as it is known. */
  readonly serverNow: (localMillis: number) => number
}
