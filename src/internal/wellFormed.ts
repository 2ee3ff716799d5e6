/**
 * Well-formed UTF-16: what may go into a URL. A lone surrogate has no UTF-8 form, so
 * `encodeURIComponent` throws on it and `URL`/`URLSearchParams` silently replace it with U+FFFD:
 * the value would either die as a defect or reach Okta as another value.
 *
 * @internal
 */
const LONE_SURROGATE = /\p{Cs}/u

/** Whether `s` has no lone surrogate. @internal */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s)
