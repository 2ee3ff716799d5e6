/**
 * Real asynchronous work of this package under way: signatures and digests on WebCrypto, in the
 * client (assertions, DPoP proofs) and in the in-process simulator (their checks). An answer is
 * coming, however many event-loop turns it takes, so `withAdvancingClock` (testing) does not move
 * a `TestClock` meanwhile: a move then could pass the deadline of an attempt waiting for it.
 *
 * One count per process (`globalValue`): the package's entry points may be separate bundles.
 *
 * @internal
 */
import * as GlobalValue from "effect/GlobalValue"

const pending = GlobalValue.globalValue(Symbol.for("effect-okta-connections/pendingWork"), () => ({
  count: 0
}))

/**
 * `evaluate`, counted as pending work until its promise settles.
 *
 * @internal
 */
export const tracked =
  <A>(evaluate: () => Promise<A>): (() => Promise<A>) =>
  () => {
    pending.count += 1
    // A synchronous throw rejects the promise, so the count always comes down.
    return new Promise<A>((resolve) => resolve(evaluate())).finally(() => {
      pending.count -= 1
    })
  }

/** @internal */
export const isPending = (): boolean => pending.count > 0
