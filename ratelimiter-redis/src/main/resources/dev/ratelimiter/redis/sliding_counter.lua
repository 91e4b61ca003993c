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
-- Operations (ARGV[8]), one call each but the batch (at the end of this script):
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
-- pre_now and pre_stored: the time and the counts sliding_counter_fast.lua read before falling
-- through to this general script (nil when it did not, as under an operation or in a composite).
local now = pre_now or read_now(ARGV[1])
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

local st = pre_stored or redis.call('HMGET', key, 'o', 'w', 'p', 'c')
local origin = tonumber(st[1]) or tonumber(ARGV[5])
local hw, prev, cur = tonumber(st[2]) or 0, tonumber(st[3]) or 0, tonumber(st[4]) or 0

-- The counts and the budget at the reading x: the window k it falls in, the counts as they stand
-- then (a refusal decides on them without writing: the rotation is stored only by a grant, so it
-- cannot move the window a later, earlier reading is judged in), the elapsed part e of the window,
-- the budget left by the weighted previous count, and where the stored window starts relative to
-- x (offset: -e, or > 0 if the clock is behind it). hw, prev and cur become the counts at x,
-- always derived from the state as stored (s_*), which only a grant changes. Returns an error reply
-- when x is out of range.
local k, e, weighted, budget, offset
local s_hw, s_prev, s_cur = hw, prev, cur
local function at(x)
  hw, prev, cur = s_hw, s_prev, s_cur
  local t = x - origin
  -- Exact only below 2^53: a reading that far from the windows' origin (another process's clock,
  -- or one set far off) is refused rather than filed under a rounded window.
  if t >= 9007199254740992 or t <= -9007199254740992 then
    return redis.error_reply('ERR rate limiter: clock reading ' .. string.format('%.0f', x)
      .. ' is 2^53 or more units from the window origin ' .. string.format('%.0f', origin))
  end
  k = math.floor(t / w)
  while k * w > t do k = k - 1 end
  while (k + 1) * w <= t do k = k + 1 end
  if k > hw then
    if k == hw + 1 then prev = cur else prev = 0 end
    cur, hw = 0, k
  end
  e = 0
  if k == hw then e = t - k * w end
  weighted = 0
  if prev > 0 then weighted = ceil_mul_div(prev, w - e, w) end
  budget = limit - weighted
  offset = hw * w - t
  return nil
end
local failed = at(now)
if failed then return failed end

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
-- maxmemory; a refund to zero counts keeps the key for the grace only (ttl_ms of 0). The state
-- (window hw, previous p, current c) and the time until it no longer weighs, in units.
local function store(sw, sp, sc, units)
  redis.call('HSET', key, 'o', int(origin), 'w', int(sw), 'p', int(sp), 'c', int(sc))
  redis.call('PEXPIRE', key, ttl_ms(units, units_per_ms, grace_ms))
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
  store(hw, prev, cur, reset_of(cur))
  return {1}
end

if mode == 'drain' then
  n = remaining(cur)
  if n == 0 then return {0, 0, 0, reset_of(cur), 0} end
end

-- The decision of n permits at the reading at() last set, on the counts as they stand: its reply
-- and whether it granted (the current count then includes n).
local function decide()
  if n > limit then
    return {0, remaining(cur), -1, reset_of(cur)}, false
  end
  if cur + n <= budget then
    cur = cur + n
    return {1, budget - cur, 0, reset_of(cur), n}, true
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
  return {0, remaining(cur), retry, reset_of(cur)}, false
end

if mode == 'batch' then
  -- The coalesced decisions of one process on this key, in arrival order, each taken on the
  -- counts the ones before it left, as if they had come one after another: ARGV[9], ARGV[10], ...
  -- are each request's clock reading ('' for ARGV[1]'s, which is what Redis time sends) and
  -- permits. One write, the state the last grant left, with that grant's TTL (a later refusal's
  -- rotation of the window is not stored, as a refusal alone writes nothing). Returns the four
  -- figures of each decision, one after another.
  local out, last = {}, nil
  for i = 9, #ARGV, 2 do
    -- Each decision on the state as stored by then (a refusal's view of the window is not kept).
    failed = at(ARGV[i] == '' and now or tonumber(ARGV[i]))
    if failed then return failed end
    n = tonumber(ARGV[i + 1])
    local reply, granted = decide()
    local o = #out
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = reply[1], reply[2], reply[3], reply[4]
    if granted then
      s_hw, s_prev, s_cur = hw, prev, cur
      last = reply[4]
    end
  end
  if last then store(s_hw, s_prev, s_cur, last) end
  return out
end

local reply, granted = decide()
if not granted or mode == 'peek' then return reply end
return finish(reply, function() store(hw, prev, cur, reply[4]) end)
