/**
 * A scripted `HttpClient` for unit tests: every request is recorded as it would appear on the wire
 * (method, full URL, query, headers, parsed body) and answered by the test's handler. Built per test.
 */
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import { Clock, Effect, Layer, Redacted } from "effect"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientSettings,
  RetryPolicy
} from "../../src/index.js"

export interface WireRequest {
  readonly method: string
  readonly url: URL
  readonly path: string
  readonly query: Record<string, string>
  readonly headers: Record<string, string>
  readonly body: unknown
  readonly rawBody: string | undefined
  /** When it was sent, on the (test) clock. */
  readonly at: number
}

export type Reply =
  Response | { readonly drop: true; readonly code?: string } | Effect.Effect<Response, never>

export type Handler = (request: WireRequest) => Reply

export const TOKEN = "00SECRET-api-token-never-in-errors-9f8e7d"
export const ORG = "https://acme.okta.com"

const decoder = new TextDecoder()

const toWire = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  at: number
): WireRequest => {
  const rawBody = request.body._tag === "Uint8Array" ? decoder.decode(request.body.body) : undefined
  let body: unknown = undefined
  if (rawBody !== undefined) {
    try {
      body = JSON.parse(rawBody)
    } catch {
      body = rawBody
    }
  }
  return {
    method: request.method,
    url,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...request.headers },
    body,
    rawBody,
    at
  }
}

/** The recorded requests and an `HttpClient` layer answering with `handler`. */
export const scriptedHttp = (handler: Handler) => {
  const requests: Array<WireRequest> = []
  const client = HttpClient.make((request, url) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const wire = toWire(request, url, now)
      requests.push(wire)
      const reply = handler(wire)
      if ("drop" in reply) {
        return Effect.fail(
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause: new Error("fetch failed", {
              cause: Object.assign(
                new Error(reply.code === undefined ? "other side closed" : `connect ${reply.code}`),
                { code: reply.code ?? "UND_ERR_SOCKET" }
              )
            })
          })
        )
      }
      const response = Effect.isEffect(reply) ? reply : Effect.succeed(reply)
      return Effect.map(response, (r) => HttpClientResponse.fromWeb(request, r))
    })
  )
  return { requests, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/**
 * `ApplicationConnections` over the scripted client, with an SSWS token. Retries are off unless
 * `settings.retry` says otherwise, so a scripted failure is seen as it is.
 */
export const connectionsWith = (handler: Handler, settings: OktaClientSettings = {}) => {
  const http = scriptedHttp(handler)
  return { requests: http.requests, layer: connectionsOn(http.layer, settings) }
}

/** `ApplicationConnections` over `transport`, with an SSWS token; retries off unless set. */
export const connectionsOn = <E>(
  transport: Layer.Layer<HttpClient.HttpClient, E>,
  settings: OktaClientSettings = {}
) =>
  ApplicationConnections.layer.pipe(
    Layer.provide(
      OktaClient.layer({
        orgUrl: ORG,
        apiToken: Redacted.make(TOKEN),
        retry: RetryPolicy.disabled,
        ...settings
      })
    ),
    Layer.provide(transport)
  )

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers }
  })

export const empty = (status: number, headers: Record<string, string> = {}) =>
  new Response(null, { status, headers })

export const text = (
  status: number,
  body: string,
  contentType: string,
  headers: Record<string, string> = {}
) => new Response(body, { status, headers: { "content-type": contentType, ...headers } })

/**
 * A JSON response whose body breaks off after `first` (the connection dropped mid-body), with
 * undici's error for it.
 */
export const brokenBody = (status: number, first: string) =>
  new Response(
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(first))
        controller.error(Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }))
      }
    }),
    { status, headers: { "content-type": "application/json" } }
  )
