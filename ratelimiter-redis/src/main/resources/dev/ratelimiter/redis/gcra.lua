-- GCRA: the token bucket, the leaky bucket meter and the leaky bucket queue's immediate acquire.
--
-- KEYS[1]  a string: F, the time at which the bucket is full again (absent: full).
-- ARGV     now ('redis' for TIME in us, else the caller's reading), C, R, P, n, queue ('1'/'0'),
--          units per ms, grace ms. R permits per P time units; C the capacity, burst or queue.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit.
--
-- Grant n <= C at debt = max(0, F - now) iff debt * R <= (C - n) * P (the queue: iff debt == 0);
-- then F' = max(F, now) + ceil(n * P / R). A refusal writes nothing.
--
-- ARGV[9] selects one of two more operations, both for blocking acquires:
--   'reserve', ARGV[10] the longest wait (units): reserve n permits whose slot comes within that
--     wait: wait = debt for the queue, which must then hold them (debt * R <= (C - n) * P), else
--     wait = max(0, debt - floor((C - n) * P / R)); F' = max(F, now) + ceil(n * P / R) as for a
--     grant, so later callers queue behind the reservation. Returns {allowed, remaining, wait
--     (-1: never), reset, F', 1 if F was present else 0, F}.
--   'release', ARGV[10] the F' a reservation wrote, ARGV[11] the F it replaced ('' if absent):
--     give the reservation back only if it is still the last write (F == F'), else forfeit it:
--     later grants were computed on top of it. Returns {1} if given back, else {0}.
local now = read_now(ARGV[1])
local cap, rate, period, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local queue = ARGV[6] == '1'
local units_per_ms, grace_ms = tonumber(ARGV[7]), tonumber(ARGV[8])

local f = tonumber(redis.call('GET', KEYS[1]))
local debt = 0
if f and f > now then debt = f - now end

local mode = ARGV[9]

if mode == 'release' then
  if not f or f ~= tonumber(ARGV[10]) then return {0} end
  if ARGV[11] == '' or tonumber(ARGV[11]) <= now then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], ARGV[11], 'PX', ttl_ms(tonumber(ARGV[11]) - now, units_per_ms, grace_ms))
  end
  return {1}
end

local function remaining(d)
  if queue then
    if d == 0 then return cap end
    return 0
  end
  if d == 0 then return cap end
  if cmp_products(d, rate, cap, period) >= 0 then return 0 end
  return cap - ceil_mul_div(d, rate, period)
end

if n > cap then
  return {0, remaining(debt), -1, debt}
end

if mode == 'reserve' then
  local max_wait = tonumber(ARGV[10])
  local wait
  if queue then
    -- The permits waiting, this request included, must fit the queue.
    if cmp_products(debt, rate, cap - n, period) > 0 then return {0, remaining(debt), -1, debt} end
    wait = debt
  else
    wait = debt - floor_mul_div(cap - n, period, rate)
    if wait < 0 then wait = 0 end
  end
  if wait > max_wait then return {0, remaining(debt), wait, debt} end
  local base = now
  if f and f > now then base = f end
  local next_f = base + ceil_mul_div(n, period, rate)
  -- Reservations may pile debt beyond C: refuse one whose state would leave the exact range.
  if next_f >= 9007199254740992 then return {0, remaining(debt), wait, debt} end
  local after = next_f - now
  redis.call('SET', KEYS[1], int(next_f), 'PX', ttl_ms(after, units_per_ms, grace_ms))
  if f then return {1, remaining(after), wait, after, next_f, 1, f} end
  return {1, remaining(after), wait, after, next_f, 0, 0}
end

local grantable
if queue then
  grantable = debt == 0
else
  grantable = cmp_products(debt, rate, cap - n, period) <= 0
end
if not grantable then
  local retry = debt
  if not queue then retry = debt - floor_mul_div(cap - n, period, rate) end
  return {0, remaining(debt), retry, debt}
end
local base = now
if f and f > now then base = f end
local next_f = base + ceil_mul_div(n, period, rate)
local after = next_f - now
redis.call('SET', KEYS[1], int(next_f), 'PX', ttl_ms(after, units_per_ms, grace_ms))
return {1, remaining(after), 0, after}
