/**
 * The client's Effect `Metric`s. Export them with Effect's usual metric integrations (Prometheus,
 * OpenTelemetry); read them in tests with `Metric.value`.
 *
 * | name | type | tags |
 * |---|---|---|
 * | `okta_connections_requests_total` | counter | `operation`, `status` (HTTP status, `transport` or `timeout`) |
 * | `okta_connections_retries_total` | counter | `operation`, `reason` (`rate_limit`, `concurrency_limit`, `rate_limit_no_reset`, `server_error`, `transport`, `timeout`) |
 * | `okta_connections_gate_waits_total` | counter | `operation`, `reason` (`window_exhausted`, `concurrency_cap`) |
 * | `okta_connections_rate_limit_remaining` | gauge | — (the last `X-Rate-Limit-Remaining` seen) |
 * | `okta_connections_request_duration_ms` | histogram | `operation` (one attempt, body included) |
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const rateLimitRetries = Metric.tagged(OktaMetrics.retries, "reason", "rate_limit")
 * const snapshot = Metric.value(rateLimitRetries)
 * ```
 *
 * @since 0.1.0
 */
import * as Metrics from "../internal/metrics.js"

/**
 * Requests sent (attempts, retries included), by operation and outcome.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const notFound = Metric.value(Metric.tagged(OktaMetrics.requests, "status", "404"))
 * ```
 *
 * @since 0.1.0
 * @category metrics
 */
export const requests = Metrics.requests

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
export const retries = Metrics.retries

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
export const gateWaits = Metrics.gateWaits

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
export const rateLimitRemaining = Metrics.rateLimitRemaining

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
export const requestDuration = Metrics.requestDuration
