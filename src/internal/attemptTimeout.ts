/**
 * The per-attempt timeout of one client. One watchdog fiber per client sleeps until the oldest
 * running attempt's deadline and stops the attempts that passed theirs, in one of two ways:
 *
 * - `aborting`, on a client that aborts a request when the `Scope` it was sent in closes
 *   (`HttpClient.withScope` over a transport that honours its `AbortSignal`): the attempt runs in
 *   the caller's fiber, in a scope of its own, which the watchdog closes. The transport drops the
 *   connection and the attempt fails. No fiber per attempt, which is what an attempt costs most
 *   besides the exchange itself (bench/README.md).
 * - `interrupting`, on any other client (a hand-made one may ignore its `AbortSignal`): each
 *   attempt runs in a child fiber, which the watchdog interrupts; its requests, sent in a scope of
 *   their own, are then aborted by closing it. `Effect.timeoutFail` would fork two fibers per
 *   attempt and race them; this forks one.
 *
 * Every attempt of a client has the same timeout, so deadlines come in the order attempts start
 * and the watchdog only ever waits for the oldest one. It runs in the client's scope while any
 * attempt runs, and is interrupted once no attempt runs: an idle client holds no timer (a process
 * with an open runtime can exit), and closing the client's layer stops it. "Once" is checked in
 * the event loop's next turn after the last attempt ended, when the microtasks queued meanwhile have
 * run: a caller that goes on to its next call keeps the watchdog instead of stopping and starting
 * one per call, whether it stays in one fiber or awaits each call's `runPromise` before starting
 * the next (a queued Effect scheduler task would run before that promise's continuation). The
 * watchdog sleeps on the clock of the fiber that started it, so `TestClock` drives it in tests.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"

// The event loop's next turn: `setImmediate` where the runtime has it (Node, Bun), else a timer.
const nextTurn: (task: () => void) => void =
  typeof globalThis.setImmediate === "function"
    ? (task) => void globalThis.setImmediate(task)
    : (task) => void globalThis.setTimeout(task, 0)

interface Running {
  readonly deadline: number
  /**
   * What the watchdog stops at the deadline: the attempt's fiber, or the scope its request was
   * sent in. Dropped when the attempt ends, so that the queue does not hold its result.
   */
  target: Fiber.RuntimeFiber<unknown, unknown> | Scope.CloseableScope | undefined
  timedOut: boolean
}

/**
 * Runs `effect` as an attempt, failed with `onTimeout()` if it runs longer than the timeout. `R` is
 * what the attempt's requests need: a `Scope` when the timeout aborts them through it.
 *
 * @internal
 */
export type Timed<R> = <A, E, E2>(
  effect: Effect.Effect<A, E, R>,
  onTimeout: () => E2
) => Effect.Effect<A, E | E2>

/**
 * The client's two ways to time an attempt out, served by one watchdog, both for a client made
 * with `HttpClient.withScope`: `aborting`, over a transport that honours its `AbortSignal`, and
 * `interrupting`, over any.
 *
 * @internal
 */
export const make = (
  timeoutMillis: number,
  scope: Scope.Scope,
  attemptContext?: <R>(context: Context.Context<R>) => Context.Context<R>
) => {
  // Oldest first; entries before `head` are over. Emptied whenever no attempt runs.
  let queue: Array<Running> = []
  let head = 0
  let running = 0
  let watchdog: Fiber.RuntimeFiber<void> | "starting" | undefined
  // Bumped when the watchdog is stopped: one from an earlier generation ends at its next step.
  let generation = 0
  let idleCheck = false

  const watch = (mine: number): Effect.Effect<void> =>
    Effect.clockWith((clock) => {
      if (mine !== generation) return Effect.void
      const now = clock.unsafeCurrentTimeMillis()
      while (head < queue.length) {
        const oldest = queue[head]!
        const target = oldest.target
        if (target !== undefined) {
          if (oldest.deadline > now) {
            return Effect.zipRight(Effect.sleep(oldest.deadline - now), watch(mine))
          }
          oldest.timedOut = true
          if (!Fiber.isFiber(target)) {
            head += 1
            // The transport's abort runs here: whatever it does, the watchdog goes on.
            return Effect.zipRight(Effect.exit(Scope.close(target, Exit.void)), watch(mine))
          }
          target.unsafeInterruptAsFork(FiberId.none)
        }
        head += 1
      }
      // Every running attempt is timed out and ending, or none runs any more (the client went
      // idle while this slept): the next attempt starts a new watchdog.
      watchdog = undefined
      return Effect.void
    })

  const stop = () => {
    generation += 1
    if (watchdog !== undefined && watchdog !== "starting") {
      watchdog.unsafeInterruptAsFork(FiberId.none)
    }
    watchdog = undefined
  }

  const stopIfIdle = () => {
    idleCheck = false
    if (running === 0) stop()
  }

  const begin = (deadline: number, target: Running["target"]): Running => {
    const attempt: Running = { deadline, target, timedOut: false }
    queue.push(attempt)
    running += 1
    return attempt
  }

  const ended = (attempt: Running) => {
    attempt.target = undefined
    running -= 1
    if (running === 0) {
      queue = []
      head = 0
      if (!idleCheck) {
        idleCheck = true
        nextTurn(stopIfIdle)
      }
      return
    }
    // Attempts mostly end in the order they started: drop the ended ones at the front.
    while (head < queue.length && queue[head]!.target === undefined) head += 1
    if (head >= 1024 && head * 2 >= queue.length) {
      queue = queue.slice(head)
      head = 0
    }
  }

  const start: Effect.Effect<void> = Effect.suspend(() => {
    watchdog = "starting"
    const mine = generation
    // Started inside an attempt's uninterruptible region: interruptible itself, so that going
    // idle and closing the client stop it.
    return Effect.map(Effect.forkIn(Effect.interruptible(watch(mine)), scope), (started) => {
      if (mine === generation) watchdog = started
      else started.unsafeInterruptAsFork(FiberId.none)
    })
  })

  const withWatchdog = <A, E>(effect: Effect.Effect<A, E>) =>
    watchdog === undefined ? Effect.zipRight(start, effect) : effect

  // The attempt's scope in its context, with what the transport adds (one provide, not two).
  const inScope = <A, E>(
    effect: Effect.Effect<A, E, Scope.Scope>,
    attempt: Scope.Scope
  ): Effect.Effect<A, E> =>
    attemptContext === undefined
      ? Effect.provideService(effect, Scope.Scope, attempt)
      : Effect.contextWithEffect((context: Context.Context<never>) =>
          Effect.provide(effect, attemptContext(Context.add(context, Scope.Scope, attempt)))
        )

  const aborting = <A, E, E2>(
    effect: Effect.Effect<A, E, Scope.Scope>,
    onTimeout: () => E2
  ): Effect.Effect<A, E | E2> =>
    Effect.clockWith((clock) => {
      const deadline = clock.unsafeCurrentTimeMillis() + timeoutMillis
      return Effect.flatMap(Scope.make(), (scope) =>
        // Uninterruptible from `begin` to the match that calls `ended`: an interruption between
        // them would leave the attempt counted as running for good.
        Effect.uninterruptibleMask((restore) => {
          const attempt = begin(deadline, scope)
          return withWatchdog(
            Effect.matchCauseEffect(restore(inScope(effect, scope)), {
              // Nothing to abort: the exchange reads every body it is given to the end. Past the
              // deadline it succeeded only by letting the aborted read go (a body its decoder
              // left unread): timed out, as an interrupted attempt on another transport is.
              onSuccess: (value) => {
                ended(attempt)
                return attempt.timedOut ? Effect.fail(onTimeout()) : Effect.succeed(value)
              },
              onFailure: (cause) => {
                ended(attempt)
                // A failed or interrupted attempt's request is aborted: its connection is dropped
                // (as the platform does for a request whose fiber is interrupted). Past the
                // deadline, the attempt failed because its request was aborted.
                const failed: Effect.Effect<never, E | E2> =
                  attempt.timedOut && Cause.isFailType(cause)
                    ? Effect.fail(onTimeout())
                    : Effect.failCause(cause)
                return Effect.zipRight(Scope.close(scope, Exit.void), failed)
              }
            })
          )
        })
      )
    })

  /**
   * Forks an attempt whose failure is not logged as the runtime logs a fiber's "unhandled error"
   * (at Debug, by default): it is awaited, and is the call's own failure. What the attempt runs
   * (a user's `transformClient`, its own forks) keeps the level the caller has.
   */
  const forkAttempt = <A, E>(effect: Effect.Effect<A, E>) =>
    FiberRef.getWith(FiberRef.unhandledErrorLogLevel, (level) =>
      Effect.locally(
        Effect.fork(Effect.locally(effect, FiberRef.unhandledErrorLogLevel, level)),
        FiberRef.unhandledErrorLogLevel,
        Option.none()
      )
    )

  /**
   * Each attempt in a fiber of its own, which the watchdog interrupts, for a client made with
   * `HttpClient.withScope`: the attempt's requests are sent in a scope of its own, closed (the
   * requests aborted) when the attempt fails or its caller is interrupted, and when it succeeds
   * if `closeOnSuccess(scope)` says so: a transformed client may send a request again, or make
   * up an answer, and leave a response unread. Otherwise the scope is left open on success: the
   * exchange has read the body by then (an abort then costs fetch an `AbortError`). Sent in a
   * scope, a request gets none of the platform's own per-response tracking (a wrapper, a
   * `FinalizationRegistry` entry, an abort after each streamed body).
   */
  const interrupting =
    (closeOnSuccess: (scope: Scope.Scope) => boolean) =>
    <A, E, E2>(
      effect: Effect.Effect<A, E, Scope.Scope>,
      onTimeout: () => E2
    ): Effect.Effect<A, E | E2> =>
      Effect.flatMap(Scope.make(), (scope) =>
        Effect.clockWith((clock) => {
          const deadline = clock.unsafeCurrentTimeMillis() + timeoutMillis
          // Uninterruptible but for the attempt and the wait for it: an interruption between
          // `begin` and the observer that calls `ended` would leave the attempt counted as
          // running for good, and one at the wait's very start must still stop the attempt.
          return Effect.uninterruptibleMask((restore) =>
            Effect.flatMap(forkAttempt(restore(Scope.extend(effect, scope))), (fiber) => {
              const attempt = begin(deadline, fiber)
              fiber.addObserver(() => ended(attempt))
              return withWatchdog(
                Effect.matchCauseEffect(restore(Fiber.await(fiber)), {
                  // The caller was interrupted: so is its attempt, and its requests are aborted.
                  onFailure: (cause) =>
                    Effect.zipRight(
                      Effect.zipRight(
                        Effect.sync(() => fiber.unsafeInterruptAsFork(FiberId.none)),
                        Scope.close(scope, Exit.void)
                      ),
                      Effect.failCause(cause)
                    ),
                  onSuccess: (exit) => {
                    const result: Effect.Effect<A, E | E2> =
                      attempt.timedOut &&
                      Exit.isFailure(exit) &&
                      Cause.isInterruptedOnly(exit.cause)
                        ? Effect.fail(onTimeout())
                        : exit
                    return Exit.isFailure(exit) || closeOnSuccess(scope)
                      ? Effect.zipRight(Scope.close(scope, Exit.void), result)
                      : result
                  }
                })
              )
            })
          )
        })
      )

  return { aborting, interrupting }
}
