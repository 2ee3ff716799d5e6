/**
 * The Redis side of the shared rate-limit gate: three Lua scripts, each one atomic step on Redis's
 * own clock (`TIME`). Per org and bucket:
 *
 * - `{org:bucket}:window`: a hash, `observed` (the last `X-Rate-Limit-Reset` Okta reported, its
 *   epoch seconds as sent: the window's identity, the same in every process whatever its clock),
 *   `reset` (when the current window resets, ms on Redis's clock: from the latest observation's
 *   time to reset, or later once windows passed unobserved),
 *   `length` (the shortest distance seen between two resets; Okta's windows are one minute),
 *   `limit`, `available` (what may still be sent this window) and `seen` (a response has been
 *   observed: until then one request at a time probes).
 * - `{org}:leases`: a sorted set of the org's requests in flight, scored by when each lease expires.
 *   Okta's concurrent-request limit is per org, so leases are too (every bucket shares them).
 * - `{org}:concurrency`: a hash, `cap` (the adaptive concurrency level) and `successes`.
 * - `{org}:order` (lease → admission number) and `{org}:seq` (the counter): which requests were
 *   admitted after a given one. A response's `Remaining` already counts the requests Okta received
 *   before it; subtracting every request still in flight would count those twice, so only the ones
 *   admitted after it are subtracted.
 *
 * The `{…}` hash tags put one org's keys in one slot, as a Redis Cluster needs for a script.
 *
 * @internal
 */

/** Shared prelude: now, on Redis's clock, in milliseconds; expired leases dropped. */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
for i = 1, #expired do
  redis.call('ZREM', KEYS[2], expired[i])
  redis.call('ZREM', KEYS[4], expired[i])
end
local inflight = redis.call('ZCARD', KEYS[2])
`

/**
 * Admits `lease` if the window has budget and the org is under its concurrency level (rolling the
 * window over first if its reset has passed). Uses the prelude's `now` and `inflight`.
 */
const ADMIT = `
local function admit(lease, leaseMillis, defaultWindow)
  local w = redis.call('HMGET', KEYS[1], 'reset', 'limit', 'available', 'seen', 'length')
  local reset, limit, available, seen = tonumber(w[1]), tonumber(w[2]), tonumber(w[3]), w[4]
  local windowMillis = tonumber(w[5]) or defaultWindow
  if reset and now >= reset then
    -- The window has reset: the next one's budget is the limit, less what is in flight.
    reset = reset + (math.floor((now - reset) / windowMillis) + 1) * windowMillis
    redis.call('HSET', KEYS[1], 'reset', reset, 'rolled', 1)
    if limit then
      available = limit - inflight
      redis.call('HSET', KEYS[1], 'available', available)
    else
      available = nil
      redis.call('HDEL', KEYS[1], 'available')
    end
  end
  if available and available <= 0 then
    return {0, 1, reset - now}
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
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), lease)
  redis.call('PEXPIRE', KEYS[4], leaseMillis + windowMillis)
  if available then redis.call('HINCRBY', KEYS[1], 'available', -1) end
  return {1}
end
`

/**
 * KEYS: window, leases, concurrency, order, seq. ARGV: lease, leaseMillis, windowMillis.
 * Returns {1} when admitted, {0, 1, millis} for a spent window (until its reset), {0, 2, millis}
 * for the concurrency level (until the earliest lease ends).
 */
export const ACQUIRE = `${PRELUDE}${ADMIT}
return admit(ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]))
`

/**
 * KEYS: window, leases, concurrency, order, seq. ARGV: lease, kind ("window", "concurrency" or
 * "none"), limit ("" if unknown), remaining, resetInMillis, adaptive ("1"/"0"), windowMillis,
 * reset (Okta's `X-Rate-Limit-Reset`, the window's identity), keep ("1": the process has a request
 * waiting, so admit it under the same lease at once if the gate allows; returns 1 then), and
 * leaseMillis.
 *
 * The server is authoritative: a newer window (a later reset) replaces the state; within the
 * current window the lower remaining count wins; an older window's late response is ignored. A 429 (remaining 0) empties
 * the window until its reset. A concurrent-request 429 lowers the concurrency level to what is in
 * flight; four rounds of successes at a level raise it by one.
 */
export const OBSERVE = `
local admitted = redis.call('ZSCORE', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
${PRELUDE}${ADMIT}
-- Requests admitted after this one and still in flight: the ones its Remaining cannot count.
local after = inflight
if admitted then after = redis.call('ZCOUNT', KEYS[4], '(' .. admitted, '+inf') end
local windowMillis = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'seen', 1)
local kind = ARGV[2]
local adaptive = ARGV[6] == '1'
if kind == 'concurrency' then
  if adaptive then
    local cap = tonumber(redis.call('HGET', KEYS[3], 'cap'))
    local lowered = math.max(1, inflight)
    if cap then lowered = math.max(1, math.min(cap, inflight)) end
    redis.call('HSET', KEYS[3], 'cap', lowered, 'successes', 0)
    redis.call('PEXPIRE', KEYS[3], 10 * windowMillis)
  end
  return 0
end
if adaptive then
  local cap = tonumber(redis.call('HGET', KEYS[3], 'cap'))
  if cap then
    local successes = redis.call('HINCRBY', KEYS[3], 'successes', 1)
    if successes >= 4 * cap then
      redis.call('HSET', KEYS[3], 'cap', cap + 1, 'successes', 0)
    end
  end
end
if kind == 'window' then
  local resetAt = now + tonumber(ARGV[5])
  local remaining = tonumber(ARGV[4])
  local limit = tonumber(ARGV[3])
  local id = tonumber(ARGV[8])
  local w = redis.call('HMGET', KEYS[1], 'observed', 'available', 'rolled', 'length')
  local observed, available, rolled = tonumber(w[1]), tonumber(w[2]), w[3]
  local length = tonumber(w[4]) or windowMillis
  if (not observed) or id > observed then
    -- A window not seen before: its reset replaces whatever the rolling estimated.
    if observed and (id - observed) * 1000 < length then
      length = (id - observed) * 1000
      redis.call('HSET', KEYS[1], 'length', length)
    end
    redis.call('HSET', KEYS[1], 'observed', id, 'reset', resetAt, 'available', remaining - after)
    redis.call('HDEL', KEYS[1], 'rolled')
  elseif id == observed and not rolled then
    -- The current window: the lowest remaining anybody saw wins. Each process's time to reset
    -- errs late, never early (its clock offset is a lower bound), so the earliest reset anybody
    -- reported is the best one that is still safe.
    local budget = remaining - after
    if (not available) or budget < available then
      redis.call('HSET', KEYS[1], 'available', budget)
    end
    local reset = tonumber(redis.call('HGET', KEYS[1], 'reset'))
    if reset and resetAt < reset then redis.call('HSET', KEYS[1], 'reset', resetAt) end
  end
  -- Otherwise a late answer from a window already over: it says nothing about this one.
  if limit then redis.call('HSET', KEYS[1], 'limit', limit) end
end
-- State nobody refreshes goes away: a stale window would only hold requests back.
redis.call('PEXPIRE', KEYS[1], 3 * windowMillis)
if ARGV[9] == '1' then
  -- The slot goes straight to the process's next request, without a round trip.
  inflight = redis.call('ZCARD', KEYS[2])
  return admit(ARGV[1], tonumber(ARGV[10]), windowMillis)[1]
end
return 0
`

/** KEYS: leases, order. ARGV: lease. */
export const RELEASE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
`
