/**
 * One HTTP exchange: send through the configured client within the per-attempt timeout, feed the
 * rate-limit gate and the metrics, put the response's facts on the call's span, and hand the
 * response on. The gate counts the request in flight until its response headers arrive (or the
 * attempt fails without them).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as Tracer from "effect/Tracer"
import { OktaTimeoutError, type OktaTransportError } from "../errors/OktaError.js"
import type { RateLimitGate } from "./gate.js"
import type { Recorder } from "./metrics.js"
import { type Call, transportError } from "./reader.js"

/** @internal */
export interface Exchange<X> {
  readonly call: Call
  readonly gate: RateLimitGate
  /** The call's span, for the response's status and request id; none for token requests. */
  readonly span: Tracer.Span | undefined
  readonly client: HttpClient.HttpClient.With<HttpClientError.HttpClientError | X>
  readonly request: HttpClientRequest.HttpClientRequest
}

/** @internal */
export const make =
  (timeoutMillis: number, recorder: Recorder) =>
  <A, E, X>(
    { call, client, gate, request, span }: Exchange<X>,
    onResponse: (
      response: HttpClientResponse.HttpClientResponse,
      headers: Headers.Headers
    ) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | X | OktaTransportError | OktaTimeoutError> =>
    Effect.suspend(() => {
      let answered = false
      const timedOut = () => new OktaTimeoutError({ ...call, timeoutMillis, kind: "attempt" })
      return Effect.flatMap(Clock.currentTimeMillis, (startedAt) =>
        client.execute(request).pipe(
          Effect.mapError((error) =>
            HttpClientError.isHttpClientError(error) ? transportError(call, error) : (error as X)
          ),
          Effect.flatMap((response) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) => {
              answered = true
              // The platform rebuilds `response.headers` on every access: read them once.
              const headers = response.headers
              gate.observe(headers, now)
              if (span !== undefined) {
                span.attribute("http.response.status_code", response.status)
                const requestId = headers["x-okta-request-id"]
                if (requestId !== undefined) span.attribute("okta.request_id", requestId)
              }
              return Effect.zipRight(
                recorder.response(call.operation, response.status, now - startedAt, headers),
                onResponse(response, headers)
              )
            })
          ),
          Effect.timeoutFail({ duration: timeoutMillis, onTimeout: timedOut }),
          Effect.onExit((exit) => {
            if (answered) return Effect.void
            gate.release()
            if (exit._tag === "Success") return Effect.void
            const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
            const status = failure instanceof OktaTimeoutError ? "timeout" : "transport"
            return recorder.failure(call.operation, status)
          })
        )
      )
    })
