/**
 * Turning an HTTP response into a decoded value or a typed error. One place, so every operation
 * maps statuses, reads error bodies and reports decode failures the same way.
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import {
  OktaBadRequestError,
  OktaDecodeError,
  OktaForbiddenError,
  type OktaHttpError,
  OktaNotFoundError,
  OktaRateLimitError,
  OktaServerError,
  OktaTransportError,
  OktaUnauthorizedError,
  OktaUnexpectedStatusError
} from "../errors/OktaError.js"
import { OktaErrorBody } from "../schema/OktaErrorBody.js"
import { parseChallenge, parseDate, parseRateLimit } from "./headers.js"
import { describeIssue } from "./issues.js"

/** What every error says about the request it belongs to. @internal */
export interface RequestContext {
  readonly operation: string
  readonly method: string
  readonly path: string
}

const decodeErrorBody = Schema.decodeUnknownEither(OktaErrorBody)

/**
 * Describes why a body could not be read, without URLs (a request URL may carry an OAuth `code`).
 *
 * @internal
 */
export const describeCause = (cause: unknown): string => {
  const seen = new Set<unknown>()
  const parts: Array<string> = []
  let current: unknown = cause
  // Walk the `cause` chain: Node's fetch reports "fetch failed" with the useful part
  // (`connect ECONNREFUSED 127.0.0.1:1`, `other side closed`) one level down.
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
  const text = parts.filter((p) => p.length > 0).join(" <- ")
  return (text.length > 0 ? text : "unknown cause").replace(
    /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi,
    "<url>"
  )
}

// Error codes meaning the connection was never established: the request cannot have reached Okta.
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])

const connectFailed = (cause: unknown): boolean => {
  let current: unknown = cause
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && CONNECT_CODES.has(code)) return true
    current = (current as { readonly cause?: unknown }).cause
  }
  return false
}

/** @internal */
export const transportError = (
  ctx: RequestContext,
  error: HttpClientError.HttpClientError
): OktaTransportError =>
  new OktaTransportError({
    ...ctx,
    reason: `${error.reason}${error.cause !== undefined ? `: ${describeCause(error.cause)}` : ""}`,
    afterResponse: error._tag === "ResponseError",
    connectFailed: error._tag === "RequestError" && connectFailed(error.cause),
    ...(error._tag === "ResponseError" ? { status: error.response.status } : {})
  })

/** The body was larger than `maxBytes`; reading stopped there. @internal */
export class BodyTooLarge {
  readonly _tag = "BodyTooLarge"
  constructor(readonly maxBytes: number) {}
}

const utf8 = new TextDecoder()

/**
 * The responses whose body `readText` has read to the end. A 2xx whose body was not (a custom
 * `onSuccess` that ignores it) has its request aborted, so the transport lets go of the connection.
 *
 * @internal
 */
export const fullyRead = new WeakSet<HttpClientResponse.HttpClientResponse>()

interface BodyChunks {
  readonly chunks: Array<Uint8Array>
  size: number
}

/**
 * Reads the whole body as text, at most `maxBytes` of it. A declared `Content-Length` within the
 * cap takes the platform's one-shot read; otherwise the body is streamed and the read stops (and
 * the connection is dropped) as soon as the cap is passed, so an oversized body is never buffered
 * whole. Failing to read is a transport failure (the connection dropped mid-body), not a decode
 * failure: the two need different handling by callers and retry rules.
 *
 * @internal
 */
export const readText = (
  ctx: RequestContext,
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  maxBytes: number
): Effect.Effect<string, OktaTransportError | BodyTooLarge> => {
  const declared = headers["content-length"]
  const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined
  if (length !== undefined && length > maxBytes) return Effect.fail(new BodyTooLarge(maxBytes))
  if (length !== undefined) {
    return Effect.mapBoth(response.text, {
      onFailure: (error) => transportError(ctx, error),
      onSuccess: (text) => {
        fullyRead.add(response)
        return text
      }
    })
  }
  return response.stream.pipe(
    // A response without a body (`null` in fetch terms) is an empty one here.
    Stream.catchAll((error) => (error.reason === "EmptyBody" ? Stream.empty : Stream.fail(error))),
    Stream.mapError((error): OktaTransportError | BodyTooLarge => transportError(ctx, error)),
    Stream.runFoldEffect(
      { chunks: [], size: 0 } as BodyChunks,
      (acc: BodyChunks, chunk: Uint8Array): Effect.Effect<BodyChunks, BodyTooLarge> => {
        acc.size += chunk.length
        if (acc.size > maxBytes) return Effect.fail(new BodyTooLarge(maxBytes))
        acc.chunks.push(chunk)
        return Effect.succeed(acc)
      }
    ),
    Effect.map(({ chunks, size }) => {
      fullyRead.add(response)
      if (chunks.length === 1) return utf8.decode(chunks[0]!)
      const all = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        all.set(chunk, offset)
        offset += chunk.length
      }
      return utf8.decode(all)
    })
  )
}

const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (e) {
    return Either.left(e instanceof Error ? e.message : "invalid JSON")
  }
}

type HttpErrorFields = ConstructorParameters<typeof OktaServerError>[0]

/** The one status → tag mapping. @internal */
const errorForStatus = (
  status: number,
  fields: HttpErrorFields,
  location: string | undefined
): OktaHttpError => {
  // Fields were copied from the response and the decoded body, so constructor validation would
  // only repeat work already done; `true` skips it.
  if (status === 400) return new OktaBadRequestError(fields, true)
  if (status === 401) return new OktaUnauthorizedError(fields, true)
  if (status === 403) return new OktaForbiddenError(fields, true)
  if (status === 404) return new OktaNotFoundError(fields, true)
  if (status === 429) return new OktaRateLimitError(fields, true)
  if (status >= 500 && status <= 599) return new OktaServerError(fields, true)
  return new OktaUnexpectedStatusError(
    {
      ...fields,
      // The query of a redirect target can carry tokens or codes; keep only where it pointed.
      ...(location !== undefined ? { location: location.replace(/[?#].*$/s, "") } : {})
    },
    true
  )
}

/**
 * A non-2xx response as its typed error. The body is read (which also frees the connection, see
 * pitfalls P5) and decoded as Okta's `Error` when it is JSON of that shape; an empty or non-JSON
 * body (an HTML page from a proxy, an empty 401/403) still gives the right tag, with the
 * `WWW-Authenticate` challenge and `Content-Type` telling the rest.
 *
 * @internal
 */
export const httpError = (
  ctx: RequestContext,
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  maxBytes: number
): Effect.Effect<never, OktaHttpError | OktaTransportError> =>
  Effect.flatMap(
    // An oversized error body is not read; the status and headers still give the right error.
    Effect.catchTag(readText(ctx, response, headers, maxBytes), "BodyTooLarge", () =>
      Effect.succeed("")
    ),
    (text) => httpErrorFromText(ctx, response, headers, text)
  )

/**
 * {@link httpError} for a body already read.
 *
 * @internal
 */
export const httpErrorFromText = (
  ctx: RequestContext,
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  text: string
): Effect.Effect<never, OktaHttpError> => {
  const json = text.trim().length === 0 ? Either.left("empty") : parseJson(text)
  const body = Either.isRight(json) ? Either.getOrUndefined(decodeErrorBody(json.right)) : undefined
  const rateLimit = parseRateLimit(headers)
  const serverDate = parseDate(headers)
  const wwwAuthenticate = headers["www-authenticate"]
  const challenge = parseChallenge(wwwAuthenticate)
  const requestId = headers["x-okta-request-id"]
  const contentType = headers["content-type"]
  const fields = {
    ...ctx,
    status: response.status,
    ...(body?.errorCode !== undefined ? { errorCode: body.errorCode } : {}),
    ...(body?.errorSummary !== undefined ? { errorSummary: body.errorSummary } : {}),
    ...(body?.errorLink !== undefined ? { errorLink: body.errorLink } : {}),
    ...(body?.errorId !== undefined ? { errorId: body.errorId } : {}),
    ...(body?.errorCauses !== undefined ? { errorCauses: body.errorCauses } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(serverDate !== undefined ? { serverDate } : {}),
    ...(wwwAuthenticate !== undefined ? { wwwAuthenticate } : {}),
    ...(challenge !== undefined ? { challenge } : {}),
    ...(body === undefined && text.length > 0 && contentType !== undefined ? { contentType } : {})
  }
  return Effect.fail(errorForStatus(response.status, fields, headers["location"]))
}

/**
 * Decodes a 2xx JSON body with `schema`. Not JSON, or JSON of the wrong shape, is an
 * `OktaDecodeError` whose `issues` name paths and expectations, never values.
 *
 * @internal
 */
export const decodeJson = <A, I>(schema: Schema.Schema<A, I>) => {
  const decode = Schema.decodeUnknownEither(schema, { errors: "all" })
  return (
    ctx: RequestContext,
    response: HttpClientResponse.HttpClientResponse,
    maxBytes: number,
    headers: Headers.Headers
  ): Effect.Effect<A, OktaDecodeError | OktaTransportError> => {
    // Built only for a failure: the success path allocates nothing for it.
    const failure = (kind: "TooLarge" | "NotJson" | "Schema", issues: string) => {
      const requestId = headers["x-okta-request-id"]
      const contentType = headers["content-type"]
      return Effect.fail(
        new OktaDecodeError(
          {
            ...ctx,
            status: response.status,
            ...(requestId !== undefined ? { requestId } : {}),
            ...(contentType !== undefined ? { contentType } : {}),
            kind,
            issues
          },
          true
        )
      )
    }
    const read = Effect.catchTag(readText(ctx, response, headers, maxBytes), "BodyTooLarge", (e) =>
      failure("TooLarge", `the body is larger than ${e.maxBytes} bytes`)
    )
    return Effect.flatMap(read, (text) => {
      const json = parseJson(text)
      if (Either.isLeft(json)) {
        return failure(
          "NotJson",
          text.length === 0
            ? "the body is empty"
            : `${text.length} characters that do not parse as JSON`
        )
      }
      const decoded = decode(json.right)
      return Either.isRight(decoded)
        ? Effect.succeed(decoded.right)
        : failure("Schema", describeIssue(decoded.left.issue))
    })
  }
}

/**
 * A 2xx whose body is not used (the 204 operations). The body is still drained so the connection
 * can be reused; failing to drain it does not fail the call, which has already succeeded.
 *
 * @internal
 */
export const discardBody = (
  ctx: RequestContext,
  response: HttpClientResponse.HttpClientResponse,
  maxBytes: number,
  headers: Headers.Headers
): Effect.Effect<void> => Effect.ignore(readText(ctx, response, headers, maxBytes))
