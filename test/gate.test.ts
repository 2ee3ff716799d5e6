/**
 * The gate, driven directly: which level a concurrent-request 429 sets, and when the level is
 * probed upwards again; which waiters an answer or a freed slot wakes; the window's budget when
 * answers arrive out of order, a reset passes unseen or is not believed; the server's clock as its
 * `Date` headers tell it; and the retry loop over a gate, interrupted at each of its steps in turn,
 * giving back every slot, lease and turn it took (and the lock behind the shared gate's turn and
 * the OAuth token's single flight, on its own).
 */
import { Headers } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Either, Fiber, Option, TestClock } from "effect"
import { RateLimitGate } from "../src/internal/gate.js"
import { Lock } from "../src/internal/lock.js"
import { type Gate, newTicket, type Ticket } from "../src/internal/ticket.js"
import * as Metrics from "../src/internal/metrics.js"
import * as Retry from "../src/internal/retry.js"
import * as SharedGate from "../src/internal/sharedGate.js"
import { RetryPolicy, type RateLimitStoreService } from "../src/index.js"
import { interruptEverywhere, settle } from "./support/interruptAt.js"
import { FIRST_RESET, modelArbitraries, runModel } from "./support/windowModel.js"

const ok = Headers.fromInput({
  "x-rate-limit-limit": "1000",
  "x-rate-limit-remaining": "900",
  "x-rate-limit-reset": "4000000000"
})
// Okta's concurrent-request 429: Limit 0, Remaining 0.
const concurrencyLimited = Headers.fromInput({
  "x-rate-limit-limit": "0",
  "x-rate-limit-remaining": "0",
  "x-rate-limit-reset": "4000000000"
})

const never = () => Effect.die("the gate should not make this request wait")

/** A client's gate, without reset jitter. */
const newGate = (adaptiveConcurrency = false) =>
  new RateLimitGate({ resetJitterMillis: 0, adaptiveConcurrency })

/** Lets forked fibers run until they wait (no time passes). */
const runForked = Effect.repeatN(Effect.yieldNow(), 10)

const admit = (gate: RateLimitGate, count: number) =>
  Effect.forEach(Array.from({ length: count }), () => gate.admit(never), { discard: true })

/** A gate past its first request: the one response that lets requests through side by side. */
const started = (adaptiveConcurrency: boolean) =>
  Effect.gen(function* () {
    const gate = newGate(adaptiveConcurrency)
    yield* admit(gate, 1)
    gate.observeHeaders(ok, 0)
    return gate
  })

describe("adaptive concurrency", () => {
  it.effect("the first request goes alone; then the gate lets any number through", () =>
    Effect.gen(function* () {
      const gate = newGate(true)
      yield* admit(gate, 1)
      expect(gate.probing).toBe(true)
      gate.observeHeaders(ok, 0)
      yield* admit(gate, 50)
      expect(gate.inFlight).toBe(50)
    })
  )

  it.effect("a concurrent-request 429 sets the level to the requests still in flight", () =>
    Effect.gen(function* () {
      const gate = yield* started(true)
      yield* admit(gate, 6)
      gate.observeHeaders(concurrencyLimited, 0)
      expect(gate.concurrencyCap).toBe(5)
      // A request over the level waits for a slot.
      let waited = false
      const fiber = yield* Effect.fork(
        gate.admit(() =>
          Effect.sync(() => {
            waited = true
          })
        )
      )
      yield* Effect.yieldNow()
      expect(waited).toBe(true)
      gate.observeHeaders(ok, 0)
      yield* fiber.await
      expect(gate.inFlight).toBe(5)
    })
  )

  it.effect("the level grows by one after four rounds of successes at it", () =>
    Effect.gen(function* () {
      const gate = yield* started(true)
      yield* admit(gate, 3)
      gate.observeHeaders(concurrencyLimited, 0)
      expect(gate.concurrencyCap).toBe(2)
      for (let i = 0; i < 4 * 2 - 1; i++) gate.observeHeaders(ok, 0)
      expect(gate.concurrencyCap).toBe(2)
      gate.observeHeaders(ok, 0)
      expect(gate.concurrencyCap).toBe(3)
    })
  )

  it.effect(
    "a failed probe doubles the rounds before the next, up to 64; one that holds halves them",
    () =>
      Effect.gen(function* () {
        const gate = yield* started(true)
        const succeed = (count: number) => {
          for (let i = 0; i < count; i++) gate.observeHeaders(ok, 0)
        }
        // A 429 that is not a probe's sets the level (2) and leaves the rounds at 4.
        yield* admit(gate, 3)
        gate.observeHeaders(concurrencyLimited, 0)
        expect([gate.concurrencyCap, gate.probeRounds]).toEqual([2, 4])
        succeed(4 * 2)
        expect(gate.concurrencyCap).toBe(3)
        // Each probe that fails: back to 2, and twice the rounds before the next, up to 64.
        for (const rounds of [8, 16, 32, 64, 64]) {
          yield* admit(gate, 3 - gate.inFlight)
          gate.observeHeaders(concurrencyLimited, 0)
          expect([gate.concurrencyCap, gate.probeRounds]).toEqual([2, rounds])
          succeed(rounds * 2 - 1)
          expect(gate.concurrencyCap).toBe(2)
          succeed(1)
          expect(gate.concurrencyCap).toBe(3)
        }
        // A probe that holds until the next (64 rounds at 3): the rounds halve, down to 4.
        for (const [level, rounds] of [
          [3, 64],
          [4, 32],
          [5, 16],
          [6, 8],
          [7, 4],
          [8, 4]
        ] as const) {
          succeed(rounds * level - 1)
          expect(gate.concurrencyCap).toBe(level)
          succeed(1)
          expect([gate.concurrencyCap, gate.probeRounds]).toEqual([
            level + 1,
            Math.max(4, rounds / 2)
          ])
        }
      })
  )

  it.effect("a concurrent-request 429 starts the count of successes at the level over", () =>
    Effect.gen(function* () {
      const gate = yield* started(true)
      yield* admit(gate, 3)
      gate.observeHeaders(concurrencyLimited, 0)
      expect(gate.concurrencyCap).toBe(2)
      for (let i = 0; i < 4 * 2 - 1; i++) gate.observeHeaders(ok, 0)
      // One success short of a probe, another 429 sets the level to 1: four rounds at it again.
      yield* admit(gate, 2)
      gate.observeHeaders(concurrencyLimited, 0)
      expect(gate.concurrencyCap).toBe(1)
      for (let i = 0; i < 4 - 1; i++) gate.observeHeaders(ok, 0)
      expect(gate.concurrencyCap).toBe(1)
      gate.observeHeaders(ok, 0)
      expect(gate.concurrencyCap).toBe(2)
    })
  )

  it.effect("without adaptiveConcurrency the 429 leaves the level alone", () =>
    Effect.gen(function* () {
      const gate = yield* started(false)
      yield* admit(gate, 3)
      gate.observeHeaders(concurrencyLimited, 0)
      expect(gate.concurrencyCap).toBe(Number.POSITIVE_INFINITY)
    })
  )
})

/** A window's reset (server seconds), and a local time 30 s before it. */
const RESET = 4_000_000_000
const NOW = RESET * 1000 - 30_000
/** Okta's rate-limit headers for a window of 50 with `remaining` left, resetting at `reset`. */
const window = (remaining: number, reset = RESET) =>
  Headers.fromInput({
    "x-rate-limit-limit": "50",
    "x-rate-limit-remaining": String(remaining),
    "x-rate-limit-reset": String(reset)
  })

/**
 * Waiters that record each wait (the retry loop logs and counts each one), forked and run until
 * they wait.
 */
const waiters = (gate: RateLimitGate, names: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const waits: Array<string> = []
    const fibers = yield* Effect.forEach(names, (name) =>
      Effect.fork(gate.admit(() => Effect.sync(() => void waits.push(name))))
    )
    yield* runForked
    expect(waits).toEqual(names)
    const admitted = Effect.map(Effect.forEach(fibers, Fiber.poll), (polls) =>
      names.filter((_, i) => Option.isSome(polls[i]!))
    )
    return { waits, admitted }
  })

describe("waking waiters: as many as can go, oldest first, and no more", () => {
  it.effect(
    "a slot freed by an answer wakes one waiter; the others do not wake to wait again",
    () =>
      Effect.gen(function* () {
        const gate = yield* started(true)
        yield* admit(gate, 3)
        gate.observeHeaders(concurrencyLimited, 0)
        expect([gate.concurrencyCap, gate.inFlight]).toEqual([2, 2])
        const { waits, admitted } = yield* waiters(gate, ["a", "b", "c"])
        gate.observeHeaders(ok, 0)
        yield* runForked
        expect(yield* admitted).toEqual(["a"])
        expect(waits).toEqual(["a", "b", "c"])
        expect(gate.inFlight).toBe(2)
      })
  )

  it.effect("a new window's budget wakes as many waiters as it has room for", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const gate = newGate()
      yield* admit(gate, 1)
      gate.observeHeaders(window(40), NOW)
      // One request in flight, still counted when answers learnt elsewhere (not its own) arrive.
      yield* admit(gate, 1)
      // The window is spent (a shared gate's fallback learns it from other processes' answers):
      // waiters wait for its reset.
      gate.observeHeaders(window(0), NOW, false)
      expect(gate.available).toBe(-1)
      const { waits, admitted } = yield* waiters(gate, ["a", "b", "c"])
      // An answer from the next window with room for two besides the one in flight.
      gate.observeHeaders(window(3, RESET + 60), NOW, false)
      yield* runForked
      expect(yield* admitted).toEqual(["a", "b"])
      expect(waits).toEqual(["a", "b", "c"])
      expect(gate.inFlight).toBe(3)
    })
  )

  it.effect(
    "the first request's 429 for concurrency ends the probing: the waiters go at once",
    () =>
      Effect.gen(function* () {
        const gate = newGate()
        yield* admit(gate, 1)
        const { admitted } = yield* waiters(gate, ["a", "b"])
        gate.observeHeaders(concurrencyLimited, 0)
        yield* runForked
        // No time passed: they were woken, not left to find out at their next re-check.
        expect(yield* admitted).toEqual(["a", "b"])
      })
  )

  it.effect("a waiter that re-checked after its sleep is still woken by the next freed slot", () =>
    Effect.gen(function* () {
      const gate = newGate()
      yield* admit(gate, 1)
      const { waits, admitted } = yield* waiters(gate, ["a"])
      // Nothing freed a slot within a second: it looks again, and waits again.
      yield* TestClock.adjust("1 second")
      expect(waits).toEqual(["a", "a"])
      // The wake-up goes to its current wait, not to the place its first one left behind.
      gate.releaseSlot()
      yield* runForked
      expect(yield* admitted).toEqual(["a"])
    })
  )

  it.effect("a probe never sent hands the probing on to one waiter, not to all of them", () =>
    Effect.gen(function* () {
      const gate = newGate()
      yield* admit(gate, 1)
      const { waits, admitted } = yield* waiters(gate, ["a", "b"])
      gate.releaseSlot()
      yield* runForked
      expect(gate.probing).toBe(true)
      expect(yield* admitted).toEqual(["a"])
      expect(waits).toEqual(["a", "b"])
    })
  )
})

describe("the window's budget", () => {
  it.effect("is Okta's lowest Remaining in the window, less the requests still in flight", () =>
    Effect.gen(function* () {
      const gate = newGate()
      yield* admit(gate, 1)
      gate.observeHeaders(window(8), NOW)
      expect(gate.available).toBe(8)
      yield* admit(gate, 2)
      // The second request's answer overtakes the first's; Okta counted both in it.
      gate.observeHeaders(window(6), NOW)
      expect(gate.available).toBe(5)
      // The first one's, late, tells an older count: it must not raise the budget to 7.
      gate.observeHeaders(window(7), NOW)
      expect(gate.available).toBe(6)
    })
  )

  it.effect("a proxy's Retry-After holds a window, but never shortens one spent for longer", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const gate = newGate()
      const proxy429 = Headers.fromInput({ "retry-after": "5" })
      yield* admit(gate, 1)
      // Okta's window, spent until its reset 30 s on: a 429 saying 5 s does not wake anyone at 5 s.
      gate.observeHeaders(window(0), NOW)
      gate.observeHeaders(proxy429, NOW, false, 429)
      expect(gate.windowResetMs).toBe(RESET * 1000)
      // A window with room: the same 429 holds everyone for its 5 s.
      gate.observeHeaders(window(40, RESET + 60), NOW, false)
      gate.observeHeaders(proxy429, NOW, false, 429)
      expect([gate.windowResetMs, gate.available]).toEqual([NOW + 5_000, 0])
      expect(gate.retryAfterUntilMs).toBe(NOW + 5_000)
      // A shorter one after it does not shorten it.
      gate.observeHeaders(Headers.fromInput({ "retry-after": "2" }), NOW, false, 503)
      expect([gate.retryAfterUntilMs, gate.windowResetMs]).toEqual([NOW + 5_000, NOW + 5_000])
      // A new window of Okta's ends the hold, here and for a shared store's gate alike.
      gate.observeHeaders(window(30, RESET + 60), NOW + 1_000, false)
      expect([gate.retryAfterUntilMs, gate.available]).toEqual([undefined, 30])
    })
  )

  it.effect("a late answer from a window already over leaves the next window's budget alone", () =>
    Effect.gen(function* () {
      const gate = newGate()
      const next = (remaining: number) =>
        Headers.fromInput({
          "x-rate-limit-limit": "50",
          "x-rate-limit-remaining": String(remaining),
          "x-rate-limit-reset": String(RESET + 60)
        })
      yield* admit(gate, 1)
      gate.observeHeaders(window(3), NOW)
      // Two requests of the old window are still on their way back when the next one begins.
      yield* admit(gate, 2)
      yield* admit(gate, 1)
      gate.observeHeaders(next(49), NOW + 30_500)
      expect(gate.available).toBe(47)
      // Their answers tell the old window's last counts: nothing about this one's 49.
      gate.observeHeaders(window(1), NOW + 30_600)
      gate.observeHeaders(window(0), NOW + 30_600)
      expect(gate.available).toBe(47)
      yield* admit(gate, 1)
      gate.observeHeaders(next(48), NOW + 30_700)
      expect(gate.available).toBe(48)
    })
  )

  it.effect("a lease never used gives its share back at once, and the probing goes on", () =>
    Effect.gen(function* () {
      const gate = newGate()
      const unused = { admitted: true, settled: false }
      // Before any answer: the probe's lease goes unused; the next request is still a probe.
      yield* admit(gate, 1)
      yield* gate.release(unused)
      expect(gate.probing).toBe(true)
      yield* admit(gate, 1)
      gate.observeHeaders(window(2), NOW)
      // Both of the window's last two admitted; one is never sent: a third may go, no answer
      // needed to say so.
      yield* admit(gate, 2)
      yield* gate.release(unused)
      expect(gate.available).toBe(1)
      yield* admit(gate, 1)
    })
  )

  it.effect(
    "a request whose connection was never made is not charged, and ends the probing as any failure does",
    () =>
      Effect.gen(function* () {
        const gate = newGate()
        const refused = { admitted: true, settled: false, sent: false }
        // Before any answer the probe is refused: the next requests are not held behind it.
        yield* admit(gate, 1)
        yield* gate.release(refused)
        expect(gate.probing).toBe(false)
        yield* admit(gate, 2)
        gate.observeHeaders(window(3), NOW)
        gate.observeHeaders(window(2), NOW)
        expect(gate.available).toBe(2)
        // Refused three times, the window's two are still there.
        for (let i = 0; i < 3; i++) {
          yield* admit(gate, 1)
          yield* gate.release(refused)
        }
        expect(gate.available).toBe(2)
      })
  )

  it.effect(
    "a request sent that ended without an answer stays charged until a window that starts after it",
    () =>
      Effect.gen(function* () {
        const gate = newGate()
        yield* admit(gate, 1)
        gate.observeHeaders(window(3), NOW)
        yield* admit(gate, 2)
        // Okta counts both. Half a second before its window ends, the second's connection
        // drops; then the first's answer tells 2 left, which the second did not change.
        yield* TestClock.setTime(NOW + 29_500)
        yield* gate.release({ admitted: true, settled: false, sent: true })
        gate.observeHeaders(window(2), NOW + 29_500)
        expect(gate.available).toBe(1)
        // A lease never used is not charged.
        yield* admit(gate, 1)
        yield* gate.release({ admitted: true, settled: false })
        gate.observeHeaders(window(2), NOW + 29_500)
        expect(gate.available).toBe(1)
        const later = (windows: number, remaining = 49) =>
          Headers.fromInput({
            "x-rate-limit-limit": "50",
            "x-rate-limit-remaining": String(remaining),
            "x-rate-limit-reset": String(RESET + 60 * windows)
          })
        // The next window began half a second after the drop: Okta may have counted it there.
        yield* admit(gate, 1)
        gate.observeHeaders(later(1), NOW + 30_500)
        expect(gate.available).toBe(48)
        // The one after began long after it.
        yield* admit(gate, 1)
        gate.observeHeaders(later(2), NOW + 30_500)
        expect(gate.available).toBe(49)
        // The same when the gate sees the reset pass on its own clock: a drop half a second
        // before it stays charged in the window after.
        yield* admit(gate, 1)
        gate.observeHeaders(later(2, 1), NOW + 30_500)
        yield* admit(gate, 1)
        yield* TestClock.setTime(NOW + 149_500)
        yield* gate.release({ admitted: true, settled: false, sent: true })
        yield* TestClock.setTime(NOW + 150_010)
        yield* admit(gate, 1)
        expect(gate.available).toBe(48)
      })
  )

  it.effect(
    "a reset passed unseen starts a window of the length resets are apart, with Okta's limit",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const gate = newGate()
        yield* admit(gate, 1)
        gate.observeHeaders(window(10), NOW)
        // An org whose windows are 30 seconds long, as two resets tell; this one is spent.
        yield* admit(gate, 1)
        gate.observeHeaders(window(0, RESET + 30), NOW + 1_000)
        expect(gate.windowLengthMs).toBe(30_000)
        // Past that reset with nothing heard: the gate starts the next window on its own.
        yield* TestClock.setTime(RESET * 1000 + 30_000)
        yield* admit(gate, 1)
        expect(gate.windowResetMs).toBe(RESET * 1000 + 60_000)
        expect(gate.available).toBe(49)
        // An answer of the window before, arriving late, says nothing about this one.
        gate.observeHeaders(window(0, RESET + 30), RESET * 1000 + 30_100)
        expect(gate.available).toBe(49)
      })
  )

  it.effect(
    "a spent window whose reset is not believed is held for one window, then probed by one request",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(NOW)
        const gate = newGate()
        yield* admit(gate, 1)
        gate.observeHeaders(window(10), NOW)
        // A proxy's answer: spent, resetting in an hour.
        yield* admit(gate, 1)
        const doubted = gate.observeHeaders(window(0, RESET + 3600), NOW)
        expect(doubted).toEqual({ header: "x-rate-limit-reset", value: String(RESET + 3600) })
        expect(gate.available).toBe(0)
        // A minute later the gate knows nothing of the window: one request goes, to learn it,
        // not the 50 of a window refilled on a reset nobody sent.
        yield* TestClock.setTime(NOW + 60_000)
        yield* admit(gate, 1)
        expect(gate.probing).toBe(true)
        expect(gate.available).toBe(undefined)
        const { waits } = yield* waiters(gate, ["next"])
        expect(waits).toEqual(["next"])
      })
  )

  it.effect("a believed answer after a doubted one ends the doubt: its window rolls on", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(NOW)
      const gate = newGate()
      yield* admit(gate, 1)
      gate.observeHeaders(window(0, RESET + 3600), NOW)
      // Okta's own answer (a request the shared store let through) tells the real window.
      gate.observeHeaders(window(0), NOW + 1_000, false)
      // Past its reset: the next window, refilled to Okta's limit, not a probe.
      yield* TestClock.setTime(RESET * 1000)
      yield* admit(gate, 1)
      expect(gate.probing).toBe(false)
      expect(gate.available).toBe(49)
    })
  )

  it.effect.prop(
    "admits no request Okta would refuse for its window, whatever the order of answers, drops and resets",
    modelArbitraries,
    (arbitraries) =>
      Effect.gen(function* () {
        // The local clock keeps Okta's time (each reset a minute on); answers carry its `Date`.
        yield* TestClock.setTime((FIRST_RESET - 60) * 1000)
        const gate = newGate(true)
        const tickets = new Map<string, Ticket>()
        const run = yield* runModel(
          {
            acquire: (name) => {
              const ticket = newTicket()
              tickets.set(name, ticket)
              // A request that would have to wait is not admitted: it asks again as a new one.
              return Effect.isSuccess(gate.acquire(ticket, () => Effect.fail("wait"), Infinity))
            },
            answer: (_name, { concurrencyLimited, limit, remaining, reset, current }) =>
              Effect.map(Clock.currentTimeMillis, (now) => {
                // Okta's concurrent-request 429 says Limit 0, Remaining 0.
                const headers = Headers.fromInput({
                  date: new Date((current - 60) * 1000).toUTCString(),
                  "x-rate-limit-limit": String(concurrencyLimited ? 0 : limit),
                  "x-rate-limit-remaining": String(concurrencyLimited ? 0 : remaining),
                  "x-rate-limit-reset": String(reset)
                })
                gate.observeHeaders(headers, now)
                return false
              }),
            // `sent`: true when sent, false when tried and never connected, absent when never used.
            release: (name, ending) =>
              gate.release({
                ...tickets.get(name)!,
                ...(ending === "unused" ? {} : { sent: ending === "dropped" })
              }),
            roll: TestClock.adjust("60 seconds")
          },
          arbitraries
        )
        expect(run.refused).toEqual([])
        // Probes go one at a time, until one is tried and gets no answer: then this gate stops
        // probing, rather than let each call wait for the one before it to time out.
        if (!run.failedBlind) expect(run.probes).toEqual([])
        expect(gate.inFlight).toBe(0)
        // A concurrent-request 429 never takes the level below one request.
        expect(gate.concurrencyCap).toBeGreaterThanOrEqual(1)
        // Nothing in flight, nothing sent and unanswered (a refused connection is not charged),
        // budget left in the window it knows: a request goes at once.
        if (!run.unanswered && !run.rolled && gate.available !== undefined) {
          expect(gate.available).toBe(Math.max(0, arbitraries.limit - run.counted))
        }
        if (!run.unanswered && !run.rolled && run.counted < arbitraries.limit) {
          const admitted = gate.acquire(newTicket(), () => Effect.fail("wait"), Infinity)
          expect(yield* Effect.either(admitted)).toEqual(Either.right(undefined))
        }
      }),
    { timeout: 60_000, fastCheck: { seed: 20261204, numRuns: 300 } }
  )
})

describe("the server's clock", () => {
  it("is the closest estimate its Date headers allow: whole seconds, read late, so the largest offset seen, for five minutes", () => {
    const gate = newGate()
    // Okta's clock runs 3 s ahead of this machine's; `Date` drops the milliseconds.
    const LOCAL = 1_800_000_000_000
    const answerAt = (local: number) => {
      gate.observeHeaders(
        Headers.fromInput({ date: new Date(local + 3_000).toUTCString() }),
        local,
        false
      )
      return gate.serverNow(LOCAL) - LOCAL
    }
    expect(answerAt(LOCAL + 900)).toBe(2_100)
    // A Date read nearer the start of its second is nearer the truth: it replaces the first.
    expect(answerAt(LOCAL + 1_050)).toBe(2_950)
    // One read later in its second is not believed over it,
    expect(answerAt(LOCAL + 2_800)).toBe(2_950)
    // unless the best is five minutes old: clocks are set, and VMs sleep.
    expect(answerAt(LOCAL + 1_050 + 5 * 60_000 + 1_800)).toBe(2_150)
  })

  it("believes a Date up to an hour off the local clock alone, and one further off only with a reset near it", () => {
    const LOCAL = 1_800_000_000_000
    const offsetAfter = (offset: number, reset = false) => {
      const gate = newGate()
      const server = LOCAL + offset
      const doubted = gate.observeHeaders(
        Headers.fromInput({
          date: new Date(server).toUTCString(),
          ...(reset
            ? {
                "x-rate-limit-limit": "50",
                "x-rate-limit-remaining": "49",
                "x-rate-limit-reset": String(server / 1000 + 30)
              }
            : {})
        }),
        LOCAL,
        false
      )
      return { offset: gate.offsetMs, doubted: doubted?.header }
    }
    // A laptop's clock after sleep, or a time zone set wrong: minutes, or an hour, off.
    expect(offsetAfter(-59 * 60_000)).toEqual({ offset: -59 * 60_000, doubted: undefined })
    expect(offsetAfter(59 * 60_000)).toEqual({ offset: 59 * 60_000, doubted: undefined })
    expect(offsetAfter(61 * 60_000)).toEqual({ offset: undefined, doubted: "date" })
    expect(offsetAfter(3 * 3_600_000, true)).toEqual({ offset: 3 * 3_600_000, doubted: undefined })
  })
})

describe("an interruption wherever it lands in the retry loop", () => {
  const policy = RetryPolicy.make({ resetJitter: 0 })
  /** A call through `gate` whose attempt never ends (a request never answered), or answers. */
  const through = (gate: Gate, deadlineMillis?: number, answer?: "answer") =>
    Retry.run({
      call: { operation: "get", method: "GET", path: "/api/v1/apps/0oa1/connections/default" },
      gate,
      policy,
      replaySafe: true,
      deadlineMillis,
      recorder: Metrics.none,
      span: undefined,
      attempt: () => (answer === undefined ? Effect.never : Effect.succeed(answer))
    })
  const hanging = (gate: Gate, deadlineMillis?: number) => through(gate, deadlineMillis)
  const sharedGateOver = (store: RateLimitStoreService) =>
    SharedGate.make(store, {
      key: { org: "acme.okta.com", bucket: "api" },
      gateOptions: { resetJitterMillis: 0, adaptiveConcurrency: true },
      leaseMillis: 60_000,
      metrics: false
    })
  /** A call that goes through at once, as it must once the interrupted ones are gone. */
  const promptly = (gate: Gate) =>
    Effect.timeoutFail(through(gate, undefined, "answer"), {
      duration: "2 seconds",
      onTimeout: () => "held"
    })

  it.live("gives back the slot the gate took, before any answer and within a window", () =>
    Effect.gen(function* () {
      for (const deadline of [undefined, 60_000]) {
        // Before any answer the gate lets one request through: a slot kept by an interrupted
        // call would hold every later one for good.
        const gate = newGate(true)
        expect(yield* interruptEverywhere(hanging(gate, deadline))).toBeGreaterThan(10)
        expect(gate.inFlight).toBe(0)
        expect(yield* promptly(gate)).toBe("answer")
        const open = yield* started(true)
        expect(yield* interruptEverywhere(hanging(open, deadline))).toBeGreaterThan(10)
        expect(open.inFlight).toBe(0)
        expect(yield* promptly(open)).toBe("answer")
      }
    })
  )

  it.live(
    "waiting at the gate: an interrupted waiter ends, and leaves neither slot nor place",
    () =>
      Effect.gen(function* () {
        // A window spent until a reset 30 s away (on the live clock): the call waits for it.
        const spent = yield* started(true)
        const now = Date.now()
        yield* admit(spent, 1)
        const reset = String(Math.ceil(now / 1000) + 30)
        spent.observeHeaders(
          Headers.fromInput({
            "x-rate-limit-limit": "10",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": reset
          }),
          now
        )
        expect(yield* interruptEverywhere(hanging(spent))).toBeGreaterThan(10)
        expect(spent.inFlight).toBe(0)
        spent.observeHeaders(
          Headers.fromInput({
            "x-rate-limit-limit": "10",
            "x-rate-limit-remaining": "5",
            "x-rate-limit-reset": String(Number(reset) + 60)
          }),
          now,
          false
        )
        expect(yield* promptly(spent)).toBe("answer")
        // The only slot taken (the first request goes alone): the call waits for it.
        const probing = newGate(true)
        const holder = yield* Effect.fork(hanging(probing))
        yield* settle
        expect(yield* interruptEverywhere(hanging(probing))).toBeGreaterThan(10)
        expect(probing.inFlight).toBe(1)
        yield* Fiber.interrupt(holder)
        expect(yield* promptly(probing)).toBe("answer")
      })
  )

  it.live("over a shared store, ends or hands on every lease it took", () =>
    Effect.gen(function* () {
      const held = new Set<string>()
      const store: RateLimitStoreService = {
        acquire: (_key, lease) =>
          Effect.sync(() => {
            held.add(lease)
            return { _tag: "Admitted" as const }
          }),
        observe: (_key, lease) => Effect.sync(() => held.delete(lease) && false),
        release: (_key, lease, sent) =>
          Effect.sync(() => {
            held.delete(lease)
            if (sent) charged.push(lease)
          })
      }
      const charged: Array<string> = []
      const gate = sharedGateOver(store)
      expect(yield* interruptEverywhere(hanging(gate))).toBeGreaterThan(10)
      yield* settle
      expect([...held]).toEqual([])
      // None of them had sent its request: no lease is charged to the window as one Okta counted.
      expect(charged).toEqual([])
      // Nor is the turn to ask the store kept by an interrupted call.
      expect(yield* promptly(gate)).toBe("answer")
    })
  )

  it.live("over a shared store that says wait: the waiter ends, and the next call is let in", () =>
    Effect.gen(function* () {
      for (const admission of [
        { _tag: "Wait", reason: "window_exhausted", millis: 60_000 },
        { _tag: "Wait", reason: "concurrency_cap", millis: 60_000 }
      ] as const) {
        let waiting = true
        const store: RateLimitStoreService = {
          acquire: () => Effect.succeed(waiting ? admission : { _tag: "Admitted" as const }),
          observe: () => Effect.succeed(false),
          release: () => Effect.void
        }
        const gate = sharedGateOver(store)
        expect(yield* interruptEverywhere(hanging(gate))).toBeGreaterThan(10)
        waiting = false
        expect(yield* promptly(gate)).toBe("answer")
      }
    })
  )

  it.live("the lock behind a single flight: neither taking it nor waiting for it keeps it", () =>
    Effect.gen(function* () {
      const lock = new Lock()
      expect(yield* interruptEverywhere(lock.with(Effect.never))).toBeGreaterThan(3)
      expect(lock.held).toBe(false)
      // Queued behind a holder, interrupted at each step of the wait; then the holder lets go.
      const holder = yield* Effect.fork(lock.with(Effect.never))
      yield* settle
      yield* interruptEverywhere(lock.with(Effect.never))
      yield* Fiber.interrupt(holder)
      expect(lock.held).toBe(false)
      expect(yield* lock.with(Effect.succeed("taken"))).toBe("taken")
    })
  )

  it.effect("the lock: a waiter interrupted as it is handed the lock hands it on", () =>
    Effect.gen(function* () {
      const lock = new Lock()
      const next: Array<Fiber.RuntimeFiber<void>> = []
      // The holder's release hands the lock to the next waiter, then interrupts that waiter
      // before it has run: the lock must not stay with a fiber that will never release it.
      const holder = yield* Effect.fork(
        lock.with(
          Effect.sleep("1 second"),
          Effect.suspend(() => Fiber.interruptAll(next))
        )
      )
      yield* runForked
      next.push(yield* Effect.fork(lock.with(Effect.void)))
      yield* runForked
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(holder)
      expect(lock.held).toBe(false)
      expect(yield* lock.with(Effect.succeed("taken"))).toBe("taken")
    })
  )
})
