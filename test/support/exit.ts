/** The typed failure or the success of an Exit, for assertions; anything else fails the test. */
import { Cause, Exit } from "effect"

export const failureOf = <A, E>(exit: Exit.Exit<A, E>): E => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got a success")
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "None") {
    throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  }
  return failure.value
}

export const successOf = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isFailure(exit)) throw new Error(`expected a success, got ${Cause.pretty(exit.cause)}`)
  return exit.value
}
