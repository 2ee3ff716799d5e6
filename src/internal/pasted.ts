/**
 * Checks of the values users paste into the client's options, from a console, a guide or an
 * environment file: the org URL and a static token. Each names what is wrong with the value, and
 * never shows a token.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { OktaConfigError } from "../errors/OktaError.js"

// A value pasted with its quotes (`docker --env-file` and some `.env` loaders keep them), or
// `${OKTA_TOKEN}` / `$OKTA_TOKEN` as the value itself (a loader that does not expand, a shell
// variable in single quotes): sent as it is, it is refused by Okta with no word of why.
const QUOTED = "is wrapped in quotes (from an env file that keeps them?); give the value alone"
const NEVER_EXPANDED =
  "is a variable that was never expanded (${…} or $NAME, as the env file or shell left it)"

// From JavaScript, where the types do not hold.
const UNSET = "is undefined (an environment variable that is not set?)"

/** `${NAME}`, `${env:NAME}` or `$NAME` as the value itself. @internal */
export const UNEXPANDED = /^\$(\{[^}]*\}|[A-Za-z_]\w*)$/

/** What is wrong with a value as it was pasted, if it was pasted wrong. @internal */
export const pasteFault = (value: string): string | undefined =>
  /^(["'`]).*\1$/s.test(value) ? QUOTED : UNEXPANDED.test(value) ? NEVER_EXPANDED : undefined

/** Okta's own org hosts. */
const OKTA_HOST = /\.(okta|oktapreview|okta-emea|okta-gov)\.com$|\.okta\.mil$/i

const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" ||
  hostname.endsWith(".localhost") ||
  hostname === "[::1]" ||
  /^127(\.\d{1,3}){3}$/.test(hostname)

/**
 * Validates and normalises the org URL: the official SDKs' checks (admin-console URLs,
 * placeholders) and TLS for credentials, except to this machine. @internal
 */
export const normalizeOrgUrl = (input: string | URL): Effect.Effect<string, OktaConfigError> => {
  const fail = (reason: string) => Effect.fail(new OktaConfigError({ field: "orgUrl", reason }))
  // From JavaScript, `process.env.OKTA_ORG_URL` unset: it read "is not an absolute URL".
  if ((input as unknown) === undefined) return fail(UNSET)
  const raw = String(input).trim()
  if (raw.length === 0) return fail("is empty")
  const pasted = pasteFault(raw)
  if (pasted !== undefined) return fail(pasted)
  if (/\{yourOktaDomain\}/i.test(raw)) {
    return fail("still contains the {yourOktaDomain} placeholder")
  }
  // An Okta or loopback host given without its scheme (`acme.okta.com`; `localhost:8080`, which
  // the URL parser takes for a scheme): said with the URL to give. Nothing else is echoed: the
  // value may be a secret in the wrong variable.
  const bare = /^([\w-]+(?:\.[\w-]+)*)(:\d+)?\/?$/.exec(raw)?.[1] ?? ""
  const scheme = OKTA_HOST.test(bare) ? "https" : isLoopbackHost(bare) ? "http" : undefined
  if (scheme !== undefined) {
    return fail(`has no scheme: give it as ${scheme}://${raw.replace(/\/$/, "")}`)
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return fail("is not an absolute URL (expected something like https://acme.okta.com)")
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return fail(`must use https:// (got ${url.protocol}//)`)
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return fail(
      `must use https:// (got http://${url.host}); plain http is accepted only for loopback hosts such as 127.0.0.1 or localhost`
    )
  }
  // `https://${OKTA_ORG}.okta.com` parses, and would only fail in DNS, after the retries.
  if (/[${}]/.test(url.hostname)) {
    return fail("has a variable or placeholder in its host (${…}, $NAME, {…}) never filled in")
  }
  if (url.username !== "" || url.password !== "") return fail("must not contain user info")
  if (/-admin\.(okta|oktapreview|okta-emea)\.com$/i.test(url.hostname)) {
    return fail(`points at the Admin Console (${url.hostname}); use the org URL without "-admin"`)
  }
  const path = url.pathname.replace(/\/+$/, "")
  // Okta's own hosts never have a path, and on any host an API or console path is a paste of the
  // wrong URL: it would be prefixed to every request (`/api/v1/api/v1/apps/…`).
  if (
    path !== "" &&
    (OKTA_HOST.test(url.hostname) ||
      /^\/(api|oauth2|admin|app|home|login|signin|\.well-known)(\/|$)/i.test(path))
  ) {
    return fail(
      `has a path (${path}); give the org URL alone, e.g. ${url.origin} (the client adds /api/v1/…)`
    )
  }
  // After the path: a console page's URL (`/admin/app/…/#tab-provisioning`) is said as a path.
  if (url.search !== "" || url.hash !== "") {
    return fail(`must not have a query or fragment; give the org URL alone, e.g. ${url.origin}`)
  }
  return Effect.succeed(`${url.origin}${path}`)
}

/** A static token, checked: the value without its scheme. @internal */
export const checkToken = (
  field: "apiToken" | "accessToken",
  token: Redacted.Redacted<string>
): Effect.Effect<string, OktaConfigError> => {
  const fail = (reason: string) => Effect.fail(new OktaConfigError({ field, reason }))
  if (!Redacted.isRedacted(token)) {
    return fail("must be a Redacted<string> (Redacted.make(token)), so it never reaches a log")
  }
  const value: unknown = Redacted.value(token)
  if (value === undefined) return fail(UNSET)
  if (typeof value !== "string" || value.length === 0) return fail("is empty")
  const pasted = pasteFault(value)
  if (pasted !== undefined) return fail(pasted)
  const prefix = /^(SSWS|Bearer|DPoP)\s/i.exec(value)?.[1]?.toLowerCase()
  const scheme = ["SSWS", "Bearer", "DPoP"].find((name) => name.toLowerCase() === prefix)
  if (scheme !== undefined) {
    // A header copied whole says which kind it is: the one kind given as the other is said so.
    const other =
      field === "apiToken" && scheme !== "SSWS"
        ? "an OAuth 2.0 access token: give the token alone as accessToken, or an API token (00…) here"
        : field === "accessToken" && scheme === "SSWS"
          ? "an Okta API token: give the token alone as apiToken"
          : "pass the token alone"
    return fail(`includes its scheme prefix (${scheme}): ${other}`)
  }
  // Where it is tells where it came from: a CRLF file's "\r" is invisible where it was typed.
  if (/\r\n?$/.test(value)) {
    return fail(
      "ends with a carriage return (\\r: a file or .env saved with Windows line endings?)"
    )
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(value)) {
    return fail("contains whitespace or control characters (a trailing newline from a file?)")
  }
  if (/^\{.*\}$/.test(value)) return fail("is still a {placeholder}")
  // One kind given as the other: Okta answers 401 "Invalid token provided", and says no more.
  if (field === "apiToken" && /^eyJ[\w-]*\.[\w-]*\.[\w-]*$/.test(value)) {
    return fail(
      "is an OAuth 2.0 access token (a JWT), which Okta takes as Bearer: give it as accessToken, or an API token (00…) here"
    )
  }
  if (field === "accessToken" && /^00[\w-]{40}$/.test(value)) {
    return fail("is an Okta API token (SSWS), not an OAuth 2.0 access token: give it as apiToken")
  }
  // An HTTP header value is Latin-1: fetch and undici refuse anything else on every request.
  if (/[^\u0020-\u00ff]/.test(value)) {
    return fail(
      "contains characters an HTTP header cannot carry (outside Latin-1: a smart quote or an ellipsis pasted with it?)"
    )
  }
  return Effect.succeed(value)
}
