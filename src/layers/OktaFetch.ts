/**
 * `OktaFetch`: the platform's fetch transport (`FetchHttpClient`) built for this client, with the
 * fetch it sends through fixed when the layer is built. The client times an attempt out by
 * aborting its request's `AbortSignal` instead of running the attempt in a fiber of its own, which
 * costs less on every call (see bench/README.md).
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { captureFetch, configureFetch } from "../internal/fetchBody.js"
import { registerTransport } from "../internal/transport.js"

/**
 * Options of {@link OktaFetch.layer}.
 *
 * @example
 * ```ts
 * import type { OktaFetchOptions } from "effect-okta-connections"
 *
 * const traced: typeof globalThis.fetch = (input, init) => globalThis.fetch(input, init)
 * const options: OktaFetchOptions = { fetch: traced }
 * ```
 *
 * @since 0.1.0
 */
export interface OktaFetchOptions {
  /**
   * The fetch every request is sent with. Default: `globalThis.fetch`, looked up at each request
   * (so a fetch that a test library installs later is used). It should abort a request, and the
   * read of its body, when the request's `AbortSignal` aborts, as Node's fetch does, so that a
   * timed-out request's connection is dropped. One that ignores the signal (a mock that never
   * answers, a wrapper that drops `signal`) is timed out all the same: the client stops waiting
   * for its answer and its body. One that resolves to something other than a `Response` (a bare
   * `vi.fn()`) fails the call at once, not retried, with an `OktaTransportError` that says so;
   * a `Response.error()` is taken for the network error it stands for.
   */
  readonly fetch?: typeof globalThis.fetch | undefined
}

/**
 * An `HttpClient` on `FetchHttpClient` that sends every request with `options.fetch`. A
 * `FetchHttpClient.RequestInit` applies as it does on `FetchHttpClient.layer`, given to this
 * layer or to the call (`redirect` excepted: the client never follows one); a
 * `FetchHttpClient.Fetch` does not: the fetch is this layer's. With `OktaClient` reaching this
 * client as it is (not through `transformClient`, nor wrapped on the way), an attempt's timeout
 * aborts its request; on `FetchHttpClient.layer` each attempt runs in a fiber of its own, which
 * the timeout interrupts.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ApplicationConnections, OktaClient, OktaFetch } from "effect-okta-connections"
 *
 * const Live = ApplicationConnections.layer.pipe(
 *   Layer.provide(OktaClient.layerConfig()),
 *   Layer.provide(OktaFetch.layer())
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (options: OktaFetchOptions = {}): Layer.Layer<HttpClient.HttpClient> => {
  const fetch: typeof globalThis.fetch =
    options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const make = (client: HttpClient.HttpClient) =>
    registerTransport(
      configureFetch(client, () => fetch),
      { cap: undefined, attemptContext: captureFetch(fetch) }
    )
  return Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, make)).pipe(
    Layer.provide(FetchHttpClient.layer)
  )
}

/**
 * The fetch transport built for this client: {@link layer}.
 *
 * @example
 * ```ts
 * import { OktaFetch } from "effect-okta-connections"
 *
 * const Transport = OktaFetch.layer()
 * ```
 *
 * @since 0.1.0
 */
export const OktaFetch = { layer } as const
