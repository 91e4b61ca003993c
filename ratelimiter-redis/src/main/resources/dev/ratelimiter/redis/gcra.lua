-- GCRA: the token bucket, the leaky bucket meter and the leaky bucket queue's immediate acquire.
--
-- KEYS[1]  a string: F, the time at which the bucket is full again (absent: full).
-- ARGV     now ('redis' for TIME in us, else the caller's reading), C, R, P, n, queue ('1'/'0'),
--          units per ms, grace ms. R permits per P time units; C the capacity, burst or queue.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit.
--
-- Grant n <= C at debt = max(0, F - now) iff debt * R <= (C - n) * P (the queue: iff debt == 0);
-- then F' = max(F, now) + ceil(n * P / R). A refusal writes nothing.
local now = read_now(ARGV[1])
local cap, rate, period, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local queue = ARGV[6] == '1'
local units_per_ms, grace_ms = tonumber(ARGV[7]), tonumber(ARGV[8])

local f = tonumber(redis.call('GET', KEYS[1]))
local debt = 0
if f and f > now then debt = f - now end

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
