/**
 * The per-attempt timeout and the call deadline, as a user meets them: through `OktaClient` and
 * `ApplicationConnections`, on a hand-made `HttpClient` under `TestClock`, and on the platform's
 * three transports and this package's own (`OktaUndici.layer`, `OktaFetch.layer`) against a
 * loopback server in real time. On this package's own an attempt has no fiber of its own: its
 * timeout aborts its request.
 */
import {
  FetchHttpClient,
  HttpClient,
  type HttpClientRequest,
  HttpClientResponse
} from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Clock,
  Effect,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  ManagedRuntime,
  Option,
  Redacted,
  Schema,
  Schedule,
  Supervisor,
  TestClock
} from "effect"
import type { IncomingMessage } from "node:http"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientSettings,
  OktaError,
  OktaFetch,
  type OktaResponse,
  RetryPolicy
} from "../src/index.js"
import { OktaUndici } from "../src/undici/index.js"
import { interruptEverywhere, settle } from "./support/interruptAt.js"
import { runToCompletion, turn } from "./support/clock.js"
import { connectionsOn, connectionsWith, json, text } from "./support/TestHttp.js"
import { loopbackServer } from "./support/loopback.js"
import { recordingTracer } from "./support/tracing.js"

const APP = "0oafxqCAJWWGELFTYASJ"

const over = (
  transport: HttpClient.HttpClient,
  settings: OktaClientSettings,
  orgUrl = "https://acme.okta.com"
) =>
  ApplicationConnections.layer.pipe(
    Layer.provideMerge(OktaClient.layer({ orgUrl, apiToken: Redacted.make("00t"), ...settings })),
    Layer.provide(Layer.succeed(HttpClient.HttpClient, transport))
  )

const get = Effect.flatMap(ApplicationConnections, (api) =>
  api.getDefaultProvisioningConnectionForApplication(APP)
)

/** Answers at once, with no timer of its own. */
const answer = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.succeed(
    HttpClientResponse.fromWeb(
      request,
      new Response(JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } }), {
        headers: { "content-type": "application/json" }
      })
    )
  )

describe("the per-attempt timeout under TestClock", () => {
  /** Joins a call that must have failed with the attempt timeout. */
  const attemptTimedOut = (fiber: Fiber.Fiber<unknown, unknown>) =>
    Effect.map(Fiber.join(fiber), (error) =>
      expect(error).toMatchObject({ _tag: "OktaTimeoutError", kind: "attempt" })
    )

  it.effect("a transport that never answers fails the attempt after `timeout`, not before", () =>
    Effect.gen(function* () {
      const silent = HttpClient.make(() => Effect.never)
      const fiber = yield* Effect.fork(
        Effect.flip(Effect.provide(get, over(silent, { timeout: "2 seconds", retry: false })))
      )
      yield* TestClock.adjust("1999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "attempt",
        timeoutMillis: 2000
      })
      expect("attempts" in error).toBe(false)
    })
  )

  it.effect("attempts that all time out end with the last, which says how many there were", () =>
    Effect.gen(function* () {
      const silent = HttpClient.make(() => Effect.never)
      const retry = RetryPolicy.make({ maxRetries: 2, backoff: Schedule.spaced("100 millis") })
      const fiber = yield* Effect.fork(
        Effect.flip(Effect.provide(get, over(silent, { timeout: "1 second", retry })))
      )
      yield* runToCompletion(fiber, 10_000)
      const error = yield* Fiber.join(fiber)
      expect(error).toMatchObject({ _tag: "OktaTimeoutError", kind: "attempt", attempts: 3 })
      expect(error.message).toMatch(
        /an attempt took longer than its 1000 ms timeout, after 3 attempts$/
      )
    })
  )

  it.effect("attempts started at different times each time out at their own deadline", () =>
    Effect.gen(function* () {
      let requests = 0
      // Answers the first request, so that the gate, which sends its first request alone, lets
      // the next two through together; never answers after that.
      const transport = HttpClient.make((request) =>
        ++requests === 1 ? answer(request) : Effect.never
      )
      // One client for both calls: one watchdog serves both attempts.
      yield* Effect.gen(function* () {
        yield* get
        const call = Effect.fork(Effect.flip(get))
        const first = yield* call
        yield* TestClock.adjust("1 second")
        const second = yield* call
        yield* TestClock.adjust("3999 millis")
        expect(Option.isNone(yield* Fiber.poll(first))).toBe(true)
        yield* TestClock.adjust("1 millis")
        yield* attemptTimedOut(first)
        yield* TestClock.adjust("999 millis")
        expect(Option.isNone(yield* Fiber.poll(second))).toBe(true)
        yield* TestClock.adjust("1 millis")
        yield* attemptTimedOut(second)
      }).pipe(Effect.provide(over(transport, { timeout: "5 seconds", retry: false })))
    })
  )

  it.effect("a call made right after another times out at its own deadline, not the first's", () =>
    Effect.gen(function* () {
      let requests = 0
      // The first request is answered after a second; the second one never.
      const transport = HttpClient.make((request) =>
        ++requests === 1 ? Effect.zipRight(Effect.sleep("1 second"), answer(request)) : Effect.never
      )
      yield* Effect.gen(function* () {
        // The second call starts as the first ends, while the watchdog the first one started
        // still sleeps until the first one's deadline (10 s); the second's is at 11 s.
        const calls = yield* Effect.fork(Effect.zipRight(get, Effect.flip(get)))
        yield* TestClock.adjust("10 seconds")
        expect(requests).toBe(2)
        expect(Option.isNone(yield* Fiber.poll(calls))).toBe(true)
        yield* TestClock.adjust("1 second")
        yield* attemptTimedOut(calls)
      }).pipe(Effect.provide(over(transport, { timeout: "10 seconds", retry: false })))
    })
  )

  it.effect("a body that stalls after the headers is timed out too", () =>
    Effect.gen(function* () {
      const stalls = HttpClient.make((request) =>
        Effect.succeed(
          HttpClientResponse.fromWeb(
            request,
            new Response(
              new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }),
              {
                headers: { "content-type": "application/json" }
              }
            )
          )
        )
      )
      const fiber = yield* Effect.fork(
        Effect.flip(Effect.provide(get, over(stalls, { timeout: "1 second", retry: false })))
      )
      yield* TestClock.adjust("1 second")
      yield* attemptTimedOut(fiber)
    })
  )

  for (const [name, transport] of ownTransports()) {
    it.effect(`on ${name} too: its request is aborted at \`timeout\` on the call's clock`, () =>
      Effect.gen(function* () {
        const { dropped, received, url } = yield* hangingServer
        const send = yield* prober(url, { timeout: "1 minute", retry: false }, transport)
        const fiber = yield* Effect.fork(Effect.flip(send("/hang")))
        // Real time passes for the request to reach the server; the test clock does not move.
        yield* untilReceived(received)
        yield* TestClock.adjust("59999 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 millis")
        yield* attemptTimedOut(fiber)
        yield* dropped(1)
      }).pipe(Effect.scoped)
    )
  }

  // A mock that never answers, as a test of the application's own timeout handling writes it
  // (`vi.stubGlobal("fetch", …)` or `OktaFetch.layer({ fetch })`): it ignores the request's
  // `AbortSignal`, with which this layer's attempts are timed out.
  const deaf: ReadonlyArray<readonly [string, typeof globalThis.fetch]> = [
    ["never answers", () => new Promise<Response>(() => {})],
    [
      "answers a body that never ends",
      () =>
        Promise.resolve(
          new Response(
            new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }),
            { headers: { "content-type": "application/json" } }
          )
        )
    ]
  ]
  /** The call over `OktaFetch.layer({ fetch })`, its attempts timed out after 1 s, not retried. */
  const getOverFetch = (fetch: typeof globalThis.fetch) =>
    get.pipe(
      Effect.provide(
        ApplicationConnections.layer.pipe(
          Layer.provide(
            OktaClient.layer({
              orgUrl: "https://acme.okta.com",
              apiToken: Redacted.make("00t"),
              timeout: "1 second",
              retry: false
            })
          ),
          Layer.provide(OktaFetch.layer({ fetch }))
        )
      )
    )
  for (const [name, fetch] of deaf) {
    it.effect(`OktaFetch over a fetch that ignores its AbortSignal and ${name}: timed out`, () =>
      Effect.gen(function* () {
        const fiber = yield* Effect.fork(Effect.flip(getOverFetch(fetch)))
        yield* TestClock.adjust("999 millis")
        expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
        yield* TestClock.adjust("1 millis")
        yield* attemptTimedOut(fiber)
      })
    )
  }

  it.effect(
    "OktaFetch over a fetch that answers after its attempt timed out: that body is cancelled",
    () =>
      Effect.gen(function* () {
        let answer: (response: Response) => void = () => {}
        let cancelled = false
        const late: typeof globalThis.fetch = () =>
          new Promise<Response>((resolve) => {
            answer = resolve
          })
        const fiber = yield* Effect.fork(Effect.flip(getOverFetch(late)))
        yield* TestClock.adjust("1 second")
        yield* attemptTimedOut(fiber)
        // Nothing will read it: left open, it would hold its connection.
        answer(
          new Response(
            new ReadableStream({
              cancel: () => {
                cancelled = true
              }
            })
          )
        )
        yield* turn
        expect(cancelled).toBe(true)
      })
  )

  it.effect("the deadline bounds the whole call, retries and backoff included", () =>
    Effect.gen(function* () {
      const silent = HttpClient.make(() => Effect.never)
      const fiber = yield* Effect.fork(
        Effect.flip(
          Effect.provide(get, over(silent, { timeout: "1 second", deadline: "2500 millis" }))
        )
      )
      yield* TestClock.adjust("2500 millis")
      expect(yield* Fiber.join(fiber)).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline",
        timeoutMillis: 2500,
        // What the call was retrying after when the deadline passed: its attempts' timeout.
        cause: { _tag: "OktaTimeoutError", kind: "attempt", timeoutMillis: 1000 }
      })
    })
  )
})

describe("the deadline, whatever the org answers", () => {
  const isOktaError = Schema.is(OktaError)
  const answer = fc.record({
    kind: fc.constantFrom("ok", "503", "500", "html", "429", "hang", "drop"),
    // A proxy's Retry-After on a 5xx, or the 429's reset: seconds from the request.
    seconds: fc.integer({ min: 0, max: 90 }),
    latency: fc.integer({ min: 0, max: 12_000 })
  })

  it.effect.prop(
    "any answers, latencies, attempt timeout and deadline, calls at any moments: each call ends by its deadline in its value or one typed error, sends nothing after it, and sleeps into it never",
    {
      answers: fc.array(answer, { minLength: 1, maxLength: 6 }),
      starts: fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 4 }),
      timeout: fc.constantFrom(1_000, 4_000, 30_000),
      deadline: fc.constantFrom(1_500, 5_000, 20_000, 60_000),
      maxRetries: fc.integer({ min: 0, max: 5 })
    },
    ({ answers, starts, timeout, deadline, maxRetries }) =>
      Effect.gen(function* () {
        // Each call reads its own app, so that its requests are known; each request's end is
        // when its answer arrives or its attempt times out.
        const appOf = (call: number) => `0oafxqCAJWWGELFTYAS${call}`
        const sent: Array<{ path: string; at: number; end: number }> = []
        const { layer } = connectionsWith(
          (request) => {
            const { kind, seconds, latency } = answers[sent.length % answers.length]!
            const answered = kind === "hang" ? Infinity : kind === "drop" ? 0 : latency
            sent.push({
              path: request.path,
              at: request.at,
              end: request.at + Math.min(answered, timeout)
            })
            if (kind === "drop") return { drop: true }
            const headers = { date: new Date(request.at).toUTCString() }
            const retryAfter = seconds > 0 ? { "retry-after": String(seconds) } : {}
            const response =
              kind === "ok"
                ? json(200, { status: "ENABLED", profile: { authScheme: "TOKEN" } }, headers)
                : kind === "503"
                  ? json(503, { errorCode: "E0000009" }, { ...headers, ...retryAfter })
                  : kind === "500"
                    ? json(500, { errorCode: "E0000009" }, headers)
                    : kind === "html"
                      ? text(502, "<html>Bad gateway</html>", "text/html", retryAfter)
                      : json(
                          429,
                          { errorCode: "E0000047" },
                          {
                            ...headers,
                            "x-rate-limit-limit": "50",
                            "x-rate-limit-remaining": "0",
                            "x-rate-limit-reset": String(Math.ceil(request.at / 1000) + seconds)
                          }
                        )
            return kind === "hang" ? Effect.never : Effect.as(Effect.sleep(latency), response)
          },
          {
            timeout,
            deadline,
            retry: RetryPolicy.make({ maxRetries, maxRateLimitWait: "70 seconds" })
          }
        )
        const fiber = yield* Effect.fork(
          Effect.flatMap(ApplicationConnections, (api) =>
            Effect.forEach(
              starts,
              (start, call) =>
                Effect.zipRight(
                  Effect.sleep(start),
                  Effect.zip(
                    Effect.exit(api.getDefaultProvisioningConnectionForApplication(appOf(call))),
                    Clock.currentTimeMillis
                  )
                ),
              { concurrency: "unbounded" }
            )
          ).pipe(Effect.provide(layer))
        )
        yield* runToCompletion(fiber, 100_000)
        const calls = yield* Fiber.join(fiber)
        calls.forEach(([exit, ended], call) => {
          const deadlineAt = starts[call]! + deadline
          expect(ended).toBeLessThanOrEqual(deadlineAt)
          for (const request of sent.filter((r) => r.path.includes(appOf(call)))) {
            expect(request.at).toBeLessThan(deadlineAt)
          }
          // A call the deadline ends was waiting on something of unknown length then: a request
          // in flight (its own, or the one another call's wait depends on). A wait known to reach
          // the deadline fails at once instead.
          if (ended === deadlineAt) {
            expect(sent.some((r) => r.at <= ended && ended <= r.end)).toBe(true)
          }
          if (Exit.isSuccess(exit)) return
          expect(Cause.isInterrupted(exit.cause)).toBe(false)
          const failures = [...Cause.failures(exit.cause)]
          expect([failures.length, [...Cause.defects(exit.cause)].length]).toEqual([1, 0])
          expect(isOktaError(failures[0])).toBe(true)
        })
      }),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 60 } }
  )
})

describe("the deadline on the call's span", () => {
  it.effect("a call past its deadline ends its span with the OktaTimeoutError", () =>
    Effect.gen(function* () {
      const { spans, tracer } = yield* recordingTracer
      const silent = HttpClient.make(() => Effect.never)
      const fiber = yield* Effect.fork(
        Effect.flip(
          Effect.provide(get, over(silent, { timeout: "1 second", deadline: "1500 millis" }))
        ).pipe(Effect.withTracer(tracer))
      )
      yield* TestClock.adjust("1500 millis")
      yield* Fiber.join(fiber)
      const span = spans.find((s) => s.name.startsWith("ApplicationConnections."))!
      expect(span.status._tag).toBe("Ended")
      const exit = span.status._tag === "Ended" ? span.status.exit : undefined
      expect(exit?._tag).toBe("Failure")
      expect(
        exit !== undefined && Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      ).toMatchObject({
        _tag: "OktaTimeoutError",
        kind: "deadline"
      })
    })
  )
})

class ForkCounter extends Supervisor.AbstractSupervisor<void> {
  started = 0
  readonly value = Effect.void
  override onStart(): void {
    this.started += 1
  }
}

describe("interruption", () => {
  /** A client that never answers, and the `AbortSignal` of each request it was given. */
  const neverAnswering = () => {
    const signals: Array<AbortSignal> = []
    const silent = HttpClient.make((_request, _url, signal) => {
      signals.push(signal)
      return Effect.never
    })
    return { signals, silent }
  }

  for (const [name, transport] of allTransports()) {
    it.live(`interrupting the caller drops the request's connection on ${name}`, () =>
      Effect.gen(function* () {
        const { dropped, received, url } = yield* hangingServer
        const send = yield* prober(url, { retry: false }, transport)
        const fiber = yield* Effect.fork(send("/hang"))
        yield* untilReceived(received)
        yield* Fiber.interrupt(fiber)
        yield* dropped(1)
      }).pipe(Effect.scoped)
    )
  }

  it.live(
    "an attempt on this package's transports runs in the caller's fiber; on any other, in its own",
    () =>
      Effect.gen(function* () {
        const { url } = yield* hangingServer
        /** How many fibers one call starts, once the client's watchdog runs. */
        const forked = (transport: Layer.Layer<HttpClient.HttpClient>) =>
          Effect.gen(function* () {
            const supervisor = new ForkCounter()
            const send = Effect.flatMap(OktaClient, (client) =>
              client.execute({ operation: "probe", method: "GET", path: "/ok" }, (r) => r.text)
            )
            yield* Effect.gen(function* () {
              // The first call starts the watchdog; the second finds it running.
              yield* send
              yield* Effect.supervised(send, supervisor)
            }).pipe(
              Effect.provide(
                OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t") }).pipe(
                  Layer.provide(transport)
                )
              )
            )
            return supervisor.started
          })
        expect(yield* forked(undiciLayer)).toBe(0)
        expect(yield* forked(OktaFetch.layer())).toBe(0)
        expect(yield* forked(NodeHttpClient.layerUndici)).toBe(1)
        expect(yield* forked(FetchHttpClient.layer)).toBe(1)
      }).pipe(Effect.scoped)
  )

  it.effect(
    "an attempt failing in a fiber of its own logs no 'unhandled error': its error is the call's",
    () =>
      Effect.gen(function* () {
        const logged: Array<string> = []
        const logger = Logger.make(({ message }) => {
          logged.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
        })
        const notFound = (request: HttpClientRequest.HttpClientRequest) =>
          Effect.succeed(
            HttpClientResponse.fromWeb(
              request,
              new Response(JSON.stringify({ errorCode: "E0000007", errorSummary: "Not found" }), {
                status: 404,
                headers: { "content-type": "application/json" }
              })
            )
          )
        const exit = yield* Effect.exit(get).pipe(
          Effect.provide(
            Layer.merge(
              over(HttpClient.make(notFound), {
                retry: false,
                // A user's own fiber that fails keeps the log level the user gave it.
                transformClient: (client) =>
                  HttpClient.tap(client, () =>
                    Effect.flatMap(Effect.fork(Effect.fail("the user's own")), Fiber.await)
                  )
              }),
              Logger.replace(Logger.defaultLogger, logger)
            )
          ),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        expect(Exit.isFailure(exit) && Cause.squash(exit.cause)).toMatchObject({
          _tag: "OktaNotFoundError"
        })
        // One line, the user's fiber's: none for the attempt's fiber, whose failure is the call's.
        expect(logged.filter((line) => line.includes("unhandled error"))).toHaveLength(1)
      })
  )

  it.effect("interrupting the caller stops an attempt that has not reached the transport yet", () =>
    Effect.gen(function* () {
      const { signals, silent } = neverAnswering()
      const layer = over(silent, {
        retry: false,
        // A client made to wait before it sends (a user's own throttle, say).
        transformClient: (client) =>
          HttpClient.mapRequestEffect(client, (request) =>
            Effect.as(Effect.sleep("1 second"), request)
          )
      })
      const fiber = yield* Effect.fork(Effect.provide(get, layer))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("2 seconds")
      expect(signals).toHaveLength(0)
    })
  )

  it.live("interrupting the caller aborts the request the transport was given", () =>
    Effect.gen(function* () {
      const { signals, silent } = neverAnswering()
      const fiber = yield* Effect.fork(Effect.provide(get, over(silent, { retry: false })))
      while (signals.length === 0) yield* Effect.sleep("1 millis")
      expect(signals[0]!.aborted).toBe(false)
      yield* Fiber.interrupt(fiber)
      expect(signals[0]!.aborted).toBe(true)
    })
  )
})

describe("the timer behind the per-attempt timeout (real time)", () => {
  /**
   * The timers of a second or more set while `use` runs and still pending: what keeps a process
   * with an open runtime alive; and how many were set in all. (Counted through `setTimeout`
   * itself: Node's own count of pending timers also holds other tests' and the scheduler's short
   * ones.)
   */
  const withTimers = <A, E, R>(
    use: (pending: () => number, set: () => number) => Effect.Effect<A, E, R>
  ) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const pending = new Set<unknown>()
        const counter = { set: 0 }
        const { setTimeout: set, clearTimeout: clear } = globalThis
        globalThis.setTimeout = ((handler: () => void, millis?: number) => {
          const handle = set(() => {
            pending.delete(handle)
            handler()
          }, millis)
          if ((millis ?? 0) >= 1000) {
            pending.add(handle)
            counter.set += 1
          }
          return handle
        }) as typeof globalThis.setTimeout
        globalThis.clearTimeout = ((handle: Parameters<typeof clear>[0]) => {
          pending.delete(handle)
          clear(handle)
        }) as typeof globalThis.clearTimeout
        return {
          pending,
          counter,
          restore: () => Object.assign(globalThis, { setTimeout: set, clearTimeout: clear })
        }
      }),
      ({ counter, pending }) =>
        use(
          () => pending.size,
          () => counter.set
        ),
      ({ restore }) => Effect.sync(restore)
    )

  it.live("one timer for all running attempts, none once they ended", () =>
    withTimers((pending) =>
      Effect.gen(function* () {
        let hang = false
        const transport = HttpClient.make((request) =>
          hang
            ? // Never answers, and holds no timer of its own (as `Effect.never` does).
              Effect.async<never>(() => {})
            : answer(request)
        )
        yield* Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const call = api.getDefaultProvisioningConnectionForApplication(APP)
          yield* call
          yield* settle
          // An idle client holds no timer, so a process with an open runtime can exit.
          expect(pending()).toBe(0)
          hang = true
          const hung = yield* Effect.forEach([1, 2, 3], () => Effect.fork(call))
          yield* settle
          expect(pending()).toBe(1)
          yield* Fiber.interruptAll(hung)
          yield* settle
          expect(pending()).toBe(0)
        }).pipe(Effect.provide(over(transport, { timeout: "1 minute", retry: false })))
      })
    )
  )

  it.live(
    "a call interrupted at any step of its start leaves the timeout working, and no timer once idle",
    () =>
      withTimers((pending) =>
        Effect.gen(function* () {
          // Never answers; fetch's answer to an abort is the only way out.
          const hangingFetch: typeof fetch = (_input, init) =>
            new Promise((_resolve, reject) =>
              init?.signal?.addEventListener("abort", () => reject(init.signal?.reason))
            )
          const transports = [
            // A fiber per attempt, interrupted at the timeout.
            Layer.succeed(
              HttpClient.HttpClient,
              HttpClient.make(() => Effect.async<never>(() => {}))
            ),
            // The attempt in the caller's fiber, its request aborted at the timeout.
            OktaFetch.layer({ fetch: hangingFetch })
          ]
          for (const transport of transports) {
            yield* Effect.gen(function* () {
              const api = yield* ApplicationConnections
              const call = api.getDefaultProvisioningConnectionForApplication(APP)
              // Interrupted at each step of its start in turn: between an attempt being counted
              // as running and its end being watched, too.
              expect(yield* interruptEverywhere(call)).toBeGreaterThan(50)
              yield* settle
              expect(pending()).toBe(0)
              // And the timeout still holds: no interruption left the watchdog half started.
              const late = yield* Effect.flip(call)
              expect(late).toMatchObject({ _tag: "OktaTimeoutError", kind: "attempt" })
            }).pipe(Effect.provide(connectionsOn(transport, { timeout: "1 second" })))
          }
        })
      )
  )

  it.live("calls one after another share one timer, gone once the caller stops", () =>
    withTimers((pending, set) =>
      Effect.gen(function* () {
        const transport = HttpClient.make(answer)
        yield* Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const call = api.getDefaultProvisioningConnectionForApplication(APP)
          // The watchdog of one call is still there when the next starts: it is kept, not
          // stopped and started again (one timer for the run, not one per call).
          yield* call
          yield* call
          yield* call
          expect(set()).toBe(1)
          yield* settle
          expect(pending()).toBe(0)
          yield* call
          expect(set()).toBe(2)
          yield* settle
          expect(pending()).toBe(0)
        }).pipe(Effect.provide(over(transport, { timeout: "1 minute", retry: false })))
      })
    )
  )

  it.live("calls awaited one after another, each its own runPromise, share one timer too", () =>
    withTimers((pending, set) =>
      Effect.gen(function* () {
        const runtime = yield* Effect.acquireRelease(
          Effect.sync(() =>
            ManagedRuntime.make(
              over(HttpClient.make(answer), { timeout: "1 minute", retry: false })
            )
          ),
          (runtime) => Effect.promise(() => runtime.dispose())
        )
        const call = Effect.flatMap(ApplicationConnections, (api) =>
          api.getDefaultProvisioningConnectionForApplication(APP)
        )
        // As a script or a request handler calls the client: a promise per call, awaited.
        yield* Effect.promise(async () => {
          for (let i = 0; i < 3; i++) await runtime.runPromise(call)
        })
        expect(set()).toBe(1)
        yield* settle
        expect(pending()).toBe(0)
      }).pipe(Effect.scoped)
    )
  )
})

const BODY = JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } })

/**
 * A loopback server that answers `/ok`, never answers `/hang`, and sends the first byte of the
 * body of `/hang-body` and no more; `/hang-big` and `/hang-big-error` send 4 KiB of a chunked
 * body (with a 200 and a 503) and never end it; `/hang-once` does what `/hang-big-error` does the
 * first time and answers as `/ok` does after. `dropped(n)` waits until `n` connections of requests
 * to a `hang` path were closed (a `/hang-once` answered in full counts once sent).
 */
const hangingServer = Effect.gen(function* () {
  const received: Array<IncomingMessage> = []
  let closed = 0
  let hungOnce = false
  const waiting: Array<() => void> = []
  const server = yield* loopbackServer((req, res) => {
    received.push(req)
    if (req.url?.includes("hang")) {
      res.on("close", () => {
        closed += 1
        for (const wake of waiting.splice(0)) wake()
      })
    }
    const url = req.url ?? ""
    const once = url === "/hang-once" && !hungOnce
    if (once) hungOnce = true
    if (url.includes("hang-big") || once) {
      res.writeHead(url.includes("error") || once ? 503 : 200, {
        "content-type": "application/json"
      })
      res.write(`{"padding":"${"x".repeat(4096)}`)
      return
    }
    if (req.url?.includes("hang-body")) {
      res.writeHead(200, { "content-type": "application/json" })
      res.write("{")
      return
    }
    if (req.url?.includes("hang") && req.url !== "/hang-once") return
    res.writeHead(200, { "content-type": "application/json" })
    res.end(BODY)
  })
  const dropped = (count: number): Effect.Effect<void> =>
    Effect.suspend(() =>
      closed >= count
        ? Effect.void
        : Effect.zipRight(
            Effect.async<void>((resume) => void waiting.push(() => resume(Effect.void))),
            dropped(count)
          )
    )
  return { url: server.url, received, dropped }
})

const undiciLayer = Layer.orDie(OktaUndici.layer())

/** The platform's transports and this package's. */
const allTransports = () =>
  [
    ["FetchHttpClient.layer", FetchHttpClient.layer],
    ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
    ["NodeHttpClient.layer", NodeHttpClient.layer],
    ["OktaUndici.layer", undiciLayer],
    ["OktaFetch.layer", OktaFetch.layer()]
  ] as const

/** This package's transports, on which a timeout aborts its request. */
const ownTransports = () =>
  [
    ["OktaUndici", undiciLayer],
    ["OktaFetch", OktaFetch.layer()]
  ] as const

/**
 * A GET of `path` through `OktaClient.execute` (decoded by `decode`, by default its text), on one
 * client built in the test's scope: its transport outlives each call, so a connection that closes
 * was closed by the call.
 */
const prober = (
  url: string,
  settings: OktaClientSettings,
  transport: Layer.Layer<HttpClient.HttpClient> = undiciLayer
) =>
  Effect.map(
    Layer.build(
      OktaClient.layer({ orgUrl: url, apiToken: Redacted.make("00t"), ...settings }).pipe(
        Layer.provide(transport)
      )
    ),
    (context) =>
      (
        path: string,
        decode: (response: OktaResponse) => Effect.Effect<unknown, unknown> = (response) =>
          response.text
      ) =>
        Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "probe", method: "GET", path }, decode)
        ).pipe(Effect.provide(context))
  )

/** Waits, in real time, for the server to have received a request. */
const untilReceived = (received: ReadonlyArray<IncomingMessage>) =>
  Effect.promise(async () => {
    while (received.length === 0) await new Promise((resolve) => setTimeout(resolve, 5))
  })

describe("the timeout on the platform's transports and this package's (loopback, real time)", () => {
  for (const [name, transport] of allTransports()) {
    it.live(name, () =>
      Effect.gen(function* () {
        const { dropped, url } = yield* hangingServer
        const send = yield* prober(url, { timeout: "300 millis", retry: false }, transport)
        expect(yield* send("/ok")).toBe(BODY)
        expect(yield* Effect.flip(send("/hang"))).toMatchObject({
          _tag: "OktaTimeoutError",
          kind: "attempt",
          timeoutMillis: 300
        })
        // The request was aborted, not left behind: its connection is closed.
        yield* dropped(1)
        expect(yield* Effect.flip(send("/hang-body"))).toMatchObject({
          _tag: "OktaTimeoutError",
          kind: "attempt"
        })
        yield* dropped(2)
        expect(yield* send("/ok")).toBe(BODY)
      }).pipe(Effect.scoped)
    )
  }

  // A decoder that leaves the body unread (activate's, for a 2xx with a body it never needs)
  // still waits for the body to end, so that the connection can be reused: a body that never
  // ends times the attempt out on every transport alike, instead of passing as a success on
  // those that stop an attempt by aborting its request.
  for (const [name, transport] of allTransports()) {
    it.live(`on ${name} a body left unread that never ends times the attempt out`, () =>
      Effect.gen(function* () {
        const { dropped, url } = yield* hangingServer
        const send = yield* prober(url, { timeout: "300 millis", retry: false }, transport)
        expect(
          yield* Effect.flip(send("/hang-body", () => Effect.succeed("unread")))
        ).toMatchObject({ _tag: "OktaTimeoutError", kind: "attempt", timeoutMillis: 300 })
        yield* dropped(1)
        expect(yield* send("/ok", () => Effect.succeed("unread"))).toBe("unread")
      }).pipe(Effect.scoped)
    )
  }

  for (const [name, transport] of allTransports()) {
    it.live(`on ${name} a body past the cap fails the call and drops its connection`, () =>
      Effect.gen(function* () {
        const { dropped, url } = yield* hangingServer
        // No timeout: only the client giving up on the body closes these connections.
        const send = yield* prober(url, { maxResponseBytes: 1024, retry: false }, transport)
        expect(yield* Effect.flip(send("/hang-big"))).toMatchObject({
          _tag: "OktaDecodeError",
          kind: "TooLarge"
        })
        yield* dropped(1)
        // An error body past the cap counts as empty; the error is still the status's.
        expect(yield* Effect.flip(send("/hang-big-error"))).toMatchObject({
          _tag: "OktaServerError",
          status: 503
        })
        yield* dropped(2)
        expect(yield* send("/ok")).toBe(BODY)
      }).pipe(Effect.scoped)
    )
  }

  for (const [name, transport] of allTransports()) {
    it.live(`on ${name} a decoder failing before it reads the body drops its connection`, () =>
      Effect.gen(function* () {
        const { dropped, url } = yield* hangingServer
        const send = yield* prober(url, { retry: false }, transport)
        expect(yield* Effect.flip(send("/hang-big", () => Effect.fail("refused")))).toBe("refused")
        // At once, not when the response is garbage collected.
        yield* dropped(1)
      }).pipe(Effect.scoped)
    )
  }

  // A transformed client may send a request more than once and leave a response unread (the
  // platform's own `retryTransient` does, on a 503), or replace one, unread, with its own: every
  // request of such an attempt is aborted when the attempt ends, however it ends.
  for (const [name, transport] of allTransports()) {
    it.live(
      `on ${name} through transformClient, no response is left unread with its connection`,
      () =>
        Effect.gen(function* () {
          const { dropped, url } = yield* hangingServer
          const direct = yield* prober(
            url,
            { retry: false, transformClient: (client) => client },
            transport
          )
          expect(yield* Effect.flip(direct("/hang-big", () => Effect.fail("refused")))).toBe(
            "refused"
          )
          yield* dropped(1)
          const repeating = yield* prober(
            url,
            { retry: false, transformClient: HttpClient.retryTransient({ times: 1 }) },
            transport
          )
          // The first answer, a 503 whose body never ends, is repeated over and left unread.
          expect(yield* repeating("/hang-once")).toBe(BODY)
          yield* dropped(3)
          // An answer the transformed client replaces, unread, with one it makes up.
          const replacing = yield* prober(
            url,
            {
              retry: false,
              transformClient: HttpClient.transformResponse(
                Effect.map((response) =>
                  HttpClientResponse.fromWeb(
                    response.request,
                    new Response(BODY, { headers: { "content-type": "application/json" } })
                  )
                )
              )
            },
            transport
          )
          expect(yield* replacing("/hang-big")).toBe(BODY)
          yield* dropped(4)
        }).pipe(Effect.scoped)
    )
  }

  for (const [name, transport] of ownTransports()) {
    it.live(`on ${name} a timed-out attempt is retried, on a new connection`, () =>
      Effect.gen(function* () {
        const { received, url } = yield* hangingServer
        const send = yield* prober(
          url,
          {
            timeout: "200 millis",
            retry: RetryPolicy.make({ maxRetries: 2, backoff: Schedule.spaced("10 millis") })
          },
          transport
        )
        // Every attempt hangs: the call fails once its two retries are spent.
        const error = yield* Effect.flip(send("/hang"))
        expect(error).toMatchObject({ _tag: "OktaTimeoutError", kind: "attempt" })
        expect(received.length).toBe(3)
        expect(new Set(received.map((req) => req.socket)).size).toBe(received.length)
      }).pipe(Effect.scoped)
    )
  }
})
