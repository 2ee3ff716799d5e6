/**
 * `effect-okta-connections/undici`: Node's undici as the client's transport, with the response
 * body cap enforced by undici itself. The client then reads every body, chunked ones included,
 * with one read instead of streaming it to count its bytes, and times an attempt out by aborting
 * its request instead of running it in a fiber of its own. Needs `@effect/platform-node` (an
 * optional peer dependency, loaded only here).
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { isIP } from "node:net"
import { OktaConfigError } from "../errors/OktaError.js"
import { pairBody, type ProxyAddress, registerTransport } from "../internal/transport.js"

/**
 * Options of {@link OktaUndici.layer}.
 *
 * @example
 * ```ts
 * import type { OktaUndiciOptions } from "effect-okta-connections/undici"
 *
 * const options: OktaUndiciOptions = { agent: { connections: 16 }, proxy: "environment" }
 * ```
 *
 * @since 0.1.0
 */
export interface OktaUndiciOptions {
  /**
   * The largest response body accepted, in bytes; a longer one fails the call with
   * `OktaDecodeError` (`kind: "TooLarge"`) and closes its connection. Default 1 MiB, the client's
   * default `maxResponseBytes`. The smaller of the two caps applies, so give both the same value:
   * when this one is larger, the client counts the bytes itself, as on any other transport.
   */
  readonly maxResponseBytes?: number | undefined
  /**
   * undici `Agent` options (connections per origin, keep-alive, TLS), except `maxResponseSize`.
   * The TLS options in `connect` (a CA for a TLS-inspecting proxy, say) apply to Okta's
   * connections through a `proxy` too.
   */
  readonly agent?: Omit<Undici.Agent.Options, "maxResponseSize"> | undefined
  /**
   * An HTTP proxy every request goes through, in a `CONNECT` tunnel: its URL
   * (`http://proxy.internal:3128`; credentials in it are sent as `Proxy-Authorization`), or
   * `"environment"` for `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` (lower-case names first, as
   * undici reads them), read when the layer is built: a value without a scheme is an `http://`
   * proxy, as curl takes it, and one that is not a URL fails the layer with `OktaConfigError`
   * naming the variable.
   * Default: none (neither undici nor Node's fetch reads those variables by itself; a call that
   * cannot connect while one is set says so). The body cap holds through the proxy.
   */
  readonly proxy?: string | URL | undefined
}

/**
 * An `HttpClient` on a new undici `Agent` that fails bodies over `maxResponseBytes`, closed with
 * the layer. The one-shot read and the aborting timeout apply when `OktaClient` gets this client
 * as it is: a client wrapped on the way (with `HttpClient.mapRequest`, say) is another client, and
 * with the `transformClient` option, which may answer with responses of its own, the client
 * counts the bytes itself and runs each attempt in a fiber, as on any transport. Fails with
 * `OktaConfigError` on a `maxResponseBytes` that is not a positive integer, or a `proxy` that is
 * not an http(s) URL. A `NodeHttpClient.UndiciRequestOptions` given to the layer applies to its
 * requests, as on `NodeHttpClient.layerUndici`; one provided where the calls run wins over it.
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
 * import { OktaUndici } from "effect-okta-connections/undici"
 *
 * const Live = ApplicationConnections.layer.pipe(
 *   Layer.provide(OktaClient.layerConfig()),
 *   Layer.provide(OktaUndici.layer())
 * )
 * ```
 *
 * @since 0.1.0
 */
export const layer = (
  options: OktaUndiciOptions = {}
): Layer.Layer<HttpClient.HttpClient, OktaConfigError> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function* () {
      const maxBytes = options.maxResponseBytes ?? 1024 * 1024
      if (!Number.isInteger(maxBytes) || maxBytes <= 0) {
        return yield* new OktaConfigError({
          field: "maxResponseBytes",
          reason: "must be a positive integer"
        })
      }
      const proxy = options.proxy === undefined ? undefined : String(options.proxy)
      const connect = options.agent?.connect
      const settings = {
        ...options.agent,
        maxResponseSize: maxBytes,
        // Through a proxy, undici takes the TLS options for Okta as `requestTls` and ignores
        // `connect`: a CA given for a TLS-inspecting proxy would be dropped where it is needed.
        ...(proxy !== undefined && typeof connect === "object" ? { requestTls: connect } : {})
      }
      if (proxy !== undefined && proxy !== "environment" && !isProxyUrl(proxy)) {
        // Not echoed: a proxy URL may hold credentials.
        return yield* new OktaConfigError({
          field: "proxy",
          reason: 'must be an http:// or https:// URL, or "environment"'
        })
      }
      const fromEnvironment = proxy === "environment" ? yield* environmentProxies : []
      const agent = yield* Effect.acquireRelease(
        Effect.sync((): Undici.Dispatcher =>
          proxy === undefined
            ? new Undici.Agent(settings)
            : proxy === "environment"
              ? new Undici.EnvHttpProxyAgent({
                  ...settings,
                  ...Object.fromEntries(fromEnvironment.map(({ key, url }) => [key, url]))
                })
              : new Undici.ProxyAgent({ ...settings, uri: proxy })
        ),
        (agent) => Effect.promise(() => agent.destroy())
      )
      // Options given to this layer (or above it) apply, under the caller's, as on
      // `NodeHttpClient.layerUndici`, whose requests carry its layer's context.
      const given = Option.getOrUndefined(
        yield* Effect.serviceOption(NodeHttpClient.UndiciRequestOptions)
      )
      return registerTransport(paired(NodeHttpClient.makeUndici(new Pairing(agent)), given), {
        cap: maxBytes,
        undiciWithoutProxy: proxy === undefined,
        proxies:
          proxy === undefined
            ? undefined
            : proxy === "environment"
              ? fromEnvironment.map(({ name, url }) => addressOf(url, name))
              : [addressOf(proxy, "the proxy option")],
        attemptContext: withSlot(given)
      })
    })
  )

/** Where {@link Pairing} leaves the body of the answer to the request that carried it. */
class Slot {
  body: Undici.Dispatcher.ResponseData["body"] | undefined = undefined
}

/**
 * `inner`, for the platform's undici client: the body of each answer is left in the `Slot` its
 * request carried as undici's `opaque` option, as the platform's response keeps undici's answer to
 * itself. The platform only sends requests through it; the layer closes `inner` itself.
 */
class Pairing extends Undici.Dispatcher {
  constructor(private readonly inner: Undici.Dispatcher) {
    super()
  }
  override dispatch(
    options: Undici.Dispatcher.DispatchOptions,
    handler: Undici.Dispatcher.DispatchHandler
  ): boolean {
    return this.inner.dispatch(options, handler)
  }
  override request<T = null>(
    options: Undici.Dispatcher.RequestOptions<T>,
    callback: (err: Error | null, data: Undici.Dispatcher.ResponseData<T>) => void
  ): void
  override request<T = null>(
    options: Undici.Dispatcher.RequestOptions<T>
  ): Promise<Undici.Dispatcher.ResponseData<T>>
  override request<T = null>(
    options: Undici.Dispatcher.RequestOptions<T>,
    callback?: (err: Error | null, data: Undici.Dispatcher.ResponseData<T>) => void
  ): Promise<Undici.Dispatcher.ResponseData<T>> | void {
    if (callback !== undefined) return this.inner.request(options, callback)
    return this.inner.request(options).then((data) => {
      if (data.opaque instanceof Slot) data.opaque.body = data.body
      return data
    })
  }
}

type RequestOptions = Context.Tag.Service<typeof NodeHttpClient.UndiciRequestOptions>

/** The layer's options (`given`), then the caller's over them, then `extra`. */
const merged = (
  given: RequestOptions | undefined,
  context: Context.Context<never>,
  extra?: { readonly opaque: Slot }
): RequestOptions =>
  // The tag's type is undici's whole request options; the platform sets the request's own
  // (method, path, headers …) after these. undici hands `opaque` back as it is.
  ({
    ...given,
    ...Option.getOrUndefined(Context.getOption(context, NodeHttpClient.UndiciRequestOptions)),
    ...extra
  }) as RequestOptions

/**
 * Gives an attempt's request (one: `OktaClient` reaches this transport directly) a fresh `Slot` as
 * undici's `opaque`, through the platform's public `UndiciRequestOptions`, merged into the layer's
 * and the caller's. `OktaClient` adds it to the attempt's context with the attempt's `Scope`, in
 * one step.
 */
const withSlot =
  (given: RequestOptions | undefined) =>
  <R>(context: Context.Context<R>): Context.Context<R> =>
    Context.add(
      context,
      NodeHttpClient.UndiciRequestOptions,
      merged(given, context as Context.Context<never>, { opaque: new Slot() })
    )

/**
 * Pairs each platform response with the undici body it was made from, when its request carried
 * a `Slot` (see {@link withSlot}): the client reads it with one promise (see `pairBody`). A
 * request without one gets the layer's options (`given`) here instead.
 */
const paired = <E, R>(
  client: HttpClient.HttpClient.With<E, R>,
  given: RequestOptions | undefined
): HttpClient.HttpClient.With<E, R> =>
  HttpClient.transformResponse(client, (send) =>
    Effect.contextWithEffect((context: Context.Context<never>) => {
      const slot: unknown = Option.getOrUndefined(
        Context.getOption(context, NodeHttpClient.UndiciRequestOptions)
      )?.opaque
      if (!(slot instanceof Slot)) {
        return given === undefined
          ? send
          : Effect.provide(
              send,
              Context.add(context, NodeHttpClient.UndiciRequestOptions, merged(given, context))
            )
      }
      return Effect.map(send, (response) => {
        if (slot.body !== undefined) pairBody(response, slot.body)
        slot.body = undefined
        return response
      })
    })
  )

/**
 * The proxy variables, read as undici's `EnvHttpProxyAgent` reads them (lower case first), each
 * checked here: undici would throw a `TypeError` holding the value, credentials included, as a
 * defect. A value without a scheme (`proxy.internal:3128`) is an http:// proxy, as curl takes it.
 */
const environmentProxies = Effect.suspend(() => {
  const proxies: Array<{ key: "httpProxy" | "httpsProxy"; name: string; url: string }> = []
  for (const [key, names] of [
    ["httpProxy", ["http_proxy", "HTTP_PROXY"]],
    ["httpsProxy", ["https_proxy", "HTTPS_PROXY"]]
  ] as const) {
    const name = names.find((n) => (process.env[n] ?? "") !== "")
    if (name === undefined) continue
    const raw = process.env[name]!.trim()
    const value = raw.includes("://") ? raw : `http://${raw}`
    if (!isProxyUrl(value)) {
      return Effect.fail(
        new OktaConfigError({
          field: "proxy",
          // Named, not echoed: a proxy URL may hold credentials.
          reason: `"environment": ${name} is not an http:// or https:// proxy URL`
        })
      )
    }
    proxies.push({ key, name, url: value })
  }
  return Effect.succeed(proxies)
})

/** Where a proxy listens, for a connect failure's hint; `from` names what gave its URL. */
const addressOf = (url: string, from: string): ProxyAddress => {
  const { hostname, port, protocol } = new URL(url)
  const bare = hostname.replace(/^\[(.*)\]$/, "$1")
  return {
    hostname: bare,
    isAddress: isIP(bare) !== 0,
    port: port !== "" ? port : protocol === "https:" ? "443" : "80",
    from
  }
}

const isProxyUrl = (raw: string): boolean => {
  try {
    const { protocol } = new URL(raw)
    return protocol === "http:" || protocol === "https:"
  } catch {
    return false
  }
}

/**
 * The undici transport: {@link layer}.
 *
 * @example
 * ```ts
 * import { OktaUndici } from "effect-okta-connections/undici"
 *
 * const Transport = OktaUndici.layer({ maxResponseBytes: 256 * 1024 })
 * ```
 *
 * @since 0.1.0
 */
export const OktaUndici = { layer } as const
