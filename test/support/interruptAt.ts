/**
 * Interrupting an effect at a chosen step, to test what an interruption leaves behind wherever it
 * lands: an op-supervising `Supervisor` (public API) counts the steps of the fiber it supervises
 * and of every fiber that fiber forks, and at the `at`-th interrupts the supervised fiber, or
 * (`"running"`) the fiber taking that step: a child fiber interrupted through its parent is
 * interrupted only where it next suspends, so steps in between are reached only this way.
 */
import { Effect, Fiber, FiberId, RuntimeFlags, RuntimeFlagsPatch, Supervisor } from "effect"

/** Which fiber an interruption goes to. */
export type Victim = "supervised" | "running"

export class InterruptAt extends Supervisor.AbstractSupervisor<void> {
  steps = 0
  readonly value = Effect.void
  private target: Fiber.RuntimeFiber<unknown, unknown> | undefined
  private fired = false
  constructor(
    readonly at: number,
    readonly victim: Victim = "supervised"
  ) {
    super()
  }
  override onEffect(fiber: Fiber.RuntimeFiber<unknown, unknown>): void {
    this.steps += 1
    // From the first step on which the target is known (the very first ones set it up).
    if (!this.fired && this.steps >= this.at && this.target !== undefined) {
      this.fired = true
      const victim = this.victim === "running" ? fiber : this.target
      victim.unsafeInterruptAsFork(FiberId.none)
    }
  }
  supervise<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.withFiberRuntime<A, E, R>((fiber) => {
      this.target = fiber
      return effect
    }).pipe(
      Effect.supervised(this),
      Effect.withRuntimeFlagsPatch(RuntimeFlagsPatch.enable(RuntimeFlags.OpSupervision))
    )
  }
}

/** Lets interruptions sent to other fibers land, and the event loop's next turns run. */
export const settle = Effect.repeatN(
  Effect.promise(() => new Promise((resolve) => setImmediate(resolve))),
  10
)

/**
 * Runs `call` (which must hang, waiting for an answer that never comes) once to count its steps,
 * then once for each step, interrupted there (a run that got past its last step is interrupted
 * while it hangs).
 */
export const interruptEverywhere = <A, E, R>(
  call: Effect.Effect<A, E, R>,
  victim: Victim = "supervised"
) =>
  Effect.gen(function* () {
    const count = new InterruptAt(Number.POSITIVE_INFINITY)
    const hung = yield* Effect.fork(count.supervise(call))
    yield* settle
    const steps = count.steps
    yield* Fiber.interrupt(hung)
    for (let at = 1; at <= steps; at++) {
      const fiber = yield* Effect.fork(new InterruptAt(at, victim).supervise(call))
      yield* settle
      yield* Fiber.interrupt(fiber)
    }
    return steps
  })
