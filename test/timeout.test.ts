import { describe, expect, it } from "@effect/vitest"
import {
  FetchHttpClient,
  HttpClient,
  HttpClientError,
  HttpClientRequest,
  HttpClientResponse
} from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Deferred, Effect, Exit, Fiber, type FiberId, Layer, Redacted, TestClock } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { ApplicationConnections, OktaClient } from "../src/index.js"
import {
  type ExchangeTimeout,
  makeExchangeTimeout,
  makeTimeout,
  releaseRequest
} from "../src/internal/timeout.js"

const timeoutFail = <A, E, E2>(effect: Effect.Effect<A, E>, millis: number, onTimeout: () => E2) =>
  makeTimeout(millis)(effect, onTimeout)

// The forking timeout: the call deadline, and the per-attempt timeout under TestClock or over a
// transport not seen listening for its abort signal. Under TestClock its timer is a sleep on that
// clock; the live-clock path (a shared setTimeout) is tested in real time below.
describe("timeoutFail (the per-attempt timeout)", () => {
  it.effect("an effect that finishes in time keeps its value, and its failure", () =>
    Effect.gen(function* () {
      const ok = yield* Effect.fork(
        timeoutFail(Effect.as(Effect.sleep("999 millis"), 42), 1000, () => "timeout" as const)
      )
      const bad = yield* Effect.fork(timeoutFail(Effect.fail("boom"), 1000, () => "timeout"))
      yield* TestClock.adjust("999 millis")
      expect(yield* Fiber.join(ok)).toBe(42)
      expect(yield* Effect.flip(Fiber.join(bad))).toBe("boom")
    })
  )

  it.effect(
    "at the timeout the effect is interrupted, its finalizers run first, then onTimeout",
    () =>
      Effect.gen(function* () {
        const order: Array<string> = []
        const fiber = yield* Effect.fork(
          timeoutFail(
            Effect.onInterrupt(Effect.never, () => Effect.sync(() => order.push("finalizer"))),
            1000,
            () => {
              order.push("onTimeout")
              return "timeout" as const
            }
          )
        )
        yield* TestClock.adjust("999 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 milli")
        const exit = yield* Fiber.await(fiber)
        expect(exit).toStrictEqual(Exit.fail("timeout"))
        expect(order).toEqual(["finalizer", "onTimeout"])
      })
  )

  it.effect("interrupting the caller interrupts the effect and waits for its finalizers", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      let finalized = false
      const fiber = yield* Effect.fork(
        timeoutFail(
          Effect.zipRight(
            Deferred.succeed(started, undefined),
            Effect.onInterrupt(Effect.never, () =>
              Effect.zipRight(
                Effect.sleep("10 millis"),
                Effect.sync(() => {
                  finalized = true
                })
              )
            )
          ),
          1000,
          () => "timeout"
        )
      )
      yield* Deferred.await(started)
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust("10 millis")
      const exit = yield* Fiber.join(interrupting)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(finalized).toBe(true)
      // The timer was stopped: nothing fires later.
      yield* TestClock.adjust("1 second")
    })
  )
})

// The live clock's timer queue: one timer for all pending calls of a timeout length. This waits on
// real timers (30 ms), as test/integration.test.ts does; TestClock cannot drive a setTimeout.
describe("timeoutFail with the live clock", () => {
  it.live("calls that finish leave the queue; a later one still expires on its own deadline", () =>
    Effect.gen(function* () {
      const timeout = makeTimeout(30)
      const fast = yield* Effect.all(
        Array.from({ length: 5 }, (_, i) => timeout(Effect.succeed(i), () => "timeout")),
        { concurrency: "unbounded" }
      )
      expect(fast).toEqual([0, 1, 2, 3, 4])
      const started = Date.now()
      const slow = yield* Effect.all(
        [
          timeout(Effect.succeed("done"), () => "timeout" as const),
          Effect.flip(timeout(Effect.never, () => "timeout" as const)),
          Effect.flip(timeout(Effect.never, () => "timeout" as const))
        ],
        { concurrency: "unbounded" }
      )
      expect(slow).toEqual(["done", "timeout", "timeout"])
      expect(Date.now() - started).toBeGreaterThanOrEqual(25)
      // Nothing pending: the next call arms a fresh timer and still times out.
      expect(yield* Effect.flip(timeout(Effect.never, () => "again"))).toBe("again")
    })
  )
})

// The per-attempt timeout of an HTTP exchange. A transport seen listening for the request's
// abort is timed out by aborting it, in the caller's fiber; any other runs in a fiber of its own
// that is interrupted. Which one ran is visible from the transport: `HttpClient.make` hands it the
// fiber it runs in.
describe("the exchange timeout", () => {
  interface Seen {
    readonly fiber: FiberId.FiberId
    readonly signal: AbortSignal
  }
  /** A transport answering `/ok` at once and never answering `/hang`; `listens` decides whether it
   * gives up when the request's signal aborts, as the platform's transports do. */
  const transport = (listens: boolean) => {
    const seen: Array<Seen> = []
    const client = HttpClient.make((request, url, signal, fiber) => {
      seen.push({ fiber: fiber.id(), signal })
      return Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>(
        (resume) => {
          // As the platform's transports do: listen from the start, answered or not.
          if (listens) {
            signal.addEventListener("abort", () =>
              resume(
                Effect.fail(
                  new HttpClientError.RequestError({
                    request,
                    reason: "Transport",
                    cause: signal.reason
                  })
                )
              )
            )
          }
          if (url.pathname === "/ok") {
            resume(Effect.succeed(HttpClientResponse.fromWeb(request, new Response("ok"))))
          }
        }
      )
    })
    return { client, seen }
  }
  /** Sends to `path` of the fake transport through `timeout`. */
  const sender = (timeout: ExchangeTimeout, client: HttpClient.HttpClient) => (path: string) =>
    timeout.run(
      HttpClientRequest.get(`http://127.0.0.1:1${path}`),
      client.execute,
      () => "timeout" as const
    )

  it.live(
    "a transport that listens: after one exchange it is timed out by its abort signal, in the caller's fiber",
    () =>
      Effect.gen(function* () {
        const { client, seen } = transport(true)
        const timeout = makeExchangeTimeout(30)
        const send = sender(timeout, client)
        expect(timeout.transportListens).toBe(false)
        // The first exchange runs forked, and shows whether the transport listens.
        yield* send("/ok")
        expect(timeout.transportListens).toBe(true)
        const caller = yield* Effect.fiberId
        expect(seen[0]!.fiber).not.toStrictEqual(caller)
        // Since then: the caller's own fiber, and the deadline aborts the request.
        const started = Date.now()
        expect(yield* Effect.flip(send("/hang"))).toBe("timeout")
        expect(Date.now() - started).toBeGreaterThanOrEqual(25)
        expect(seen[1]!.fiber).toStrictEqual(caller)
        expect(seen[1]!.signal.aborted).toBe(true)
        expect((seen[1]!.signal.reason as DOMException).name).toBe("TimeoutError")
        // A success keeps its value and leaves the signal alone (the body is the caller's to
        // read); releaseRequest lets the transport go.
        const request = HttpClientRequest.get("http://127.0.0.1:1/ok")
        const response = yield* timeout.run(request, client.execute, () => "timeout" as const)
        expect(response.status).toBe(200)
        expect(seen[2]!.fiber).toStrictEqual(caller)
        expect(seen[2]!.signal.aborted).toBe(false)
        releaseRequest(request)
        expect(seen[2]!.signal.aborted).toBe(true)
      })
  )

  it.live(
    "a transport that ignores its signal is never trusted with it: each attempt is forked and interrupted",
    () =>
      Effect.gen(function* () {
        const { client, seen } = transport(false)
        const timeout = makeExchangeTimeout(30)
        const send = sender(timeout, client)
        yield* send("/ok")
        expect(yield* Effect.flip(send("/hang"))).toBe("timeout")
        expect(yield* Effect.flip(send("/hang"))).toBe("timeout")
        expect(timeout.transportListens).toBe(false)
        const caller = yield* Effect.fiberId
        for (const { fiber } of seen) expect(fiber).not.toStrictEqual(caller)
      })
  )

  it.live("interrupting the caller aborts the request on either path", () =>
    Effect.gen(function* () {
      const { client, seen } = transport(true)
      const timeout = makeExchangeTimeout(60_000)
      const send = sender(timeout, client)
      for (let i = 0; i < 2; i++) {
        // The first forked (not yet trusted), the second in the caller's fiber.
        const index = seen.length
        const fiber = yield* Effect.fork(send("/hang"))
        while (seen.length <= index) yield* Effect.sleep("1 millis")
        expect(Exit.isInterrupted(yield* Fiber.interrupt(fiber))).toBe(true)
        expect(seen[index]!.signal.aborted).toBe(true)
        if (i === 0) yield* send("/ok")
      }
      expect(timeout.transportListens).toBe(true)
      // The /ok in between succeeded: its signal was left to the caller.
      expect(seen[1]!.signal.aborted).toBe(false)
    })
  )

  it.effect("under TestClock every attempt is forked and timed by that clock", () =>
    Effect.gen(function* () {
      const { client, seen } = transport(true)
      const timeout = makeExchangeTimeout(1000)
      const send = sender(timeout, client)
      yield* send("/ok")
      const fiber = yield* Effect.fork(send("/hang"))
      yield* TestClock.adjust("999 millis")
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust("1 milli")
      expect(yield* Effect.flip(Fiber.join(fiber))).toBe("timeout")
      const caller = yield* Effect.fiberId
      for (const entry of seen) expect(entry.fiber).not.toStrictEqual(caller)
    })
  )
})

// The platform's own transports, on a loopback server: each is seen listening after one exchange,
// and then a request that gets no answer, or an answer that stops mid-body, ends at the deadline
// in the caller's fiber.
describe("the exchange timeout on the platform's transports", () => {
  const server = Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
      const server = createServer((request, response) => {
        if (request.url === "/hang") return
        response.writeHead(200, { "content-type": "application/json" })
        if (request.url === "/hang-body") response.write('{"partial":')
        else response.end('{"ok":true}')
      })
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      )
    }),
    ({ close }) => Effect.sync(close)
  )
  const transports = [
    ["FetchHttpClient", FetchHttpClient.layer],
    ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
    ["NodeHttpClient.layer", NodeHttpClient.layer]
  ] as const
  for (const [name, layer] of transports) {
    it.live(name, () =>
      Effect.gen(function* () {
        const { url } = yield* server
        const client = yield* HttpClient.HttpClient
        const timeout = makeExchangeTimeout(200)
        const send = (path: string) =>
          timeout.run(
            HttpClientRequest.get(url + path),
            (request) => Effect.flatMap(client.execute(request), (response) => response.text),
            () => "timeout" as const
          )
        expect(yield* send("/ok")).toBe('{"ok":true}')
        expect(timeout.transportListens).toBe(true)
        expect(yield* Effect.flip(send("/hang"))).toBe("timeout")
        expect(yield* Effect.flip(send("/hang-body"))).toBe("timeout")
        expect(yield* send("/ok")).toBe('{"ok":true}')
      }).pipe(Effect.scoped, Effect.provide(layer as Layer.Layer<HttpClient.HttpClient>))
    )
  }
})

// The client's side of it: a 2xx whose body was read to the end leaves the connection to the
// transport; one whose body a custom onSuccess ignored is aborted, so the transport drops it.
describe("OktaClient releases what a call leaves unread", () => {
  it.live("a read body is left alone, an unread one is aborted", () =>
    Effect.gen(function* () {
      const signals: Array<AbortSignal> = []
      const body = JSON.stringify({
        authScheme: "TOKEN",
        status: "ENABLED",
        profile: { authScheme: "TOKEN" }
      })
      const transport = HttpClient.make((request, _url, signal) =>
        Effect.sync(() => {
          signal.addEventListener("abort", () => {})
          signals.push(signal)
          return HttpClientResponse.fromWeb(
            request,
            new Response(body, {
              headers: { "content-type": "application/json", "content-length": `${body.length}` }
            })
          )
        })
      )
      const layer = ApplicationConnections.layer.pipe(
        Layer.provideMerge(
          OktaClient.layer({ orgUrl: "https://acme.okta.com", apiToken: Redacted.make("00t") })
        ),
        Layer.provide(Layer.succeed(HttpClient.HttpClient, transport))
      )
      yield* Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const client = yield* OktaClient
        // The first call shows that the transport listens; the next ones own its signal.
        for (let i = 0; i < 2; i++)
          yield* api.getDefaultProvisioningConnectionForApplication("0oa1")
        expect(signals[1]!.aborted).toBe(false)
        const status = yield* client.execute(
          {
            operation: "custom",
            method: "GET",
            path: "/api/v1/apps/0oa1/connections/default"
          },
          (_ctx, response) => Effect.succeed(response.status)
        )
        expect(status).toBe(200)
        expect(signals[2]!.aborted).toBe(true)
      }).pipe(Effect.provide(layer))
    })
  )
})
