/**
 * The client's Effect `Metric`s. Export them with Effect's usual metric integrations (Prometheus,
 * OpenTelemetry); read them in tests with `Metric.value`.
 *
 * Effect keeps one value per tag set, and a tag set is ordered: to read one, tag the metric as the
 * client does, in the order of the table (`operation` first). An untagged or partly tagged
 * `Metric.value` reads a key the client never updates, so it stays at zero.
 *
 * | name | type | tags |
 * |---|---|---|
 * | `okta_connections_requests_total` | counter | `operation`, `status` (HTTP status, `transport` or `timeout`) |
 * | `okta_connections_retries_total` | counter | `operation`, `reason` (`rate_limit`, `concurrency_limit`, `rate_limit_no_reset`, `server_error`, `transport`, `timeout`) |
 * | `okta_connections_gate_waits_total` | counter | `operation`, `reason` (`window_exhausted`, `concurrency_cap`) |
 * | `okta_connections_rate_limit_distrusted_total` | counter | `operation`, `header` (`x-rate-limit-reset`, `date`: a value the gate did not believe) |
 * | `okta_connections_rate_limit_store_fallbacks_total` | counter | `bucket` (`api`, `token`): times a process fell back from the shared store to its own gate |
 * | `okta_connections_rate_limit_store_local_requests_total` | counter | `bucket` (`api`, `token`): requests its own gate admitted meanwhile |
 * | `okta_connections_rate_limit_remaining` | gauge | — (the last `X-Rate-Limit-Remaining` seen) |
 * | `okta_connections_request_duration_ms` | histogram | `operation` (one answered attempt, body included) |
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const rateLimitRetries = OktaMetrics.retries.pipe(
 *   Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
 *   Metric.tagged("reason", "rate_limit")
 * )
 * const snapshot = Metric.value(rateLimitRetries) // Effect<MetricState.Counter<number>>
 * ```
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * Requests sent (attempts, retries included), by operation and outcome.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const notFound = Metric.value(
 *   OktaMetrics.requests.pipe(
 *     Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
 *     Metric.tagged("status", "404")
 *   )
 * )
 * ```
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
 * const timeouts = Metric.value(
 *   OktaMetrics.retries.pipe(
 *     Metric.tagged("operation", "updateDefaultProvisioningConnectionForApplication"),
 *     Metric.tagged("reason", "timeout")
 *   )
 * )
 * ```
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
 * const waits = Metric.value(
 *   OktaMetrics.gateWaits.pipe(
 *     Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
 *     Metric.tagged("reason", "window_exhausted")
 *   )
 * )
 * ```
 */
export const gateWaits = Metric.counter("okta_connections_gate_waits_total", {
  description: "Requests held at the shared rate-limit gate, by operation and reason",
  incremental: true
})

/**
 * Rate-limit headers the gate did not believe: an `X-Rate-Limit-Reset` more than two minutes
 * ahead, or a `Date` more than an hour from the local clock (a broken server or proxy). Each one
 * is counted, and logged as a warning at most once every five minutes per header and client; the
 * gate probes instead of waiting on it.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const distrustedResets = Metric.value(
 *   OktaMetrics.rateLimitDistrusted.pipe(
 *     Metric.tagged("operation", "getDefaultProvisioningConnectionForApplication"),
 *     Metric.tagged("header", "x-rate-limit-reset")
 *   )
 * )
 * ```
 */
export const rateLimitDistrusted = Metric.counter("okta_connections_rate_limit_distrusted_total", {
  description: "Rate-limit headers the client did not believe, by operation and header",
  incremental: true
})

/**
 * Times a process found the shared rate-limit store (Redis) unreachable or slow and fell back to
 * its own gate, by bucket. Each is also logged as a warning.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const fallbacks = Metric.value(Metric.tagged(OktaMetrics.rateLimitStoreFallbacks, "bucket", "api"))
 * ```
 */
export const rateLimitStoreFallbacks = Metric.counter(
  "okta_connections_rate_limit_store_fallbacks_total",
  {
    description: "Fallbacks from the shared rate-limit store to the local gate, by bucket",
    incremental: true
  }
)

/**
 * Requests a process sent through its own gate, not the shared rate-limit store's, because the
 * store was unreachable or slow (during a fallback, or alone after one failed store call), by
 * bucket: the traffic the other processes did not see.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const unshared = Metric.value(Metric.tagged(OktaMetrics.rateLimitStoreLocalRequests, "bucket", "api"))
 * ```
 */
export const rateLimitStoreLocalRequests = Metric.counter(
  "okta_connections_rate_limit_store_local_requests_total",
  {
    description:
      "Requests admitted by the process's own gate while the shared rate-limit store was unreachable or slow, by bucket",
    incremental: true
  }
)

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
 */
export const rateLimitRemaining = Metric.gauge("okta_connections_rate_limit_remaining", {
  description: "The last X-Rate-Limit-Remaining Okta sent"
})

/**
 * Duration of one attempt that got an answer (send to body read), milliseconds. An attempt with
 * no answer is not timed: it is counted in {@link requests} as `transport` or `timeout`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { OktaMetrics } from "effect-okta-connections"
 *
 * const latency = Metric.value(
 *   Metric.tagged(OktaMetrics.requestDuration, "operation", "getUserProvisioningConnectionJWKS")
 * )
 * ```
 */
export const requestDuration = Metric.histogram(
  "okta_connections_request_duration_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Duration of one Okta Application Connections attempt, milliseconds"
)
