/**
 * Reading a response: the capped body read, and JSON decoding with errors that name paths, never
 * values (the status → typed error mapping is in `httpError.ts`).
 *
 * @internal
 */
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import type * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { OktaDecodeError, OktaTransportError } from "../errors/OktaError.js"
import { type Source, sourceOf } from "./fetchBody.js"
import { parseJson } from "./httpError.js"
import { describeIssue } from "./issues.js"
import { credentialSecrets, scrubHeaders } from "./secrets.js"
import { type Call, describeCause, OVER_CAP_CODE, pairedBody, transportError } from "./transport.js"

/**
 * The body was larger than the cap; reading stopped there. `maxBytes` is undefined when the cap
 * was the transport's own (an undici `Agent` of the application's with a smaller
 * `maxResponseSize`). @internal
 */
export class TooLarge {
  readonly _tag = "TooLarge"
  constructor(readonly maxBytes: number | undefined) {}
}

const utf8 = new TextDecoder()

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  if (chunks.length === 1) return chunks[0]!
  const all = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    all.set(chunk, offset)
    offset += chunk.length
  }
  return all
}

/**
 * A fetch body, read with its own reader; the read is cancelled past the cap, on interruption, and
 * when the request's signal aborts (then it fails, even if the fetch ignored the signal).
 */
const readWebBody = (
  call: Call,
  status: number,
  { response: source, signal: request }: Source,
  maxBytes: number
): Effect.Effect<string, OktaTransportError | TooLarge> =>
  Effect.tryPromise({
    try: async (signal) => {
      if (source.body === null) return ""
      const reader = source.body.getReader()
      const cancel = () => void reader.cancel().catch(() => {})
      signal.addEventListener("abort", cancel, { once: true })
      request?.addEventListener("abort", cancel, { once: true })
      if (request?.aborted === true) cancel()
      try {
        const chunks: Array<Uint8Array> = []
        let size = 0
        while (true) {
          const { done, value } = await reader.read()
          // A cancelled read ends as if the body had: the abort is the failure.
          if (request?.aborted === true) throw request.reason
          if (done) return size === 0 ? "" : utf8.decode(concat(chunks, size))
          size += value.length
          if (size > maxBytes) {
            cancel()
            throw new TooLarge(maxBytes)
          }
          chunks.push(value)
        }
      } finally {
        signal.removeEventListener("abort", cancel)
        request?.removeEventListener("abort", cancel)
      }
    },
    catch: readFailure(call, status)
  })

/**
 * undici's own cap (the `maxResponseSize` of an undici `Agent` of the application's) stopped the
 * body: its error, or fetch's `TypeError: terminated` around it.
 */
const overCapCause = (cause: unknown): boolean => {
  const error = cause as { readonly code?: unknown; readonly cause?: unknown } | null | undefined
  return (
    error?.code === OVER_CAP_CODE ||
    (error?.cause as { readonly code?: unknown } | null | undefined)?.code === OVER_CAP_CODE
  )
}

/** A body read that failed: past a cap, or the transport's failure after the response came. */
const readFailure =
  (call: Call, status: number) =>
  (cause: unknown): OktaTransportError | TooLarge =>
    cause instanceof TooLarge
      ? cause
      : overCapCause(cause)
        ? new TooLarge(undefined)
        : new OktaTransportError({
            ...call,
            reason: describeCause(cause),
            afterResponse: true,
            connectFailed: false,
            status
          })

/**
 * How much of a body the client reads. `transportCapped`: the transport itself fails a body past
 * `maxBytes` (see `transport.ts`), so the one-shot read is capped too. @internal
 */
export interface BodyLimit {
  readonly maxBytes: number
  readonly transportCapped: boolean
}

const overCap = (error: HttpClientError.HttpClientError): boolean =>
  error._tag === "ResponseError" && overCapCause(error.cause)

/**
 * Reads the body as text, at most `maxBytes` of what the client receives (after decompression):
 * a fetch `Response` with fetch's own reader (cheaper than the platform's one-shot `text`, see
 * bench/README.md); an undici body `OktaUndici.layer` paired, with undici's `text` (likewise);
 * a declared `Content-Length` without `Content-Encoding`, or any body on a transport that caps
 * it, with the one-shot read; anything else through the platform's stream, abandoned as soon as
 * the cap is passed.
 */
const readText = (
  call: Call,
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  { maxBytes, transportCapped }: BodyLimit
): Effect.Effect<string, OktaTransportError | TooLarge> => {
  const declared = headers["content-length"]
  const encoding = headers["content-encoding"]
  const bounded =
    declared !== undefined &&
    /^\d+$/.test(declared) &&
    (encoding === undefined || encoding === "identity")
  if (bounded && Number(declared) > maxBytes) return Effect.fail(new TooLarge(maxBytes))
  const source = sourceOf(response)
  if (source !== undefined) return readWebBody(call, response.status, source, maxBytes)
  const body = transportCapped ? pairedBody(response) : undefined
  if (body !== undefined && !body.bodyUsed) {
    const failed = readFailure(call, response.status)
    return Effect.tryPromise({
      try: () => body.text(),
      // undici's own cap (the transport's `maxResponseSize`) stopped the body.
      catch: (cause) =>
        failed(
          (cause as { readonly code?: unknown } | null)?.code === OVER_CAP_CODE
            ? new TooLarge(maxBytes)
            : cause
        )
    })
  }
  if (bounded || transportCapped) {
    return Effect.mapError(response.text, (error) =>
      overCap(error)
        ? new TooLarge(transportCapped ? maxBytes : undefined)
        : transportError(call, error)
    )
  }
  // `Stream.toPull` is the cheapest way to consume the platform's body stream (measured against
  // `runFold`, `runForEachChunk` and `runCollect`, see bench/README.md).
  return Effect.scoped(
    Effect.flatMap(Stream.toPull(response.stream), (pull) => {
      const chunks: Array<Uint8Array> = []
      let size = 0
      const loop: Effect.Effect<string, OktaTransportError | TooLarge> = Effect.matchEffect(pull, {
        onFailure: (error) =>
          Option.isNone(error)
            ? Effect.succeed(size === 0 ? "" : utf8.decode(concat(chunks, size)))
            : // A response without a body is an empty one here.
              error.value.reason === "EmptyBody"
              ? Effect.succeed("")
              : Effect.fail(
                  // An undici `Agent` of the application's may cap bodies below `maxBytes`.
                  overCap(error.value) ? new TooLarge(undefined) : transportError(call, error.value)
                ),
        onSuccess: (chunk) => {
          for (const bytes of chunk) {
            size += bytes.length
            if (size > maxBytes) return Effect.fail(new TooLarge(maxBytes))
            chunks.push(bytes)
          }
          return loop
        }
      })
      return loop
    })
  )
}

/**
 * The body of a response that is not the call's result (an error, a token answer); `undefined`
 * for one past the size cap, which is not read.
 *
 * @internal
 */
export const readErrorText = (
  call: Call,
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  limit: BodyLimit
): Effect.Effect<string | undefined, OktaTransportError> =>
  Effect.catchTag(readText(call, response, headers, limit), "TooLarge", () =>
    Effect.succeed(undefined)
  )

/**
 * gzip's magic bytes and method (1f 8b 08) as UTF-8 decoding leaves them: a body a server
 * compressed unasked, or that a header the application added asked for, on a transport that
 * does not decompress.
 */
const looksGzipped = (text: string) => text.startsWith("\u001f\ufffd\u0008")

// One decoder per schema, built on first use (the operations decode with the same few schemas).
const decoders = new WeakMap<
  object,
  (u: unknown) => Either.Either<unknown, ParseResult.ParseError>
>()
const decoderOf = <A, I>(schema: Schema.Schema<A, I>) => {
  let decode = decoders.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownEither(schema, { errors: "all" })
    decoders.set(schema, decode)
  }
  return decode as (u: unknown) => Either.Either<A, ParseResult.ParseError>
}

/**
 * A received response as the decoder of `OktaClient.execute` sees it (see `OktaResponse`). Its
 * `text` is read once and shared; `json` decodes it with a schema. Its errors take the headers
 * they copy scrubbed of `secrets` and the request's credential, as a non-2xx response's do.
 *
 * @internal
 */
export const makeResponse = (
  call: Call,
  response: HttpClientResponse.HttpClientResponse,
  headers: Headers.Headers,
  limit: BodyLimit,
  secrets: ReadonlyArray<string>
) => {
  const decodeError = (kind: "TooLarge" | "NotJson" | "Schema", issues: string) => {
    const sent = credentialSecrets(response.request.headers)
    const copied = scrubHeaders(headers, [...secrets, ...sent])
    const requestId = copied["x-okta-request-id"]
    const contentType = copied["content-type"]
    return new OktaDecodeError(
      {
        ...call,
        status: response.status,
        ...(requestId !== undefined ? { requestId } : {}),
        ...(contentType !== undefined ? { contentType } : {}),
        kind,
        issues
      },
      true
    )
  }
  // The body is read once, however many times (and from however many fibers) `text` is used:
  // the first reader reads under one `onExit`, the others wait. A read interrupted part-way has
  // taken some of the body or cancelled it, so the readers after it fail, saying so (a second
  // read would see the rest of the body, or none of it).
  type Read = Effect.Effect<string, OktaTransportError | OktaDecodeError>
  let done: Exit.Exit<string, OktaTransportError | OktaDecodeError> | undefined
  let reading = false
  const waiters: Array<Deferred.Deferred<void>> = []
  const read: Read = Effect.suspend((): Read => {
    if (done !== undefined) return done
    if (reading) {
      const waiter = Deferred.unsafeMake<void>(FiberId.none)
      waiters.push(waiter)
      return Effect.zipRight(Deferred.await(waiter), read)
    }
    reading = true
    const once = Effect.catchTag(readText(call, response, headers, limit), "TooLarge", (e) =>
      Effect.fail(
        decodeError(
          "TooLarge",
          e.maxBytes !== undefined
            ? `more than ${e.maxBytes} bytes, the maxResponseBytes limit`
            : "more than the HTTP client's own limit (its undici Agent's maxResponseSize)"
        )
      )
    )
    return Effect.onExit(once, (exit) =>
      Effect.sync(() => {
        done =
          Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
            ? Exit.fail(
                new OktaTransportError({
                  ...call,
                  reason:
                    "an earlier read of it was interrupted part-way; a body is read only once",
                  afterResponse: true,
                  connectFailed: false,
                  status: response.status
                })
              )
            : exit
        reading = false
        if (waiters.length > 0) {
          for (const waiter of waiters.splice(0)) Deferred.unsafeDone(waiter, Exit.void)
        }
      })
    )
  })
  return {
    status: response.status,
    headers,
    text: read,
    /** Whether a decoder started reading the body. */
    get bodyRead() {
      return done !== undefined || reading
    },
    json: <A, I>(
      schema: Schema.Schema<A, I>
    ): Effect.Effect<A, OktaTransportError | OktaDecodeError> => {
      const decode = decoderOf(schema)
      return Effect.flatMap(read, (text) => {
        const json = parseJson(text)
        if (Either.isLeft(json)) {
          const issues =
            text.length === 0
              ? "the body is empty"
              : looksGzipped(text)
                ? `the body is gzip-compressed and the transport did not decompress it (undici and node:http hand over the bytes as sent; ${
                    /gzip/i.test(response.request.headers["accept-encoding"] ?? "")
                      ? "the request's Accept-Encoding asked for gzip: leave it unset on them"
                      : "the request did not ask for gzip"
                  })`
                : text.length === 1
                  ? "1 character that does not parse as JSON"
                  : `${text.length} characters that do not parse as JSON`
          return Effect.fail(decodeError("NotJson", issues))
        }
        const decoded = decode(json.right)
        return Either.isRight(decoded)
          ? Effect.succeed(decoded.right)
          : Effect.fail(decodeError("Schema", describeIssue(decoded.left.issue)))
      })
    }
  }
}
