/**
 * The Redis side of the shared rate-limit gate: three Lua scripts, each one atomic step on Redis's
 * own clock (`TIME`). Per org and bucket:
 *
 * - `{org}:bucket:window`: a hash, `observed` (the last `X-Rate-Limit-Reset` Okta reported, its
 *   epoch seconds as sent: the window's identity, the same in every process whatever its clock),
 *   `reset` (when the current window resets, ms on Redis's clock: from the latest observation's
 *   time to reset, or later once windows passed unobserved),
 *   `length` (the shortest distance seen between two resets; Okta's windows are one minute),
 *   `limit`, `remaining` (the lowest `Remaining` reported in this window: Okta's latest count),
 *   `lost` (requests that ended without an answer this window: Okta may have counted them; the
 *   latest at `lostAt`) and `seen` (a response has been observed: until then one request at a
 *   time probes).
 * - `{org}:leases`: a sorted set of the org's requests in flight, scored by when each lease expires.
 *   Okta's concurrent-request limit is per org, so leases are too (every bucket shares them).
 * - `{org}:concurrency`: a hash, `cap` (the adaptive concurrency level), `successes`, `rounds`
 *   (of successes at the level before it is probed one higher; `PROBE_ROUNDS` when absent) and
 *   `probed` (the level was raised by a probe, and no concurrent-request 429 has come since).
 *
 * What may still be sent this window is `remaining - inflight - lost`. Okta's count only goes
 * down within a window, so the lowest `Remaining` is its latest; any request it had not counted
 * then was answered after it, with a lower `Remaining`, so it is still in flight (or ended without
 * an answer). The budget is never over-estimated, and it comes back as the answers arrive.
 *
 * The `{…}` hash tags put one org's keys in one slot, as a Redis Cluster needs for a script.
 *
 * @internal
 */
import { MAX_PROBE_ROUNDS, PROBE_ROUNDS, START_MARGIN_MS } from "../internal/gate.js"

/** Okta's windows for these endpoints are one minute. */
export const WINDOW_MILLIS = 60_000
/** How long window state lasts unrefreshed (three windows). */
const STATE_TTL_MILLIS = 3 * WINDOW_MILLIS

/**
 * Now, on Redis's clock, in milliseconds; and the window's charges for requests that ended without
 * an answer (`lost`, the latest at `lostAt`): Okta may have counted them.
 *
 * A request is charged before any answer too, as the first answer's `Remaining` may not include
 * it (a request given up on can still reach Okta after a later one). When a new window starts,
 * the charges from before it belong to the window before; but one that ended after the new window
 * began may have been counted in it, and missing it costs a 429. So a window that starts within
 * the margin of the latest charge keeps them all: a request charged twice costs one request of
 * budget until the next window.
 */
const CLOCK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function charge(count)
  redis.call('HINCRBY', KEYS[1], 'lost', count)
  redis.call('HSET', KEYS[1], 'lostAt', now)
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ${STATE_TTL_MILLIS}) end
end
local function startWindow(start)
  local w = redis.call('HMGET', KEYS[1], 'lost', 'lostAt')
  local lostAt = tonumber(w[2])
  if lostAt and lostAt >= start - ${START_MARGIN_MS} then return tonumber(w[1]) or 0 end
  redis.call('HSET', KEYS[1], 'lost', 0)
  return 0
end
`

/** Shared prelude: the clock; expired leases dropped (and charged). */
const PRELUDE = `${CLOCK}
-- A lease that expired belongs to a process that died mid-call: Okta may have counted its request.
local expired = redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if expired > 0 then charge(expired) end
local inflight = redis.call('ZCARD', KEYS[2])
`

/**
 * Admits `lease` if the window has budget and the org is under its concurrency level (rolling the
 * window over first if its reset has passed). Uses the prelude's `now` and `inflight`. A refusal
 * is {0, 1, millis, poll}: the window, until its reset, or (poll = 1) until requests in flight
 * answer; or {0, 2, millis}: the concurrency level, until the earliest lease ends.
 */
const ADMIT = `
local function admit(lease, leaseMillis, defaultWindow)
  local w = redis.call('HMGET', KEYS[1], 'reset', 'limit', 'remaining', 'seen', 'length', 'lost')
  local reset, limit, remaining, seen = tonumber(w[1]), tonumber(w[2]), tonumber(w[3]), w[4]
  local windowMillis = tonumber(w[5]) or defaultWindow
  local lost = tonumber(w[6]) or 0
  if reset and now >= reset then
    -- The window has reset: the next one's budget is the limit (less what is in flight, below).
    reset = reset + (math.floor((now - reset) / windowMillis) + 1) * windowMillis
    lost = startWindow(reset - windowMillis)
    redis.call('HSET', KEYS[1], 'reset', reset, 'rolled', 1)
    if limit then
      remaining = limit
      redis.call('HSET', KEYS[1], 'remaining', remaining)
    else
      remaining = nil
      redis.call('HDEL', KEYS[1], 'remaining')
    end
  end
  if remaining and remaining - inflight - lost <= 0 then
    if remaining - lost > 0 and inflight > 0 then return {0, 1, reset - now, 1} end
    return {0, 1, reset - now, 0}
  end
  local cap = tonumber(redis.call('HGET', KEYS[3], 'cap'))
  -- Until a response has told the budget, one request at a time probes for it.
  if not seen then cap = 1 end
  if cap and inflight >= cap then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    local untilFree = 0
    if first[2] then untilFree = tonumber(first[2]) - now end
    return {0, 2, untilFree}
  end
  redis.call('ZADD', KEYS[2], now + leaseMillis, lease)
  redis.call('PEXPIRE', KEYS[2], leaseMillis + windowMillis)
  return {1}
end
`

/**
 * KEYS: window, leases, concurrency. ARGV: lease, leaseMillis, windowMillis.
 * Returns {1} when admitted, or a refusal (see `ADMIT`).
 */
export const ACQUIRE = `${PRELUDE}${ADMIT}
return admit(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
`

/**
 * KEYS: window, leases, concurrency. ARGV: lease, kind ("window", "concurrency" or "none"), limit
 * ("" if unknown), remaining, resetInMillis, adaptive ("1"/"0"), windowMillis, reset (Okta's
 * `X-Rate-Limit-Reset`, the window's identity), keep ("1": the process has a request waiting, so
 * admit it under the same lease at once if the gate allows; returns 1 then), and leaseMillis.
 *
 * The server is authoritative: a newer window (a later reset) replaces the state; within the
 * current window the lower remaining count wins; an older window's late response is ignored. A
 * 429 (remaining 0) empties the window until its reset. A concurrent-request 429 lowers the
 * concurrency level to what is in flight; four rounds of successes at a level raise it by one. A
 * probe that fails doubles the rounds before the next (up to `MAX_PROBE_ROUNDS`), and one that
 * holds until the next halves them (down to `PROBE_ROUNDS`), as the in-memory gate does.
 */
export const OBSERVE = `
redis.call('ZREM', KEYS[2], ARGV[1])
${PRELUDE}${ADMIT}
local windowMillis = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'seen', 1)
local kind = ARGV[2]
local adaptive = ARGV[6] == '1'
if kind == 'concurrency' then
  if adaptive then
    local c = redis.call('HMGET', KEYS[3], 'cap', 'rounds', 'probed')
    local cap, rounds = tonumber(c[1]), tonumber(c[2]) or ${PROBE_ROUNDS}
    local lowered = math.max(1, inflight)
    if cap then lowered = math.max(1, math.min(cap, inflight)) end
    -- A failed probe: wait twice as many rounds before the next one (each costs a 429).
    if c[3] then rounds = math.min(${MAX_PROBE_ROUNDS}, rounds * 2) end
    redis.call('HSET', KEYS[3], 'cap', lowered, 'successes', 0, 'rounds', rounds)
    redis.call('HDEL', KEYS[3], 'probed')
    redis.call('PEXPIRE', KEYS[3], 10 * windowMillis)
  end
  return 0
end
if adaptive then
  local c = redis.call('HMGET', KEYS[3], 'cap', 'rounds', 'probed')
  local cap, rounds = tonumber(c[1]), tonumber(c[2]) or ${PROBE_ROUNDS}
  if cap then
    local successes = redis.call('HINCRBY', KEYS[3], 'successes', 1)
    if successes >= rounds * cap then
      -- The previous probe held all this time: probe sooner.
      if c[3] then rounds = math.max(${PROBE_ROUNDS}, rounds / 2) end
      redis.call('HSET', KEYS[3], 'cap', cap + 1, 'successes', 0, 'probed', 1, 'rounds', rounds)
    end
  end
end
if kind == 'window' then
  local resetAt = now + tonumber(ARGV[5])
  local remaining = tonumber(ARGV[4])
  local limit = tonumber(ARGV[3])
  local id = tonumber(ARGV[8])
  local w = redis.call('HMGET', KEYS[1], 'observed', 'remaining', 'rolled', 'length', 'reset')
  local observed, current, rolled = tonumber(w[1]), tonumber(w[2]), w[3]
  local length = tonumber(w[4]) or windowMillis
  if (not observed) or id > observed then
    -- A window not seen before: its reset replaces whatever the rolling estimated.
    if observed and (id - observed) * 1000 < length then
      length = (id - observed) * 1000
      redis.call('HSET', KEYS[1], 'length', length)
    end
    redis.call('HSET', KEYS[1], 'observed', id, 'reset', resetAt, 'remaining', remaining)
    -- Unless the window rolled over here already (and its charges were sorted then).
    if not rolled then startWindow(resetAt - length) end
    redis.call('HDEL', KEYS[1], 'rolled')
  elseif id == observed and not rolled then
    -- The current window: the lowest remaining anybody saw wins. Each process's time to reset
    -- errs late, never early (its clock offset is a lower bound), so the earliest reset anybody
    -- reported is the best one that is still safe.
    if (not current) or remaining < current then
      redis.call('HSET', KEYS[1], 'remaining', remaining)
    end
    local reset = tonumber(w[5])
    if reset and resetAt < reset then redis.call('HSET', KEYS[1], 'reset', resetAt) end
  end
  -- Otherwise a late answer from a window already over: it says nothing about this one.
  if limit then redis.call('HSET', KEYS[1], 'limit', limit) end
end
-- State nobody refreshes goes away: a stale window would only hold requests back.
redis.call('PEXPIRE', KEYS[1], ${STATE_TTL_MILLIS})
if ARGV[9] == '1' then
  -- The slot goes straight to the process's next request, without a round trip.
  inflight = redis.call('ZCARD', KEYS[2])
  return admit(ARGV[1], tonumber(ARGV[10]), windowMillis)[1]
end
return 0
`

/**
 * KEYS: window, leases. ARGV: lease, sent ("1": the request ended without an answer, and Okta may
 * have counted it: it is charged, as `lost`, until a window that starts more than a second after),
 * tried ("1": sent, or its connection refused; "0": the lease was never used). A probe tried and
 * unanswered tells nothing, and ends the probing, as in a lone process: requests are not held one
 * behind the other while each waits for its timeout.
 */
export const RELEASE = `${CLOCK}
if redis.call('ZREM', KEYS[2], ARGV[1]) == 1 and ARGV[3] == '1' then
  if ARGV[2] == '1' then charge(1) end
  redis.call('HSET', KEYS[1], 'seen', 1)
  if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ${STATE_TTL_MILLIS}) end
end
return 0
`
