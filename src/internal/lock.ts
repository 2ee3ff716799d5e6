/**
 * A lock for one fiber at a time that an interruption cannot lose: taking it and installing its
 * release are one uninterruptible step, only the wait for it is interruptible, and a waiter
 * interrupted just after being handed the lock hands it on. Effect 3's `Semaphore.withPermits`
 * takes its permit in an interruptible step and installs the release one step later, so an
 * interruption between the two keeps the permit for good (Effect-TS/effect#6910).
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"

/** @internal */
export class Lock {
  /** Whether a fiber holds the lock (or is being handed it). */
  held = false
  private readonly queue: Array<Deferred.Deferred<void>> = []

  /** @param onFree runs when the lock is given back with nobody waiting for it. */
  constructor(private readonly onFree: () => void = () => {}) {}

  private handOn(): void {
    const next = this.queue.shift()
    if (next !== undefined) Deferred.unsafeDone(next, Exit.void)
    else {
      this.held = false
      this.onFree()
    }
  }

  /** Runs `self` holding the lock, then `after` (once the lock is handed on), however it ends. */
  with<A, E, R>(self: Effect.Effect<A, E, R>, after: Effect.Effect<void> = Effect.void) {
    const release = Effect.zipRight(
      Effect.sync(() => this.handOn()),
      after
    )
    return Effect.uninterruptibleMask((restore) => {
      if (!this.held) {
        this.held = true
        return Effect.ensuring(restore(self), release)
      }
      const turn = Deferred.unsafeMake<void>(FiberId.none)
      this.queue.push(turn)
      return Effect.matchCauseEffect(restore(Deferred.await(turn)), {
        onFailure: (cause) => {
          const index = this.queue.indexOf(turn)
          if (index >= 0) {
            this.queue.splice(index, 1)
            return Effect.failCause(cause)
          }
          // Interrupted after being handed the lock: hand it on.
          return Effect.zipRight(release, Effect.failCause(cause))
        },
        onSuccess: () => Effect.ensuring(restore(self), release)
      })
    })
  }
}
