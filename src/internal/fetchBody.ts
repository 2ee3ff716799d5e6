/**
 * What the client configures of the fetch transport: redirects not followed, and the fetch
 * transport's own `Response` for each platform response, so that its body can be read with a
 * plain reader loop. The platform's capped alternative, `response.stream`, runs an Effect
 * `Stream` per body, which costs more than the whole rest of a call, and even its one-shot `text`
 * costs more than the loop (see bench/README.md).
 *
 * Public API only: the client installs a `FetchHttpClient.Fetch` (the documented way to
 * instrument fetch) that wraps the application's own, innermost in its pipeline, and pairs what
 * that fetch returned with the platform response made from it, by identity. A response that is
 * not paired (another transport, or a response replaced on the way out) is read through the
 * platform's one-shot read or its stream. The application's fetch is the one in the caller's
 * context, else one provided to the layers above the client (which reached the transport too); a
 * `Fetch` given to `FetchHttpClient.layer` alone lives inside that transport, out of the client's
 * sight, and the client's wins over it; `OktaFetch.layer({ fetch })` is the way to give one.
 *
 * The request's `AbortSignal` ends the wait for the response and the read of its body even when
 * the fetch ignores it (a mock that never answers, a wrapper that drops `signal`): on
 * `OktaFetch.layer` it is how an attempt is timed out.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { NotAResponse } from "./transport.js"

/** The fetch `Response` a platform response was made from, and its request's signal. @internal */
export interface Source {
  readonly response: Response
  readonly signal: AbortSignal | undefined
}

const sources = new WeakMap<HttpClientResponse.HttpClientResponse, Source>()

/** The fetch `Response` a platform response was made from, if the client saw it. @internal */
export const sourceOf = (response: HttpClientResponse.HttpClientResponse): Source | undefined =>
  sources.get(response)

/**
 * `pending`, rejected with the signal's reason when `signal` aborts first. A response that comes
 * after the abort has its body cancelled: nothing will read it.
 */
const abortable = (
  pending: Promise<Response>,
  signal: AbortSignal | undefined
): Promise<Response> => {
  if (signal === undefined) return pending
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    if (signal.aborted) onAbort()
    else signal.addEventListener("abort", onAbort, { once: true })
    pending.then(
      (response) => {
        signal.removeEventListener("abort", onAbort)
        if (signal.aborted) void response.body?.cancel().catch(() => {})
        resolve(response)
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort)
        reject(error)
      }
    )
  })
}

/** What a fetch resolved to, if not a `Response` (duck-typed: another realm's passes). */
const notAResponse = (value: unknown): NotAResponse | undefined => {
  if (value instanceof Response) return undefined
  if (typeof value !== "object" || value === null) {
    const what = value === undefined || value === null ? String(value) : `a ${typeof value}`
    return new NotAResponse(`the fetch resolved to ${what}, not a Response`)
  }
  const fields = value as { readonly status?: unknown; readonly headers?: { get?: unknown } }
  const missing =
    typeof fields.headers?.get !== "function"
      ? "headers"
      : typeof fields.status !== "number"
        ? "status"
        : !("body" in value)
          ? "body"
          : undefined
  return missing === undefined
    ? undefined
    : new NotAResponse(`the fetch resolved to an object that is not a Response (no ${missing})`)
}

/** A fetch that records the `Response` it resolved to, for one attempt's request. */
interface Capture {
  readonly fetch: typeof globalThis.fetch
  source: Source | undefined
  used: boolean
}

// The capturing fetches attempts installed (see `captureFetch`), by identity: found in a
// request's context, the transport only pairs what it captured.
const captures = new WeakMap<typeof globalThis.fetch, Capture>()

const capture = (fetch: typeof globalThis.fetch, installed: boolean): Capture => {
  const captured: Capture = {
    fetch: (input, init) => {
      // The attempt's own request comes first. Any other fetch made in the attempt's context
      // (by a decoder of the application's) is the application's own: passed on untouched.
      if (captured.used) return fetch(input, init)
      captured.used = true
      const signal = init?.signal ?? undefined
      return abortable(fetch(input, { ...init, redirect: "manual" }), signal).then((response) => {
        const invalid = notAResponse(response)
        if (invalid !== undefined) throw invalid
        // What fetch rejects with for a network error, some mocks answer (status 0).
        if (response.type === "error") {
          throw new TypeError("the fetch resolved to a network error (Response.error())")
        }
        captured.source = { response, signal }
        return response
      })
    },
    source: undefined,
    used: false
  }
  if (installed) captures.set(captured.fetch, captured)
  return captured
}

/**
 * What an attempt on `OktaFetch.layer` adds to its context with its `Scope` (one provide, not
 * two): a capturing fetch over `fetch`, which the transport then finds there.
 *
 * @internal
 */
export const captureFetch =
  (fetch: typeof globalThis.fetch) =>
  <R>(context: Context.Context<R>): Context.Context<R> =>
    Context.add(context, FetchHttpClient.Fetch, capture(fetch, true).fetch)

/**
 * The fetch `FetchHttpClient` would send with, as far as the client can see: the caller's
 * `FetchHttpClient.Fetch`, else `provided` (one the client's layer was built with), else the
 * global one, looked up at each request. @internal
 */
export const callersFetch =
  (provided: typeof globalThis.fetch | undefined) =>
  (context: Context.Context<never>): typeof globalThis.fetch =>
    Context.getOrElse(context, FetchHttpClient.Fetch, () => provided ?? globalThis.fetch)

/**
 * Wraps the application's transport for fetch: its responses are paired with their fetch
 * `Response`, and redirects are not followed (Node's fetch follows them by default; a 3xx must
 * surface instead, so the credentials never follow `Location`; the other transports never
 * follow redirects). The capturing fetch sets `redirect` on the options `FetchHttpClient` hands
 * it, so a `FetchHttpClient.RequestInit` given to the transport's layer or to the call still
 * applies (a `RequestInit` of the client's own would replace it). Other transports ignore it.
 * `fetchOf` picks the fetch to wrap from the caller's context (see {@link callersFetch}). A
 * capturing fetch the attempt installed already (`captureFetch`) is used as it is.
 *
 * @internal
 */
export const configureFetch = <E>(
  transport: HttpClient.HttpClient.With<E>,
  fetchOf: (context: Context.Context<never>) => typeof globalThis.fetch
): HttpClient.HttpClient.With<E> =>
  HttpClient.transformResponse(transport, (effect) =>
    Effect.contextWithEffect((context: Context.Context<never>) => {
      const installed = Option.getOrUndefined(Context.getOption(context, FetchHttpClient.Fetch))
      const found = installed !== undefined ? captures.get(installed) : undefined
      const captured = found ?? capture(fetchOf(context), false)
      const sent =
        found !== undefined
          ? effect
          : Effect.provide(effect, Context.add(context, FetchHttpClient.Fetch, captured.fetch))
      return Effect.map(sent, (response) => {
        if (captured.source !== undefined) sources.set(response, captured.source)
        captured.source = undefined
        return response
      })
    })
  )
