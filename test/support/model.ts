/**
 * One request straight to a simulated org's model: no face, no client, no socket. For tests of
 * what the simulator answers, header by header.
 */
import { Effect } from "effect"
import type { OktaSimulatorService } from "../../src/testing/index.js"

export interface Handled {
  /** The status, or how the request ended without one. */
  readonly status: number | "Drop" | "Hang"
  /** Every value of a header, in the order sent (the model may send one twice). */
  readonly all: (name: string) => ReadonlyArray<string>
  /** The first value of a header. */
  readonly header: (name: string) => string | undefined
  readonly body: string
}

export const handled = (
  sim: OktaSimulatorService,
  method: string,
  url: string,
  headers: Readonly<Record<string, string>> = {},
  body?: string
): Effect.Effect<Handled> =>
  Effect.map(sim.handle({ method, url: new URL(url), headers, body }), (outcome): Handled => {
    const pairs = outcome._tag === "Respond" ? outcome.response.headers : []
    const all = (name: string) => pairs.filter(([key]) => key === name).map(([, value]) => value)
    return {
      status: outcome._tag === "Respond" ? outcome.response.status : outcome._tag,
      all,
      header: (name) => all(name)[0],
      body: outcome._tag === "Respond" ? outcome.response.body : ""
    }
  })
