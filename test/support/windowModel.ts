/**
 * A model of how Okta counts an org's rate-limit window, for properties of the gates (the
 * in-memory one, and the Redis store's): requests a gate admits reach Okta, which counts each as
 * it arrives and answers with what was left then, or refuses it at once while its
 * concurrent-request limit is reached (a 429 that the window does not count); answers come back
 * in any order; a request may end without an answer (and one given up on before it reached Okta
 * may still reach it later in the same window); a request's connection may be refused (it never
 * reaches Okta); a lease may go unused; and Okta's window may reset at any step.
 */
import { Effect, FastCheck as fc } from "effect"

/** Okta's `X-Rate-Limit-Reset` of the first window (epoch seconds); each window is a minute. */
export const FIRST_RESET = 1_790_000_060

/**
 * An answer's rate-limit headers: its window (`reset`) and Okta's current one; or a
 * concurrent-request 429 (`Limit: 0, Remaining: 0`).
 */
export interface ModelAnswer {
  readonly concurrencyLimited: boolean
  readonly limit: number
  readonly remaining: number
  readonly reset: number
  readonly current: number
}

/**
 * How a request ended without an answer: `dropped` after it was sent (Okta may have counted it),
 * `refused` before it could be (its connection was refused), or `unused` (never tried).
 */
export type ModelEnding = "dropped" | "refused" | "unused"

/** The gate under test, as the model drives it (its failures end the run). */
export interface ModelGate<E> {
  /** Asks for a slot for a new request `name`: true when admitted at once. */
  readonly acquire: (name: string) => Effect.Effect<boolean, E>
  /** The answer to `name`. `handOn`: ask to keep its slot for the next request; true if kept. */
  readonly answer: (name: string, answer: ModelAnswer, handOn: boolean) => Effect.Effect<boolean, E>
  /** `name` ended without an answer. */
  readonly release: (name: string, ending: ModelEnding) => Effect.Effect<void, E>
  /** Okta's window has just reset. */
  readonly roll: Effect.Effect<void, E>
}

/** One step of the processes or of Okta. */
export interface ModelStep {
  readonly kind: "acquire" | "reach" | "answer" | "drop" | "refused" | "unused" | "late" | "roll"
  /** Which request (modulo those the step can apply to). */
  readonly pick: number
  readonly handOn: boolean
}

export const modelSteps: fc.Arbitrary<ReadonlyArray<ModelStep>> = fc.array(
  fc.record({
    kind: fc.constantFrom(
      ...([
        "acquire",
        "acquire",
        "reach",
        "reach",
        "answer",
        "answer",
        "drop",
        "refused",
        "unused",
        "late",
        "roll"
      ] as const)
    ),
    pick: fc.nat(),
    handOn: fc.boolean()
  }),
  { minLength: 20, maxLength: 120 }
)

/**
 * The model's arbitraries: a small window, partly spent by others, a concurrent-request limit
 * (often none), and the steps.
 */
export const modelArbitraries = {
  limit: fc.integer({ min: 1, max: 6 }),
  concurrentLimit: fc.oneof(fc.constant(Infinity), fc.integer({ min: 1, max: 4 })),
  spent: fc.nat({ max: 5 }),
  steps: modelSteps
}

/**
 * `informed`: admitted after the gate had seen an answer (before that it cannot know the budget,
 * and each request is a probe).
 */
type Request =
  | { readonly phase: "admitted"; readonly informed: boolean }
  | {
      readonly phase: "counted"
      readonly informed: boolean
      readonly remaining: number
      readonly reset: number
      /** Refused at once for the concurrent-request limit (Okta does not hold it). */
      readonly limited: boolean
    }

/** What a run found. */
export interface ModelRun {
  /** Requests admitted once the gate knew the budget that Okta counted past its limit. */
  readonly refused: ReadonlyArray<string>
  /** Requests admitted before any answer while another was in flight. */
  readonly probes: ReadonlyArray<string>
  /** Whether a request was tried and ended without an answer (dropped or refused) before any came. */
  readonly failedBlind: boolean
  /** Whether a request ended without an answer after it was sent. */
  readonly unanswered: boolean
  /** Whether Okta's window reset. */
  readonly rolled: boolean
  /** What Okta has counted of its current window. */
  readonly counted: number
}

/** Runs `steps` against `gate`; every request still in flight then ends (answered or unused). */
export const runModel = <E>(
  gate: ModelGate<E>,
  {
    limit,
    concurrentLimit = Infinity,
    spent,
    steps
  }: {
    readonly limit: number
    readonly concurrentLimit?: number
    readonly spent: number
    readonly steps: ReadonlyArray<ModelStep>
  }
): Effect.Effect<ModelRun, E> =>
  Effect.gen(function* () {
    let current = FIRST_RESET
    let counted = Math.min(spent, limit - 1)
    let informed = false
    let unanswered = false
    let rolled = false
    let failedBlind = false
    let next = 0
    const refused: Array<string> = []
    const probes: Array<string> = []
    const requests = new Map<string, Request>()
    const late: Array<string> = []
    const pick = <A>(items: ReadonlyArray<A>, n: number): A | undefined =>
      items.length === 0 ? undefined : items[n % items.length]
    const inPhase = (phase: Request["phase"]) =>
      [...requests].filter(([, request]) => request.phase === phase).map(([name]) => name)
    const answerOf = (request: {
      remaining: number
      reset: number
      limited: boolean
    }): ModelAnswer => ({
      concurrencyLimited: request.limited,
      limit,
      remaining: request.remaining,
      reset: request.reset,
      current
    })

    for (const { kind, pick: n, handOn } of steps) {
      if (kind === "acquire") {
        const name = `r${next++}`
        if (!(yield* gate.acquire(name))) continue
        // Until an answer tells the budget, one request at a time probes for it.
        if (!informed && requests.size > 0) probes.push(name)
        requests.set(name, { phase: "admitted", informed })
      } else if (kind === "reach") {
        const name = pick(inPhase("admitted"), n)
        if (name === undefined) continue
        const { informed: wasInformed } = requests.get(name)!
        // Okta holds the requests it has not answered yet.
        const held = [...requests.values()].filter((r) => r.phase === "counted" && !r.limited)
        const limited = held.length >= concurrentLimit
        if (!limited) counted += 1
        if (!limited && counted > limit && wasInformed) refused.push(name)
        requests.set(name, {
          phase: "counted",
          informed: wasInformed,
          remaining: Math.max(0, limit - counted),
          reset: current,
          limited
        })
      } else if (kind === "answer") {
        const name = pick(inPhase("counted"), n)
        const request = name === undefined ? undefined : requests.get(name)
        if (name === undefined || request?.phase !== "counted") continue
        const kept = yield* gate.answer(name, answerOf(request), handOn)
        // A concurrent-request 429 says nothing of the window.
        if (!request.limited) informed = true
        // A slot handed on admits the process's next request.
        if (kept) requests.set(name, { phase: "admitted", informed })
        else requests.delete(name)
      } else if (kind === "drop") {
        const name = pick([...requests.keys()], n)
        if (name === undefined) continue
        yield* gate.release(name, "dropped")
        unanswered = true
        if (!informed) failedBlind = true
        if (requests.get(name)?.phase === "admitted") late.push(name)
        requests.delete(name)
      } else if (kind === "refused" || kind === "unused") {
        // Neither reaches Okta, then or later.
        const name = pick(inPhase("admitted"), n)
        if (name === undefined) continue
        yield* gate.release(name, kind)
        if (kind === "refused" && !informed) failedBlind = true
        requests.delete(name)
      } else if (kind === "late") {
        const name = pick(late, n)
        if (name === undefined) continue
        late.splice(late.indexOf(name), 1)
        counted += 1
      } else {
        current += 60
        counted = 0
        rolled = true
        // A request given up on reaches Okta within seconds, if at all: not in the next window.
        late.length = 0
        yield* gate.roll
      }
    }

    for (const [name, request] of requests) {
      yield* request.phase === "counted"
        ? gate.answer(name, answerOf(request), false)
        : gate.release(name, "unused")
    }
    return { refused, probes, failedBlind, unanswered, rolled, counted }
  })
