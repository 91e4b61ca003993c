-- The exact sliding window log: never more than L permits in any interval (t - W, t].
--
-- KEYS[1]  a sorted set, one member per grant: its score the grant's time, the member the total
--          of permits granted up to and including it, modulo 2^53, in decimal ("cumulative").
--          Scores strictly increase with the cumulative (a grant at the newest member's time
--          replaces that member). The oldest member but stale ones is the head: the newest grant
--          known to have left the window (a "0" at the first grant's time - W before any did);
--          the permits in the window at horizon h are the newest cumulative minus that of the
--          newest member scored <= h. Members older than the head are stale: grants remove
--          them, at most 128 per grant. Absent: empty. TTL: until the newest grant leaves, plus the grace.
-- ARGV     now ('redis' or the caller's reading), L, W, n, units per ms, grace ms, then
--          optionally the operation, the floor and its instant: grants at or before the floor
--          are forgotten whatever the window ('' or absent: none), and no decision is taken
--          before the instant. A limiter reconfigured to a longer window passes the horizon its
--          old window had at the change and the change's time, so that the longer window does
--          not count again grants the old one had already forgotten, and a later grant read from
--          a clock behind the change is recorded at the change, after the floor.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit; a
--          grant carries n at index 5.
--
-- Operations (ARGV[7]), one call each:
--   absent   a decision.
--   'peek'   the decision of n permits, writing nothing (no key created, no TTL touched).
--   'reset'  deletes the log. Returns {1}.
--   'time'   reads nothing: returns {now}, the decisions' time (for a reconfiguration's floor).
--   'drain'  a grant of every permit available now (nothing written when none is); the reply
--            of a decision with the permits taken at index 5.
--   'refund' removes the newest n permits still in the window: the members of the grants
--            entirely refunded, and the newest remaining grant keeps only its unrefunded part
--            (its member's cumulative lowered, its time kept). Found by a binary search over
--            ranks (O(log^2 n)); the members removed are one ZREMRANGEBYRANK, each member
--            removed once (amortized O(1) per grant). A log left with no permit in the window
--            keeps its head for the grace only. Returns {1} if anything was given back, else {0}.
--
-- The decision's effective time is max(now, newest grant's time): it never acts at a time earlier
-- than one it already acted on, so a clock that steps back sees no permit return. (The newest
-- entry a grant found expired is at least W older than that grant, so its time + W adds nothing.)
--
-- Cost: O(log n) in the members, whatever their number. A decision reads the 4 oldest members
-- (the head is among them unless a burst of grants just expired) and the newest; only after such
-- a burst does it count the expired members (ZCOUNT) and read the head by rank. A refusal that
-- needs more than the oldest live grant to leave finds its retry-after by a binary search over
-- ranks (O(log^2 n) skiplist steps, about 20 reads for 10^6 members). A grant adds one member
-- (ZADD), sets the TTL, and removes the stale members, at most 128 per grant (amortized O(1):
-- each member is removed once), so a log emptied by expiry shrinks lazily, 128 per grant.
--
-- Reads and decides first; only a grant writes (a refusal, an oversized request included, writes
-- nothing, so it cannot move the time a later, earlier reading is judged at), and its first write
-- is the ZADD, which Redis checks against maxmemory: out of memory, the grant fails whole.
local now = read_now(ARGV[1])
-- Numbers read by Lua's string coercion ("x + 0") rather than tonumber: the same conversion
-- without a function call, measurably cheaper at this rate; every text read so is a decimal this
-- project's client or this script wrote (an argument, a score or member of the log).
local limit, window, n = ARGV[2] + 0, ARGV[3] + 0, ARGV[4] + 0
local units_per_ms, grace_ms = ARGV[5] + 0, ARGV[6] + 0
local key = KEYS[1]
local mode = ARGV[7]
local floor, floor_at = nil, nil
if ARGV[8] and ARGV[8] ~= '' then floor, floor_at = tonumber(ARGV[8]), tonumber(ARGV[9]) end
if mode == 'reset' then
  redis.call('DEL', key)
  return {1}
end
if mode == 'time' then return {now} end
local WRAP = 9007199254740992 -- 2^53: cumulative counts are kept modulo this

-- The permits granted after a member of cumulative b up to one of cumulative a (below 2^53).
local function since(a, b)
  local d = a - b
  if d < 0 then d = d + WRAP end
  return d
end

-- The oldest members (up to 4: the head is among them but after a burst of expiry), and the newest.
local FIRST = 4
local oldest = redis.call('ZRANGE', key, 0, FIRST - 1, 'WITHSCORES')
local fetched = #oldest / 2
local newest
if fetched < FIRST then
  newest = {oldest[2 * fetched - 1], oldest[2 * fetched]} -- the whole set was fetched
else
  newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
end
local total, last_time = 0, nil
local live, base, head_rank, oldest_live = 0, 0, -1, nil
if fetched > 0 then
  total, last_time = newest[1] + 0, newest[2] + 0
end

local effective = now
if last_time and last_time > effective then effective = last_time end
if floor_at and floor_at > effective then effective = floor_at end

if last_time then
  -- The head: the newest member at or before the horizon; those before it are stale.
  local horizon = effective - window
  if floor and floor > horizon then horizon = floor end
  local h = 0
  while h < fetched and oldest[2 * h + 2] + 0 <= horizon do h = h + 1 end
  -- No member at or before the horizon: a longer window than the log was kept for (another
  -- process's limit). The oldest member is the head: what the log forgot stays forgotten.
  if h == 0 then h = 1 end
  if h < fetched or fetched < FIRST then
    head_rank = h - 1
    base = oldest[2 * h - 1] + 0
    if h < fetched then oldest_live = {oldest[2 * h + 1] + 0, oldest[2 * h + 2] + 0} end
  else
    -- Every member fetched has expired: count them all (O(log n)).
    head_rank = redis.call('ZCOUNT', key, '-inf', int(horizon)) - 1
    local pair = redis.call('ZRANGE', key, head_rank, head_rank + 1, 'WITHSCORES')
    base = tonumber(pair[1])
    if pair[3] then oldest_live = {tonumber(pair[3]), tonumber(pair[4])} end
  end
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

if mode == 'refund' then
  local m = n
  if m > live then m = live end
  if m <= 0 then return {0} end
  if m == live then
    -- Every live grant goes; the head stays, for the grace only, so that the time decisions are
    -- judged at does not move back.
    redis.call('ZREMRANGEBYRANK', key, head_rank + 1, -1)
    redis.call('PEXPIRE', key, ttl_ms(0, units_per_ms, grace_ms))
    return {1}
  end
  local keep = live - m
  -- The oldest member holding a refunded permit: the smallest rank whose cumulative is above
  -- base + keep (the newest member's is).
  local lo, hi = head_rank + 1, redis.call('ZCARD', key) - 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local probe = redis.call('ZRANGE', key, mid, mid)
    if since(tonumber(probe[1]), base) > keep then hi = mid else lo = mid + 1 end
  end
  -- lo > head_rank + 1 or keep > 0 at head_rank + 1: the member before lo is live or the head.
  local pair = redis.call('ZRANGE', key, lo - 1, lo, 'WITHSCORES')
  local before, before_time = tonumber(pair[1]), tonumber(pair[2])
  local member, member_time = pair[3], tonumber(pair[4])
  local newest_time
  if since(before, base) < keep then
    -- The grant at lo keeps part of its permits: its member is re-added lowered, at its time.
    local target = base + keep
    if target >= WRAP then target = target - WRAP end
    redis.call('ZADD', key, int(member_time), int(target))
    redis.call('ZREM', key, member)
    newest_time = member_time
    redis.call('ZREMRANGEBYRANK', key, lo + 1, -1)
  else
    redis.call('ZREMRANGEBYRANK', key, lo, -1)
    newest_time = before_time
  end
  redis.call('PEXPIRE', key, ttl_ms(until_expiry(newest_time), units_per_ms, grace_ms))
  return {1}
end

if mode == 'drain' then
  if rem == 0 then return {0, 0, 0, reset, 0} end
  n = rem
end

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
if mode == 'peek' then return {1, limit - live, 0, reset, n} end
return finish({1, limit - live, 0, reset, n}, function()
  local member = int(cumulative)
  if not last_time then
    redis.call('ZADD', key, int(effective - window), '0', int(effective), member)
  elseif last_time == effective and live == n then
    -- The newest member is the head (no grant is live: a refund took every one) and this grant
    -- is at its very time (a clock behind the head). The head must not be replaced, as a grant
    -- at a live grant's time replaces that grant: the log would forget this grant. The set
    -- holds only the head here (no member is at or before the horizon), so the head moves, in
    -- place, to the start of this grant's window, as at a first grant, and the grant follows it.
    -- Still one ZADD first (checked against maxmemory); nothing is lost.
    redis.call('ZADD', key, int(effective - window), newest[1], int(effective), member)
  else
    -- 0 only if a stale member had the same cumulative (2^53 permits ago): it is moved here.
    local added = redis.call('ZADD', key, int(effective), member)
    if last_time == effective then redis.call('ZREM', key, newest[1]) end
    -- Stale members go at once, at most 128 per grant: the head stays among the oldest 4.
    local stale = head_rank
    if added == 0 then stale = stale - 1 end
    if stale > 128 then stale = 128 end
    if stale > 0 then redis.call('ZREMRANGEBYRANK', key, 0, stale - 1) end
  end
  redis.call('PEXPIRE', key, ttl_ms(reset, units_per_ms, grace_ms))
end)
