-- The sliding window counter: two fixed-window counts, the previous one weighted by the part of
-- it the sliding window still covers. Grant n iff previous * (W - e) + (current + n) * W <= L * W,
-- i.e. current + n <= L - ceil(previous * (W - e) / W), evaluated exactly.
--
-- KEYS[1]  a hash {o: origin of the fixed windows, w: window index, p: previous, c: current}.
--          Absent: both counts zero. The key exists only while a count still weighs.
-- ARGV     now ('redis' or the caller's reading), L, W, n, origin (used when the key is absent),
--          units per ms, grace ms, then optionally the operation.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit; a
--          grant carries n at index 5.
--
-- Operations (ARGV[8]), one call each:
--   absent   a decision.
--   'peek'   the decision of n permits, writing nothing (no key created, no TTL touched).
--   'reset'  deletes the counts; with ARGV[9] 'rebase' (client time), stores empty counts whose
--            fixed windows start now, as a limiter created now would. Returns {1}.
--   'drain'  a grant of every permit available now (nothing written when none is); the reply
--            of a decision with the permits taken at index 5.
--   'refund' the current window's count goes down by n, then the previous one's, neither below
--            zero (both zero: the key is kept for the grace only). Returns {1} if anything was
--            given back, else {0}.
--
-- A reading before the stored window (a clock that stepped back) is evaluated at the start of
-- that window, where the weight of the previous count is largest: it never creates permits.
-- A refusal, an oversized request included, writes nothing.
local now = read_now(ARGV[1])
local limit, w, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local units_per_ms, grace_ms = tonumber(ARGV[6]), tonumber(ARGV[7])
local key = KEYS[1]
local mode = ARGV[8]
if mode == 'reset' then
  if ARGV[9] == 'rebase' then
    -- Client time: a limiter created now would start its fixed windows now. The empty counts
    -- keep that origin for a window (plus the grace); then a fresh key starts from ARGV[5] again.
    redis.call('HSET', key, 'o', int(now), 'w', '0', 'p', '0', 'c', '0')
    redis.call('PEXPIRE', key, ttl_ms(tonumber(ARGV[3]), tonumber(ARGV[6]), tonumber(ARGV[7])))
  else
    redis.call('DEL', key)
  end
  return {1}
end

local st = redis.call('HMGET', key, 'o', 'w', 'p', 'c')
local origin = tonumber(st[1]) or tonumber(ARGV[5])
local hw, prev, cur = tonumber(st[2]) or 0, tonumber(st[3]) or 0, tonumber(st[4]) or 0

local t = now - origin
-- Exact only below 2^53: a reading that far from the windows' origin (another process's clock,
-- or one set far off) is refused rather than filed under a rounded window.
if t >= 9007199254740992 or t <= -9007199254740992 then
  return redis.error_reply('ERR rate limiter: clock reading ' .. string.format('%.0f', now)
    .. ' is 2^53 or more units from the window origin ' .. string.format('%.0f', origin))
end
local k = math.floor(t / w)
while k * w > t do k = k - 1 end
while (k + 1) * w <= t do k = k + 1 end

-- The counts at window k: a refusal decides on them without writing (the rotation is stored
-- only by a grant), so it cannot move the window a later, earlier reading is judged in.
if k > hw then
  if k == hw + 1 then prev = cur else prev = 0 end
  cur, hw = 0, k
end

local e = 0
if k == hw then e = t - k * w end
local weighted = 0
if prev > 0 then weighted = ceil_mul_div(prev, w - e, w) end
local budget = limit - weighted
-- Where the stored window starts, relative to now: -e, or > 0 if the clock is behind it.
local offset = hw * w - t

local function reset_of(c)
  local finish
  if c > 0 then
    finish = offset + 2 * w
  elseif prev > 0 then
    finish = offset + w
  else
    return 0
  end
  if finish < 0 then return 0 end
  return finish
end

-- Only a grant or a refund writes, and its first write is the HSET, which Redis checks against
-- maxmemory; a refund to zero counts keeps the key for the grace only (ttl_ms of 0).
local function store(c)
  redis.call('HSET', key, 'o', int(origin), 'w', int(hw), 'p', int(prev), 'c', int(c))
  redis.call('PEXPIRE', key, ttl_ms(reset_of(c), units_per_ms, grace_ms))
end

local function remaining(c)
  local r = budget - c
  if r < 0 then return 0 end
  return r
end

if mode == 'refund' then
  if cur == 0 and prev == 0 then return {0} end
  local from_cur = n
  if from_cur > cur then from_cur = cur end
  local rest = n - from_cur
  if rest > prev then rest = prev end
  cur, prev = cur - from_cur, prev - rest
  -- Stored even when both are zero (the TTL is then the grace): the window a reading from a clock
  -- behind this one is judged in stays where the refund moved it.
  store(cur)
  return {1}
end

if mode == 'drain' then
  n = remaining(cur)
  if n == 0 then return {0, 0, 0, reset_of(cur), 0} end
end

if n > limit then
  return {0, remaining(cur), -1, reset_of(cur)}
end

if cur + n <= budget then
  cur = cur + n
  if mode == 'peek' then return {1, budget - cur, 0, reset_of(cur), n} end
  return finish({1, budget - cur, 0, reset_of(cur), n}, function() store(cur) end)
end

-- The earliest of: later in this window (the previous count's weight shrinks); in the next
-- window, where the current count becomes the weighted previous one.
local retry = nil
local s = limit - cur - n
if s >= 0 and prev > s then
  local e2 = w - floor_mul_div(s, w, prev)
  if e2 < e + 1 then e2 = e + 1 end
  if e2 < w then retry = offset + e2 end
end
if not retry then
  local s2 = limit - n
  local e_next = 0
  if cur > s2 then e_next = w - floor_mul_div(s2, w, cur) end
  retry = offset + w + e_next
end
if retry < 1 then retry = 1 end
return {0, remaining(cur), retry, reset_of(cur)}
