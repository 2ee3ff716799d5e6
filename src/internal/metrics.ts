/**
 * The one place that updates the client's metrics. Each tagged metric is built once per
 * tag set and kept, so an update is a map hit rather than a new metric key per call.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import {
  gateWaits,
  rateLimitDistrusted,
  rateLimitRemaining,
  requestDuration,
  requests,
  retries
} from "../metrics/OktaMetrics.js"
import { parseRateLimit } from "./headers.js"

/** What the engine reports; `none` when the client was built with `metrics: false`. @internal */
export interface Recorder {
  readonly response: (
    operation: string,
    status: number,
    millis: number,
    headers: Headers.Headers
  ) => Effect.Effect<void>
  readonly failure: (operation: string, status: "transport" | "timeout") => Effect.Effect<void>
  readonly retry: (operation: string, reason: string) => Effect.Effect<void>
  readonly gateWait: (operation: string, reason: string) => Effect.Effect<void>
  readonly distrusted: (operation: string, header: string) => Effect.Effect<void>
}

/** @internal */
export const none: Recorder = {
  response: () => Effect.void,
  failure: () => Effect.void,
  retry: () => Effect.void,
  gateWait: () => Effect.void,
  distrusted: () => Effect.void
}

/** @internal */
export const make = (): Recorder => {
  // One map of tagged counters per metric, keyed by operation and tag value.
  const counters = new Map<
    Metric.Metric.Counter<number>,
    Map<string, Metric.Metric.Counter<number>>
  >()
  const counter = (
    metric: Metric.Metric.Counter<number>,
    operation: string,
    key: "status" | "reason" | "header",
    value: string
  ) => {
    let tagged = counters.get(metric)
    if (tagged === undefined) {
      tagged = new Map()
      counters.set(metric, tagged)
    }
    const id = `${operation}|${value}`
    let found = tagged.get(id)
    if (found === undefined) {
      found = Metric.tagged(Metric.tagged(metric, "operation", operation), key, value)
      tagged.set(id, found)
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
    response: (operation, status, millis, headers) => {
      const remaining = parseRateLimit(headers)?.remaining
      // What `Metric.update` and `Metric.set` do, with the fiber's metric labels read once for
      // the three updates of every response.
      return FiberRef.getWith(FiberRef.currentMetricLabels, (labels) =>
        Effect.sync(() => {
          counter(requests, operation, "status", String(status)).unsafeUpdate(1, labels)
          duration(operation).unsafeUpdate(millis, labels)
          if (remaining !== undefined) rateLimitRemaining.unsafeUpdate(remaining, labels)
        })
      )
    },
    failure: (operation, status) =>
      Metric.update(counter(requests, operation, "status", status), 1),
    retry: (operation, reason) => Metric.update(counter(retries, operation, "reason", reason), 1),
    gateWait: (operation, reason) =>
      Metric.update(counter(gateWaits, operation, "reason", reason), 1),
    distrusted: (operation, header) =>
      Metric.update(counter(rateLimitDistrusted, operation, "header", header), 1)
  }
}
