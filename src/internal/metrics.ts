/**
 * The one place that updates the client's metrics.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Arr from "effect/Array"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import {
  gateWaits,
  rateLimitDistrusted,
  rateLimitRemaining,
  requestDuration,
  requests,
  retries
} from "../metrics/OktaMetrics.js"
import { parseRateLimit } from "./headers.js"

type Labels = ReadonlyArray<MetricLabel.MetricLabel>

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

/**
 * Effect's metrics keep one value per ordered tag set, found through a cache keyed by the
 * identity of the tags array an update passes. `Metric.tagged` merges its tags into a new array
 * on every update whenever there is something to merge with (a second tag, the fiber's labels
 * from `Effect.tagMetrics`), so every such update built a new metric key (bench/README.md). Here
 * each tag set is one array, merged with the fiber's labels once per labels array.
 *
 * @internal
 */
export const make = (): Recorder => {
  // Per metric, one tag array per operation and tag value: `operation` first, as users read them.
  const tagSets = new Map<object, Map<string, Labels>>()
  const tagsOf = (
    metric: object,
    operation: string,
    key?: "status" | "reason" | "header",
    value?: string
  ): Labels => {
    let byId = tagSets.get(metric)
    if (byId === undefined) {
      byId = new Map()
      tagSets.set(metric, byId)
    }
    const id = key === undefined ? operation : `${operation}|${value}`
    let tags = byId.get(id)
    if (tags === undefined) {
      const operationTag = MetricLabel.make("operation", operation)
      tags =
        key === undefined || value === undefined
          ? [operationTag]
          : [operationTag, MetricLabel.make(key, value)]
      byId.set(id, tags)
    }
    return tags
  }
  // The fiber's labels are one array per `Effect.tagMetrics` region.
  const merged = new WeakMap<Labels, Map<Labels, Labels>>()
  const withFiberLabels = (tags: Labels, labels: Labels): Labels => {
    if (labels.length === 0) return tags
    let byTags = merged.get(labels)
    if (byTags === undefined) {
      byTags = new Map()
      merged.set(labels, byTags)
    }
    let all = byTags.get(tags)
    if (all === undefined) {
      all = Arr.union(tags, labels)
      byTags.set(tags, all)
    }
    return all
  }
  const count = (
    metric: Metric.Metric.Counter<number>,
    operation: string,
    key: "status" | "reason" | "header",
    value: string
  ) =>
    FiberRef.getWith(FiberRef.currentMetricLabels, (labels) =>
      Effect.sync(() =>
        metric.unsafeUpdate(1, withFiberLabels(tagsOf(metric, operation, key, value), labels))
      )
    )
  return {
    response: (operation, status, millis, headers) => {
      const remaining = parseRateLimit(headers)?.remaining
      // The fiber's labels are read once for the three updates of every response.
      return FiberRef.getWith(FiberRef.currentMetricLabels, (labels) =>
        Effect.sync(() => {
          requests.unsafeUpdate(
            1,
            withFiberLabels(tagsOf(requests, operation, "status", String(status)), labels)
          )
          requestDuration.unsafeUpdate(
            millis,
            withFiberLabels(tagsOf(requestDuration, operation), labels)
          )
          if (remaining !== undefined) rateLimitRemaining.unsafeUpdate(remaining, labels)
        })
      )
    },
    failure: (operation, status) => count(requests, operation, "status", status),
    retry: (operation, reason) => count(retries, operation, "reason", reason),
    gateWait: (operation, reason) => count(gateWaits, operation, "reason", reason),
    distrusted: (operation, header) => count(rateLimitDistrusted, operation, "header", header)
  }
}
