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
 * platform's one-shot read or its stream.
 *
 * @internal
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"

const sources = new WeakMap<HttpClientResponse.HttpClientResponse, Response>()

/** The fetch `Response` a platform response was made from, if the client saw it. @internal */
export const sourceOf = (response: HttpClientResponse.HttpClientResponse): Response | undefined =>
  sources.get(response)

/**
 * Wraps the application's transport for fetch: its responses are paired with their fetch
 * `Response`, and redirects are not followed (Node's fetch follows them by default; a 3xx must
 * surface instead, so the credentials never follow `Location`; the other transports never
 * follow redirects). Both are read by `FetchHttpClient` at request time and ignored by others.
 *
 * @internal
 */
export const configureFetch = <E>(
  transport: HttpClient.HttpClient.With<E>
): HttpClient.HttpClient.With<E> =>
  HttpClient.transformResponse(transport, (effect) =>
    Effect.contextWithEffect((context: Context.Context<never>) => {
      const fetch = Context.getOrElse(context, FetchHttpClient.Fetch, () => globalThis.fetch)
      const init = Context.getOrElse(context, FetchHttpClient.RequestInit, () => undefined)
      let source: Response | undefined
      const capturing: typeof globalThis.fetch = (input, request) =>
        fetch(input, request).then((response) => {
          source = response
          return response
        })
      const configured = Context.add(
        Context.add(context, FetchHttpClient.Fetch, capturing),
        FetchHttpClient.RequestInit,
        { ...init, redirect: "manual" }
      )
      return Effect.map(Effect.provide(effect, configured), (response) => {
        if (source !== undefined) sources.set(response, source)
        return response
      })
    })
  )
