/**
 * One HTTP exchange: send through the configured client within the per-attempt timeout, feed the
 * rate-limit gate and the metrics, put the response's facts on the call's span, and hand the
 * response on. The gate counts the request in flight until its response headers arrive; the retry
 * loop gives the slot back, and counts the failure, when the attempt ends without them.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Tracer from "effect/Tracer"
import { OktaTimeoutError, type OktaTransportError } from "../errors/OktaError.js"
import type { Timed } from "./attemptTimeout.js"
import type { Distrusted, Gate, Ticket } from "./ticket.js"
import type { Recorder } from "./metrics.js"
import { credentialSecrets, scrub } from "./secrets.js"
import { hintWhileStill, isTestClock } from "./testClock.js"
import { type Call, type OwnTransport, transportError } from "./transport.js"

/**
 * The OpenTelemetry `server.address` and `server.port` of a URL: the host name alone (an IPv6
 * address without its brackets) and the port, the scheme's default when the URL names none.
 *
 * @internal
 */
export const serverOf = (url: string): { "server.address": string; "server.port": number } => {
  const { hostname, port, protocol } = new URL(url)
  return {
    "server.address": hostname.replace(/^\[(.*)\]$/s, "$1"),
    "server.port": port !== "" ? Number(port) : protocol === "http:" ? 80 : 443
  }
}

/** @internal */
export interface Exchange {
  readonly call: Call
  readonly gate: Gate
  /** The call's span, for the response's status and request id; none for token requests. */
  readonly span: Tracer.Span | undefined
  /** A token request's: the span of the call it is for, the parent of its exchange span. */
  readonly parent?: Tracer.Span | undefined
  readonly request: HttpClientRequest.HttpClientRequest
  /** The gate admission this exchange settles when the response headers arrive. */
  readonly ticket: Ticket
  /** The request's secrets beside its credential (a body's token, an assertion), for the scrub. */
  readonly secrets?: ReadonlyArray<string> | undefined
}

/** How long a header's warning stands for the same header's later ones (still counted). */
const WARN_EVERY_MS = 5 * 60_000

/**
 * A rate-limit header the gate did not believe: a count each time, and a warning at most every
 * five minutes per header: a proxy that stamps every response would otherwise fill the log.
 */
const distrusted = (
  call: Call,
  { header, value }: Distrusted,
  recorder: Recorder,
  warned: Map<string, number>,
  now: number
) => {
  const last = warned.get(header)
  if (last !== undefined && now - last >= 0 && now - last < WARN_EVERY_MS) {
    return recorder.distrusted(call.operation, header)
  }
  warned.set(header, now)
  return Effect.zipRight(
    Effect.logWarning(
      `Okta rate-limit state: ignored an implausible ${header} header (more than ${
        header === "date" ? "an hour from the local clock" : "two minutes ahead"
      }); the gate probes instead of waiting on it. Repeats within 5 minutes are only counted ` +
        "(okta_connections_rate_limit_distrusted_total)"
    ).pipe(Effect.annotateLogs({ operation: call.operation, header, value: value.slice(0, 64) })),
    recorder.distrusted(call.operation, header)
  )
}

/** @internal */
export interface ExchangeOptions<R> {
  /** The configured client; its requests need `R` (a `Scope`, when `timed` aborts them through it). */
  readonly client: HttpClient.HttpClient.With<HttpClientError.HttpClientError, R>
  /** The per-attempt timeout (internal/attemptTimeout.ts), matched to the client. */
  readonly timed: Timed<R>
  readonly timeoutMillis: number
  readonly recorder: Recorder
  /** `tracing: "exchanges"`: a client span per exchange. */
  readonly spans: boolean
  /** Send `traceparent`/`b3` from the innermost span (the exchange's, else the call's). */
  readonly propagate: boolean
  readonly orgUrl: string
  /** The transport, when this package built it and the client reaches it directly (for hints). */
  readonly own: OwnTransport | undefined
}

/** @internal */
export const make = <R>({
  client,
  timed,
  timeoutMillis,
  recorder,
  spans,
  propagate,
  orgUrl,
  own
}: ExchangeOptions<R>) => {
  const server = serverOf(orgUrl)
  /** When each header was last warned of (local clock), for this client. */
  const warned = new Map<string, number>()
  const one = <A, E>(
    { call, gate, request, span, ticket, secrets = [] }: Exchange,
    onResponse: (
      response: HttpClientResponse.HttpClientResponse,
      headers: Headers.Headers
    ) => Effect.Effect<A, E>,
    /** The call's span, when `span` is the exchange's: it gets the last answer's facts too. */
    outer?: Tracer.Span
  ): Effect.Effect<A, E | OktaTransportError | OktaTimeoutError> =>
    // The clock is read directly: two `Clock.currentTimeMillis` effects cost more than the rest
    // of this function's bookkeeping.
    Effect.clockWith((clock) => {
      ticket.sent = true
      const timedOut = () => new OktaTimeoutError({ ...call, timeoutMillis, kind: "attempt" })
      const sent =
        propagate && span !== undefined
          ? HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span))
          : request
      const startedAt = clock.unsafeCurrentTimeMillis()
      const exchange = client.execute(sent).pipe(
        Effect.matchEffect({
          onFailure: (error) => {
            const failure = transportError(call, error, own)
            if (!failure.connectFailed) return Effect.fail(failure)
            // No connection was made: Okta cannot have counted the request, so the gate gives
            // its share of the window back rather than charge it as one that may have arrived.
            // Counted here, as the retry loop counts only requests that may have arrived.
            ticket.sent = false
            return Effect.zipRight(
              recorder.failure(call.operation, "transport"),
              Effect.fail(failure)
            )
          },
          onSuccess: (response) => {
            const now = clock.unsafeCurrentTimeMillis()
            // The platform rebuilds `response.headers` on every access: read them once.
            const headers = response.headers
            if (span !== undefined) {
              // Scrubbed as an error's is: a proxy may echo the request into any header.
              const raw = headers["x-okta-request-id"]
              const sent = raw === undefined ? [] : credentialSecrets(response.request.headers)
              const requestId = raw === undefined ? undefined : scrub(raw, [...secrets, ...sent])
              for (const target of outer === undefined ? [span] : [span, outer]) {
                target.attribute("http.response.status_code", response.status)
                if (requestId !== undefined) target.attribute("okta.request_id", requestId)
              }
            }
            const recorded = recorder.response(
              call.operation,
              response.status,
              now - startedAt,
              headers
            )
            if (ticket.settled) return Effect.zipRight(recorded, onResponse(response, headers))
            ticket.settled = true
            return Effect.flatMap(gate.observe(ticket, headers, now, response.status), (doubted) =>
              Effect.zipRight(
                doubted === undefined
                  ? recorded
                  : Effect.zipRight(distrusted(call, doubted, recorder, warned, now), recorded),
                onResponse(response, headers)
              )
            )
          }
        })
      )
      // Under a TestClock only the test can bring the timeout: a test whose transport never
      // answers is told so, rather than timing out with no word of why.
      return isTestClock(clock)
        ? hintWhileStill(
            timed(exchange, timedOut),
            () =>
              `${call.operation}'s attempt has not ended, and its ${timeoutMillis} ms timeout waits`
          )
        : timed(exchange, timedOut)
    })
  if (!spans) return one

  /**
   * With `tracing: "exchanges"`, each exchange in its own client span: the method, the URL
   * without its query (the verify callback's holds the one-time code), the status and request id.
   * It ends with no value: the platform's span ended with the response, whose request holds the
   * credential and the body.
   */
  return <A, E>(
    exchange: Exchange,
    onResponse: (
      response: HttpClientResponse.HttpClientResponse,
      headers: Headers.Headers
    ) => Effect.Effect<A, E>
  ): Effect.Effect<A, E | OktaTransportError | OktaTimeoutError> => {
    const { request } = exchange
    const url = request.url.startsWith("/") ? `${orgUrl}${request.url}` : request.url
    // The call's span is not the current span (see OktaClient.ts): it is named.
    const parent = exchange.span ?? exchange.parent
    return Effect.uninterruptibleMask((restore) =>
      Effect.flatMap(
        Effect.makeSpan(`http.client ${request.method}`, {
          kind: "client",
          captureStackTrace: false,
          ...(parent !== undefined ? { parent } : {}),
          attributes: {
            "http.request.method": request.method,
            "url.full": url.replace(/[?#].*$/s, ""),
            // A token request's URL is on the org too.
            ...server
          }
        }),
        (span) =>
          restore(one({ ...exchange, span }, onResponse, exchange.span)).pipe(
            Effect.withParentSpan(span),
            Effect.onExit((exit) =>
              Effect.flatMap(Clock.currentTimeNanos, (now) =>
                Effect.sync(() => span.end(now, Exit.asVoid(exit)))
              )
            )
          )
      )
    )
  }
}
