/**
 * The client's metrics and the one place that updates them. Each tagged metric is built once per
 * tag set and kept, so an update is a map hit rather than a new metric key per call.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/** @internal */
export const requests = Metric.counter("okta_connections_requests_total", {
  description: "Okta Application Connections requests sent, by operation and status",
  incremental: true
})

/** @internal */
export const retries = Metric.counter("okta_connections_retries_total", {
  description: "Okta Application Connections retries, by operation and reason",
  incremental: true
})

/** @internal */
export const gateWaits = Metric.counter("okta_connections_gate_waits_total", {
  description: "Requests held at the shared rate-limit gate, by operation and reason",
  incremental: true
})

/** @internal */
export const rateLimitRemaining = Metric.gauge("okta_connections_rate_limit_remaining", {
  description: "The last X-Rate-Limit-Remaining Okta sent"
})

/** @internal */
export const requestDuration = Metric.histogram(
  "okta_connections_request_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Duration of one Okta Application Connections attempt, milliseconds"
)

/** What the engine reports; `none` when the client was built with `metrics: false`. @internal */
export interface Recorder {
  readonly response: (
    operation: string,
    status: number,
    millis: number,
    remaining: number | undefined
  ) => Effect.Effect<void>
  readonly failure: (operation: string, status: "transport" | "timeout") => Effect.Effect<void>
  readonly retry: (operation: string, reason: string) => Effect.Effect<void>
  readonly gateWait: (operation: string, reason: string) => Effect.Effect<void>
}

/** @internal */
export const none: Recorder = {
  response: () => Effect.void,
  failure: () => Effect.void,
  retry: () => Effect.void,
  gateWait: () => Effect.void
}

/** @internal */
export const make = (): Recorder => {
  const counters = new Map<string, Metric.Metric.Counter<number>>()
  const counter = (
    metric: Metric.Metric.Counter<number>,
    operation: string,
    key: "status" | "reason",
    value: string
  ) => {
    const id = `${metric === requests ? "r" : metric === retries ? "t" : "g"}|${operation}|${value}`
    let found = counters.get(id)
    if (found === undefined) {
      found = Metric.tagged(Metric.tagged(metric, "operation", operation), key, value)
      counters.set(id, found)
    }
    return found
  }
  const durations = new Map<string, Metric.Metric.Histogram<number>>()
  const duration = (operation: string) => {
    let found = durations.get(operation)
    if (found === undefined) {
      found = Metric.tagged(requestDuration, "operation", operation)
      durations.set(operation, found)
    }
    return found
  }
  return {
    response: (operation, status, millis, remaining) =>
      Effect.all(
        [
          Metric.update(counter(requests, operation, "status", String(status)), 1),
          Metric.update(duration(operation), millis),
          remaining !== undefined ? Metric.set(rateLimitRemaining, remaining) : Effect.void
        ],
        { discard: true }
      ),
    failure: (operation, status) =>
      Metric.update(counter(requests, operation, "status", status), 1),
    retry: (operation, reason) => Metric.update(counter(retries, operation, "reason", reason), 1),
    gateWait: (operation, reason) =>
      Metric.update(counter(gateWaits, operation, "reason", reason), 1)
  }
}
