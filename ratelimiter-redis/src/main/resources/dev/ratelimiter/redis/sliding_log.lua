-- The exact sliding window log: never more than L permits in any interval (t - W, t].
--
-- KEYS[1]  a sorted set, one member per grant: its score the grant's time, the member the total
--          of permits granted up to and including it, modulo 2^53, in decimal ("cumulative").
--          Scores strictly increase with the cumulative (a grant at the newest member's time
--          replaces that member). The oldest member but stale ones is the head: the newest grant
--          known to have left the window (a "0" at the first grant's time - W before any did);
--          the permits in the window at horizon h are the newest cumulative minus that of the
--          newest member scored <= h. Members older than the head are stale: each grant removes
--          at most 128 of them. Absent: empty. TTL: until the newest grant leaves, plus the grace.
-- ARGV     now ('redis' or the caller's reading), L, W, n, units per ms, grace ms.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit.
--
-- The decision's effective time is max(now, newest grant's time): it never acts at a time earlier
-- than one it already acted on, so a clock that steps back sees no permit return. (The newest
-- entry a grant found expired is at least W older than that grant, so its time + W adds nothing.)
--
-- Cost: O(log n) in the members, whatever their number: a decision reads the newest member, counts
-- the members at or before the horizon (ZCOUNT) and reads the head and the oldest live member; a
-- refusal that needs more than the oldest live grant to leave finds its retry-after by a binary
-- search over ranks (O(log^2 n) skiplist steps, about 20 reads for 10^6 members); a grant adds a
-- member and removes at most 128 stale ones (amortized O(1): each member is removed once).
--
-- Reads and decides first; only a grant writes (a refusal, an oversized request included, writes
-- nothing, so it cannot move the time a later, earlier reading is judged at), and its first write
-- is the ZADD, which Redis checks against maxmemory: out of memory, the grant fails whole.
local now = read_now(ARGV[1])
local limit, window, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local units_per_ms, grace_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local key = KEYS[1]
local WRAP = 9007199254740992 -- 2^53: cumulative counts are kept modulo this

-- The permits granted after a member of cumulative b up to one of cumulative a (below 2^53).
local function since(a, b)
  local d = a - b
  if d < 0 then d = d + WRAP end
  return d
end

local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
local total, last_time = 0, nil
local live, base, head_rank, oldest_live = 0, 0, -1, nil
if newest[1] then
  total, last_time = tonumber(newest[1]), tonumber(newest[2])
end

local effective = now
if last_time and last_time > effective then effective = last_time end

if last_time then
  -- The members at or before the horizon: the head (the newest of them) and stale ones.
  local at_or_before = redis.call('ZCOUNT', key, '-inf', int(effective - window))
  if at_or_before == 0 then
    return redis.error_reply('ERR rate limiter: sliding log ' .. key .. ' has no head member')
  end
  head_rank = at_or_before - 1
  local pair = redis.call('ZRANGE', key, head_rank, head_rank + 1, 'WITHSCORES')
  base = tonumber(pair[1])
  if pair[3] then oldest_live = {tonumber(pair[3]), tonumber(pair[4])} end
  live = since(total, base)
end

local function until_expiry(t)
  local left = t + window - now
  if left < 1 then return 1 end
  return left
end

local reset = 0
if live > 0 then reset = until_expiry(last_time) end
local rem = limit - live
if rem < 0 then rem = 0 end

if n > limit then
  return {0, rem, -1, reset}
end

if live + n > limit then
  -- The first live grant whose expiry brings the live permits down to L - n must leave: the
  -- smallest rank whose cumulative is at least base + live + n - L (the newest member's is).
  local must = live + n - limit
  local t
  if since(oldest_live[1], base) >= must then
    t = oldest_live[2]
  else
    local lo, hi = head_rank + 2, redis.call('ZCARD', key) - 1
    local hi_time = last_time
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      local m = redis.call('ZRANGE', key, mid, mid, 'WITHSCORES')
      if since(tonumber(m[1]), base) >= must then
        hi, hi_time = mid, tonumber(m[2])
      else
        lo = mid + 1
      end
    end
    t = hi_time
  end
  return {0, rem, until_expiry(t), reset}
end

live = live + n
local cumulative
if total >= WRAP - n then cumulative = total - (WRAP - n) else cumulative = total + n end
reset = until_expiry(effective)
return finish({1, limit - live, 0, reset}, function()
  local member = int(cumulative)
  if not last_time then
    redis.call('ZADD', key, int(effective - window), '0', int(effective), member)
  else
    -- 0 only if a stale member had the same cumulative (2^53 permits ago): it is moved here.
    local added = redis.call('ZADD', key, int(effective), member)
    if last_time == effective then redis.call('ZREM', key, newest[1]) end
    local stale = head_rank
    if added == 0 then stale = stale - 1 end
    if stale > 128 then stale = 128 end
    if stale > 0 then redis.call('ZREMRANGEBYRANK', key, 0, stale - 1) end
  end
  redis.call('PEXPIRE', key, ttl_ms(reset, units_per_ms, grace_ms))
end)
