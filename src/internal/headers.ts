/**
 * Parsing of the response headers Okta's errors and rate limits are described by. Pure functions,
 * shared by the error mapping and (later) the rate-limit gate, so each header is parsed once.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"

const PLAIN_NUMBER = /^\d+(\.\d+)?$/

/**
 * The non-negative numbers of a header, combined by `pick` when it was sent more than once (it
 * then arrives joined with ", ", okta-sdk-java#259); `undefined` when none parses. The single
 * value, which is what Okta sends, is the path every response takes: no split, no array.
 */
const headerNumber = (
  raw: string | undefined,
  pick: (a: number, b: number) => number
): number | undefined => {
  if (raw === undefined) return undefined
  if (PLAIN_NUMBER.test(raw)) {
    const value = Number(raw)
    return Number.isFinite(value) ? value : undefined
  }
  let result: number | undefined
  for (const part of raw.split(",")) {
    const trimmed = part.trim()
    if (!PLAIN_NUMBER.test(trimmed)) continue
    const value = Number(trimmed)
    if (Number.isFinite(value)) result = result === undefined ? value : pick(result, value)
  }
  return result
}

/** @internal */
export interface ParsedRateLimit {
  readonly limit?: number
  readonly remaining?: number
  readonly reset?: number
}

/**
 * `X-Rate-Limit-Limit/-Remaining/-Reset`. Unparsable values are dropped rather than becoming NaN.
 * A duplicated header keeps the most conservative value: the smallest limit and remaining, and
 * the latest reset, so that waiting for it never wakes before the window has really reset.
 *
 * @internal
 */
export const parseRateLimit = (headers: Headers.Headers): ParsedRateLimit | undefined => {
  const limit = headerNumber(headers["x-rate-limit-limit"], Math.min)
  const remaining = headerNumber(headers["x-rate-limit-remaining"], Math.min)
  const reset = headerNumber(headers["x-rate-limit-reset"], Math.max)
  if (limit === undefined && remaining === undefined && reset === undefined) return undefined
  const parsed: { limit?: number; remaining?: number; reset?: number } = {}
  if (limit !== undefined) parsed.limit = limit
  if (remaining !== undefined) parsed.remaining = remaining
  if (reset !== undefined) parsed.reset = reset
  return parsed
}

/**
 * `Retry-After` (which proxies and load balancers send, and Okta does not document) as a delay in
 * milliseconds: delay-seconds, or an HTTP date taken against the response's own `Date` (without
 * one, a date says nothing this client's clock could use). `undefined` when missing or unusable.
 * Sent twice by two proxies in a row, the seconds arrive joined ("7, 7"): the longest counts, as
 * a duplicated reset's latest does (V8's `Date.parse` would read "5, 5" as a day of 2001).
 *
 * @internal
 */
export const parseRetryAfter = (
  headers: Headers.Headers,
  serverDate: number | undefined
): number | undefined => {
  const raw = headers["retry-after"]?.trim()
  if (raw === undefined || raw === "") return undefined
  if (/^\d+(\s*,\s*\d+)*$/.test(raw)) return Math.max(...raw.split(",").map(Number)) * 1000
  const at = Date.parse(raw)
  return Number.isFinite(at) && serverDate !== undefined ? Math.max(0, at - serverDate) : undefined
}

/**
 * The `Date` header as epoch milliseconds, or `undefined` when missing or unparsable.
 *
 * @internal
 */
export const parseDate = (headers: Headers.Headers): number | undefined => {
  const raw = headers["date"]
  if (raw === undefined) return undefined
  // `Date` has a resolution of one second, so consecutive responses mostly repeat it: parse once.
  if (raw === lastDate.raw) return lastDate.millis
  const millis = Date.parse(raw)
  const parsed = Number.isFinite(millis) ? millis : undefined
  lastDate = { raw, millis: parsed }
  return parsed
}

let lastDate: { raw: string | undefined; millis: number | undefined } = {
  raw: undefined,
  millis: undefined
}

/** @internal */
export interface ParsedChallenge {
  readonly scheme: string
  readonly error?: string
  readonly errorDescription?: string
  readonly scope?: string
}

/**
 * The first challenge of a `WWW-Authenticate` header (RFC 9110 §11.6.1), e.g.
 * `Bearer realm="IdpMyAccountAPI", error="insufficient_scope", error_description="…", scope="okta.apps.manage"`.
 * Okta sends one challenge; parameters of later ones are ignored.
 *
 * @internal
 */
export const parseChallenge = (raw: string | undefined): ParsedChallenge | undefined => {
  if (raw === undefined) return undefined
  const match = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*(.*)$/s.exec(raw)
  if (match === null) return undefined
  const scheme = match[1]!
  const params = new Map<string, string>()
  const paramRe = /([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy
  const rest = match[2] ?? ""
  let m: RegExpExecArray | null
  while ((m = paramRe.exec(rest)) !== null && m[0].length > 0) {
    const key = m[1]!.toLowerCase()
    if (!params.has(key)) params.set(key, (m[2] ?? m[3] ?? "").replace(/\\(.)/g, "$1"))
  }
  const error = params.get("error")
  const errorDescription = params.get("error_description")
  const scope = params.get("scope")
  return {
    scheme,
    ...(error !== undefined ? { error } : {}),
    ...(errorDescription !== undefined ? { errorDescription } : {}),
    ...(scope !== undefined ? { scope } : {})
  }
}
