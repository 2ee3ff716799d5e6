/**
 * The per-attempt timeout of one client. Each attempt runs in a child fiber, and one watchdog
 * fiber per client sleeps until the oldest running attempt's deadline and interrupts the attempts
 * that passed theirs. `Effect.timeoutFail` forks two fibers per attempt and races them, which cost
 * a quarter of the client's CPU under load (bench/README.md); this forks one.
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
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type * as Scope from "effect/Scope"

// The event loop's next turn: `setImmediate` where the runtime has it (Node, Bun), else a timer.
const nextTurn: (task: () => void) => void =
  typeof globalThis.setImmediate === "function"
    ? (task) => void globalThis.setImmediate(task)
    : (task) => void globalThis.setTimeout(task, 0)

interface Running {
  readonly deadline: number
  /** Dropped when the attempt ends, so that the queue does not hold its result. */
  fiber: Fiber.RuntimeFiber<unknown, unknown> | undefined
  timedOut: boolean
}

/**
 * Returns `timed(effect, onTimeout)`: `effect` in a child fiber, interrupted and failed with
 * `onTimeout()` if it runs longer than `timeoutMillis`.
 *
 * @internal
 */
export const make = (timeoutMillis: number, scope: Scope.Scope) => {
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
        if (oldest.fiber !== undefined) {
          if (oldest.deadline > now) {
            return Effect.zipRight(Effect.sleep(oldest.deadline - now), watch(mine))
          }
          oldest.timedOut = true
          oldest.fiber.unsafeInterruptAsFork(FiberId.none)
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

  const ended = (attempt: Running) => {
    attempt.fiber = undefined
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
    while (head < queue.length && queue[head]!.fiber === undefined) head += 1
    if (head >= 1024 && head * 2 >= queue.length) {
      queue = queue.slice(head)
      head = 0
    }
  }

  const start: Effect.Effect<void> = Effect.suspend(() => {
    watchdog = "starting"
    const mine = generation
    return Effect.map(Effect.forkIn(watch(mine), scope), (started) => {
      if (mine === generation) watchdog = started
      else started.unsafeInterruptAsFork(FiberId.none)
    })
  })

  return <A, E, E2>(effect: Effect.Effect<A, E>, onTimeout: () => E2): Effect.Effect<A, E | E2> =>
    Effect.clockWith((clock) => {
      const deadline = clock.unsafeCurrentTimeMillis() + timeoutMillis
      return Effect.flatMap(Effect.fork(effect), (fiber) => {
        const attempt: Running = { deadline, fiber, timedOut: false }
        queue.push(attempt)
        running += 1
        const result = Effect.async<A, E | E2>((resume) => {
          fiber.addObserver((exit) => {
            resume(
              attempt.timedOut && Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
                ? Effect.fail(onTimeout())
                : exit
            )
            ended(attempt)
          })
          // The caller was interrupted: so is its attempt.
          return Effect.sync(() => fiber.unsafeInterruptAsFork(FiberId.none))
        })
        return watchdog === undefined ? Effect.zipRight(start, result) : result
      })
    })
}
