/**
 * What the client knows of its transport: its failures as `OktaTransportError` (why, without
 * URLs, and whether the connection was ever established), and whether this package built it
 * (it then honours its `AbortSignal`, and may cap response bodies itself).
 *
 * @internal
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import { OktaTransportError } from "../errors/OktaError.js"

/** What every error says about the request it belongs to (never the query). @internal */
export interface Call {
  readonly operation: string
  readonly method: string
  readonly path: string
}

/**
 * A fetch resolved to something that is not a `Response` (a mock with no answer set): a bug in
 * the application's fetch, which no retry can fix. @internal
 */
export class NotAResponse extends TypeError {}

// The transport errors the retry loop gives up on at once, by identity: they are made here.
const permanent = new WeakSet<OktaTransportError>()

/** The transport failed in a way no retry can fix. @internal */
export const isPermanent = (error: OktaTransportError): boolean =>
  // A failure inside a span reaches the caller wrapped (a proxy carrying the span).
  permanent.has(Cause.originalError(error))

/**
 * OpenSSL's part of a message, `80…:error:0A00010B:SSL routines:ssl3_get_record:wrong version
 * number:../deps/openssl/…/ssl3_record.c:350:` and a newline, as its reason alone; any other
 * message on one line.
 */
const openSslReason = (message: string): string =>
  message
    .replace(/[0-9A-F]+:error:[0-9A-F]+:[^:]*routines:[^:]*:([^:]*):\S*/g, "$1")
    .replace(/\s*\n\s*/g, " ")
    .trim()

/** Why a transport failed, without URLs (a request URL may carry an OAuth `code`). @internal */
export const describeCause = (cause: unknown): string => {
  const seen = new Set<unknown>()
  const parts: Array<string> = []
  let current: unknown = cause
  // Node's fetch says "fetch failed" and keeps the useful part (`ECONNREFUSED …`) in `cause`.
  while (current !== undefined && current !== null && !seen.has(current) && parts.length < 4) {
    seen.add(current)
    if (current instanceof Error) {
      const code = (current as { readonly code?: unknown }).code
      parts.push(typeof code === "string" ? `${code}: ${current.message}` : current.message)
      current = (current as { readonly cause?: unknown }).cause
    } else {
      parts.push(String(current))
      current = undefined
    }
  }
  const text = parts
    .map(openSslReason)
    .filter((p) => p.length > 0)
    .join(" <- ")
  return (text.length > 0 ? text : "unknown cause").replace(
    /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi,
    "<url>"
  )
}

// The connection was never established: the request cannot have reached Okta.
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])

// Node's fetch refuses the ports the fetch standard blocks (6000, 6665, 10080 …) before
// connecting, with this message and no code: no retry can get through.
const badPort = (cause: unknown): boolean =>
  cause instanceof TypeError && cause.cause instanceof Error && cause.cause.message === "bad port"
const BLOCKED_HINT =
  ": Node's fetch never connects to this port (the fetch standard blocks it); use another port, or OktaUndici.layer"

// The server's TLS certificate was refused: the connection was never made, and no retry makes
// the certificate good. The first six are a chain Node does not trust, which behind a
// TLS-inspecting proxy means its CA is missing.
const UNTRUSTED_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "CERT_UNTRUSTED"
])
const CERTIFICATE_CODES = new Set([
  ...UNTRUSTED_CODES,
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])
// undici refused an argument before sending anything: with the client's own requests checked
// first, that is the `Agent`'s options (`connections: -1`), which no retry mends.
const INVALID_ARGUMENT_CODES = new Set(["UND_ERR_INVALID_ARG"])
const INVALID_ARGUMENT_HINT =
  "; undici refused a setting before sending anything: check the agent options given to OktaUndici.layer"
// TLS was asked of a server that answered in plain HTTP: the URL's scheme is wrong, which no
// retry mends, and the handshake failed before the request was sent.
const PLAIN_HTTP_CODES = new Set(["ERR_SSL_WRONG_VERSION_NUMBER"])
const PLAIN_HTTP_HINT =
  "; the server does not speak TLS: if it is a plain HTTP one (a proxy, a local simulator), give it an http:// URL"
// Every certificate is checked against this machine's clock: one years off (a VM without a
// working RTC) refuses them all. An intercepting proxy's lapsed certificate reads the same.
const DATED_CODES = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"])
const DATED_HINT =
  "; the certificate is not valid at this machine's time: check the clock (date -u), or the dates of a TLS-inspecting proxy's certificate"
const UNTRUSTED_HINT =
  "; Node does not trust the server's certificate: behind a TLS-inspecting proxy, give Node the proxy's CA certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem"

/** The first error code in `cause`'s chain that is one of `codes`. */
const codeIn = (cause: unknown, codes: ReadonlySet<string>): string | undefined => {
  let current: unknown = cause
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && codes.has(code)) return code
    current = (current as { readonly cause?: unknown }).cause
  }
  return undefined
}

// undici's `ProxyAgent` (and Node's fetch through a proxy) when the proxy answers the `CONNECT`
// with anything but 200: no tunnel, so nothing reached Okta.
const TUNNEL_REFUSED = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/

/** The status a proxy refused the tunnel with, if that is what `cause`'s chain says. */
const tunnelRefusal = (cause: unknown): number | undefined => {
  let current: unknown = cause
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const match = TUNNEL_REFUSED.exec(current.message)
    if (match !== null) return Number(match[1])
    current = current.cause
  }
  return undefined
}

const tunnelHint = (status: number): string =>
  status === 407
    ? "; the proxy asks for credentials (407 to CONNECT): give them in its URL, http://user:password@host:port (percent-encoded), or check the ones it holds"
    : `; the proxy did not open a tunnel to the org (${status} to CONNECT)${
        status === 403 ? ": its policy may not allow the org's host" : ""
      }`

// The platform's `Transport` and `Decode` say what the error's message says already (no
// response; the body could not be read): the cause alone is the reason. Its other kinds
// (`InvalidUrl`, `Encode`, `EmptyBody`) stay in front of the cause.
const reasonOf = (error: HttpClientError.HttpClientError): string => {
  const cause = error.cause !== undefined ? describeCause(error.cause) : undefined
  if (error.reason === "Transport" || error.reason === "Decode") return cause ?? error.reason
  return cause !== undefined ? `${error.reason}: ${cause}` : error.reason
}

// Neither Node's fetch (before Node 24, unless `NODE_USE_ENV_PROXY` is set) nor undici reads a
// proxy variable, so behind an egress proxy they fail to connect where curl, with the same
// environment, gets through; nor does this client read the Okta SDKs' `OKTA_CLIENT_PROXY_HOST`.
// The variable is named, never its value (it may hold credentials).
const proxyHint = (cause: unknown, url: string, undiciWithoutProxy: boolean): string => {
  const fetch = cause instanceof TypeError && cause.message === "fetch failed"
  const env = typeof process === "object" ? process.env : undefined
  if (env === undefined || !(fetch || undiciWithoutProxy)) return ""
  const names = url.startsWith("https:")
    ? ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
    : ["HTTP_PROXY", "http_proxy"]
  const set =
    fetch && nonEmpty(env["NODE_USE_ENV_PROXY"])
      ? undefined
      : names.find((name) => nonEmpty(env[name]))
  const use = (proxy: string) =>
    fetch
      ? `use OktaUndici.layer({ proxy: ${proxy} }) from effect-okta-connections/undici`
      : `give it { proxy: ${proxy} }`
  if (set !== undefined) {
    const unused = fetch ? "Node's fetch" : "an OktaUndici.layer without a proxy option"
    return (
      `; ${set} is set, but ${unused} does not use it: if Okta is reached through that proxy, ` +
      use('"environment"')
    )
  }
  return nonEmpty(env["OKTA_CLIENT_PROXY_HOST"])
    ? "; OKTA_CLIENT_PROXY_HOST is set (the Okta SDKs' proxy setting), but this client does not " +
        `read it: if Okta is reached through that proxy, ${use('"http://host:port"')}`
    : ""
}

const nonEmpty = (value: string | undefined): boolean => value !== undefined && value !== ""

// ENOTFOUND: the resolver answered that the name does not exist (EAI_AGAIN, a resolver that did
// not answer, may pass): most often a typo in the org URL, which the retries only make slower to
// see.
const UNKNOWN_HOST_HINT =
  "; the host name does not resolve: check the org URL (and the proxy's, if one is used) for a typo, or this machine's DNS"

/**
 * A connection refused or a host not found at a proxy's address: the proxy is down or its URL
 * wrong, not Okta. Compared by name, or by port where the name resolved to an address (unless the
 * org's port is the same, when that cannot tell them apart).
 */
const proxyUnreachable = (cause: unknown, url: string, proxies: ReadonlyArray<ProxyAddress>) => {
  const org = new URL(url)
  const orgPort = org.port !== "" ? org.port : org.protocol === "https:" ? "443" : "80"
  let current: unknown = cause
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const { hostname, address, port } = current as Record<string, unknown>
    const proxy = proxies.find((p) =>
      hostname !== undefined
        ? p.hostname === hostname
        : port !== undefined &&
          p.port === String(port) &&
          (p.hostname === address || (!p.isAddress && p.port !== orgPort))
    )
    if (proxy !== undefined) {
      return hostname !== undefined
        ? `; that is the proxy's host (${proxy.from}), whose name did not resolve: check the proxy's URL`
        : `; that is the proxy's address (${proxy.from}): check that the proxy runs, and its URL`
    }
    current = (current as { readonly cause?: unknown }).cause
  }
  return ""
}

/**
 * `own`: what the transport guarantees, when the client reaches one this package built directly
 * (an `OktaUndici.layer` without a proxy, or its proxies, for a connect failure's hint). @internal
 */
export const transportError = (
  call: Call,
  error: HttpClientError.HttpClientError,
  own?: OwnTransport
): OktaTransportError => {
  const request = error._tag === "RequestError"
  const blocked = request && badPort(error.cause)
  const certificate = request ? codeIn(error.cause, CERTIFICATE_CODES) : undefined
  const refused = request ? tunnelRefusal(error.cause) : undefined
  const plain = request && codeIn(error.cause, PLAIN_HTTP_CODES) !== undefined
  const invalid = request && codeIn(error.cause, INVALID_ARGUMENT_CODES) !== undefined
  const connectCode = request ? codeIn(error.cause, CONNECT_CODES) : undefined
  const connect =
    blocked ||
    certificate !== undefined ||
    refused !== undefined ||
    plain ||
    invalid ||
    connectCode !== undefined
  // What to do about it, where that can be said.
  let hint = ""
  if (blocked) hint = BLOCKED_HINT
  else if (certificate !== undefined) {
    if (UNTRUSTED_CODES.has(certificate)) hint = UNTRUSTED_HINT
    else if (DATED_CODES.has(certificate)) hint = DATED_HINT
  } else if (refused !== undefined) hint = tunnelHint(refused)
  else if (plain) hint = PLAIN_HTTP_HINT
  else if (invalid) hint = INVALID_ARGUMENT_HINT
  else if (connect) {
    // Behind a proxy, a name outside the intranet does not resolve either: the proxy hint first.
    hint = proxyHint(error.cause, error.request.url, own?.undiciWithoutProxy === true)
    if (hint === "" && own?.proxies !== undefined) {
      hint = proxyUnreachable(error.cause, error.request.url, own.proxies)
    }
    if (hint === "" && connectCode === "ENOTFOUND") hint = UNKNOWN_HOST_HINT
  }
  const failure = new OktaTransportError({
    ...call,
    reason: reasonOf(error) + hint,
    afterResponse: error._tag === "ResponseError",
    connectFailed: connect,
    ...(error._tag === "ResponseError" ? { status: error.response.status } : {})
  })
  // A proxy that wants credentials, or will not tunnel to the host, says the same next time;
  // a 5xx (it could not reach Okta) may pass.
  const proxyRefuses = refused !== undefined && refused >= 400 && refused < 500
  const unmendable = blocked || certificate !== undefined || proxyRefuses || plain || invalid
  if (unmendable || error.cause instanceof NotAResponse) {
    permanent.add(failure)
  }
  return failure
}

// Transports this package built (`OktaUndici.layer`, `OktaFetch.layer`): they drop a request
// when its `AbortSignal` aborts, so the client times an attempt out by aborting its request
// instead of forking a fiber, and they may cap a response body themselves (undici's
// `maxResponseSize`), which lets the client read a chunked body in one go instead of counting its
// bytes (see bench/README.md). Keyed by the `HttpClient` the layer built: any other client, a
// wrapped one included, gets neither.
const own = new WeakMap<HttpClient.HttpClient, OwnTransport>()

/** What a transport this package built guarantees. @internal */
export interface OwnTransport {
  /** The body cap the transport enforces itself, if any. */
  readonly cap: number | undefined
  /** An `OktaUndici.layer` given no `proxy`: it connects directly, whatever the environment says. */
  readonly undiciWithoutProxy?: boolean | undefined
  /** The proxies an `OktaUndici.layer` connects through. */
  readonly proxies?: ReadonlyArray<ProxyAddress> | undefined
  /**
   * What each attempt's requests carry in their context besides the attempt's `Scope`, added in
   * the same step (`OktaUndici.layer`'s body slot), when the client reaches the transport directly.
   */
  readonly attemptContext?: (<R>(context: Context.Context<R>) => Context.Context<R>) | undefined
}

/** Where a proxy listens, and what named it (a variable, or the layer's option). @internal */
export interface ProxyAddress {
  /** Without an IPv6 address's brackets, as a connect error names it. */
  readonly hostname: string
  /** The hostname is an IP address, not a name. */
  readonly isAddress: boolean
  readonly port: string
  readonly from: string
}

/** Records that this package built `client`, which honours its `AbortSignal`. @internal */
export const registerTransport = <C extends HttpClient.HttpClient>(
  client: C,
  transport: OwnTransport
): C => {
  own.set(client, transport)
  return client
}

/** What `client` guarantees, if this package built it. @internal */
export const ownTransport = (client: HttpClient.HttpClient): OwnTransport | undefined =>
  own.get(client)

/** An undici response body, as `OktaUndici.layer` pairs it with its platform response. @internal */
export interface PairedBody {
  readonly bodyUsed: boolean
  readonly text: () => Promise<string>
}

const paired = new WeakMap<HttpClientResponse.HttpClientResponse, PairedBody>()

/**
 * Records the undici body `response` was made from, so that the client reads it with one promise
 * instead of the platform's one-shot read, which runs its promise through `Effect.cached`
 * (see bench/README.md). @internal
 */
export const pairBody = (response: HttpClientResponse.HttpClientResponse, body: PairedBody) => {
  paired.set(response, body)
}

/** The undici body `response` was made from, if `OktaUndici.layer` paired it. @internal */
export const pairedBody = (
  response: HttpClientResponse.HttpClientResponse
): PairedBody | undefined => paired.get(response)

/** The error code undici gives a body past `maxResponseSize`. @internal */
export const OVER_CAP_CODE = "UND_ERR_RES_EXCEEDED_MAX_SIZE"
