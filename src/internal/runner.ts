/**
 * The retry loop every Okta exchange runs in (the API calls and the OAuth token requests): wait at
 * a rate-limit gate, attempt, and let the retry policy decide from the typed error whether and
 * when to go again, within the call's deadline. Retries and gate waits are logged, put on the span
 * and counted.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import type * as Tracer from "effect/Tracer"
import { OktaTimeoutError } from "../errors/OktaError.js"
import * as OktaMetrics from "../layers/metrics.js"
import type * as RetryPolicy from "../layers/RetryPolicy.js"
import * as Policy from "./policy.js"
import type { RateLimitGate } from "./gate.js"
import type { RequestContext } from "./response.js"
import { makeTimeout } from "./timeout.js"

const RETRYABLE_TAGS = new Set([
  "OktaRateLimitError",
  "OktaServerError",
  "OktaTransportError",
  "OktaTimeoutError"
])

const isRetryable = (error: { readonly _tag: string }): error is RetryPolicy.RetryableError =>
  RETRYABLE_TAGS.has(error._tag)

const requestIdOf = (error: RetryPolicy.RetryableError): string | undefined =>
  "requestId" in error && typeof error.requestId === "string" ? error.requestId : undefined

/** A retry or a gate wait: a debug log line and an event on the current span. */
const visible = (
  ctx: RequestContext,
  name: "okta.retry" | "okta.gate_wait",
  attributes: Record<string, string | number>
) =>
  Effect.gen(function* () {
    // Read without `Effect.currentSpan`, which builds an exception (an Error) when there is none.
    const span = yield* Effect.withFiberRuntime<Tracer.AnySpan | undefined>((fiber) =>
      Effect.succeed(fiber.currentSpan)
    )
    if (span !== undefined && span._tag === "Span") {
      span.event(name, yield* Clock.currentTimeNanos, {
        operation: ctx.operation,
        ...attributes
      })
    }
    yield* Effect.logDebug(
      name === "okta.retry" ? "Okta call retried" : "Okta call held at the rate-limit gate"
    ).pipe(Effect.annotateLogs({ operation: ctx.operation, ...attributes }))
  })

/**
 * The metric updates. Each metric is updated with the base metric and one label array per tag set
 * (the call's tags after the fiber's own metric labels), kept and reused: Effect caches a metric's
 * registry entry by the identity of that array, so after the first call of an operation an update
 * is a map hit, where `Metric.tagged` would build, hash and look up a new key every time.
 *
 * @internal
 */
export const makeRecorder = () => {
  // fiber labels (by identity) → tag-set key → the full label array
  const labelSets = new WeakMap<
    ReadonlyArray<MetricLabel.MetricLabel>,
    Map<string, ReadonlyArray<MetricLabel.MetricLabel>>
  >()
  const labelsFor = (
    fiberLabels: ReadonlyArray<MetricLabel.MetricLabel>,
    key: string,
    tags: () => ReadonlyArray<readonly [string, string]>
  ): ReadonlyArray<MetricLabel.MetricLabel> => {
    let byKey = labelSets.get(fiberLabels)
    if (byKey === undefined) {
      byKey = new Map()
      labelSets.set(fiberLabels, byKey)
    }
    let labels = byKey.get(key)
    if (labels === undefined) {
      labels = [...fiberLabels, ...tags().map(([k, v]) => MetricLabel.make(k, v))]
      byKey.set(key, labels)
    }
    return labels
  }
  const update = <Type, In, Out>(
    metric: Metric.Metric<Type, In, Out>,
    value: In,
    key: string,
    tags: () => ReadonlyArray<readonly [string, string]>
  ) =>
    Effect.withFiberRuntime<void>((fiber) => {
      metric.unsafeUpdate(
        value,
        labelsFor(fiber.getFiberRef(FiberRef.currentMetricLabels), key, tags)
      )
      return Effect.void
    })
  return {
    /**
     * One response: its count by status, its duration, and Okta's `Remaining`. Synchronous, with
     * the labels the caller read from its fiber, because this runs inside the response handler.
     */
    response: (
      operation: string,
      status: number,
      headers: Headers.Headers,
      millis: number,
      fiberLabels: ReadonlyArray<MetricLabel.MetricLabel>
    ): void => {
      OktaMetrics.requests.unsafeUpdate(
        1,
        labelsFor(fiberLabels, `r|${operation}|${status}`, () => [
          ["operation", operation],
          ["status", String(status)]
        ])
      )
      OktaMetrics.requestDuration.unsafeUpdate(
        millis,
        labelsFor(fiberLabels, `d|${operation}`, () => [["operation", operation]])
      )
      const remaining = headers["x-rate-limit-remaining"]
      const value = remaining !== undefined ? Number.parseInt(remaining, 10) : Number.NaN
      if (Number.isFinite(value)) OktaMetrics.rateLimitRemaining.unsafeUpdate(value, fiberLabels)
    },
    failure: (operation: string, status: "transport" | "timeout") =>
      update(OktaMetrics.requests, 1, `r|${operation}|${status}`, () => [
        ["operation", operation],
        ["status", status]
      ]),
    retry: (operation: string, reason: string) =>
      update(OktaMetrics.retries, 1, `t|${operation}|${reason}`, () => [
        ["operation", operation],
        ["reason", reason]
      ]),
    gateWait: (operation: string, reason: string) =>
      update(OktaMetrics.gateWaits, 1, `g|${operation}|${reason}`, () => [
        ["operation", operation],
        ["reason", reason]
      ])
  }
}

/** @internal */
export type Recorder = ReturnType<typeof makeRecorder>

/**
 * What an attempt is told: which retry this is (0 for the first attempt) and the
 * `X-Okta-Retry-*` headers to send.
 *
 * @internal
 */
export interface AttemptInfo {
  readonly retries: number
  readonly retryHeaders: Readonly<Record<string, string>> | undefined
}

/**
 * A failed attempt the caller can repair at once, without it counting as a retry (a fresh OAuth
 * token after `invalid_token`, a DPoP nonce): return true to go again immediately.
 *
 * @internal
 */
export type Repair<E> = (error: E) => Effect.Effect<boolean>

/** @internal */
export interface RunnerOptions {
  readonly clientPolicy: RetryPolicy.RetryPolicy
  readonly deadlineMillis: number | undefined
  readonly metrics: Recorder | undefined
}

const FIRST_ATTEMPT: AttemptInfo = { retries: 0, retryHeaders: undefined }

/** @internal */
export const makeRunner = (options: RunnerOptions) => {
  const { clientPolicy, deadlineMillis, metrics } = options
  const deadlineTimeout = deadlineMillis !== undefined ? makeTimeout(deadlineMillis) : undefined
  return <A, E extends { readonly _tag: string }>(
    ctx: RequestContext,
    gate: RateLimitGate,
    replaySafe: boolean,
    attempt: (info: AttemptInfo) => Effect.Effect<A, E>,
    repair?: Repair<E>
  ): Effect.Effect<A, E | OktaTimeoutError> => {
    const pastDeadline = () =>
      new OktaTimeoutError({ ...ctx, timeoutMillis: deadlineMillis ?? 0, kind: "deadline" })

    const acquire = (deadlineAt: number | undefined) =>
      gate.acquire((wait) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          if (
            deadlineAt !== undefined &&
            wait.millis !== undefined &&
            now + wait.millis > deadlineAt
          ) {
            return yield* pastDeadline()
          }
          yield* visible(ctx, "okta.gate_wait", {
            reason: wait.reason,
            delay_ms: wait.millis ?? -1
          })
          if (metrics !== undefined) yield* metrics.gateWait(ctx.operation, wait.reason)
        })
      )

    /** After a failed first attempt: the policy decides, until success or a final failure. */
    const retrying = (first: E, deadlineAt: number | undefined) =>
      Effect.gen(function* () {
        const policy = Option.getOrElse(
          yield* FiberRef.get(Policy.currentOverride),
          () => clientPolicy
        )
        const backoff = Policy.makeStepper(policy.backoff)
        const concurrencyBackoff = Policy.makeStepper(policy.concurrencyBackoff)
        const jitterMillis = Duration.toMillis(policy.resetJitter)
        let retries = 0
        let repairs = 0
        let retryFor: string | undefined
        let error = first

        while (true) {
          // At most two repairs per call (say a nonce, then a fresh token): never a loop.
          if (repair !== undefined && repairs < 2 && (yield* repair(error))) {
            repairs += 1
          } else {
            if (!isRetryable(error) || retries >= policy.maxRetries)
              return yield* Effect.fail(error)
            const classification = Policy.classify(error, replaySafe)
            if (classification._tag === "Stop") return yield* Effect.fail(error)
            const now = yield* Clock.currentTimeMillis
            let delay: number | undefined
            let reason: RetryPolicy.RetryReason
            if (classification._tag === "WindowReset") {
              reason = "rate_limit"
              const untilReset = classification.resetMillis - gate.serverNow(now)
              if (untilReset > Duration.toMillis(policy.maxRateLimitWait)) {
                return yield* Effect.fail(error)
              }
              if (untilReset > 0) {
                const jitter =
                  jitterMillis > 0 ? yield* Random.nextIntBetween(0, jitterMillis + 1) : 0
                delay = untilReset + jitter
              }
            } else {
              reason = classification.reason
            }
            if (delay === undefined) {
              // No usable reset (missing, or already past on our estimate of the server clock):
              // back off instead of retrying at once.
              const concurrency = classification._tag === "Backoff" && classification.concurrency
              const step = yield* (concurrency ? concurrencyBackoff : backoff)(now, error)
              if (Option.isNone(step)) return yield* Effect.fail(error)
              delay = step.value
            }
            if (deadlineAt !== undefined && now + delay > deadlineAt) return yield* pastDeadline()
            retries += 1
            retryFor ??= requestIdOf(error)
            yield* visible(ctx, "okta.retry", {
              reason,
              attempt: retries,
              delay_ms: delay,
              ...("status" in error && typeof error.status === "number"
                ? { status: error.status }
                : {})
            })
            if (metrics !== undefined) yield* metrics.retry(ctx.operation, reason)
            yield* Effect.sleep(delay)
          }
          yield* acquire(deadlineAt)
          const exit = yield* Effect.exit(
            attempt({
              retries,
              retryHeaders:
                retries === 0
                  ? undefined
                  : {
                      "x-okta-retry-count": String(retries),
                      ...(retryFor !== undefined ? { "x-okta-retry-for": retryFor } : {})
                    }
            })
          )
          if (exit._tag === "Success") return exit.value
          const failure = Cause.failureOption(exit.cause)
          if (Option.isNone(failure)) return yield* exit
          error = failure.value
        }
      })

    // The first attempt takes the short path: no policy state is built unless it fails.
    if (deadlineMillis === undefined || deadlineTimeout === undefined) {
      // Without a deadline the gate never fails, so every failure here is the attempt's.
      return Effect.catchAll(Effect.zipRight(acquire(undefined), attempt(FIRST_ATTEMPT)), (error) =>
        retrying(error as E, undefined)
      )
    }
    const call = Effect.flatMap(Clock.currentTimeMillis, (startedAt) => {
      const deadlineAt = startedAt + deadlineMillis
      return Effect.catchAll(
        Effect.zipRight(acquire(deadlineAt), attempt(FIRST_ATTEMPT)),
        (error: E | OktaTimeoutError) =>
          error._tag === "OktaTimeoutError" && (error as OktaTimeoutError).kind === "deadline"
            ? Effect.fail(error)
            : retrying(error as E, deadlineAt)
      )
    })
    return deadlineTimeout(call, pastDeadline)
  }
}

/** @internal */
export type Runner = ReturnType<typeof makeRunner>
