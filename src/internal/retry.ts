/**
 * The retry loop every Okta exchange runs in (API calls, OAuth token requests): pass the gate,
 * attempt, and on failure let the policy decide whether and when to go again, within the call's
 * deadline. Each retry and gate wait is logged, put on the call's span and counted.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as GlobalValue from "effect/GlobalValue"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import type * as Tracer from "effect/Tracer"
import {
  type OktaDecodeError,
  type OktaRequestError,
  OktaTimeoutError
} from "../errors/OktaError.js"
import { PLAUSIBLE_RESET_MS } from "./gate.js"
import { withAttempts } from "./httpError.js"
import { type Gate, type GateWait, newTicket, type Ticket } from "./ticket.js"
import type { Recorder } from "./metrics.js"
import { sleepHinted } from "./testClock.js"
import { type Call, isPermanent } from "./transport.js"

/** The errors a retry decision looks at. @internal */
export type Retryable = OktaRequestError | OktaDecodeError

/** What the loop needs of a `RetryPolicy` (structurally the public one). @internal */
export interface Policy {
  readonly maxRetries: number
  readonly maxRateLimitWait: Duration.Duration
  readonly resetJitter: Duration.Duration
  readonly backoff: Schedule.Schedule<unknown, Retryable>
  readonly concurrencyBackoff: Schedule.Schedule<unknown, Retryable>
}

type Decision =
  | { readonly _tag: "Stop" }
  | { readonly _tag: "WindowReset"; readonly resetMillis: number }
  | { readonly _tag: "Backoff"; readonly reason: string; readonly concurrency: boolean }

const STOP: Decision = { _tag: "Stop" }
const backoff = (reason: string, concurrency = false): Decision => ({
  _tag: "Backoff",
  reason,
  concurrency
})

/**
 * Which failures are tried again. Without `replaySafe` (verify: its one-time code may be consumed
 * by a request that reached Okta) only a 429 (a rejection) or a failure to connect is.
 */
const classify = (error: unknown, replaySafe: boolean): Decision => {
  const e = error as Retryable
  switch (e._tag) {
    case "OktaRateLimitError": {
      if (e.isConcurrencyLimit) return backoff("concurrency_limit", true)
      const reset = e.rateLimit?.reset
      return reset !== undefined
        ? { _tag: "WindowReset", resetMillis: reset * 1000 }
        : backoff("rate_limit_no_reset")
    }
    case "OktaServerError":
      return replaySafe && [500, 502, 503, 504].includes(e.status) ? backoff("server_error") : STOP
    case "OktaTransportError":
      return (replaySafe || e.connectFailed) && !isPermanent(e) ? backoff("transport") : STOP
    case "OktaTimeoutError":
      return replaySafe && e.kind === "attempt" ? backoff("timeout") : STOP
    default:
      return STOP
  }
}

/**
 * Steps a `Schedule` by hand, so that each delay is known before sleeping (to check it against the
 * deadline, log it and put it on the span). `None` when the schedule is done.
 */
const stepper = <In>(schedule: Schedule.Schedule<unknown, In>) => {
  let state: unknown = schedule.initial
  return (now: number, input: In): Effect.Effect<Option.Option<number>> =>
    Effect.map(schedule.step(now, input, state), ([next, , decision]) => {
      state = next
      if (ScheduleDecision.isDone(decision)) return Option.none()
      const delay = Intervals.start(decision.intervals) - now
      // Whole milliseconds: jittered schedules yield fractions no clock or log needs.
      return Option.some(Number.isFinite(delay) && delay > 0 ? Math.ceil(delay) : 0)
    })
}

/** A retry or a gate wait: an event on the call's span and a debug log line. */
const visible = (
  call: Call,
  span: Tracer.Span | undefined,
  name: "okta.retry" | "okta.gate_wait",
  attributes: Record<string, string | number>
) =>
  Effect.flatMap(Clock.currentTimeNanos, (now) => {
    span?.event(name, now, { operation: call.operation, ...attributes })
    return Effect.logDebug(
      name === "okta.retry" ? "Okta call retried" : "Okta call held at the rate-limit gate"
    ).pipe(Effect.annotateLogs({ operation: call.operation, ...attributes }))
  })

/** @internal */
export interface RetryOptions<A, E, P, EP> {
  readonly call: Call
  readonly gate: Gate
  readonly policy: Policy
  readonly replaySafe: boolean
  /** When the call's deadline passes (local clock, ms), if it has one. */
  readonly deadlineMillis: number | undefined
  readonly recorder: Recorder
  readonly span: Tracer.Span | undefined
  /**
   * What every attempt needs before it may take a gate slot (an OAuth access token): obtained
   * outside the slot and the attempt timeout; its failure ends the call (it has its own retries).
   */
  readonly prepare?: Effect.Effect<P, EP> | undefined
  /**
   * One attempt, after the gate let it through; the headers are `X-Okta-Retry-*` on retries. It
   * settles `ticket` when the response headers arrive.
   */
  readonly attempt: (
    retryHeaders: Record<string, string> | undefined,
    prepared: P | undefined,
    ticket: Ticket
  ) => Effect.Effect<A, E>
  /**
   * A failure the caller repairs at once without it counting as a retry (a fresh OAuth token after
   * `invalid_token`, a DPoP nonce): true to go again now. At most two per call.
   */
  readonly repair?: ((error: E) => boolean) | undefined
  /**
   * A request the running call makes for itself (its OAuth access token): within the call's
   * deadline, and the failures it goes on after are the call's, named by its deadline error.
   */
  readonly forCall?: boolean | undefined
}

/** A call's deadline, and what the call did before it, for the `OktaTimeoutError` ending it there. */
interface Progress {
  /** When the deadline passes (local clock, ms). */
  readonly deadlineAt: number
  /** The call's deadline error, as of now. */
  readonly pastDeadline: (waitMillis?: number) => OktaTimeoutError
  /** The call's attempts so far (not the requests it makes for itself). */
  attempts: number
  lastFailure: OktaTimeoutError["cause"]
  /** Waiting at the rate-limit gate, and for what. */
  heldBy: GateWait["reason"] | undefined
}

// A failure the call goes on after: `classify` retries 429s, 5xx, transport failures and attempt
// timeouts; `repair` takes HTTP errors and a token request's `OktaAuthError`.
const goneOnAfter = (error: unknown) => error as OktaTimeoutError["cause"]

/** The progress of the call whose deadline runs, for the requests it makes for itself. */
const callProgress = GlobalValue.globalValue(
  Symbol.for("effect-okta-connections/retry/callProgress"),
  () => FiberRef.unsafeMake<Progress | undefined>(undefined)
)

/** A call's deadline error (not an attempt's timeout): it ends the call, never retried. @internal */
export const isDeadline = (error: unknown): error is OktaTimeoutError =>
  error instanceof OktaTimeoutError && error.kind === "deadline"

/**
 * Sleeps within the running call's deadline, if it has one: a sleep that would reach it fails the
 * call now, naming `cause` (what the call waits after), as the call's own waits do. @internal
 */
export const sleepWithin = (
  millis: number,
  cause: OktaTimeoutError["cause"]
): Effect.Effect<void, OktaTimeoutError> =>
  FiberRef.getWith(callProgress, (progress) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (progress === undefined || now + millis < progress.deadlineAt)
        return sleepHinted(millis, () => `a token request after ${cause?._tag ?? "a failure"}`)
      progress.lastFailure = cause
      return Effect.fail(progress.pastDeadline(millis))
    })
  )

/** Runs `attempt` until it succeeds, the policy gives up or the deadline passes. @internal */
export const run = <A, E, P = never, EP = never>(
  options: RetryOptions<A, E, P, EP>
): Effect.Effect<A, E | EP | OktaTimeoutError> => {
  const { call, gate, policy, span, recorder } = options
  const maxWaitMillis = Duration.toMillis(policy.maxRateLimitWait)

  const acquire = (progress: Progress | undefined, ticket: Ticket) =>
    gate.acquire(
      ticket,
      (wait: GateWait) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => {
          if (progress !== undefined) progress.heldBy = wait.reason
          return progress !== undefined &&
            wait.millis !== undefined &&
            now + wait.millis >= progress.deadlineAt
            ? Effect.fail(progress.pastDeadline(wait.millis))
            : Effect.zipRight(
                visible(call, span, "okta.gate_wait", {
                  reason: wait.reason,
                  // A wait for a concurrency slot has no planned length: it ends with a request.
                  ...(wait.millis !== undefined ? { delay_ms: wait.millis } : {}),
                  ...(wait.probing === true ? { probing: "true" } : {})
                }),
                recorder.gateWait(call.operation, wait.reason)
              )
        }),
      maxWaitMillis
    )

  /**
   * Takes a slot, runs the attempt, and gives the slot back however it ends without response
   * headers (a failure, an interruption anywhere, even just after the gate took the slot).
   */
  const attemptInSlot = (
    progress: Progress | undefined,
    retryHeaders: Record<string, string> | undefined,
    prepared: P | undefined
  ): Effect.Effect<A, E | OktaTimeoutError> =>
    Effect.uninterruptibleMask((restore) => {
      const ticket = newTicket()
      // Already uninterruptible here, so a match does what `Effect.ensuring` would, in fewer
      // steps; the release cannot fail.
      const release = Effect.suspend(() => {
        if (ticket.settled || !ticket.admitted) return Effect.void
        ticket.settled = true
        return gate.release(ticket)
      })
      return Effect.matchCauseEffect(restore(acquire(progress, ticket)), {
        onFailure: (cause) => Effect.zipRight(release, Effect.failCause(cause)),
        onSuccess: () => {
          if (progress !== undefined) {
            progress.heldBy = undefined
            if (options.forCall !== true) progress.attempts += 1
          }
          return Effect.matchCauseEffect(restore(options.attempt(retryHeaders, prepared, ticket)), {
            onFailure: (cause) => {
              // A request sent and never answered (a transport failure, the attempt timeout, an
              // interruption) is counted here, where every way the attempt ends is seen.
              const unanswered = ticket.sent === true && !ticket.settled
              const timedOut = cause._tag === "Fail" && cause.error instanceof OktaTimeoutError
              const counted = unanswered
                ? recorder.failure(call.operation, timedOut ? "timeout" : "transport")
                : Effect.void
              return Effect.zipRight(Effect.zipRight(counted, release), Effect.failCause(cause))
            },
            onSuccess: (value) =>
              ticket.settled ? Effect.succeed(value) : Effect.as(release, value)
          })
        }
      })
    })
  const prepare: Effect.Effect<P | undefined, EP> = options.prepare ?? Effect.succeed(undefined)

  const retrying = (first: E, progress: Progress | undefined) =>
    Effect.gen(function* () {
      const failed = (error: E) => {
        if (progress !== undefined) progress.lastFailure = goneOnAfter(error)
      }
      const steps = stepper(policy.backoff)
      const concurrencySteps = stepper(policy.concurrencyBackoff)
      const jitterMillis = Duration.toMillis(policy.resetJitter)
      let retries = 0
      let repairs = 0
      // The call ends with its last error, which says how many requests it sent.
      const giveUp = (error: E) => Effect.fail(withAttempts(error, retries + repairs + 1))
      let retryFor: string | undefined
      let error = first
      while (true) {
        if (options.repair !== undefined && repairs < 2 && options.repair(error)) {
          repairs += 1
          failed(error)
        } else {
          const decision = classify(error, options.replaySafe)
          // Not `>=`: a NaN limit (a policy built by hand) then retries nothing, not for ever.
          if (decision._tag === "Stop" || !(retries < policy.maxRetries))
            return yield* giveUp(error)
          const now = yield* Clock.currentTimeMillis
          let delay: number | undefined
          // A reset too far ahead to be Okta's (a proxy's or a broken server's) is no reset.
          const untilReset =
            decision._tag === "WindowReset"
              ? decision.resetMillis - gate.serverNow(now)
              : Number.POSITIVE_INFINITY
          const reason =
            decision._tag !== "WindowReset"
              ? decision.reason
              : untilReset > PLAUSIBLE_RESET_MS
                ? "rate_limit_no_reset"
                : "rate_limit"
          if (untilReset <= PLAUSIBLE_RESET_MS) {
            if (untilReset > maxWaitMillis) return yield* giveUp(error)
            if (untilReset > 0) {
              const jitter =
                jitterMillis > 0 ? yield* Random.nextIntBetween(0, jitterMillis + 1) : 0
              delay = untilReset + jitter
            }
          }
          if (delay === undefined) {
            // No usable reset (missing, or already past on the server clock): back off.
            const concurrency = decision._tag === "Backoff" && decision.concurrency
            const step = yield* (concurrency ? concurrencySteps : steps)(
              now,
              error as unknown as Retryable
            )
            if (Option.isNone(step)) return yield* giveUp(error)
            delay = step.value
            // A proxy's or load balancer's `Retry-After` is a floor; one past the longest wait
            // the policy allows ends the call now, as a reset that far ahead does.
            const retryAfter = (error as { readonly retryAfterMillis?: unknown }).retryAfterMillis
            if (typeof retryAfter === "number") {
              if (retryAfter > maxWaitMillis) return yield* giveUp(error)
              delay = Math.max(delay, retryAfter)
            }
          }
          failed(error)
          if (progress !== undefined && now + delay >= progress.deadlineAt) {
            return yield* progress.pastDeadline(delay)
          }
          retries += 1
          const requestId = (error as { readonly requestId?: unknown }).requestId
          if (retryFor === undefined && typeof requestId === "string") retryFor = requestId
          const status = (error as { readonly status?: unknown }).status
          yield* visible(call, span, "okta.retry", {
            reason,
            attempt: retries,
            delay_ms: delay,
            ...(typeof status === "number" ? { status } : {})
          })
          yield* recorder.retry(call.operation, reason)
          yield* sleepHinted(delay, () => `${call.operation}'s retry ${retries} (${reason})`)
        }
        const prepared = yield* prepare
        const headers =
          retries === 0
            ? undefined
            : {
                "x-okta-retry-count": String(retries),
                ...(retryFor !== undefined ? { "x-okta-retry-for": retryFor } : {})
              }
        const exit = yield* Effect.either(attemptInSlot(progress, headers, prepared))
        if (exit._tag === "Right") return exit.right
        if (isDeadline(exit.left)) return yield* Effect.fail(exit.left)
        error = exit.left as E
      }
    })

  // The first attempt takes the short path: no policy state is built unless it fails.
  const first = (progress: Progress | undefined) => {
    const once = (prepared: P | undefined) =>
      Effect.catchAll(
        attemptInSlot(progress, undefined, prepared),
        (e: E | OktaTimeoutError): Effect.Effect<A, E | EP | OktaTimeoutError> =>
          isDeadline(e) ? Effect.fail(e) : retrying(e as E, progress)
      )
    return options.prepare === undefined ? once(undefined) : Effect.flatMap(options.prepare, once)
  }
  if (options.forCall === true) {
    // Within the call's deadline (if it has one): its waits are checked against it, its failures
    // are the call's, and the call's own timeout interrupts it.
    return Effect.flatMap(FiberRef.get(callProgress), first)
  }
  if (options.deadlineMillis === undefined) return first(undefined)
  // The deadline bounds the whole call: a wait known to reach it fails at once (a request sent
  // then goes unanswered), and whatever is running when it passes (an attempt, a backoff, a gate
  // wait, a token request) is interrupted.
  const deadlineMillis = options.deadlineMillis
  return Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
    const progress: Progress = {
      deadlineAt: startedAt + deadlineMillis,
      pastDeadline: (waitMillis) =>
        new OktaTimeoutError({
          ...call,
          timeoutMillis: deadlineMillis,
          kind: "deadline",
          attempts: progress.attempts,
          cause: progress.lastFailure,
          heldBy: progress.heldBy,
          waitMillis
        }),
      attempts: 0,
      lastFailure: undefined,
      heldBy: undefined
    }
    const bounded = first(progress)
    // With OAuth, the requests for the call's token run within its deadline (see `forCall`).
    const run =
      options.prepare === undefined ? bounded : Effect.locally(bounded, callProgress, progress)
    return Effect.timeoutFail(run, { duration: deadlineMillis, onTimeout: progress.pastDeadline })
  })
}
