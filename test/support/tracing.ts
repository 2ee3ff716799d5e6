/** A tracer that records every span it makes (on top of Effect's native tracer), for assertions. */
import { Effect, Tracer } from "effect"

export const recordingTracer = Effect.map(Effect.tracer, (native) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span: (...args) => {
      const span = native.span(...args)
      spans.push(span)
      return span
    },
    context: native.context
  })
  return { spans, tracer }
})

/**
 * Every string reachable from `value` (object members, array items, Map entries, byte bodies
 * decoded as UTF-8): what a tracer or exporter that serialises a span's exit value could write.
 */
export const reachableStrings = (value: unknown): Array<string> => {
  const found: Array<string> = []
  const seen = new Set<unknown>()
  const decoder = new TextDecoder()
  const visit = (current: unknown, depth: number): void => {
    if (typeof current === "string") return void found.push(current)
    if (current === null || typeof current !== "object" || seen.has(current) || depth > 12) return
    seen.add(current)
    if (current instanceof Uint8Array) return void found.push(decoder.decode(current))
    if (current instanceof Map) {
      for (const [k, v] of current) {
        visit(k, depth + 1)
        visit(v, depth + 1)
      }
      return
    }
    for (const key of Reflect.ownKeys(current)) {
      let member: unknown
      try {
        member = (current as Record<PropertyKey, unknown>)[key]
      } catch {
        continue
      }
      visit(member, depth + 1)
    }
  }
  visit(value, 0)
  return found
}
