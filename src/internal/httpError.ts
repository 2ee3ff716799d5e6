/**
 * A non-2xx response as its typed error: the status picks the class, Okta's JSON `Error` body (or
 * what else came) and the headers fill it. And a retried call's last error, HTTP or not, with the
 * number of requests it sent (`withAttempts`).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import * as Cause from "effect/Cause"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import {
  OktaBadRequestError,
  OktaForbiddenError,
  type OktaHttpError,
  OktaNotFoundError,
  OktaRateLimitError,
  OktaServerError,
  OktaTimeoutError,
  OktaUnauthorizedError,
  OktaUnexpectedStatusError
} from "../errors/OktaError.js"
import { IDENTIFIER } from "../errors/fields.js"
import { OktaErrorBody } from "../schema/OktaErrorBody.js"
import { parseChallenge, parseDate, parseRateLimit, parseRetryAfter } from "./headers.js"
import { scrub, scrubHeaders } from "./secrets.js"
import type { Call } from "./transport.js"

/** `text` parsed as JSON, or why it is not JSON. @internal */
export const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (e) {
    return Either.left(e instanceof Error ? e.message : "invalid JSON")
  }
}

const decodeErrorBody = Schema.decodeUnknownEither(OktaErrorBody)

/**
 * The decoded body's strings, scrubbed: after parsing, not on the text, as the text may hold a
 * secret in a form `scrub` does not know (escaped again inside one of the server's JSON strings,
 * as an echoed request body is, or with a `\/` or `\u` escape); parsing brings it back.
 */
const scrubBody = (body: OktaErrorBody, secrets: ReadonlyArray<string>) => {
  const clean = (text: string | undefined) =>
    text === undefined ? undefined : scrub(text, secrets)
  return {
    errorCode: clean(body.errorCode),
    errorSummary: clean(body.errorSummary),
    errorLink: clean(body.errorLink),
    errorId: clean(body.errorId),
    errorCauses: body.errorCauses?.map((cause) =>
      cause.errorSummary === undefined
        ? cause
        : { errorSummary: scrub(cause.errorSummary, secrets) }
    )
  }
}

/** How much of a gateway's message an error keeps: a sentence, not a document. */
const GATEWAY_MESSAGE_MAX = 300

/**
 * The `message` string of a JSON body that is not Okta's error, scrubbed before it is cut (a cut
 * could leave a secret's start that `scrub` no longer knows), then cut on a code point.
 */
const gatewayMessageOf = (json: unknown, secrets: ReadonlyArray<string>) => {
  const message =
    typeof json === "object" && json !== null
      ? (json as { readonly message?: unknown }).message
      : undefined
  if (typeof message !== "string" || message.trim() === "") return undefined
  const points = Array.from(scrub(message, secrets))
  return points.length > GATEWAY_MESSAGE_MAX
    ? `${points.slice(0, GATEWAY_MESSAGE_MAX - 1).join("")}…`
    : points.join("")
}

/**
 * The `WWW-Authenticate` header and its parsed challenge, scrubbed: the parameters once parsed, as
 * a quoted string's `\` escapes (`\.` is ".") hide a secret from a scrub of the header as sent;
 * and the header unescaped when that is what holds one (there, the escapes are the secret's).
 */
const challengeOf = (raw: string | undefined, secrets: ReadonlyArray<string>) => {
  const parsed = parseChallenge(raw)
  if (raw === undefined || secrets.length === 0) return { wwwAuthenticate: raw, challenge: parsed }
  const clean = (text: string) => scrub(text, secrets)
  const unescape = (text: string) => text.replace(/\\(.)/g, "$1")
  const asSent = clean(raw)
  return {
    wwwAuthenticate: clean(unescape(asSent)) === unescape(asSent) ? asSent : clean(unescape(raw)),
    // Every parameter kept, the scheme included (a JWT is a valid scheme token).
    challenge: parsed && {
      scheme: clean(parsed.scheme),
      ...(parsed.error !== undefined ? { error: clean(parsed.error) } : {}),
      ...(parsed.errorDescription !== undefined
        ? { errorDescription: clean(parsed.errorDescription) }
        : {}),
      ...(parsed.scope !== undefined ? { scope: clean(parsed.scope) } : {})
    }
  }
}

type HttpErrorFields = ConstructorParameters<typeof OktaServerError>[0]

const errorForStatus = (
  status: number,
  fields: HttpErrorFields,
  location: string | undefined
): OktaHttpError => {
  // The fields were decoded already; `true` skips validating them again.
  if (status === 400) return new OktaBadRequestError(fields, true)
  if (status === 401) return new OktaUnauthorizedError(fields, true)
  if (status === 403) return new OktaForbiddenError(fields, true)
  if (status === 404) return new OktaNotFoundError(fields, true)
  if (status === 429) return new OktaRateLimitError(fields, true)
  if (status >= 500 && status <= 599) return new OktaServerError(fields, true)
  // Only a 3xx is a redirect; the query of its target can carry tokens or codes: keep only where
  // it pointed.
  const target = (location ?? "").replace(/[?#].*$/s, "")
  const redirect = status >= 300 && status < 400 && target !== "" ? { location: target } : {}
  return new OktaUnexpectedStatusError({ ...fields, ...redirect }, true)
}

/**
 * A non-2xx response as its typed error, from its already read body: Okta's JSON `Error` when the
 * body is one; otherwise (an HTML page from a proxy, an empty 401) the status, the
 * `WWW-Authenticate` challenge and the `Content-Type` tell the rest; `read` (the body's text) is
 * `undefined` for a body past the size cap, not read. `secrets` (the credential, the call's secret
 * values) are scrubbed from the body and headers first.
 *
 * @internal
 */
export const httpError = (
  call: Call,
  status: number,
  received: Headers.Headers,
  read: string | undefined,
  secrets: ReadonlyArray<string> = []
): OktaHttpError => {
  const text = read ?? ""
  // Whatever the server says is scrubbed of the call's secrets before it enters the error: its
  // headers, and the body's fields once parsed (see `scrubBody`; nothing else of the body is kept).
  const headers = scrubHeaders(received, secrets)
  const json = text.trim().length === 0 ? Either.left("empty") : parseJson(text)
  const decoded = Either.isRight(json)
    ? Either.getOrUndefined(decodeErrorBody(json.right))
    : undefined
  const body = decoded !== undefined && secrets.length > 0 ? scrubBody(decoded, secrets) : decoded
  // Okta's error names a code or a summary; JSON with neither (a gateway's `{"message": …}`) is
  // someone else's, and its content type says so.
  const oktas = body?.errorCode !== undefined || body?.errorSummary !== undefined
  const gatewayMessage =
    oktas || Either.isLeft(json) ? undefined : gatewayMessageOf(json.right, secrets)
  const rateLimit = parseRateLimit(headers)
  const serverDate = parseDate(headers)
  const retryAfterMillis = parseRetryAfter(headers, serverDate)
  const { wwwAuthenticate, challenge } = challengeOf(received["www-authenticate"], secrets)
  const requestId = headers["x-okta-request-id"]
  const contentType = headers["content-type"]
  return errorForStatus(
    status,
    {
      ...call,
      status,
      ...(body?.errorCode !== undefined ? { errorCode: body.errorCode } : {}),
      ...(body?.errorSummary !== undefined ? { errorSummary: body.errorSummary } : {}),
      ...(body?.errorLink !== undefined ? { errorLink: body.errorLink } : {}),
      ...(body?.errorId !== undefined ? { errorId: body.errorId } : {}),
      ...(body?.errorCauses !== undefined ? { errorCauses: body.errorCauses } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      ...(rateLimit !== undefined ? { rateLimit } : {}),
      ...(serverDate !== undefined ? { serverDate } : {}),
      ...(retryAfterMillis !== undefined ? { retryAfterMillis } : {}),
      ...(wwwAuthenticate !== undefined ? { wwwAuthenticate } : {}),
      ...(challenge !== undefined ? { challenge } : {}),
      ...(read === undefined ? { bodyTooLarge: true } : {}),
      ...(!oktas && (read === undefined || text.length > 0) && contentType !== undefined
        ? { contentType }
        : {}),
      ...(gatewayMessage !== undefined ? { gatewayMessage } : {})
    },
    headers["location"]
  )
}

/**
 * `error`, once its call has sent `attempts` requests: a copy that says so when there were more
 * than one (this package's errors are immutable), if its class has an `attempts` field; a
 * deadline's (which counts its own), and any other error, as it is.
 *
 * @internal
 */
export const withAttempts = <E>(error: E, attempts: number): E => {
  // Failed under a span, an error arrives wrapped: the copy is made of what it wraps.
  const original: unknown = Cause.originalError(error)
  if (attempts < 2 || typeof original !== "object" || original === null) return error
  const Class = original.constructor as {
    new (fields: object): E
    readonly identifier?: unknown
    readonly fields?: Readonly<Record<string, unknown>>
  }
  const ours = typeof Class.identifier === "string" && Class.identifier.startsWith(`${IDENTIFIER}/`)
  if (!ours || Class.fields?.["attempts"] === undefined) return error
  if (original instanceof OktaTimeoutError && original.kind === "deadline") return error
  return new Class({ ...original, attempts })
}
