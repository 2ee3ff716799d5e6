/**
 * Secrets in what a server says: a server or proxy that echoes a request (its `Authorization`
 * header, its URL, its body) must not get what the client holds for the call into an error's
 * message, a log line or a span.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"

/** Secrets shorter than this are not scrubbed: they cannot be told apart from ordinary text. */
const MIN_SECRET_LENGTH = 4

/**
 * The forms a secret takes when a server echoes it: as sent, URL-encoded, form-encoded (as a
 * query's values are sent: `URLSearchParams` also escapes `!'()~`), JSON-escaped.
 */
const formsOf = (secret: string): ReadonlyArray<string> => {
  const forms = new Set([secret])
  try {
    const uri = encodeURIComponent(secret)
    forms.add(uri)
    forms.add(uri.replace(/%20/g, "+"))
    forms.add(new URLSearchParams({ s: secret }).toString().slice(2))
  } catch {
    // Ill-formed UTF-16 has no URL form; it is never sent in one either.
  }
  forms.add(JSON.stringify(secret).slice(1, -1))
  return [...forms]
}

/**
 * `text` with every form of every secret replaced by `<redacted>`, so that a server or proxy that
 * echoes a request (its `Authorization` header, its URL, its body) cannot put what the client
 * holds for the call into an error's message, a log line or a span.
 *
 * @internal
 */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  // Every form of a secret is at least as long as the secret: one longer than `text` has none in
  // it (a request id is shorter than a token), and its forms need not be made.
  const forms = secrets
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH && secret.length <= text.length)
    .flatMap(formsOf)
  // Longest first: a secret that contains another would otherwise keep what follows the other.
  forms.sort((a, b) => b.length - a.length)
  let result = text
  for (const form of forms) {
    if (result.includes(form)) result = result.split(form).join("<redacted>")
  }
  return result
}

/** The headers an error copies out of a response, scrubbed (see {@link scrub}). @internal */
export const scrubHeaders = (
  headers: Headers.Headers,
  secrets: ReadonlyArray<string>
): Headers.Headers => {
  if (secrets.length === 0) return headers
  const copied: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) copied[name] = scrub(value, secrets)
  return copied as unknown as Headers.Headers
}

/**
 * The secrets a sent request carries in its headers: the credential (whole, and the token after
 * its scheme) and a DPoP proof.
 *
 * @internal
 */
export const credentialSecrets = (headers: Headers.Headers): ReadonlyArray<string> => {
  const secrets: Array<string> = []
  const authorization = headers["authorization"]
  if (authorization !== undefined) {
    secrets.push(authorization)
    const space = authorization.indexOf(" ")
    if (space > 0) secrets.push(authorization.slice(space + 1))
  }
  const dpop = headers["dpop"]
  if (dpop !== undefined) secrets.push(dpop)
  return secrets
}
