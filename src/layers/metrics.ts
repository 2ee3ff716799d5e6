/**
 * The client's Effect `Metric`s. Export them to Prometheus or OpenTelemetry with Effect's usual
 * metric integrations; read them in tests with `Metric.value`.
 *
 * | name | type | tags |
 * |---|---|---|
 * | `okta_connections_requests_total` | counter | `operation`, `status` (HTTP status, `transport` or `timeout`) |
 * | `okta_connections_retries_total` | counter | `operation`, `reason` (`rate_limit`, `concurrency_limit`, `rate_limit_no_reset`, `server_error`, `transport`, `timeout`) |
 * | `okta_connections_gate_waits_total` | counter | `operation`, `reason` (`window_exhausted`, `concurrency_cap`) |
 * | `okta_connections_rate_limit_remaining` | gauge | — (the last `X-Rate-Limit-Remaining` seen) |
 * | `okta_connections_request_duration_ms` | histogram | `operation` (one attempt, body included) |
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * Requests sent (attempts, retries included), by operation and outcome.
 *
 * @example
 * ```ts
 * import { Effect, Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const snapshot = Metric.value(OktaMetrics.requests)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const requests = Metric.counter("okta_connections_requests_total", {
  description: "Okta Application Connections requests sent, by operation and status",
  incremental: true
})

/**
 * Retries, by operation and reason.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const rateLimitRetries = Metric.tagged(OktaMetrics.retries, "reason", "rate_limit")
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries = Metric.counter("okta_connections_retries_total", {
  description: "Okta Application Connections retries, by operation and reason",
  incremental: true
})

/**
 * Waits at the shared rate-limit gate (a request held back instead of drawing a 429).
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const waits = Metric.value(OktaMetrics.gateWaits)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const gateWaits = Metric.counter("okta_connections_gate_waits_total", {
  description: "Requests held at the shared rate-limit gate, by operation and reason",
  incremental: true
})

/**
 * The last `X-Rate-Limit-Remaining` seen.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const remaining = Metric.value(OktaMetrics.rateLimitRemaining)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const rateLimitRemaining = Metric.gauge("okta_connections_rate_limit_remaining", {
  description: "The last X-Rate-Limit-Remaining Okta sent"
})

/**
 * Duration of one attempt (send to body read), milliseconds.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const latency = Metric.value(OktaMetrics.requestDuration)
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const requestDuration = Metric.histogram(
  "okta_connections_request_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Duration of one Okta Application Connections attempt, milliseconds"
)
