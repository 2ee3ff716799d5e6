/**
 * Whatever a server or a proxy answers, in whatever order: every call ends in its value or in one
 * of the typed errors its signature lists. Never a defect, an interruption or a hang, never more
 * attempts than the retry policy allows, and never a credential (the API token, an access token,
 * the private key) in an error, a log line or a span. Generated answers: any status, Okta's
 * rate-limit headers with plausible and absurd values, `Date`, `Retry-After`, `WWW-Authenticate`,
 * `Location`, content types, bodies of any shape (and ones that echo the request), dropped
 * connections; with OAuth, the token endpoint's answers too. Then over a loopback socket on each
 * transport, with what only a wire can do (chunks, gzip real or claimed, a body cut short), and
 * every transport must end a call on the same answer the same way.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  type Duration,
  Effect,
  Exit,
  FastCheck as fc,
  HashMap,
  Layer,
  Logger,
  LogLevel,
  Redacted,
  Schema,
  Tracer
} from "effect"
import { FetchHttpClient } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { generateKeyPairSync } from "node:crypto"
import type { ServerResponse } from "node:http"
import { gzipSync } from "node:zlib"
import {
  ApplicationConnections,
  OktaClient,
  type OktaConfigError,
  OktaError,
  OktaFetch,
  RetryPolicy
} from "../src/index.js"
import { withAdvancingClock } from "../src/testing/index.js"
import { OktaUndici } from "../src/undici/index.js"
import { loopbackServer } from "./support/loopback.js"
import { type Operation, OPERATIONS } from "./support/operations.js"
import {
  connectionsWith,
  ORG,
  type Reply,
  scriptedHttp,
  TOKEN,
  type WireRequest
} from "./support/TestHttp.js"

const APP = "0oasimzscaler0000001"
const CONNECTION = JSON.stringify({
  authScheme: "TOKEN",
  status: "ENABLED",
  profile: { authScheme: "TOKEN" },
  _links: {}
})
const OKTA_ERROR = JSON.stringify({
  errorCode: "E0000047",
  errorSummary: "API call exceeded rate limit due to too many requests.",
  errorLink: "E0000047",
  errorId: "oae1",
  errorCauses: []
})

// Header values: Okta's own (small epoch seconds lie near the TestClock's start, so some resets
// are plausible), and what a broken server or a proxy sends.
const text = fc.string({ maxLength: 24 })
const number = fc.oneof(
  fc.integer({ min: -5, max: 200 }).map(String),
  fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }).map(String),
  fc.constantFrom("", "NaN", "1e309", "10, 10", "0x10", "1.5", "Infinity", "-0")
)
const date = fc.oneof(
  fc.integer({ min: 0, max: 300 }).map((s) => new Date(s * 1000).toUTCString()),
  fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
  text
)
const headers = fc.record(
  {
    "x-rate-limit-limit": number,
    "x-rate-limit-remaining": number,
    "x-rate-limit-reset": number,
    date,
    "retry-after": fc.oneof(number, date),
    "www-authenticate": fc.oneof(
      text,
      fc.constantFrom(
        'Bearer error="invalid_token"',
        'DPoP error="use_dpop_nonce", error_description="nonce"',
        'Bearer realm="okta", error="insufficient_scope", scope="okta.apps.manage"',
        'Bearer error="',
        "SSWS"
      )
    ),
    "content-type": fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/problem+json",
      "text/html",
      "text/plain",
      "application/octet-stream",
      ";;"
    ),
    location: fc.oneof(fc.webUrl({ withQueryParameters: true }), text),
    "x-okta-request-id": text
  },
  { requiredKeys: [] }
)
const body = fc.oneof(
  fc.constant(CONNECTION),
  fc.constant(OKTA_ERROR),
  fc.constant("<html><body>Sign in</body></html>"),
  fc.constant(""),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  text
)
/** One answer: a response (its body maybe an echo of the request), or a dropped connection. */
const answer = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      status: fc.oneof(
        fc.constantFrom(200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 405, 409, 415, 429),
        fc.constantFrom(500, 502, 503, 504),
        fc.integer({ min: 200, max: 599 })
      ),
      headers,
      body,
      echo: fc.boolean()
    })
  },
  { weight: 1, arbitrary: fc.constantFrom<"drop" | "refused">("drop", "refused") }
)
type Answer = typeof answer extends fc.Arbitrary<infer A> ? A : never

// Statuses whose responses carry no body (the Fetch standard's Response refuses one).
const NULL_BODY = new Set([204, 205, 304])

const reply = (answer: Answer, request: WireRequest): Reply => {
  if (answer === "drop") return { drop: true }
  if (answer === "refused") return { drop: true, code: "ECONNREFUSED" }
  // An echo repeats the request, credential included, in the body and in the challenge.
  const content = answer.echo
    ? JSON.stringify({ errorCode: "E0000001", errorSummary: JSON.stringify(request) })
    : answer.body
  const challenge = answer.echo
    ? {
        "www-authenticate": `Bearer error="invalid_token", error_description="${request.headers["authorization"] ?? ""}"`
      }
    : {}
  return new Response(NULL_BODY.has(answer.status) ? null : content, {
    status: answer.status,
    headers: { ...answer.headers, ...challenge }
  })
}

const isOktaError = Schema.is(OktaError)
const POLICY = RetryPolicy.make({ maxRetries: 3 })
// Each property takes a few seconds alone; more when the other suites share the two cores.
const PROPS = { timeout: 60_000, fastCheck: { seed: 20261203, numRuns: 150 } }

const call = {
  operation: fc.constantFrom(...OPERATIONS),
  // With a tracer installed, a span per attempt and trace headers sent: errors leave spans too.
  traced: fc.boolean(),
  deadline: fc.constantFrom<Duration.DurationInput | undefined>(undefined, "5 seconds", "2 minutes")
}

const tracing = (traced: boolean) =>
  traced ? ({ tracing: "exchanges", tracerPropagation: true } as const) : {}

/**
 * Runs `effect` with every log line (debug included) recorded, and with `traced`, under a tracer
 * of the application's (Effect's own, under another identity: the client makes spans only for a
 * tracer the application installed) whose spans' names, attributes and events are recorded:
 * what a secret must never reach.
 */
const watched = <A, E, R>(effect: Effect.Effect<A, E, R>, traced: boolean) =>
  Effect.suspend(() => {
    const seen: Array<unknown> = []
    const logger = Logger.make(({ annotations, message }) => {
      seen.push([message, [...HashMap.toEntries(annotations)]])
    })
    const logged = effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
    const run = traced
      ? Effect.flatMap(Effect.tracer, (native) =>
          logged.pipe(
            Effect.withSpan("caller"),
            Effect.withTracer(
              Tracer.make({
                span: (...args) => {
                  const span = native.span(...args)
                  seen.push([span.name, span.attributes])
                  const event = span.event.bind(span)
                  span.event = (name, time, attributes) => {
                    seen.push([name, attributes])
                    event(name, time, attributes)
                  }
                  return span
                },
                context: native.context
              })
            )
          )
        )
      : logged
    return Effect.map(run, (value) => ({
      value,
      // Attributes are read once the run is over: set late ones included.
      seen: () => JSON.stringify(seen, (_key, v: unknown) => (v instanceof Map ? [...v] : v))
    }))
  })

/**
 * Runs the operation twice at once over `layer` (so that the second call meets the gate and the
 * credential the first one left) and checks how each call ended; `secrets` must appear in no
 * error, log line or span.
 */
const twoCalls = (
  { call, noBody }: Operation,
  traced: boolean,
  layer: Layer.Layer<ApplicationConnections, OktaConfigError>,
  secrets: ReadonlyArray<string>
) =>
  Effect.gen(function* () {
    const once = Effect.flatMap(ApplicationConnections, (api) => call(api, APP))
    const { value: exits, seen } = yield* watched(
      withAdvancingClock(
        Effect.all([Effect.exit(once), Effect.exit(once)], { concurrency: 2 })
      ).pipe(Effect.provide(layer)),
      traced
    )
    for (const exit of exits) expectTyped(exit, noBody, secrets)
    for (const secret of secrets) expect(seen()).not.toContain(secret)
  })

/**
 * A call's value, or exactly one failure, an `OktaError` its signature allows (no
 * `OktaDecodeError` where there is no body to decode): no defect, no interruption, and none of
 * `secrets` in what the error says.
 */
const expectTyped = (
  exit: Exit.Exit<unknown, unknown>,
  noBody: boolean,
  secrets: ReadonlyArray<string>
) => {
  if (Exit.isSuccess(exit)) return
  expect(Chunk.toArray(Cause.defects(exit.cause))).toEqual([])
  expect(Cause.isInterrupted(exit.cause)).toBe(false)
  const failures = Chunk.toArray(Cause.failures(exit.cause))
  expect(failures).toHaveLength(1)
  const error = failures[0]
  expect(isOktaError(error)).toBe(true)
  if (noBody) expect(error).not.toHaveProperty("_tag", "OktaDecodeError")
  const said = `${String(error)} ${JSON.stringify(error)}`
  for (const secret of secrets) expect(said).not.toContain(secret)
}

/** The n-th of `answers` for the n-th request (`count` of them so far); the last one repeats. */
const nth = <A>(answers: ReadonlyArray<A>, count: number): A =>
  answers[Math.min(count - 1, answers.length - 1)]!

describe("any answer, in any order", () => {
  it.effect.prop(
    "with an API token: each of two concurrent calls ends in its value or a typed error, within the retry policy",
    { ...call, answers: fc.array(answer, { minLength: 1, maxLength: 4 }) },
    ({ operation, traced, answers, deadline }) =>
      Effect.gen(function* () {
        const { requests, layer } = connectionsWith(
          (request) => reply(nth(answers, requests.length), request),
          { retry: POLICY, ...tracing(traced), ...(deadline !== undefined ? { deadline } : {}) }
        )
        yield* twoCalls(operation, traced, layer, [TOKEN])
        expect(requests.length).toBeLessThanOrEqual(2 * (POLICY.maxRetries + 1))
      }),
    PROPS
  )

  // The token endpoint answers anything too: tokens (bearer, DPoP-bound, already expired), OAuth
  // refusals (a DPoP nonce asked for, DPoP demanded), and whatever an API request may get.
  const ACCESS_TOKEN = "at-SECRET-access-token-4c1d"
  const rsa = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" }
  })
  const tokenAnswer = fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .record({
          token_type: fc.constantFrom("Bearer", "DPoP", "bearer", "N_A"),
          expires_in: fc.oneof(fc.constantFrom(3600, 1, 0, -60, 1e12), fc.double())
        })
        .map((token) => ({
          status: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ access_token: ACCESS_TOKEN, scope: "okta.apps.read", ...token }),
          echo: false
        }))
    },
    {
      weight: 2,
      arbitrary: fc
        .record({
          status: fc.constantFrom(400, 401, 403, 429, 500),
          error: fc.constantFrom(
            "invalid_client",
            "use_dpop_nonce",
            "invalid_dpop_proof",
            "invalid_scope",
            "server_error"
          ),
          nonce: fc.option(text, { nil: undefined })
        })
        .map(({ status, error, nonce }) => ({
          status,
          headers: {
            "content-type": "application/json",
            ...(nonce !== undefined ? { "dpop-nonce": nonce } : {})
          },
          body: JSON.stringify({ error, error_description: `${error} (generated)` }),
          echo: false
        }))
    },
    { weight: 2, arbitrary: answer }
  )
  // The RSA key's middle line: no error may carry any of the private key.
  const KEY_SECRET = rsa.privateKey.split("\n")[5]!

  it.effect.prop(
    "with an OAuth 2.0 service app: the same, whatever the token endpoint answers",
    {
      ...call,
      answers: fc.array(answer, { minLength: 1, maxLength: 4 }),
      tokenAnswers: fc.array(tokenAnswer, { minLength: 1, maxLength: 4 })
    },
    ({ operation, traced, answers, tokenAnswers, deadline }) =>
      Effect.gen(function* () {
        let tokenRequests = 0
        let apiRequests = 0
        const http = scriptedHttp((request) =>
          request.path === "/oauth2/v1/token"
            ? reply(nth(tokenAnswers, ++tokenRequests), request)
            : reply(nth(answers, ++apiRequests), request)
        )
        const layer = ApplicationConnections.layer.pipe(
          Layer.provide(
            OktaClient.layer({
              orgUrl: ORG,
              oauth: {
                clientId: "0oaserviceapp0000001",
                privateKey: Redacted.make(rsa.privateKey),
                scopes: ["okta.apps.read", "okta.apps.manage"]
              },
              retry: POLICY,
              ...tracing(traced),
              ...(deadline !== undefined ? { deadline } : {})
            })
          ),
          Layer.provide(http.layer)
        )
        yield* twoCalls(operation, traced, layer, [ACCESS_TOKEN, KEY_SECRET])
      }),
    PROPS
  )
})

// The same over real sockets and each transport, one attempt (no retry: real time passes), with
// what only a wire can do: chunks, gzip (real, or claimed over a plain body), a declared length
// longer than the body, a connection closed mid-body, a body over the size cap.
describe("any answer on the wire", () => {
  const transports = {
    OktaFetch: OktaFetch.layer(),
    FetchHttpClient: FetchHttpClient.layer,
    OktaUndici: Layer.orDie(OktaUndici.layer()),
    "NodeHttpClient.layerUndici": NodeHttpClient.layerUndici,
    "NodeHttpClient.layer": NodeHttpClient.layer
  }
  const wireAnswer = fc.record({
    status: fc.oneof(
      fc.constantFrom(200, 204, 302, 304, 401, 403, 404, 421, 429, 500, 503),
      fc.integer({ min: 200, max: 599 })
    ),
    headers,
    body,
    framing: fc.constantFrom("length", "chunked", "gzip", "gzip-lie", "short", "cut")
  })
  type WireAnswer = typeof wireAnswer extends fc.Arbitrary<infer A> ? A : never

  const serve = (answer: WireAnswer, response: ServerResponse) => {
    const bytes = Buffer.from(answer.body)
    const { status, framing } = answer
    if (NULL_BODY.has(status)) return response.writeHead(status, answer.headers).end()
    const payload = framing === "gzip" ? gzipSync(bytes) : bytes
    const half = Math.ceil(payload.length / 2)
    const declared =
      framing === "length"
        ? { "content-length": String(bytes.length) }
        : framing === "short"
          ? { "content-length": String(bytes.length + 10) }
          : framing === "gzip" || framing === "gzip-lie"
            ? { "content-encoding": "gzip" }
            : {}
    response.writeHead(status, { ...answer.headers, ...declared })
    response.write(payload.subarray(0, half))
    // The connection ends before the body does.
    if (framing === "short" || framing === "cut") return response.socket?.destroy()
    response.end(payload.subarray(half))
  }

  /** `operation` on `transport` to the server at `url`, one attempt (no retry: real time passes). */
  const oneAttempt = (
    operation: Operation,
    url: string,
    transport: (typeof transports)[keyof typeof transports],
    maxResponseBytes: number | undefined
  ) =>
    Effect.flatMap(ApplicationConnections, (api) => operation.call(api, APP)).pipe(
      Effect.provide(
        ApplicationConnections.layer.pipe(
          Layer.provide(
            OktaClient.layer({
              orgUrl: url,
              apiToken: Redacted.make(TOKEN),
              retry: false,
              timeout: "5 seconds",
              ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {})
            })
          ),
          Layer.provide(transport)
        )
      )
    )

  it.live.prop(
    "each call ends in its value or a typed error, on every transport",
    {
      operation: call.operation,
      transport: fc.constantFrom(...(Object.keys(transports) as Array<keyof typeof transports>)),
      maxResponseBytes: fc.constantFrom<number | undefined>(undefined, 32),
      answer: wireAnswer
    },
    ({ operation, transport, maxResponseBytes, answer }) =>
      Effect.gen(function* () {
        let requests = 0
        const { url } = yield* loopbackServer((_request, response) => {
          requests += 1
          serve(answer, response)
        })
        const { value: exit, seen } = yield* watched(
          Effect.exit(oneAttempt(operation, url, transports[transport], maxResponseBytes)),
          false
        )
        expectTyped(exit, operation.noBody, [TOKEN])
        expect(seen()).not.toContain(TOKEN)
        // One request: no retry of the client's. The Fetch standard may send one that got a 421
        // (Misdirected Request: not processed) once more, on a new connection.
        expect(requests).toBeGreaterThanOrEqual(1)
        expect(requests).toBeLessThanOrEqual(
          answer.status === 421 && transport.includes("Fetch") ? 2 : 1
        )
      }).pipe(Effect.scoped),
    { timeout: 120_000, fastCheck: { seed: 20261203, numRuns: 300 } }
  )

  /** How a call ended, as far as every transport must agree on it. */
  const outcome = (exit: Exit.Exit<unknown, unknown>) => {
    if (Exit.isSuccess(exit)) return { value: exit.value }
    const error = Cause.squash(exit.cause) as Record<string, unknown>
    return { _tag: error["_tag"], status: error["status"], kind: error["kind"] }
  }

  // Gzip stays out: whether a request asks for it, and who inflates it, is the transport's own
  // (node:http asks for nothing), and the per-transport property above covers it.
  it.live.prop(
    "the same answer ends the same way on every transport",
    {
      operation: call.operation,
      maxResponseBytes: fc.constantFrom<number | undefined>(undefined, 32),
      answer: wireAnswer.filter(({ framing }) => !framing.startsWith("gzip"))
    },
    ({ operation, maxResponseBytes, answer }) =>
      Effect.gen(function* () {
        const { url } = yield* loopbackServer((_request, response) => serve(answer, response))
        const ends = yield* Effect.forEach(Object.entries(transports), ([name, transport]) =>
          Effect.map(
            Effect.exit(oneAttempt(operation, url, transport, maxResponseBytes)),
            (exit) => [name, outcome(exit)] as const
          )
        )
        const [, first] = ends[0]!
        for (const [name, end] of ends) expect({ name, ...end }).toEqual({ name, ...first })
      }).pipe(Effect.scoped),
    { timeout: 120_000, fastCheck: { seed: 20261205, numRuns: 100 } }
  )
})
