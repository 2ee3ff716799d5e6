/**
 * `withAdvancingClock`: client code under `it.effect` (TestClock) completes its retries and gate
 * waits without real time passing, and an effect stuck on something else fails with a hint.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { describe, expect, it, vi } from "@effect/vitest"
import {
  Chunk,
  Clock,
  Deferred,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Redacted,
  Schedule,
  TestClock
} from "effect"
import { createPublicKey, generateKeyPairSync } from "node:crypto"
import {
  ApplicationConnections,
  OktaClient,
  type OktaClientSettings,
  RetryPolicy
} from "../src/index.js"
import { isPending, tracked } from "../src/internal/pendingWork.js"
import { HINT_AFTER_MS } from "../src/internal/testClock.js"
import { OktaSimulator, withAdvancingClock } from "../src/testing/index.js"
import {
  advancingWhile,
  currentRealTime,
  QUIET_MILLIS,
  type RealTime
} from "../src/testing/stuckClock.js"
import { turn } from "./support/clock.js"
import { interruptEverywhere } from "./support/interruptAt.js"

const ZSCALER = "0oasimzscaler0000001"

// A large key: each signature takes milliseconds of real time, many event-loop turns.
const slowKey = generateKeyPairSync("rsa", {
  modulusLength: 4096,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" }
})
const SERVICE_APP = "0oaserviceapp0000001"

describe("withAdvancingClock", () => {
  it("holds the clock only while work is pending: work that fails, even at once, ends", async () => {
    const failsAtOnce = tracked<never>(() => {
      throw new Error("no key")
    })
    const pending = failsAtOnce()
    expect(isPending()).toBe(true)
    await expect(pending).rejects.toThrow("no key")
    expect(isPending()).toBe(false)
    await expect(tracked(() => Promise.reject(new Error("refused")))()).rejects.toThrow("refused")
    expect(isPending()).toBe(false)
  })

  it.effect("a rate-limit window wait completes under TestClock", () =>
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const sim = yield* OktaSimulator
      const get = api.getDefaultProvisioningConnectionForApplication(ZSCALER)
      const all = yield* withAdvancingClock(
        Effect.all([get, get, get], { concurrency: "unbounded" })
      )
      expect(all).toHaveLength(3)
      // Two requests per 60 s window: the third waited at the gate for the next one.
      expect((yield* sim.requests).map((r) => r.outcome)).toEqual([200, 200, 200])
    }).pipe(
      Effect.provide(OktaSimulator.layerConnections({ rateLimit: { limit: 2, windowSeconds: 60 } }))
    )
  )

  it.effect("an effect that fails ends with its error, logged nowhere as a fiber's", () =>
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const logged: Array<string> = []
      const logger = Logger.make(({ message }) => void logged.push(String(message)))
      const error = yield* withAdvancingClock(
        api.getDefaultProvisioningConnectionForApplication("0oanosuchapp00000001")
      ).pipe(
        Effect.flip,
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      expect(error._tag).toBe("OktaNotFoundError")
      expect(logged.filter((line) => line.includes("unhandled error"))).toEqual([])
    }).pipe(Effect.provide(OktaSimulator.layerConnections()))
  )

  it.effect(
    "with OAuth, the clock moves from backoff to backoff, never while a signature is being made or checked",
    () =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const sim = yield* OktaSimulator
        yield* sim.injectFault(
          { _tag: "ServerError", status: 503, body: "json" },
          { times: 2, path: "/oauth2/v1/token" }
        )
        const started = yield* Clock.currentTimeMillis
        const connection = yield* withAdvancingClock(
          api.getDefaultProvisioningConnectionForApplication(ZSCALER)
        )
        expect(connection.status).toBe("ENABLED")
        expect((yield* sim.requests).map((r) => [r.path.split("/")[1], r.outcome])).toEqual([
          ["oauth2", 503],
          ["oauth2", 503],
          ["oauth2", 200],
          ["api", 200]
        ])
        // Two backoffs of a few hundred milliseconds; not to the 30 s timeout of an attempt that
        // was over (its timer's sleep stays listed on the TestClock) or one still waiting.
        expect((yield* Clock.currentTimeMillis) - started).toBeLessThan(5_000)
      }).pipe(
        Effect.provide(
          OktaSimulator.layerConnections({
            oauthClients: [
              {
                clientId: SERVICE_APP,
                publicKey: createPublicKey(slowKey.publicKey).export({ format: "jwk" })
              }
            ],
            credentials: {
              oauth: {
                clientId: SERVICE_APP,
                scopes: ["okta.apps.read"],
                privateKey: Redacted.make(slowKey.privateKey)
              }
            }
          })
        )
      )
  )

  it.live("under the live clock it just runs the effect", () =>
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const connection = yield* withAdvancingClock(
        api.getDefaultProvisioningConnectionForApplication(ZSCALER)
      )
      expect(connection.status).toBe("ENABLED")
    }).pipe(Effect.provide(OktaSimulator.layerConnections()))
  )

  it.live("under the live clock it waits however many event-loop turns the effect takes", () =>
    Effect.gen(function* () {
      // Work of its own (I/O, promises) and no sleep: more turns than the stuck check allows.
      expect(yield* withAdvancingClock(Effect.as(Effect.repeatN(turn, 20_000), "done"))).toBe(
        "done"
      )
    })
  )

  it.effect("real work between sleeps is counted afresh after each clock move", () =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      // Ten rounds of about 1,500 turns of real work, each then a sleep: 15,000 turns in all, and
      // none of the rounds near the 10,000 turns after which an effect counts as stuck.
      const round = Effect.zipRight(Effect.repeatN(turn, 1_500), Effect.sleep("1 second"))
      yield* withAdvancingClock(Effect.repeatN(round, 9))
      expect((yield* Clock.currentTimeMillis) - started).toBe(10_000)
    })
  )

  it.effect(
    "an answer one scheduler timer away comes before the clock moves to a later sleep",
    () =>
      Effect.gen(function* () {
        // A test double answering from a timer (setTimeout 0), and a 10 s attempt timeout pending:
        // the clock does not move to the timeout while the answer is on its way.
        const answer = Effect.async<string>((resume) => {
          const handle = setTimeout(() => resume(Effect.succeed("answered")), 0)
          return Effect.sync(() => clearTimeout(handle))
        })
        const timeout = Effect.as(Effect.sleep("10 seconds"), "timed out")
        const started = yield* Clock.currentTimeMillis
        expect(yield* withAdvancingClock(Effect.race(answer, timeout))).toBe("answered")
        expect((yield* Clock.currentTimeMillis) - started).toBe(0)
      })
  )

  it.effect("an effect waiting on something no clock move brings dies with a hint", () =>
    Effect.gen(function* () {
      const never = yield* Deferred.make<void>()
      const exit = yield* Effect.exit(withAdvancingClock(Deferred.await(never)))
      expect(Exit.isFailure(exit) && String(exit.cause)).toContain("no clock move brings")
    })
  )
})

describe("a test that forgot withAdvancingClock gets a hint, not only a timeout", () => {
  const turns = (n: number) => Effect.repeatN(turn, n)

  /** Real time that passes only when the test says so, in the watcher's steps. */
  const manualRealTime = () => {
    let now = 0
    let waiting: Array<() => void> = []
    const timers = new Set<{ readonly at: number; readonly f: () => void }>()
    const realTime: RealTime = {
      now: () => now,
      wait: () => Effect.async<void>((resume) => void waiting.push(() => resume(Effect.void))),
      after: (millis, f) => {
        const timer = { at: now + millis, f }
        timers.add(timer)
        return () => void timers.delete(timer)
      }
    }
    const pass = (millis: number) =>
      Effect.gen(function* () {
        for (let passed = 0; passed < millis; passed += 250) {
          now += 250
          const woken = waiting
          waiting = []
          for (const wake of woken) wake()
          for (const timer of timers) {
            if (timer.at > now) continue
            timers.delete(timer)
            timer.f()
          }
          yield* turns(3)
        }
      })
    return { realTime, pass }
  }

  /** Runs `body` on a fresh org with console.warn recorded and real time passed by hand. */
  const withWarningsOn = <A, E, R, LE>(
    layer: Layer.Layer<R, LE>,
    body: (
      warnings: Array<string>,
      pass: (millis: number) => Effect.Effect<void>
    ) => Effect.Effect<A, E, R>
  ) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const warnings: Array<string> = []
        const spy = vi.spyOn(console, "warn").mockImplementation((message: unknown) => {
          warnings.push(String(message))
        })
        return { warnings, spy }
      }),
      ({ warnings }) => {
        const { realTime, pass } = manualRealTime()
        return body(warnings, pass).pipe(
          Effect.provide(layer),
          Effect.locally(currentRealTime, realTime)
        )
      },
      ({ spy }) => Effect.sync(() => spy.mockRestore())
    )
  const withWarnings = <A, E, LE>(
    body: (
      warnings: Array<string>,
      pass: (millis: number) => Effect.Effect<void>
    ) => Effect.Effect<A, E, ApplicationConnections | OktaSimulator>,
    options: Parameters<typeof OktaSimulator.layerConnections>[0] = {},
    layer: Layer.Layer<ApplicationConnections | OktaSimulator, LE> = OktaSimulator.layerConnections(
      options
    )
  ) => withWarningsOn(layer, body)
  const LONG = 2 * QUIET_MILLIS

  /**
   * Turns the event loop (over a real socket, for as long as it takes) until the client sleeps
   * before its retry, within the minute; no time passes on either clock.
   */
  const untilBackingOff = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const backingOff = Effect.map(TestClock.sleeps(), (sleeps) =>
      Chunk.some(sleeps, (wake) => wake < now + 60_000)
    )
    while (!(yield* backingOff)) yield* turn
  })

  /** A call answered 503 once, forked, sleeping before its retry. */
  const retryingCall = Effect.gen(function* () {
    const api = yield* ApplicationConnections
    const sim = yield* OktaSimulator
    yield* sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { times: 1 })
    const fiber = yield* Effect.fork(api.getDefaultProvisioningConnectionForApplication(ZSCALER))
    yield* untilBackingOff
    return fiber
  })

  // The attempt timeout, an hour away, keeps its sleep out of the backoff's way.
  const faces = [
    ["in-process", OktaSimulator.layerConnections({ client: { timeout: "1 hour" } })],
    ["loopback server", OktaSimulator.layerConnectionsServer({ client: { timeout: "1 hour" } })]
  ] as const

  it.effect.each(faces)(
    "a retry waiting on the TestClock (%s): one line naming the answer and the way out",
    ([, layer]) =>
      withWarnings(
        (warnings, pass) =>
          Effect.gen(function* () {
            const fiber = yield* retryingCall
            yield* pass(QUIET_MILLIS - 500)
            expect(warnings).toEqual([])
            yield* pass(LONG)
            expect(warnings).toHaveLength(1)
            expect(warnings[0]).toContain(
              `the simulator answered 503 to GET /api/v1/apps/${ZSCALER}/connections/default`
            )
            expect(warnings[0]).toContain("withAdvancingClock(")
            // The call was only waiting: moving the clock ends it.
            yield* TestClock.adjust("1 minute")
            expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
          }),
        {},
        layer
      )
  )

  it.effect("a hung request is named too", () =>
    withWarnings((warnings, pass) =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const sim = yield* OktaSimulator
        yield* sim.injectFault({ _tag: "Hang" }, { times: 1 })
        yield* Effect.fork(api.activateDefaultProvisioningConnectionForApplication(ZSCALER))
        yield* turns(3)
        yield* pass(LONG)
        expect(warnings).toEqual([expect.stringContaining("left POST /api/v1/apps/")])
      })
    )
  )

  it.effect("none with withAdvancingClock, nor after a call that has nothing to wait for", () =>
    withWarnings((warnings, pass) =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const sim = yield* OktaSimulator
        yield* sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { times: 1 })
        yield* withAdvancingClock(api.getDefaultProvisioningConnectionForApplication(ZSCALER))
        yield* pass(LONG)
        yield* api.getDefaultProvisioningConnectionForApplication(ZSCALER)
        yield* pass(LONG)
        expect(warnings).toEqual([])
      })
    )
  )

  it.effect("none while withAdvancingClock moves the clock, however long one move takes", () =>
    withWarnings(
      (warnings, pass) =>
        Effect.gen(function* () {
          const call = yield* retryingCall
          // withAdvancingClock in the middle of a move (Effect's TestClock can take seconds over
          // thousands of due sleeps): the clock stands still, and the test did not forget anything.
          const moving = yield* Effect.fork(advancingWhile(yield* Effect.clock, Effect.never))
          yield* pass(LONG)
          expect(warnings).toEqual([])
          // The same wait with nothing moving the clock is the hint.
          yield* Fiber.interrupt(moving)
          yield* pass(LONG)
          expect(warnings).toEqual([expect.stringContaining("withAdvancingClock(")])
          yield* TestClock.adjust("1 minute")
          expect((yield* Fiber.join(call)).status).toBe("ENABLED")
        }),
      // The attempt timeout, an hour away, keeps its sleep out of the backoff's way.
      { client: { timeout: "1 hour" } }
    )
  )

  /** What a test does while a call it forked backs off after a 503. */
  type WhileBackingOff = (
    fiber: Fiber.RuntimeFiber<{ readonly status: string }, unknown>,
    warnings: Array<string>,
    pass: (millis: number) => Effect.Effect<void>
  ) => Effect.Effect<void, unknown, ApplicationConnections>

  /**
   * On the simulator, a call forked and backing off after its 503; `before`, what the test did
   * before the call.
   */
  const backingOffOnSimulator = (
    body: WhileBackingOff,
    before: (pass: (millis: number) => Effect.Effect<void>) => Effect.Effect<void> = () =>
      Effect.void
  ) =>
    withWarnings(
      (warnings, pass) =>
        Effect.zipRight(
          before(pass),
          Effect.flatMap(retryingCall, (fiber) => body(fiber, warnings, pass))
        ),
      { client: { timeout: "1 hour" } }
    )

  /** The simulator's hint once the clock has stood still 2 s since `effect`, not before. */
  const hintedOnceQuietAfter =
    (effect: Effect.Effect<void>): WhileBackingOff =>
    (fiber, warnings, pass) =>
      Effect.gen(function* () {
        yield* effect
        yield* pass(QUIET_MILLIS - 500)
        expect(warnings).toEqual([])
        yield* pass(1_000)
        expect(warnings).toEqual([expect.stringContaining("the simulator answered 503 to GET")])
        yield* TestClock.adjust("1 minute")
        expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
      })

  it.effect("the simulator's quiet counts from its answer, not from the clock's last move", () =>
    backingOffOnSimulator(
      hintedOnceQuietAfter(Effect.void),
      // The clock stood still long before the call, which is no sign of a forgotten clock.
      (pass) => pass(LONG)
    )
  )

  // Unlike the client's own hint (below), which a move silences for good: the simulator watches
  // all along, and a clock that then stands still again is as stuck as one never moved.
  it.effect(
    "on the simulator, a move of the clock that is not far enough starts the quiet again",
    () =>
      backingOffOnSimulator((fiber, warnings, pass) =>
        Effect.zipRight(
          pass(QUIET_MILLIS - 500),
          hintedOnceQuietAfter(TestClock.adjust("1 millis"))(fiber, warnings, pass)
        )
      )
  )

  it.effect("a request the simulator holds (a Delay fault) is named as not answered yet", () =>
    withWarnings(
      (warnings, pass) =>
        Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const sim = yield* OktaSimulator
          yield* sim.injectFault({ _tag: "Delay", millis: 10_000 }, { times: 1 })
          const fiber = yield* Effect.fork(
            api.getDefaultProvisioningConnectionForApplication(ZSCALER)
          )
          yield* turns(3)
          yield* pass(QUIET_MILLIS + 500)
          expect(warnings).toEqual([
            expect.stringContaining(
              `the simulator has not answered GET /api/v1/apps/${ZSCALER}/connections/default yet`
            )
          ])
          yield* TestClock.adjust("10 seconds")
          expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
        }),
      { client: { timeout: "1 hour" } }
    )
  )

  it.effect("none for the test's own sleep after an answer the client does not wait after", () =>
    withWarnings((warnings, pass) =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        yield* api.getDefaultProvisioningConnectionForApplication(ZSCALER)
        // The test's own wait on its TestClock: neither the client's nor the simulator's to name.
        const sleeping = yield* Effect.fork(Effect.sleep("1 minute"))
        yield* turns(3)
        yield* pass(LONG)
        expect(warnings).toEqual([])
        yield* Fiber.interrupt(sleeping)
      })
    )
  )

  it.effect(
    "none for a request that nothing on the clock waits for (a Hang, no client timeout)",
    () =>
      withWarningsOn(
        OktaSimulator.layerHttpClient.pipe(Layer.provideMerge(OktaSimulator.layer())),
        (warnings, pass) =>
          Effect.gen(function* () {
            const sim = yield* OktaSimulator
            yield* sim.injectFault({ _tag: "Hang" }, { times: 1 })
            // A plain HttpClient, no timeout: the request hangs, but no clock move would end it.
            const client = yield* HttpClient.HttpClient
            const fiber = yield* Effect.fork(
              client.get(`https://simulator.okta.test/api/v1/apps/${ZSCALER}/connections/default`, {
                headers: { authorization: `SSWS ${sim.token}` }
              })
            )
            yield* turns(3)
            expect((yield* sim.requests).map((r) => r.outcome)).toEqual(["hang"])
            yield* pass(LONG)
            expect(warnings).toEqual([])
            yield* Fiber.interrupt(fiber)
          })
      )
  )

  it.effect("none after a failure the client does not retry: nothing waits on the clock", () =>
    withWarnings(
      (warnings, pass) =>
        Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const sim = yield* OktaSimulator
          yield* sim.injectFault({ _tag: "ServerError", status: 503, body: "json" }, { times: 1 })
          const error = yield* Effect.flip(
            api.getDefaultProvisioningConnectionForApplication(ZSCALER)
          )
          expect(error._tag).toBe("OktaServerError")
          yield* pass(LONG)
          expect(warnings).toEqual([])
        }),
      { client: { retry: false } }
    )
  )

  // No simulator: the test's own HttpClient. The client's own hint then names its wait.
  const ownClient = (transport: HttpClient.HttpClient, settings: OktaClientSettings) =>
    ApplicationConnections.layer.pipe(
      Layer.provide(
        OktaClient.layer({
          orgUrl: "https://acme.okta.com",
          apiToken: Redacted.make("00t"),
          ...settings
        })
      ),
      Layer.provide(Layer.succeed(HttpClient.HttpClient, transport))
    )
  const onOwnClient = <A, E>(
    transport: HttpClient.HttpClient,
    settings: OktaClientSettings,
    body: (
      warnings: Array<string>,
      pass: (millis: number) => Effect.Effect<void>
    ) => Effect.Effect<A, E, ApplicationConnections>
  ) => withWarningsOn(ownClient(transport, settings), body)
  const enabled = () => Response.json({ status: "ENABLED", profile: { authScheme: "TOKEN" } })

  const byHand = [
    [
      "a retry's backoff after a 503",
      () => new Response("", { status: 503 }),
      "getDefaultProvisioningConnectionForApplication's retry 1 (server_error) waits"
    ],
    [
      "a wait at the rate-limit gate for a spent window",
      (now: number) =>
        Response.json(
          { status: "ENABLED", profile: { authScheme: "TOKEN" } },
          {
            headers: {
              date: new Date(now).toUTCString(),
              "x-rate-limit-limit": "100",
              "x-rate-limit-remaining": "0",
              "x-rate-limit-reset": String(Math.floor(now / 1000) + 30)
            }
          }
        ),
      "a request held at the client's rate-limit gate waits"
    ]
  ] as const
  it.effect.each(byHand)(
    "%s on an HttpClient of the test's own: the client's hint",
    ([, first, says]) => {
      let requests = 0
      const transport = HttpClient.make((request) =>
        Effect.map(Clock.currentTimeMillis, (now) =>
          HttpClientResponse.fromWeb(request, ++requests === 1 ? first(now) : enabled())
        )
      )
      // The attempt timeout, an hour away, keeps its sleep out of the wait's way.
      return onOwnClient(transport, { timeout: "1 hour" }, (warnings, pass) =>
        Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const get = api.getDefaultProvisioningConnectionForApplication(ZSCALER)
          // The gate case: the first call spends the window, the second waits for its reset.
          const fiber = yield* Effect.fork(Effect.zipRight(get, get))
          yield* untilBackingOff
          yield* pass(HINT_AFTER_MS - 500)
          expect(warnings).toEqual([])
          yield* pass(1_000)
          expect(warnings).toEqual([expect.stringContaining(says)])
          expect(warnings[0]).toContain("withAdvancingClock(")
          // The call was only waiting: moving the clock ends it.
          yield* TestClock.adjust("1 minute")
          expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
        })
      )
    }
  )

  it.effect("a transport that never answers: the hint names the attempt timeout it waits for", () =>
    onOwnClient(
      HttpClient.make(() => Effect.never),
      { timeout: "10 seconds", retry: false },
      (warnings, pass) =>
        Effect.gen(function* () {
          const api = yield* ApplicationConnections
          const fiber = yield* Effect.fork(
            Effect.flip(api.getDefaultProvisioningConnectionForApplication(ZSCALER))
          )
          yield* turns(3)
          yield* pass(HINT_AFTER_MS + 500)
          expect(warnings).toEqual([
            expect.stringContaining(
              "getDefaultProvisioningConnectionForApplication's attempt has not ended, and its " +
                "10000 ms timeout waits on Effect's TestClock"
            )
          ])
          yield* TestClock.adjust("10 seconds")
          expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "OktaTimeoutError" })
          // One hint a clock: the next call's wait says nothing more.
          yield* Effect.fork(api.getDefaultProvisioningConnectionForApplication(ZSCALER))
          yield* turns(3)
          yield* pass(HINT_AFTER_MS + 500)
          expect(warnings).toHaveLength(1)
        })
    )
  )

  /** The test's own HttpClient: 503 to the first request, the connection to the others. */
  const failingOnce = () => {
    let requests = 0
    const transport = HttpClient.make((request) =>
      Effect.succeed(
        HttpClientResponse.fromWeb(
          request,
          ++requests === 1 ? new Response("", { status: 503 }) : enabled()
        )
      )
    )
    return { transport, requests: () => requests }
  }

  /** On {@link failingOnce}, a call forked and backing off after its 503. */
  const backingOff503 = (body: WhileBackingOff) =>
    onOwnClient(failingOnce().transport, { timeout: "1 hour" }, (warnings, pass) =>
      Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const fiber = yield* Effect.fork(
          api.getDefaultProvisioningConnectionForApplication(ZSCALER)
        )
        yield* untilBackingOff
        yield* body(fiber, warnings, pass)
      })
    )

  it.effect(
    "after the test moved the clock during the wait, not far enough: the hint all the same, as the simulator's",
    () =>
      backingOff503((fiber, warnings, pass) =>
        Effect.gen(function* () {
          // Moved, then left standing with the backoff still ahead: the test hangs all the same.
          // The client looks at the clock once a period, so the hint comes one or two periods
          // after the move.
          yield* pass(HINT_AFTER_MS - 1_000)
          yield* TestClock.adjust("1 millis")
          yield* pass(HINT_AFTER_MS - 500)
          expect(warnings).toEqual([])
          yield* pass(HINT_AFTER_MS + 1_000)
          expect(warnings).toEqual([expect.stringContaining("retry 1 (server_error) waits")])
          yield* TestClock.adjust("1 minute")
          expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
        })
      )
  )

  it.effect(
    "a wait that ended leaves no hint behind, though it was counted again after a move",
    () =>
      backingOff503((fiber, warnings, pass) =>
        Effect.gen(function* () {
          yield* pass(HINT_AFTER_MS - 1_000)
          yield* TestClock.adjust("1 millis")
          yield* pass(1_000)
          yield* TestClock.adjust("1 minute")
          expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
          // The clock stands still now, with nothing waiting on it.
          yield* pass(3 * HINT_AFTER_MS)
          expect(warnings).toEqual([])
        })
      )
  )

  it.effect.each(["supervised", "running"] as const)(
    "a call interrupted at any step leaves none of the hint's timers set (%s)",
    (victim) =>
      Effect.gen(function* () {
        let set = 0
        const realTime: RealTime = {
          now: () => 0,
          wait: () => Effect.never,
          after: () => {
            set += 1
            let cleared = false
            return () => {
              if (!cleared) set -= 1
              cleared = true
            }
          }
        }
        // The transport never answers: each run waits on its attempt's timeout, hinted.
        const api = yield* ApplicationConnections
        const steps = yield* interruptEverywhere(
          api.getDefaultProvisioningConnectionForApplication(ZSCALER),
          victim
        ).pipe(Effect.locally(currentRealTime, realTime))
        expect(steps).toBeGreaterThan(20)
        expect(set).toBe(0)
      }).pipe(
        Effect.provide(
          ownClient(
            HttpClient.make(() => Effect.never),
            { timeout: "10 seconds", retry: false }
          )
        )
      )
  )

  it.effect.each([
    ["an HttpClient of the test's own", backingOff503],
    ["the simulator", backingOffOnSimulator]
  ] as const)(
    "none while work of the client's is pending (a signature), which no clock brings; then one (%s)",
    ([, backingOff]) =>
      backingOff((fiber, warnings, pass) =>
        Effect.gen(function* () {
          let settle: () => void = () => {}
          const signing = tracked(() => new Promise<void>((resolve) => (settle = resolve)))()
          yield* pass(2 * HINT_AFTER_MS)
          expect(warnings).toEqual([])
          settle()
          yield* Effect.promise(() => signing)
          // Once it is done, a clock that still stands is the test's to move: said.
          yield* pass(2 * HINT_AFTER_MS)
          expect(warnings).toHaveLength(1)
          yield* TestClock.adjust("1 minute")
          expect((yield* Fiber.join(fiber)).status).toBe("ENABLED")
        })
      )
  )

  it.live("under any clock but a TestClock, not even a timer is set", () => {
    let timers = 0
    const realTime: RealTime = {
      now: () => 0,
      wait: () => Effect.never,
      after: () => {
        timers += 1
        return () => {}
      }
    }
    const { transport, requests } = failingOnce()
    return Effect.gen(function* () {
      const api = yield* ApplicationConnections
      const connection = yield* api.getDefaultProvisioningConnectionForApplication(ZSCALER)
      expect(connection.status).toBe("ENABLED")
      expect(requests()).toBe(2)
      expect(timers).toBe(0)
    }).pipe(
      Effect.provide(
        // A backoff of 1 ms: the retry's sleep is real time.
        ownClient(transport, { retry: RetryPolicy.make({ backoff: Schedule.spaced("1 millis") }) })
      ),
      Effect.locally(currentRealTime, realTime)
    )
  })
})

describe("a user's own assertions on the client's errors", () => {
  it.effect("a failed expect(error) shows the error, not a stack overflow", () =>
    Effect.gen(function* () {
      const api = yield* ApplicationConnections
      // Failed inside the call's span (tracing is on by default), as every call's error is.
      const error = yield* Effect.flip(
        api.getDefaultProvisioningConnectionForApplication("0oanotthere000000001")
      )
      const thrown = yield* Effect.flip(
        Effect.try(() => expect(error).toMatchObject({ _tag: "OktaForbiddenError" }))
      )
      // Vitest's message and diff, as the user's failing test shows them.
      expect(thrown.error).toMatchObject({
        name: "AssertionError",
        message: expect.stringContaining("to match object { _tag: 'OktaForbiddenError' }"),
        actual: expect.objectContaining({ _tag: "OktaNotFoundError" })
      })
    }).pipe(Effect.provide(OktaSimulator.layerConnections()))
  )
})
