/**
 * The body read on every wire form Okta may use, on fetch, undici and node:http against a loopback
 * server: chunked (what Okta sends), gzip (when the request accepts it) and a declared
 * Content-Length. The cap holds on the bytes the client receives after decompression, whatever
 * the headers say, on an HttpClient of the application's own too.
 */
import {
  FetchHttpClient,
  HttpClient,
  HttpClientError,
  HttpClientRequest,
  HttpClientResponse
} from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Fiber, Layer, Option, Redacted, Schema, TestClock } from "effect"
import { createServer } from "node:http"
import type { Socket } from "node:net"
import { gzipSync } from "node:zlib"
import * as Undici from "@effect/platform-node/Undici"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientOptions,
  OktaFetch,
  type OktaResponse,
  type OktaTransportError
} from "../src/index.js"
import { OktaSimulator, SimulatorServer } from "../src/testing/index.js"
import { isPermanent, registerTransport, transportError } from "../src/internal/transport.js"
import { OktaUndici } from "../src/undici/index.js"
import {
  listening,
  loopbackServer,
  refusingProxy,
  tunnellingProxy,
  untrustedTlsServer
} from "./support/loopback.js"

const CAP = 64 * 1024
const ORG = "https://acme.okta.com"
const small = JSON.stringify({ id: "0oa1", label: "Acme SCIM" })
const Small = Schema.Struct({ id: Schema.String, label: Schema.String })
// A JSON string value of `size` bytes in all.
const sized = (size: number) => `"${"x".repeat(size - 2)}"`

/** A GET through the client on `transport` to `orgUrl`. */
const getThrough = <E>(
  orgUrl: string,
  transport: Layer.Layer<HttpClient.HttpClient, E>,
  settings: { readonly retry?: false } = {}
) =>
  Effect.flatMap(ApplicationConnections, (api) =>
    api.getDefaultProvisioningConnectionForApplication("0oa1gjh63g214q0Hq0g4")
  ).pipe(
    Effect.provide(
      ApplicationConnections.layer.pipe(
        Layer.provide(OktaClient.layer({ orgUrl, apiToken: Redacted.make("00t"), ...settings })),
        Layer.provide(transport)
      )
    )
  )

/** How a GET through the client on `transport` to `orgUrl` fails. */
const failureOf = <E>(
  orgUrl: string,
  transport: Layer.Layer<HttpClient.HttpClient, E>,
  settings: { readonly retry?: false } = {}
) => Effect.flip(getThrough(orgUrl, transport, settings))

interface Seen {
  readonly path: string
  readonly acceptEncoding: string | undefined
  readonly gzip: boolean
  readonly requestedBy: string | undefined
}

// Each test gets its own server, and its own record of what the server saw.
const server = Effect.suspend(() => {
  const seen: Array<Seen> = []
  return Effect.map(
    loopbackServer((req, res) => {
      const path = req.url ?? "/"
      const acceptEncoding = req.headers["accept-encoding"]
      const accepts = /\bgzip\b/.test(acceptEncoding ?? "")
      const json = { "content-type": "application/json" }
      const chunked = (text: string) => {
        res.writeHead(200, json)
        // Two writes: the body arrives in more than one chunk.
        res.write(text.slice(0, Math.floor(text.length / 2)))
        res.end(text.slice(Math.floor(text.length / 2)))
      }
      const gzip = (text: string) => {
        const packed = gzipSync(text)
        // A declared length that is the compressed size, far under the cap.
        res.writeHead(200, { ...json, "content-encoding": "gzip", "content-length": packed.length })
        res.end(packed)
      }
      const send = (text: string, form: string) => {
        const requestedBy = req.headers["x-requested-by"]
        seen.push({
          path,
          acceptEncoding,
          gzip: form === "gzip" && accepts,
          requestedBy: typeof requestedBy === "string" ? requestedBy : undefined
        })
        if (form === "gzip" && accepts) return gzip(text)
        // A hostile server compresses whether or not the request asked for it.
        if (form === "forcegzip") return gzip(text)
        if (form === "length") {
          res.writeHead(200, { ...json, "content-length": Buffer.byteLength(text) })
          return res.end(text)
        }
        return chunked(text)
      }
      const [, form = "chunked", size] = path.split("/")
      send(size === undefined ? small : sized(Number(size)), form)
    }),
    ({ url }) => ({ url, seen })
  )
})

const transports = [
  ["FetchHttpClient", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
  // node:http, the platform's other Node transport: it neither asks for gzip nor inflates it.
  ["NodeHttpClient.layer", NodeHttpClient.layer],
  // undici enforces the cap; the client reads every body in one go.
  [
    "OktaUndici.layer, capped at the client's cap",
    Layer.orDie(OktaUndici.layer({ maxResponseBytes: CAP }))
  ],
  // A transport cap over the client's: the client counts the bytes itself.
  ["OktaUndici.layer, capped above it", Layer.orDie(OktaUndici.layer())],
  // fetch through this package's layer: the same read as on FetchHttpClient.layer.
  ["OktaFetch.layer", OktaFetch.layer()]
] as const

describe.each(transports)("the capped read over %s", (_name, transport) => {
  const withClient = <A, E>(
    url: string,
    f: (client: OktaClient["Type"]) => Effect.Effect<A, E>,
    settings: Pick<OktaClientOptions, "transformClient"> = {}
  ) =>
    Effect.flatMap(OktaClient, f).pipe(
      Effect.provide(
        OktaClient.layer({
          orgUrl: url,
          apiToken: Redacted.make("00t"),
          maxResponseBytes: CAP,
          retry: false,
          ...settings
        }).pipe(Layer.provide(transport as Layer.Layer<HttpClient.HttpClient>))
      )
    )
  const probe = <A, E>(path: string, decode: (response: OktaResponse) => Effect.Effect<A, E>) => ({
    request: { operation: "probe", method: "GET" as const, path },
    decode
  })

  it.live("decodes chunked, gzip and declared-length bodies alike", () =>
    Effect.gen(function* () {
      const { url, seen } = yield* server
      for (const form of ["chunked", "gzip", "length"]) {
        const { request, decode } = probe(`/${form}`, (r) => r.json(Small))
        const value = yield* withClient(url, (client) => client.execute(request, decode))
        expect(value).toEqual({ id: "0oa1", label: "Acme SCIM" })
      }
      // fetch asks for gzip and gets it; undici's request API does not ask.
      const gzipped = seen.find((s) => s.path === "/gzip")!
      expect(gzipped.gzip).toBe(_name === "FetchHttpClient" || _name === "OktaFetch.layer")
    }).pipe(Effect.scoped)
  )

  it.live("a body of exactly the cap is read; one byte more is TooLarge, on every form", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      for (const form of ["chunked", "gzip", "length"]) {
        const exact = yield* withClient(url, (client) =>
          client.execute(
            { operation: "probe", method: "GET", path: `/${form}/${CAP}` },
            (r) => r.text
          )
        )
        expect(exact.length).toBe(CAP)
        const over = yield* withClient(url, (client) =>
          Effect.flip(
            client.execute(
              { operation: "probe", method: "GET", path: `/${form}/${CAP + 1}` },
              (r) => r.text
            )
          )
        )
        expect(over).toMatchObject({ _tag: "OktaDecodeError", kind: "TooLarge", status: 200 })
      }
    }).pipe(Effect.scoped)
  )

  it.live("a gzip body that inflates far past the cap stops at the cap", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      // 16 MiB of JSON sent as a few KiB of gzip with a declared (compressed) length.
      const result = yield* withClient(url, (client) =>
        Effect.either(
          client.execute(
            { operation: "probe", method: "GET", path: `/gzip/${16 * 1024 * 1024}` },
            (r) => Effect.map(r.text, (text) => text.length)
          )
        )
      )
      expect(Either.isLeft(result) ? result.left : result.right).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "TooLarge"
      })
    }).pipe(Effect.scoped)
  )

  it.live("gzip the transport does not inflate is named as such, not as bad JSON", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const result = yield* withClient(url, (client) =>
        Effect.either(
          client.execute({ operation: "probe", method: "GET", path: "/forcegzip" }, (r) =>
            r.json(Small)
          )
        )
      )
      if (_name === "FetchHttpClient" || _name === "OktaFetch.layer") {
        // fetch inflates whatever it gets.
        expect(result).toEqual(Either.right({ id: "0oa1", label: "Acme SCIM" }))
      } else {
        const error = Either.flip(result).pipe(Either.getOrThrow)
        expect(error).toMatchObject({ _tag: "OktaDecodeError", kind: "NotJson" })
        expect(error.message).toContain(
          "the body is gzip-compressed and the transport did not decompress it"
        )
        expect(error.message).toContain("the request did not ask for gzip")
      }
      // A header the application adds, asking for gzip on a transport that does not inflate.
      const asked = yield* withClient(
        url,
        (client) =>
          Effect.either(
            client.execute({ operation: "probe", method: "GET", path: "/gzip" }, (r) =>
              r.json(Small)
            )
          ),
        {
          transformClient: HttpClient.mapRequest(
            HttpClientRequest.setHeader("accept-encoding", "gzip")
          )
        }
      )
      if (_name === "FetchHttpClient" || _name === "OktaFetch.layer") {
        expect(asked).toEqual(Either.right({ id: "0oa1", label: "Acme SCIM" }))
      } else {
        const error = Either.flip(asked).pipe(Either.getOrThrow)
        expect(error.message).toContain(
          "the request's Accept-Encoding asked for gzip: leave it unset on them"
        )
      }
    }).pipe(Effect.scoped)
  )

  it.live("gzip the request did not ask for: capped after inflating, or never inflated", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const error = yield* withClient(url, (client) =>
        Effect.flip(
          client.execute(
            { operation: "probe", method: "GET", path: `/forcegzip/${128 * 1024 * 1024}` },
            (r) => r.json(Small)
          )
        )
      )
      // fetch inflates whatever it gets, and the cap stops the read a little past 64 KiB of the
      // 128 MiB. undici's request API hands over the bytes as sent: 128 KiB of gzip, past the cap
      // too. (Compared by fields: a failed match would print the whole error.)
      expect([error._tag, error._tag === "OktaDecodeError" ? error.kind : "-"]).toEqual([
        "OktaDecodeError",
        "TooLarge"
      ])
    }).pipe(Effect.scoped)
  )

  it.live("the body is read once: text and json agree; a decoder may ignore it", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const both = yield* withClient(url, (client) =>
        client.execute({ operation: "probe", method: "GET", path: "/chunked" }, (r) =>
          Effect.all([r.text, r.json(Small), r.text])
        )
      )
      expect(both).toEqual([small, { id: "0oa1", label: "Acme SCIM" }, small])
      // From several fibers at once: one reads, the others wait for it.
      const together = yield* withClient(url, (client) =>
        client.execute({ operation: "probe", method: "GET", path: "/chunked" }, (r) =>
          Effect.all([r.text, r.json(Small), r.text], { concurrency: "unbounded" })
        )
      )
      expect(together).toEqual(both)
      const statuses = yield* withClient(url, (client) =>
        Effect.all(
          [1, 2, 3].map(() =>
            client.execute({ operation: "probe", method: "GET", path: "/chunked" }, (r) =>
              Effect.succeed(r.status)
            )
          )
        )
      )
      expect(statuses).toEqual([200, 200, 200])
    }).pipe(Effect.scoped)
  )

  it.effect("a read interrupted part-way spends the body: the reads after it say so", () =>
    Effect.gen(function* () {
      // Half of the body now, the rest when the test lets it go.
      let release = () => {}
      const { url } = yield* loopbackServer((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" })
        res.write(small.slice(0, 10))
        release = () => res.end(small.slice(10))
      })
      const [first, waiter, later] = yield* withClient(url, (client) =>
        client.execute({ operation: "probe", method: "GET", path: "/held" }, (r) =>
          Effect.gen(function* () {
            const timed = yield* Effect.fork(Effect.either(Effect.timeout(r.text, "1 second")))
            // Once the first read waits for the rest of the body (`adjust` lets every fiber
            // run until it waits), a second reader waits for it rather than reading itself.
            yield* TestClock.adjust("500 millis")
            const waiting = yield* Effect.fork(Effect.either(r.text))
            yield* TestClock.adjust("500 millis")
            const first = yield* Fiber.join(timed)
            release()
            return [first, yield* Fiber.join(waiting), yield* Effect.either(r.json(Small))] as const
          })
        )
      )
      expect(Either.flip(first).pipe(Either.getOrThrow)._tag).toBe("TimeoutException")
      // Not the rest of the body, nor an empty one, nor the transport's own complaint.
      const spent = {
        _tag: "OktaTransportError",
        afterResponse: true,
        status: 200,
        reason: "an earlier read of it was interrupted part-way; a body is read only once"
      }
      expect(Either.flip(waiter).pipe(Either.getOrThrow)).toMatchObject(spent)
      expect(Either.flip(later).pipe(Either.getOrThrow)).toMatchObject(spent)
    }).pipe(Effect.scoped)
  )

  it.live("a proxy's page answering activate with 200 fails on every form, not as done", () =>
    Effect.gen(function* () {
      const page = "<html><body>Sign in to continue</body></html>"
      const forms = ["chunked", "gzip", "length"]
      let n = 0
      const { url } = yield* loopbackServer((req, res) => {
        const form = forms[n++ % forms.length]
        const html = { "content-type": "text/html" }
        if (form === "gzip" && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
          res.writeHead(200, { ...html, "content-encoding": "gzip" })
          return res.end(gzipSync(page))
        }
        if (form === "length") {
          res.writeHead(200, { ...html, "content-length": Buffer.byteLength(page) })
          return res.end(page)
        }
        res.writeHead(200, html)
        res.write(page.slice(0, 10))
        res.end(page.slice(10))
      })
      const live = ApplicationConnections.layer.pipe(
        Layer.provide(
          OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t"), maxResponseBytes: CAP })
        ),
        Layer.provide(transport as Layer.Layer<HttpClient.HttpClient>)
      )
      for (const _ of forms) {
        const error = yield* Effect.flip(
          Effect.flatMap(ApplicationConnections, (api) =>
            api.activateDefaultProvisioningConnectionForApplication("0oa1")
          ).pipe(Effect.provide(live))
        )
        expect(error).toMatchObject({
          _tag: "OktaUnexpectedStatusError",
          status: 200,
          contentType: "text/html"
        })
      }
      // Not sent again: one request a call.
      expect(n).toBe(forms.length)
    }).pipe(Effect.scoped)
  )
})

describe("the capped read over an HttpClient of the application's own", () => {
  // One that inflates gzip, as fetch does, and keeps the headers as sent: a Content-Length that
  // is the compressed size says nothing of the bytes it hands over.
  const inflating = (body: string) =>
    Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request) =>
        Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            new Response(body, {
              headers: {
                "content-type": "application/json",
                "content-encoding": "gzip",
                "content-length": "120"
              }
            })
          )
        )
      )
    )
  const read = (body: string) =>
    Effect.flatMap(OktaClient, (client) =>
      client.execute({ operation: "probe", method: "GET", path: "/gzip" }, (r) => r.text)
    ).pipe(
      Effect.provide(
        OktaClient.layer({
          orgUrl: ORG,
          apiToken: Redacted.make("00t"),
          maxResponseBytes: CAP,
          retry: false
        }).pipe(Layer.provide(inflating(body)))
      )
    )

  it.effect("counts what it hands over, not the compressed length it declares", () =>
    Effect.gen(function* () {
      expect((yield* read(sized(CAP))).length).toBe(CAP)
      expect(yield* Effect.flip(read(sized(CAP + 1)))).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "TooLarge"
      })
    })
  )
})

describe("the loopback simulator answers as Okta does", () => {
  const rawGet = (contentLength: boolean) =>
    Effect.gen(function* () {
      const { url } = yield* SimulatorServer
      const sim = yield* OktaSimulator
      return yield* Effect.promise(() =>
        fetch(`${url}/api/v1/apps/0oasimorg2orgtoken01/connections/default`, {
          headers: { authorization: `SSWS ${sim.token}` }
        }).then(async (r) => ({
          length: r.headers.get("content-length"),
          encoding: r.headers.get("content-encoding"),
          json: (await r.json()) as { status: string }
        }))
      )
    }).pipe(
      Effect.provide(
        OktaSimulator.layerServer().pipe(Layer.provideMerge(OktaSimulator.layer({ contentLength })))
      )
    )

  it.live("chunked and gzip by default; a declared length on request", () =>
    Effect.gen(function* () {
      const okta = yield* rawGet(false)
      expect(okta.length).toBeNull()
      expect(okta.encoding).toBe("gzip")
      expect(okta.json.status).toBeDefined()
      const declared = yield* rawGet(true)
      expect(declared.encoding).toBeNull()
      expect(Number(declared.length)).toBeGreaterThan(0)
    })
  )
})

describe("the fetch transport as the application configured it", () => {
  /** One GET of a small chunked body through a client on `transport`. */
  const getSmall = (url: string, transport: Layer.Layer<HttpClient.HttpClient>) =>
    Effect.flatMap(OktaClient, (client) =>
      client.execute({ operation: "probe", method: "GET", path: "/chunked" }, (r) => r.json(Small))
    ).pipe(
      Effect.provide(
        OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t"), retry: false }).pipe(
          Layer.provide(transport)
        )
      )
    )
  // The platform's documented way to configure every fetch request: a RequestInit for the layer.
  const requestedBy = Layer.succeed(FetchHttpClient.RequestInit, {
    headers: { "x-requested-by": "platform-team" }
  })

  /** A fetch that records the URL of each request it sends with the global fetch. */
  const recordingInto =
    (seen: Array<string>): typeof globalThis.fetch =>
    (input, init) => {
      seen.push(String(input))
      return globalThis.fetch(input, init)
    }

  it.live("OktaFetch.layer() sends with the global fetch of each request's time", () =>
    Effect.gen(function* () {
      const { url } = yield* loopbackServer((_req, res) => {
        res.setHeader("content-type", "application/json")
        res.end(small)
      })
      // Built first; a test library then installs its fetch (as msw does).
      const transport = yield* Layer.build(OktaFetch.layer())
      const seen: Array<string> = []
      const original = globalThis.fetch
      const recorded: typeof globalThis.fetch = (input, init) => {
        seen.push(String(input))
        return original(input, init)
      }
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          globalThis.fetch = recorded
        }),
        () =>
          Effect.sync(() => {
            globalThis.fetch = original
          })
      )
      expect(yield* getSmall(url, Layer.succeedContext(transport))).toEqual(JSON.parse(small))
      expect(seen).toEqual([`${url}/chunked`])
    }).pipe(Effect.scoped)
  )

  it.live("an application's own FetchHttpClient.Fetch still makes every request", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const seen: Array<string> = []
      const value = yield* getSmall(url, FetchHttpClient.layer).pipe(
        Effect.provideService(FetchHttpClient.Fetch, recordingInto(seen))
      )
      expect(value).toEqual({ id: "0oa1", label: "Acme SCIM" })
      expect(seen).toEqual([`${url}/chunked`])
    }).pipe(Effect.scoped)
  )

  // A test layer over the whole stack: the fetch reaches `FetchHttpClient.layer` as it reaches the
  // client, and the platform would send with it. Before, the client's wrapper replaced it with
  // the global fetch: the test's calls went to the network.
  it.live(
    "a FetchHttpClient.Fetch provided to the layers above the client makes every request",
    () =>
      Effect.gen(function* () {
        const { url } = yield* server
        const seen: Array<string> = []
        const call = Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "probe", method: "GET", path: "/chunked" }, (r) =>
            r.json(Small)
          )
        )
        const stack = OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t") }).pipe(
          Layer.provide(FetchHttpClient.layer),
          Layer.provide(Layer.succeed(FetchHttpClient.Fetch, recordingInto(seen)))
        )
        const value = yield* call.pipe(Effect.provide(stack))
        expect(value).toEqual({ id: "0oa1", label: "Acme SCIM" })
        expect(seen).toEqual([`${url}/chunked`])
        // The caller's own still comes first, as on the platform.
        const callers: Array<string> = []
        yield* call.pipe(
          Effect.provide(stack),
          Effect.provideService(FetchHttpClient.Fetch, recordingInto(callers))
        )
        expect([seen.length, callers]).toEqual([1, [`${url}/chunked`]])
      }).pipe(Effect.scoped)
  )

  it.live("a RequestInit given to FetchHttpClient.layer still applies to every request", () =>
    Effect.gen(function* () {
      const { url, seen } = yield* server
      const value = yield* getSmall(url, FetchHttpClient.layer.pipe(Layer.provide(requestedBy)))
      expect(value).toEqual({ id: "0oa1", label: "Acme SCIM" })
      expect(seen.map((s) => s.requestedBy)).toEqual(["platform-team"])
    }).pipe(Effect.scoped)
  )

  it.live("OktaFetch.layer sends with its own fetch, not one in the caller's context", () =>
    Effect.gen(function* () {
      const { url, seen } = yield* server
      const sent: Array<string> = []
      const recording =
        (name: string): typeof globalThis.fetch =>
        (input, init) => {
          sent.push(name)
          return globalThis.fetch(input, init)
        }
      const transport = OktaFetch.layer({ fetch: recording("the layer's") })
      const value = yield* getSmall(url, transport.pipe(Layer.provide(requestedBy))).pipe(
        Effect.provideService(FetchHttpClient.Fetch, recording("the caller's"))
      )
      expect(value).toEqual({ id: "0oa1", label: "Acme SCIM" })
      expect(sent).toEqual(["the layer's"])
      // A RequestInit given to the layer applies, as on FetchHttpClient.layer.
      expect(seen.map((s) => s.requestedBy)).toEqual(["platform-team"])
    }).pipe(Effect.scoped)
  )

  // A mock with no answer set (a bare `vi.fn()`) or a hand-made object: a bug in the test, which
  // no retry can fix. Under `it.effect`, a retry's backoff would wait on the TestClock for ever.
  const notResponses: ReadonlyArray<readonly [string, unknown, string]> = [
    ["undefined", undefined, "the fetch resolved to undefined, not a Response"],
    [
      "a plain object",
      { ok: true, status: 200, json: () => Promise.resolve({}) },
      "the fetch resolved to an object that is not a Response (no headers)"
    ],
    ["null", null, "the fetch resolved to null, not a Response"],
    ["a string", "{}", "the fetch resolved to a string, not a Response"],
    // Headers as a plain record (no `get`), as a hand-written stub gives them.
    [
      "an object with a plain record of headers",
      { status: 200, headers: { "content-type": "application/json" }, body: null },
      "the fetch resolved to an object that is not a Response (no headers)"
    ],
    [
      "an object whose status is not a number",
      { status: "200", headers: new Headers(), body: null },
      "the fetch resolved to an object that is not a Response (no status)"
    ],
    [
      "an object without a body",
      { status: 200, headers: new Headers(), json: () => Promise.resolve({}) },
      "the fetch resolved to an object that is not a Response (no body)"
    ]
  ]
  for (const [name, value, says] of notResponses) {
    it.effect(`a fetch that resolves to ${name} fails the call at once, typed and named`, () =>
      Effect.gen(function* () {
        let calls = 0
        const mock = (() => {
          calls += 1
          return Promise.resolve(value)
        }) as unknown as typeof globalThis.fetch
        const call = Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "probe", method: "GET", path: "/x" }, (r) => r.json(Small))
        )
        const client = OktaClient.layer({
          orgUrl: "https://acme.okta.com",
          apiToken: Redacted.make("00t")
        })
        for (const transport of [
          OktaFetch.layer({ fetch: mock }),
          Layer.provide(FetchHttpClient.layer, Layer.succeed(FetchHttpClient.Fetch, mock))
        ]) {
          calls = 0
          const error = yield* Effect.flip(
            call.pipe(
              Effect.provide(Layer.provide(client, transport)),
              Effect.provideService(FetchHttpClient.Fetch, mock)
            )
          )
          expect(error).toMatchObject({ _tag: "OktaTransportError", afterResponse: false })
          expect(error.message).toContain(says)
          expect(calls).toBe(1)
        }
      })
    )
  }

  const overMock = (fetch: typeof globalThis.fetch, maxResponseBytes?: number) =>
    OktaClient.layer({
      orgUrl: "https://acme.okta.com",
      apiToken: Redacted.make("00t"),
      retry: false,
      ...(maxResponseBytes !== undefined ? { maxResponseBytes } : {})
    }).pipe(Layer.provide(OktaFetch.layer({ fetch })))

  it.effect(
    "a 200 without a body (a mock's new Response(null)) is an empty body, not a transport failure",
    () =>
      Effect.gen(function* () {
        const layer = overMock(() => Promise.resolve(new Response(null, { status: 200 })))
        const text = yield* Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "probe", method: "GET", path: "/x" }, (r) => r.text)
        ).pipe(Effect.provide(layer))
        expect(text).toBe("")
        const error = yield* Effect.flip(
          Effect.flatMap(OktaClient, (client) =>
            client.execute({ operation: "probe", method: "GET", path: "/x" }, (r) => r.json(Small))
          ).pipe(Effect.provide(layer))
        )
        expect(error).toMatchObject({
          _tag: "OktaDecodeError",
          kind: "NotJson",
          issues: "the body is empty"
        })
      })
  )

  it.effect("a body past the cap is cancelled where it is read, not left streaming", () =>
    Effect.gen(function* () {
      let pulled = 0
      let cancelled = false
      // An endless body: it stops only if the reader cancels it.
      const endless = () =>
        Promise.resolve(
          new Response(
            new ReadableStream<Uint8Array>({
              pull: (controller) => {
                pulled += 1
                controller.enqueue(new Uint8Array(1024))
              },
              cancel: () => {
                cancelled = true
              }
            }),
            { headers: { "content-type": "application/json" } }
          )
        )
      const error = yield* Effect.flip(
        Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "probe", method: "GET", path: "/x" }, (r) => r.text)
        ).pipe(Effect.provide(overMock(endless, 4096)))
      )
      expect(error).toMatchObject({ _tag: "OktaDecodeError", kind: "TooLarge" })
      expect(cancelled).toBe(true)
      // Read up to the chunk that passed the cap, and a chunk or two the stream queued ahead.
      expect(pulled).toBeLessThan(10)
    })
  )

  // Node's fetch refuses the fetch standard's blocked ports (6000: X11) before connecting. Retried,
  // a GET spent four backoffs getting the same answer; under `it.effect` it waited for ever.
  it.effect("a port Node's fetch blocks fails the call at once, saying so", () =>
    Effect.gen(function* () {
      let attempts = 0
      const counted = (transport: Layer.Layer<HttpClient.HttpClient>) =>
        Layer.effect(
          HttpClient.HttpClient,
          Effect.map(
            HttpClient.HttpClient,
            HttpClient.tapRequest(() => Effect.sync(() => attempts++))
          )
        ).pipe(Layer.provide(transport))
      for (const transport of [OktaFetch.layer(), FetchHttpClient.layer]) {
        attempts = 0
        const error = yield* failureOf("http://127.0.0.1:6000", counted(transport))
        expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
        expect(error.message).toContain(
          "bad port: Node's fetch never connects to this port (the fetch standard blocks it); use another port, or OktaUndici.layer"
        )
        expect(attempts).toBe(1)
      }
    })
  )

  it.effect(
    "a fetch that resolves to Response.error() fails as the network error it stands for",
    () =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(
          Effect.flatMap(OktaClient, (client) =>
            client.execute({ operation: "probe", method: "GET", path: "/x" }, (r) => r.json(Small))
          ).pipe(
            Effect.provide(
              OktaClient.layer({
                orgUrl: "https://acme.okta.com",
                apiToken: Redacted.make("00t"),
                retry: false
              }).pipe(
                Layer.provide(OktaFetch.layer({ fetch: () => Promise.resolve(Response.error()) }))
              )
            )
          )
        )
        expect(error).toMatchObject({ _tag: "OktaTransportError", afterResponse: false })
        expect(error.message).toContain("the fetch resolved to a network error (Response.error())")
      })
  )

  it.live("the client's fetch settings end with the request: its decoder does not see them", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const seen = yield* Effect.flatMap(OktaClient, (client) =>
        client.execute({ operation: "probe", method: "GET", path: "/chunked" }, () =>
          Effect.all([
            Effect.serviceOption(FetchHttpClient.RequestInit),
            Effect.serviceOption(FetchHttpClient.Fetch)
          ])
        )
      ).pipe(
        Effect.provide(
          OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t"), retry: false }).pipe(
            Layer.provide(FetchHttpClient.layer)
          )
        )
      )
      // The client sets `redirect: "manual"` and its own fetch for the request only.
      expect([Option.isNone(seen[0]), Option.isNone(seen[1])]).toEqual([true, true])
    }).pipe(Effect.scoped)
  )

  it.live("a response that transformClient replaces is read as the replacement", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const replaced = JSON.stringify({ id: "0oa2", label: "Replaced" })
      const value = yield* Effect.flatMap(OktaClient, (client) =>
        client.execute({ operation: "probe", method: "GET", path: "/chunked" }, (r) =>
          r.json(Small)
        )
      ).pipe(
        Effect.provide(
          OktaClient.layer({
            orgUrl: url,
            apiToken: Redacted.make("00t"),
            retry: false,
            transformClient: HttpClient.transformResponse(
              Effect.map((response) =>
                HttpClientResponse.fromWeb(response.request, new Response(replaced))
              )
            )
          }).pipe(Layer.provide(FetchHttpClient.layer))
        )
      )
      expect(value).toEqual({ id: "0oa2", label: "Replaced" })
    }).pipe(Effect.scoped)
  )
})

/** Sets (or, for `undefined`, unsets) environment variables until the scope closes. */
const environment = (values: Record<string, string | undefined>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = Object.keys(values).map((name) => [name, process.env[name]] as const)
      for (const [name, value] of Object.entries(values)) {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
      return saved
    }),
    (saved) =>
      Effect.sync(() => {
        for (const [name, value] of saved) {
          if (value === undefined) delete process.env[name]
          else process.env[name] = value
        }
      })
  )

describe("the undici transport through an HTTP proxy", () => {
  const overProxy = (proxy: string) =>
    OktaSimulator.layerConnectionsServer({
      httpClient: OktaUndici.layer({ proxy, maxResponseBytes: CAP }),
      client: { maxResponseBytes: CAP, retry: false }
    })
  const get = Effect.flatMap(ApplicationConnections, (api) =>
    api.getDefaultProvisioningConnectionForApplication("0oasimzscaler0000001")
  )

  it.live("every request goes through the proxy's tunnel, credentials and body cap included", () =>
    Effect.gen(function* () {
      const proxy = yield* tunnellingProxy
      const withUser = proxy.url.replace("http://", "http://ops:s3cret@")
      yield* Effect.gen(function* () {
        const sim = yield* OktaSimulator
        const { port } = yield* SimulatorServer
        expect((yield* get).status).toBe("ENABLED")
        expect(proxy.tunnels).toEqual([
          { target: `127.0.0.1:${port}`, auth: `Basic ${btoa("ops:s3cret")}` }
        ])
        yield* sim.injectFault({ _tag: "Oversized", bytes: 2 * CAP })
        const error = yield* Effect.flip(get)
        expect(error).toMatchObject({ _tag: "OktaDecodeError", kind: "TooLarge" })
        expect(JSON.stringify(error) + error.message).not.toContain("s3cret")
      }).pipe(Effect.provide(overProxy(withUser)))
    }).pipe(Effect.scoped)
  )

  // A proxy that will not open the tunnel answers the CONNECT, and nothing reaches Okta: the
  // error says which status and what to do, and a 4xx is not retried (it says the same again).
  it.live("a proxy that refuses the tunnel: connectFailed, the status and what to do", () =>
    Effect.gen(function* () {
      const asks = yield* refusingProxy(407)
      const withUser = asks.url.replace("http://", "http://ops:s3cret@")
      const denied = yield* failureOf(ORG, OktaUndici.layer({ proxy: withUser }))
      expect(denied).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(denied.message).toContain(
        "the proxy asks for credentials (407 to CONNECT): give them in its URL"
      )
      expect(JSON.stringify(denied) + denied.message).not.toContain("s3cret")
      // Not retried, under the default policy.
      expect(asks.tunnels).toEqual(["acme.okta.com:443"])

      const policy = yield* refusingProxy(403)
      const forbidden = yield* failureOf(ORG, OktaUndici.layer({ proxy: policy.url }))
      expect(forbidden.message).toContain("(403 to CONNECT): its policy may not allow")
      expect(policy.tunnels).toHaveLength(1)

      const unreachable = yield* refusingProxy(502)
      const bad = yield* failureOf(ORG, OktaUndici.layer({ proxy: unreachable.url }), {
        retry: false
      })
      expect(bad).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(bad.message).toContain("the proxy did not open a tunnel to the org (502 to CONNECT)")
      // The proxy could not reach Okta this time: the retry policy may try again.
      const permanent = (error: unknown) => isPermanent(error as OktaTransportError)
      expect([permanent(denied), permanent(forbidden), permanent(bad)]).toEqual([true, true, false])
    }).pipe(Effect.scoped)
  )

  // undici reads the lower-case names first: unset them, whatever the machine has.
  const noProxyVariables = { http_proxy: undefined, https_proxy: undefined, HTTPS_PROXY: undefined }

  // An application behind a TLS-inspecting proxy gives undici the proxy's CA. Through a proxy,
  // undici's ProxyAgent takes the TLS options for Okta as `requestTls` and ignores `connect`: the
  // CA was dropped, and every call failed with the certificate error.
  it.live("TLS options in agent.connect (a CA) apply to Okta through the proxy too", () =>
    Effect.gen(function* () {
      const proxy = yield* tunnellingProxy
      const { url, certificate } = yield* untrustedTlsServer((_req, res) => {
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } }))
      })
      const agent = { connect: { ca: certificate } }
      yield* environment({ ...noProxyVariables, HTTP_PROXY: proxy.url, NO_PROXY: "" })
      for (const transport of [
        OktaUndici.layer({ agent }),
        OktaUndici.layer({ agent, proxy: proxy.url }),
        OktaUndici.layer({ agent, proxy: "environment" })
      ]) {
        expect((yield* getThrough(url, transport, { retry: false })).status).toBe("ENABLED")
      }
      expect(proxy.tunnels.map((tunnel) => tunnel.target)).toEqual([
        new URL(url).host,
        new URL(url).host
      ])
    }).pipe(Effect.scoped)
  )

  it.live.each([
    ["as a URL", (url: string) => url],
    [
      "without a scheme, an http:// proxy as curl takes it",
      (url: string) => url.replace(/^http:\/\//, "")
    ],
    [
      "without a scheme, with the spaces an env file can leave around it",
      (url: string) => ` ${url.replace(/^http:\/\//, "")} `
    ]
  ] as const)('"environment" reads HTTP_PROXY when the layer is built: %s', ([, value]) =>
    Effect.gen(function* () {
      const proxy = yield* tunnellingProxy
      yield* environment({ ...noProxyVariables, HTTP_PROXY: value(proxy.url), NO_PROXY: "" })
      yield* Effect.gen(function* () {
        const { port } = yield* SimulatorServer
        expect((yield* get).status).toBe("ENABLED")
        expect(proxy.tunnels.map((t) => t.target)).toEqual([`127.0.0.1:${port}`])
      }).pipe(Effect.provide(overProxy("environment")))
    }).pipe(Effect.scoped)
  )

  it.live(
    '"environment": the lower-case name first, an empty one skipped, as undici reads them',
    () =>
      Effect.gen(function* () {
        const lower = yield* tunnellingProxy
        const upper = yield* tunnellingProxy
        const via = (values: Record<string, string>) =>
          Effect.scoped(
            Effect.gen(function* () {
              yield* environment({ ...noProxyVariables, NO_PROXY: "", ...values })
              yield* Effect.provide(get, overProxy("environment"))
            })
          )
        yield* via({ http_proxy: lower.url, HTTP_PROXY: upper.url })
        expect([lower.tunnels.length, upper.tunnels.length]).toEqual([1, 0])
        // `http_proxy=` (set to nothing, to turn a proxy off) is not a proxy named "".
        yield* via({ http_proxy: "", HTTP_PROXY: upper.url })
        expect([lower.tunnels.length, upper.tunnels.length]).toEqual([1, 1])
      }).pipe(Effect.scoped)
  )

  it.effect.each([
    ["HTTPS_PROXY", "http://ops:s3cret@[::1"],
    ["https_proxy", "socks5://ops:s3cret@proxy:1080"],
    ["HTTP_PROXY", "http://ops:s3cret@proxy:99999"]
  ] as const)(
    '"environment": %s that is not an http(s) URL fails the layer, naming it, never its value',
    ([name, value]) =>
      Effect.gen(function* () {
        yield* environment({ ...noProxyVariables, HTTP_PROXY: undefined, [name]: value })
        const error = yield* Effect.flip(Layer.build(OktaUndici.layer({ proxy: "environment" })))
        expect(error).toMatchObject({ _tag: "OktaConfigError", field: "proxy" })
        expect(error.message).toContain(name)
        expect(error.message).not.toContain("s3cret")
      }).pipe(Effect.scoped)
  )

  it.effect("a proxy that is not an http(s) URL fails the layer, without echoing it", () =>
    Effect.gen(function* () {
      // An https:// proxy is one (undici speaks TLS to it), in the option or a variable.
      yield* Layer.build(OktaUndici.layer({ proxy: "https://proxy.internal:3128" }))
      yield* environment({ ...noProxyVariables, HTTPS_PROXY: "https://proxy.internal:3128" })
      yield* Layer.build(OktaUndici.layer({ proxy: "environment" }))
      const error = yield* Effect.flip(
        Layer.build(OktaUndici.layer({ proxy: "socks5://ops:s3cret@proxy:1080" }))
      )
      expect(error).toMatchObject({ _tag: "OktaConfigError", field: "proxy" })
      expect(error.message).not.toContain("s3cret")
    }).pipe(Effect.scoped)
  )
})

describe("a refused connection with a proxy variable set", () => {
  // Node's fetch reads no proxy variable: behind an egress proxy it cannot connect, and the
  // error says why and what to use instead, naming the variable but never its value.
  const refused = <E>(httpClient: Layer.Layer<HttpClient.HttpClient, E>, scheme = "http:") =>
    Effect.gen(function* () {
      // A port nothing listens on any more.
      const { url, close } = yield* loopbackServer(() => {})
      close()
      return yield* failureOf(url.replace(/^http:/, scheme), httpClient, { retry: false })
    }).pipe(Effect.scoped)
  const unset = {
    HTTP_PROXY: undefined,
    http_proxy: undefined,
    NO_PROXY: undefined,
    NODE_USE_ENV_PROXY: undefined,
    OKTA_CLIENT_PROXY_HOST: undefined
  }
  const hint =
    'HTTP_PROXY is set, but Node\'s fetch does not use it: if Okta is reached through that proxy, use OktaUndici.layer({ proxy: "environment" }) from effect-okta-connections/undici'

  it.live("on fetch, the error names the unused variable and the transport that reads it", () =>
    Effect.gen(function* () {
      yield* environment({ ...unset, HTTP_PROXY: "http://ops:s3cret@proxy.corp:3128" })
      for (const transport of [FetchHttpClient.layer, OktaFetch.layer()]) {
        const error = yield* refused(transport)
        expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
        expect(error.message).toContain(`ECONNREFUSED`)
        expect(error.message).toContain(hint)
        expect(JSON.stringify(error) + error.message).not.toMatch(/s3cret|proxy\.corp/)
      }
      // For https:// too: with no HTTPS_PROXY, undici's "environment" takes HTTP_PROXY for it.
      expect((yield* refused(OktaFetch.layer(), "https:")).message).toContain(hint)
    }).pipe(Effect.scoped)
  )

  it.live("on OktaUndici.layer without a proxy option, it names the option", () =>
    Effect.gen(function* () {
      yield* environment({ ...unset, HTTP_PROXY: "http://ops:s3cret@proxy.corp:3128" })
      const error = yield* refused(OktaUndici.layer())
      expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(error.message).toContain(
        'HTTP_PROXY is set, but an OktaUndici.layer without a proxy option does not use it: if Okta is reached through that proxy, give it { proxy: "environment" }'
      )
      expect(JSON.stringify(error) + error.message).not.toMatch(/s3cret|proxy\.corp/)
    }).pipe(Effect.scoped)
  )

  // An application moved from an Okta SDK may still have the SDK's proxy setting, which this
  // client does not read.
  it.live("the Okta SDKs' OKTA_CLIENT_PROXY_HOST is named, with where a proxy goes instead", () =>
    Effect.gen(function* () {
      yield* environment({ ...unset, OKTA_CLIENT_PROXY_HOST: "proxy.corp" })
      const onFetch = yield* refused(OktaFetch.layer())
      expect(onFetch).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(onFetch.message).toContain(
        'OKTA_CLIENT_PROXY_HOST is set (the Okta SDKs\' proxy setting), but this client does not read it: if Okta is reached through that proxy, use OktaUndici.layer({ proxy: "http://host:port" }) from effect-okta-connections/undici'
      )
      const onUndici = yield* refused(OktaUndici.layer())
      expect(onUndici.message).toContain('give it { proxy: "http://host:port" }')
      expect(JSON.stringify([onFetch, onUndici]) + onFetch.message).not.toContain("proxy.corp")
      // A proxy variable Node's transports could read is the one named.
      process.env["HTTP_PROXY"] = "http://proxy.corp:3128"
      expect((yield* refused(OktaFetch.layer())).message).toContain(hint)
    }).pipe(Effect.scoped)
  )

  it.live("no hint without the variable, where the transport reads it, or on a platform one", () =>
    Effect.gen(function* () {
      yield* environment(unset)
      const plain = yield* refused(FetchHttpClient.layer)
      expect(plain).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(plain.message).not.toContain("PROXY")
      // The platform's undici transport may have a proxy dispatcher of the application's.
      expect((yield* refused(NodeHttpClient.layerUndici)).message).not.toContain("PROXY")
      process.env["NODE_USE_ENV_PROXY"] = "1"
      expect((yield* refused(FetchHttpClient.layer)).message).not.toContain("PROXY")
    }).pipe(Effect.scoped)
  )
})

describe("a proxy that cannot be reached", () => {
  /** A loopback URL nothing listens on any more. */
  const closedUrl = Effect.map(
    loopbackServer(() => {}),
    ({ url, close }) => {
      close()
      return url
    }
  )
  const unreachable = "that is the proxy's address"

  it.live("is named as the proxy, by what gave its URL, never with its credentials", () =>
    Effect.gen(function* () {
      const org = yield* closedUrl
      const proxy = (yield* closedUrl).replace("http://", "http://ops:s3cret@")
      yield* environment({
        http_proxy: undefined,
        https_proxy: undefined,
        HTTPS_PROXY: undefined,
        HTTP_PROXY: proxy,
        NO_PROXY: ""
      })
      const fromVariable = yield* failureOf(org, OktaUndici.layer({ proxy: "environment" }), {
        retry: false
      })
      expect(fromVariable).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(fromVariable.message).toContain(
        `; ${unreachable} (HTTP_PROXY): check that the proxy runs, and its URL`
      )
      const fromOption = yield* failureOf(org, OktaUndici.layer({ proxy }), { retry: false })
      expect(fromOption.message).toContain(`; ${unreachable} (the proxy option)`)
      expect(JSON.stringify([fromVariable, fromOption]) + fromVariable.message).not.toContain(
        "s3cret"
      )
      // The org left out by NO_PROXY is connected to directly: its refusal is not the proxy's.
      process.env["NO_PROXY"] = "127.0.0.1"
      const direct = yield* failureOf(org, OktaUndici.layer({ proxy: "environment" }), {
        retry: false
      })
      expect(direct).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(direct.message).not.toContain("proxy")
    }).pipe(Effect.scoped)
  )

  it("whose host name does not resolve is named as the proxy, not as the org's typo", () => {
    // As undici fails it (DNS is not asked here: no network beyond loopback).
    const notFound = Object.assign(new Error("getaddrinfo ENOTFOUND proxy.corp.example"), {
      code: "ENOTFOUND",
      hostname: "proxy.corp.example"
    })
    const request = HttpClientRequest.get("https://acme.okta.com/api/v1/apps")
    const error = new HttpClientError.RequestError({
      request,
      reason: "Transport",
      cause: notFound
    })
    const call = { operation: "get", method: "GET", path: "/api/v1/apps" }
    const proxies = [
      { hostname: "proxy.corp.example", isAddress: false, port: "3128", from: "HTTPS_PROXY" }
    ]
    expect(transportError(call, error, { cap: undefined, proxies }).message).toContain(
      "; that is the proxy's host (HTTPS_PROXY), whose name did not resolve: check the proxy's URL"
    )
    // Without a proxy of that name, it is the org's host that did not resolve.
    expect(transportError(call, error, { cap: undefined, proxies: [] }).message).toContain(
      "; the host name does not resolve: check the org URL"
    )
  })
})

/** This package's transports and the platform's, for what every transport must report alike. */
const everyTransport = [
  ["OktaFetch.layer", OktaFetch.layer()],
  ["OktaUndici.layer", Layer.orDie(OktaUndici.layer())],
  ["FetchHttpClient.layer", FetchHttpClient.layer],
  ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici]
] as const

describe("a server certificate Node does not trust (a TLS-inspecting proxy's)", () => {
  // It read "no response", and was retried four times with backoff: no retry makes the
  // certificate good, and nothing said what would.
  for (const [name, transport] of everyTransport) {
    it.live(`on ${name}: could not connect, not retried, and the error names the way out`, () =>
      Effect.gen(function* () {
        const { url, connections } = yield* untrustedTlsServer((_req, res) => res.end("{}"))
        // With the default retry policy, which retries a dropped connection.
        const error = yield* failureOf(url, transport)
        expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
        expect(error.message).toContain("failed: could not connect (")
        expect(error.message).toContain("DEPTH_ZERO_SELF_SIGNED_CERT")
        expect(error.message).toContain(
          "Node does not trust the server's certificate: behind a TLS-inspecting proxy, give Node the proxy's CA certificate with NODE_EXTRA_CA_CERTS=/path/to/ca.pem"
        )
        expect(connections()).toBe(1)
      }).pipe(Effect.scoped)
    )
  }
})

describe("a certificate outside its dates (a machine's clock years off, a proxy's lapsed one)", () => {
  it.live(
    "trusted, but expired: could not connect, not retried, and the error says the clock",
    () =>
      Effect.gen(function* () {
        const { url, certificate, connections } = yield* untrustedTlsServer(
          (_req, res) => res.end("{}"),
          { expired: true }
        )
        // Its CA given, so that the dates are all that is wrong; the default retry policy.
        const error = yield* failureOf(
          url,
          OktaUndici.layer({ agent: { connect: { ca: certificate } } })
        )
        expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
        expect(error.message).toContain(
          "could not connect (CERT_HAS_EXPIRED: certificate has expired; the certificate is not valid at this machine's time: check the clock (date -u), or the dates of a TLS-inspecting proxy's certificate)"
        )
        expect(connections()).toBe(1)
      }).pipe(Effect.scoped)
  )
})

describe("an https:// URL to a server that speaks plain HTTP (a local simulator, a proxy)", () => {
  // It read "no response (ERR_SSL_WRONG_VERSION_NUMBER: 80…:error:0A00010B:SSL routines:…" over
  // two lines, and was retried: the scheme is wrong, and the request was never sent.
  for (const [name, transport] of everyTransport) {
    it.live(`on ${name}: could not connect, on one line, not retried, and says why`, () =>
      Effect.gen(function* () {
        const plain = createServer((_req, res) => res.end("{}"))
        let connections = 0
        plain.on("connection", () => (connections += 1))
        // The same server, asked for TLS.
        const url = (yield* listening(plain)).replace("http://", "https://")
        // With the default retry policy, which retries a dropped connection.
        const error = yield* failureOf(url, transport)
        expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
        expect(error.message).toContain("failed: could not connect (")
        expect(error.message).toContain(
          "ERR_SSL_WRONG_VERSION_NUMBER: wrong version number; the server does not speak TLS: if it is a plain HTTP one (a proxy, a local simulator), give it an http:// URL)"
        )
        expect(error.message).not.toMatch(/\n|routines|openssl/)
        expect(connections).toBe(1)
      }).pipe(Effect.scoped)
    )
  }
})

describe("undici agent options undici refuses (connections: -1)", () => {
  // It read "no response (UND_ERR_INVALID_ARG: invalid connections)" and was retried four times:
  // undici checks the options only when the first request is dispatched.
  it.live("could not connect, not retried, and says where to look", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const error = yield* failureOf(url, OktaUndici.layer({ agent: { connections: -1 } }))
      expect(error).toMatchObject({ _tag: "OktaTransportError", connectFailed: true })
      expect(error.message).toContain(
        "failed: could not connect (UND_ERR_INVALID_ARG: invalid connections; undici refused a setting before sending anything: check the agent options given to OktaUndici.layer)"
      )
      // One attempt: a retry's error says how many there were.
      expect(error.message).not.toContain("attempts")
    }).pipe(Effect.scoped)
  )
})

describe("the undici transport that caps bodies itself", () => {
  const get = (
    url: string,
    path: string,
    transport: Layer.Layer<HttpClient.HttpClient>,
    settings: Pick<OktaClientOptions, "transformClient" | "maxResponseBytes"> = {}
  ) =>
    Effect.flatMap(OktaClient, (client) =>
      client.execute({ operation: "probe", method: "GET", path }, (r) => r.text)
    ).pipe(
      Effect.provide(
        OktaClient.layer({
          orgUrl: url,
          apiToken: Redacted.make("00t"),
          retry: false,
          ...settings
        }).pipe(Layer.provide(transport))
      )
    )

  it.live("its cap holds under a larger client cap, and fails as TooLarge with its figure", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const transport = Layer.orDie(OktaUndici.layer({ maxResponseBytes: CAP }))
      expect((yield* get(url, `/chunked/${CAP}`, transport)).length).toBe(CAP)
      const over = yield* Effect.flip(get(url, `/chunked/${CAP + 1}`, transport))
      expect(over).toMatchObject({
        _tag: "OktaDecodeError",
        kind: "TooLarge",
        issues: `more than ${CAP} bytes, the maxResponseBytes limit`
      })
    }).pipe(Effect.scoped)
  )

  it.live("given no limit, the client and OktaUndici.layer() both cap bodies at 1 MiB", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      const MiB = 1024 * 1024
      for (const transport of [FetchHttpClient.layer, Layer.orDie(OktaUndici.layer())]) {
        expect((yield* get(url, `/chunked/${MiB}`, transport)).length).toBe(MiB)
        // Mapped to its length, so that a read that wrongly succeeds fails the test with a number:
        // vitest's diff of 1 MiB of text does not finish.
        const over = get(url, `/chunked/${MiB + 1}`, transport)
        expect(yield* Effect.flip(Effect.map(over, (text) => text.length))).toMatchObject({
          _tag: "OktaDecodeError",
          kind: "TooLarge",
          issues: `more than ${MiB} bytes, the maxResponseBytes limit`
        })
      }
      // The transport's own default holds (and is named) when the client's cap is raised alone.
      const raised = yield* Effect.flip(
        Effect.map(
          get(url, `/chunked/${MiB + 1}`, Layer.orDie(OktaUndici.layer()), {
            maxResponseBytes: 2 * MiB
          }),
          (text) => text.length
        )
      )
      expect(raised).toMatchObject({
        kind: "TooLarge",
        issues: `more than ${MiB} bytes, the maxResponseBytes limit`
      })
    }).pipe(Effect.scoped)
  )

  it.live(
    "an undici Agent of the application's with a smaller cap: TooLarge at once, not retried",
    () =>
      Effect.gen(function* () {
        const { url, seen } = yield* server
        const agent = new Undici.Agent({ maxResponseSize: 1024 })
        yield* Effect.addFinalizer(() => Effect.promise(() => agent.close()))
        const transport = NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
          Layer.provide(Layer.succeed(NodeHttpClient.Dispatcher, agent))
        )
        // Streamed (chunked) and read in one go (a declared length), with retries on.
        for (const form of ["chunked", "length"]) {
          const over = yield* Effect.flip(
            Effect.flatMap(OktaClient, (client) =>
              client.execute(
                { operation: "probe", method: "GET", path: `/${form}/4096` },
                (r) => r.text
              )
            ).pipe(
              Effect.provide(
                OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t") }).pipe(
                  Layer.provide(transport)
                )
              )
            )
          )
          expect(over).toMatchObject({
            _tag: "OktaDecodeError",
            kind: "TooLarge",
            issues: "more than the HTTP client's own limit (its undici Agent's maxResponseSize)"
          })
        }
        expect(seen.map((s) => s.path)).toEqual(["/chunked/4096", "/length/4096"])
      }).pipe(Effect.scoped)
  )

  // Node's fetch takes an undici dispatcher in its options (a proxy's, a capped one): fetch's
  // error wraps undici's in a `TypeError: terminated`.
  it.live("so does fetch given such an Agent as its dispatcher: TooLarge, not retried", () =>
    Effect.gen(function* () {
      const { url, seen } = yield* server
      const agent = new Undici.Agent({ maxResponseSize: 1024 })
      yield* Effect.addFinalizer(() => Effect.promise(() => agent.close()))
      // Typed by the undici Node bundles, whose Dispatcher type differs from this undici's.
      const init: RequestInit = {
        dispatcher: agent as unknown as NonNullable<RequestInit["dispatcher"]>
      }
      // A response the client does not recognise (wrapped on the way) is read by the platform.
      const wrapped = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          HttpClient.transformResponse(
            client,
            Effect.map(
              (response) =>
                new Proxy(response, {
                  get: (target, key) => Reflect.get(target, key, target) as unknown
                })
            )
          )
        )
      ).pipe(Layer.provide(FetchHttpClient.layer))
      for (const [path, transport] of [
        ["/chunked/4096", OktaFetch.layer()],
        ["/length/4096", OktaFetch.layer()],
        ["/chunked/4096", FetchHttpClient.layer],
        ["/chunked/4096", wrapped]
      ] as const) {
        const over = yield* Effect.flip(
          Effect.flatMap(OktaClient, (client) =>
            client.execute({ operation: "probe", method: "GET", path }, (r) => r.text)
          ).pipe(
            Effect.provide(
              OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t") }).pipe(
                Layer.provide(transport),
                Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, init))
              )
            )
          )
        )
        expect(over).toMatchObject({
          _tag: "OktaDecodeError",
          kind: "TooLarge",
          issues: "more than the HTTP client's own limit (its undici Agent's maxResponseSize)"
        })
      }
      expect(seen.map((s) => s.path)).toEqual([
        "/chunked/4096",
        "/length/4096",
        "/chunked/4096",
        "/chunked/4096"
      ])
    }).pipe(Effect.scoped)
  )

  it.live("its bodies are read in one go, never streamed; an unregistered client streams", () =>
    Effect.gen(function* () {
      const { url } = yield* server
      let streamed = 0
      // The undici client with each response's `stream` counted, registered as capping or not.
      const spied = (capped: boolean) =>
        Layer.effect(
          HttpClient.HttpClient,
          Effect.map(HttpClient.HttpClient, (client) => {
            const spy = HttpClient.transformResponse(
              client,
              Effect.map(
                (response) =>
                  new Proxy(response, {
                    get: (target, key) => {
                      if (key === "stream") streamed++
                      return Reflect.get(target, key, target) as unknown
                    }
                  })
              )
            )
            return capped ? registerTransport(spy, { cap: CAP }) : spy
          })
        ).pipe(Layer.provide(NodeHttpClient.layerUndici))
      expect(yield* get(url, "/chunked", spied(true))).toBe(small)
      expect(streamed).toBe(0)
      expect(yield* get(url, "/chunked", spied(false))).toBe(small)
      expect(streamed).toBe(1)
    }).pipe(Effect.scoped)
  )

  it.live("calls in flight together each read their own body", () =>
    Effect.gen(function* () {
      // Held until all have come, then answered together: the answers arrive at once.
      const sizes = Array.from({ length: 10 }, (_, i) => 100 + i * 997)
      const held: Array<() => void> = []
      const { url } = yield* loopbackServer((req, res) => {
        const size = Number(req.url?.slice(1))
        if (size === 0) return res.end("{}")
        held.push(() => {
          res.writeHead(200, { "content-type": "application/json" })
          res.end(sized(size))
        })
        if (held.length === sizes.length) for (const answer of held) answer()
      })
      const transport = Layer.orDie(OktaUndici.layer({ maxResponseBytes: CAP }))
      // The gate lets one request through alone until a response has come: this one.
      const warmUp = (client: OktaClient["Type"]) =>
        client.execute({ operation: "probe", method: "GET", path: "/0" }, (r) => r.text)
      const lengths = yield* Effect.flatMap(OktaClient, (client) =>
        Effect.zipRight(
          warmUp(client),
          Effect.forEach(
            sizes,
            (size) =>
              client.execute({ operation: "probe", method: "GET", path: `/${size}` }, (r) =>
                Effect.map(r.text, (text) => text.length)
              ),
            { concurrency: "unbounded" }
          )
        )
      ).pipe(
        Effect.provide(
          OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t"), retry: false }).pipe(
            Layer.provide(transport)
          )
        )
      )
      expect(lengths).toEqual(sizes)
    }).pipe(Effect.scoped)
  )

  /** A server that records each request's `Connection` header. */
  const connectionsServer = Effect.suspend(() => {
    const connections: Array<string | undefined> = []
    return Effect.map(
      loopbackServer((req, res) => {
        connections.push(req.headers.connection)
        res.writeHead(200, { "content-type": "application/json" })
        res.end(small)
      }),
      ({ url }) => ({ url, connections })
    )
  })
  // `reset: true` asks undici to close the connection after the request.
  const reset = (close: boolean) => ({ reset: close }) as Undici.Dispatcher.RequestOptions<null>

  it.live("undici request options the application provides still apply to its requests", () =>
    Effect.gen(function* () {
      const { url, connections } = yield* connectionsServer
      const transport = Layer.orDie(OktaUndici.layer())
      const call = get(url, "/", transport)
      expect(yield* call).toBe(small)
      const closing = Effect.provideService(call, NodeHttpClient.UndiciRequestOptions, reset(true))
      expect(yield* closing).toBe(small)
      expect(connections).toEqual(["keep-alive", "close"])
    }).pipe(Effect.scoped)
  )

  // As on `NodeHttpClient.layerUndici`, whose requests carry its layer's context: options given to
  // the layer (or above it, in a test layer over the whole stack) apply, the caller's over them.
  it.live(
    "undici request options given to OktaUndici.layer apply, with or without transformClient",
    () =>
      Effect.gen(function* () {
        const { url, connections } = yield* connectionsServer
        const transport = Layer.orDie(OktaUndici.layer()).pipe(
          Layer.provide(Layer.succeed(NodeHttpClient.UndiciRequestOptions, reset(true)))
        )
        expect(yield* get(url, "/", transport)).toBe(small)
        expect(
          yield* get(url, "/", transport, { transformClient: HttpClient.mapRequest((r) => r) })
        ).toBe(small)
        const callers = Effect.provideService(
          get(url, "/", transport),
          NodeHttpClient.UndiciRequestOptions,
          reset(false)
        )
        expect(yield* callers).toBe(small)
        expect(connections).toEqual(["close", "close", "keep-alive"])
      }).pipe(Effect.scoped)
  )

  it.live(
    "its connections are closed with the layer: none is left open to keep a process alive",
    () =>
      Effect.gen(function* () {
        const open = new Set<Socket>()
        const server = createServer((_req, res) => {
          res.setHeader("content-type", "application/json")
          res.end(JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } }))
        })
        server.on("connection", (socket) => {
          open.add(socket)
          socket.on("close", () => open.delete(socket))
        })
        const url = yield* listening(server)
        expect((yield* getThrough(url, OktaUndici.layer(), { retry: false })).status).toBe(
          "ENABLED"
        )
        // The call's layer is closed: its agent is destroyed, and the kept-alive socket with it.
        const closed = Effect.async<void>((resume) => {
          if (open.size === 0) return resume(Effect.void)
          for (const socket of open)
            socket.once("close", () => open.size === 0 && resume(Effect.void))
        })
        expect(yield* Effect.timeout(closed, "2 seconds").pipe(Effect.option)).toEqual(
          Option.some(undefined)
        )
      }).pipe(Effect.scoped)
  )

  it.effect("a cap that is not a positive integer is an OktaConfigError", () =>
    Effect.gen(function* () {
      for (const maxResponseBytes of [0, -1, 1.5, Number.NaN]) {
        const error = yield* Effect.flip(
          Layer.build(OktaUndici.layer({ maxResponseBytes })).pipe(Effect.scoped)
        )
        expect(error).toMatchObject({
          _tag: "OktaConfigError",
          field: "maxResponseBytes",
          reason: "must be a positive integer"
        })
      }
    })
  )
})
