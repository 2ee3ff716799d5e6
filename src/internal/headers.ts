/**
 * Parsing of the response headers Okta's errors and rate limits are described by. Pure functions,
 * shared by the error mapping and (later) the rate-limit gate, so each header is parsed once.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"

const nonNegativeNumbers = (raw: string | undefined): ReadonlyArray<number> => {
  if (raw === undefined) return []
  const values: Array<number> = []
  // A header sent twice arrives joined with ", " (okta-sdk-java#259).
  for (const part of raw.split(",")) {
    const trimmed = part.trim()
    if (!/^\d+(\.\d+)?$/.test(trimmed)) continue
    const value = Number(trimmed)
    if (Number.isFinite(value)) values.push(value)
  }
  return values
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
  const limit = nonNegativeNumbers(headers["x-rate-limit-limit"])
  const remaining = nonNegativeNumbers(headers["x-rate-limit-remaining"])
  const reset = nonNegativeNumbers(headers["x-rate-limit-reset"])
  if (limit.length === 0 && remaining.length === 0 && reset.length === 0) return undefined
  return {
    ...(limit.length > 0 ? { limit: Math.min(...limit) } : {}),
    ...(remaining.length > 0 ? { remaining: Math.min(...remaining) } : {}),
    ...(reset.length > 0 ? { reset: Math.max(...reset) } : {})
  }
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
