/**
 * Timeouts for the hot path. `Effect.timeoutFail` races two forked fibers (the effect and a
 * sleep) and joins the winner, which the benchmark measured at a third of this client's whole
 * per-call overhead. `makeTimeout` runs the effect in one forked fiber and interrupts it from a
 * plain timer callback: the same outcome for a fraction of the work. `makeExchangeTimeout`, for
 * an HTTP attempt, needs no fiber at all when the transport honours the request's abort signal.
 *
 * @internal
 */
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as GlobalValue from "effect/GlobalValue"

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

/**
 * The platform's table of request-owned abort controllers, the one `HttpClient.withScope` fills:
 * for a request found here `HttpClient.make` hands the transport this controller's signal
 * instead of making its own. The platform shares the table through this `globalValue` key; if a
 * release renamed it, this would be a table of our own, no transport would see our signal, and
 * `makeExchangeTimeout` would never leave its forked path (slower, never wrong).
 */
const requestControllers = GlobalValue.globalValue(
  "@effect/platform/HttpClient/scopedRequests",
  () => new WeakMap<HttpClientRequest.HttpClientRequest, AbortController>()
)

/** The abort reason of an exchange that ended: the transport only lets go of what it still holds. */
const ENDED = Object.freeze({ name: "AbortError", message: "the Okta exchange ended" })

/**
 * Aborts the request's signal if an exchange timeout gave it one: for an attempt that succeeded
 * without reading its whole body, so the transport drops what it still holds. (A body read to
 * the end holds nothing, and an abort costs a transport's listeners 10–20 µs, so a read one is
 * left alone.)
 *
 * @internal
 */
export const releaseRequest = (request: HttpClientRequest.HttpClientRequest): void => {
  requestControllers.get(request)?.abort(ENDED)
}

/** An `onExit` that aborts the request after a failure or an interruption (not the fast path's). */
const abortOnFailure = (controller: AbortController) => (exit: Exit.Exit<unknown, unknown>) =>
  Effect.sync(() => {
    if (exit._tag === "Failure") controller.abort(ENDED)
  })

/**
 * The per-attempt timeout of an HTTP exchange. The attempt owns the request's abort signal (see
 * `requestControllers`), aborted when the attempt fails or is interrupted, as the platform does
 * with its own; after a success the caller decides (`releaseRequest`), as the platform leaves a
 * response's body to whoever reads it.
 *
 * A transport that listens to the signal, as the platform's fetch, undici and `node:http` clients
 * do, fails at once with a transport error when it is aborted, so the deadline needs no fiber of
 * its own: the exchange runs in the caller's fiber, the shared timer aborts the signal, and that
 * failure is reported as `onTimeout()`. This saves the fork per attempt that `makeTimeout` needs
 * (about 11 µs of CPU and two scheduler hops). A transport that ignores the signal (a hand-made
 * `HttpClient.make` that never ends) would make that deadline a dead letter, so the attempt is
 * forked and interrupted (`makeTimeout`) until the client's transport has been seen to listen for
 * the abort; and always on a clock that is not the live one (`TestClock`).
 *
 * @internal
 */
export const makeExchangeTimeout = (millis: number): ExchangeTimeout => {
  const forked = makeTimeout(millis)
  const deadlines = millis <= MAX_TIMER_MILLIS ? new Deadlines(millis) : undefined
  // Whether this client's transport was seen listening for an abort on a signal we gave it.
  let listens = false
  const run = <A, E, E2>(
    request: HttpClientRequest.HttpClientRequest,
    exchange: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<A, E>,
    onTimeout: () => E2
  ): Effect.Effect<A, E | E2> =>
    Effect.withFiberRuntime<A, E | E2>((fiber) => {
      if (Context.get(fiber.currentDefaultServices, Clock.Clock) !== liveClock) {
        return forked(exchange(request), onTimeout)
      }
      const controller = new AbortController()
      requestControllers.set(request, controller)
      if (deadlines === undefined) {
        return Effect.onExit(exchange(request), abortOnFailure(controller))
      }
      if (!listens) {
        // Watch this attempt's signal for a listener (an own property on this one object).
        const signal = controller.signal
        const addEventListener = signal.addEventListener
        let listened = false
        signal.addEventListener = function (this: AbortSignal, ...args) {
          listened = true
          return addEventListener.apply(this, args)
        }
        const release = abortOnFailure(controller)
        return Effect.onExit(forked(exchange(request), onTimeout), (exit) => {
          if (listened) listens = true
          return release(exit)
        })
      }
      let timedOut = false
      const entry = deadlines.add(() => {
        timedOut = true
        controller.abort(new DOMException("the Okta call attempt timed out", "TimeoutError"))
      })
      return Effect.uninterruptibleMask((restore) =>
        Effect.matchCauseEffect(restore(exchange(request)), {
          onSuccess: (value) => {
            deadlines.remove(entry)
            return Effect.succeed(value)
          },
          onFailure: (cause): Effect.Effect<never, E | E2> => {
            deadlines.remove(entry)
            controller.abort(ENDED)
            // The abort surfaces as the transport's (or the body read's) failure: a timeout.
            // An interruption of the caller or a defect stays what it is.
            return timedOut && !Cause.isInterrupted(cause) && !Cause.isDie(cause)
              ? Effect.fail(onTimeout())
              : Effect.failCause(cause)
          }
        })
      )
    })
  return {
    run,
    get transportListens() {
      return listens
    }
  }
}

/** @internal */
export interface ExchangeTimeout {
  /**
   * `exchange(request)` within the timeout; fails with `onTimeout()` if it has not completed in
   * time. `request` must be the very object the exchange hands to `HttpClient.execute`.
   */
  readonly run: <A, E, E2>(
    request: HttpClientRequest.HttpClientRequest,
    exchange: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<A, E>,
    onTimeout: () => E2
  ) => Effect.Effect<A, E | E2>
  /** Whether the transport was seen listening for the abort (then the fast path is taken). */
  readonly transportListens: boolean
}
