/**
 * A timeout for the hot path. `Effect.timeoutFail` races two forked fibers (the effect and a
 * sleep) and joins the winner, which the benchmark measured at a third of this client's whole
 * per-call overhead. Here the effect runs in one forked fiber and the deadline is a plain timer
 * callback that interrupts it: the same outcome for a fraction of the work.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"

/** The clock every fiber has unless a test or the application replaced it. */
const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** Node's timers overflow past this; longer timeouts never fire (as with Effect's own clock). */
const MAX_TIMER_MILLIS = 2 ** 31 - 1

interface Pending {
  readonly deadline: number
  readonly expire: () => void
}

/**
 * The live-clock timers of one timeout length. All pending entries share the length, so they
 * expire in the order they were added: one `setTimeout` for the oldest serves them all, instead
 * of a timer created and cleared per call. An entry that completes is just removed; a timer left
 * for it finds the next entry and re-arms. The timer is cleared when nothing is pending, so an
 * idle client never keeps the process alive.
 */
class Deadlines {
  private readonly pending = new Set<Pending>()
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(private readonly millis: number) {}

  add(expire: () => void): Pending {
    const entry = { deadline: performance.now() + this.millis, expire }
    this.pending.add(entry)
    if (this.timer === undefined) this.arm(this.millis)
    return entry
  }

  remove(entry: Pending): void {
    this.pending.delete(entry)
    if (this.pending.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
  }

  private arm(delay: number): void {
    this.timer = setTimeout(this.fire, Math.max(0, Math.ceil(delay)))
  }

  private readonly fire = (): void => {
    this.timer = undefined
    const now = performance.now()
    for (const entry of this.pending) {
      if (entry.deadline > now) {
        this.arm(entry.deadline - now)
        return
      }
      this.pending.delete(entry)
      entry.expire()
    }
  }
}

/**
 * A timeout of `millis`: `effect` fails with `onTimeout()` if it has not completed in time on the
 * fiber's `Clock` (it is then interrupted, and its finalizers have run before the failure is
 * seen). An effect that completes, succeeds or fails, as the timer fires keeps its own result.
 * Interrupting the caller interrupts the effect and waits for it.
 *
 * With the live clock the deadline is kept in a shared timer queue (see `Deadlines`); with any
 * other clock (`TestClock`) it is a sleep on that clock in a second fiber, so tests drive it with
 * `TestClock.adjust`.
 *
 * @internal
 */
export const makeTimeout = (millis: number) => {
  const deadlines = millis <= MAX_TIMER_MILLIS ? new Deadlines(millis) : undefined
  return <A, E, R, E2>(
    effect: Effect.Effect<A, E, R>,
    onTimeout: () => E2
  ): Effect.Effect<A, E | E2, R> =>
    Effect.withFiberRuntime<A, E | E2, R>((parent) => {
      const clock = Context.get(parent.currentDefaultServices, Clock.Clock)
      return Effect.flatMap(Effect.forkDaemon(effect), (child) => {
        let timedOut = false
        const expire = () => {
          timedOut = true
          child.unsafeInterruptAsFork(parent.id())
        }
        const settle = (cancelTimer: () => void) =>
          Effect.async<A, E | E2>((resume) => {
            child.addObserver((exit) => {
              cancelTimer()
              resume(
                timedOut && Exit.isFailure(exit) && Exit.isInterrupted(exit)
                  ? Effect.fail(onTimeout())
                  : exit
              )
            })
            // The caller was interrupted: stop the timer, interrupt the effect and wait for it.
            return Effect.suspend(() => {
              cancelTimer()
              return Effect.asVoid(Fiber.interrupt(child))
            })
          })
        if (clock === liveClock) {
          if (deadlines === undefined) return settle(() => {})
          const entry = deadlines.add(expire)
          return settle(() => deadlines.remove(entry))
        }
        return Effect.flatMap(
          Effect.forkDaemon(
            Effect.zipRight(clock.sleep(Duration.millis(millis)), Effect.sync(expire))
          ),
          (timer) => settle(() => timer.unsafeInterruptAsFork(parent.id()))
        )
      })
    })
}

/** @internal */
export type Timeout = ReturnType<typeof makeTimeout>
