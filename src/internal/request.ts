/**
 * An `OktaClient.execute` request as the platform's request, checked first: nothing that would
 * leave the org, change meaning on the way to the wire or die while being encoded is sent.
 *
 * @internal
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Either from "effect/Either"
import { OktaInvalidInputError } from "../errors/OktaError.js"
import { isWellFormed } from "./wellFormed.js"

/** What `execute` sends (structurally the public `OktaRequest`). @internal */
export interface RequestSpec {
  readonly operation: string
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly urlParams?: Readonly<Record<string, string>> | undefined
  readonly body?: unknown
}

// eslint-disable-next-line no-control-regex
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f]/
// A "." or ".." segment, percent-encoded or not (tested on the path with a "/" appended).
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}\//i
const METHODS: ReadonlySet<string> = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"])
/** The members of the public `OktaRequest`. */
const MEMBERS: ReadonlySet<string> = new Set([
  "operation",
  "method",
  "path",
  "urlParams",
  "body",
  "secrets",
  "replaySafe",
  "spanName",
  "spanAttributes"
])

/** The request, and its path without a query (as errors and spans name it). @internal */
export const build = (
  spec: RequestSpec
): Either.Either<
  { readonly request: HttpClientRequest.HttpClientRequest; readonly path: string },
  OktaInvalidInputError
> => {
  // It names the call in errors, spans, metrics and logs; from JavaScript it may be missing.
  const named = typeof spec.operation === "string" && spec.operation.trim() !== ""
  const invalid = (field: string, issues: string) =>
    Either.left(
      new OktaInvalidInputError({ operation: named ? spec.operation : "execute", field, issues })
    )
  if (!named) {
    return invalid("operation", "must name the call (its Okta operationId, as errors show it)")
  }
  // A member the client does not know (`headers`, from JavaScript or a spread of a wider type)
  // would be dropped without a word, and the request sent without it.
  for (const key of Object.keys(spec)) {
    if (!MEMBERS.has(key)) {
      return invalid(
        key,
        key === "headers"
          ? "is not a member of a request: the client sets the headers (the credential, Accept, User-Agent, retry and trace headers)"
          : `is not a member of a request (its members: ${[...MEMBERS].join(", ")})`
      )
    }
  }
  // The transports disagree on anything else: fetch upper-cases "get" and undici sends it as is;
  // an invalid token is a transport error on one and a thrown TypeError (a defect) on another.
  if (!METHODS.has(spec.method)) {
    const upper = typeof spec.method === "string" ? spec.method.toUpperCase() : undefined
    const meant = upper !== undefined && METHODS.has(upper) ? ` (in capitals: ${upper})` : ""
    return invalid("method", `must be one of GET, POST, PUT, PATCH or DELETE${meant}`)
  }
  const { path } = spec
  // Only a path below the org gets the org URL and its credential; a full or protocol-relative
  // URL would send the credential to another host.
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//")) {
    return invalid("path", 'must be a path below the org URL, starting with one "/"')
  }
  if (CONTROL_OR_SPACE.test(path)) {
    return invalid("path", "must not contain whitespace or control characters")
  }
  // The URL parser would send another path than the one errors and spans name: a dot segment
  // removes one before it (even the org URL's own path, behind a proxy), a backslash is a "/".
  const pathOnly = path.replace(/[?#].*$/s, "")
  if (pathOnly.includes("\\") || DOT_SEGMENT.test(`${pathOnly}/`)) {
    return invalid("path", 'must not contain "." or ".." segments or a backslash')
  }
  if (!isWellFormed(path)) {
    return invalid("path", "must be well-formed UTF-16 (it has a lone surrogate)")
  }
  let request = HttpClientRequest.make(spec.method)(path)
  if (spec.urlParams !== undefined) {
    for (const [name, value] of Object.entries(spec.urlParams)) {
      if (typeof value !== "string") return invalid(`urlParams.${name}`, "expected a string")
      if (!isWellFormed(name) || !isWellFormed(value)) {
        return invalid(`urlParams.${name}`, "must be well-formed UTF-16 (it has a lone surrogate)")
      }
    }
    request = HttpClientRequest.setUrlParams(request, spec.urlParams)
  }
  if (spec.body !== undefined) {
    // fetch refuses to send one (after the gate admitted the request) while undici sends it.
    if (spec.method === "GET") return invalid("body", "must be absent on a GET request")
    let json: string | undefined
    try {
      json = JSON.stringify(spec.body)
    } catch (error) {
      // A cycle, a BigInt, a getter or Proxy that throws: invalid input, not a defect.
      return invalid(
        "body",
        `cannot be encoded as JSON (${error instanceof Error ? error.name : typeof error} thrown)`
      )
    }
    if (json === undefined) return invalid("body", "cannot be encoded as JSON")
    request = HttpClientRequest.bodyText(request, json, "application/json")
  }
  return Either.right({ request, path: pathOnly })
}
