-- GCRA: the token bucket, the leaky bucket meter and the leaky bucket queue's immediate acquire.
--
-- KEYS[1]  a string, the state: the time at which the bucket is full again (absent: full), as
--          "F" or "F q R": the exact time is F + q / R, with 0 <= q < R ("F" alone means q = 0),
--          R the rate term of the writer. A state written under another rate R' is read at this
--          R with its fraction rounded up (q' = ceil(q * R / R'), carried into F at R): the
--          full-at instant never moves earlier, so no permit is created by reading it under
--          another rate. "F q" (no R: written before the rate was stored) is read at this R.
-- ARGV     now ('redis' for TIME in us, else the caller's reading), C, R, P, n, flags, units per
--          ms, grace ms. R permits per P time units; C the capacity, burst or queue. Flags: 1 the
--          queue (grant at zero debt only), 0 the bucket and the meter.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit.
--
-- The exact debt is D / R time units, D = (F - now) * R + q when that is positive, else 0.
-- Grant n <= C iff D <= (C - n) * P (the queue: iff D == 0); then the full-at time moves to
-- max(F + q / R, now) + n * P / R. A refusal writes nothing. remaining = C - ceil(D / P) (0 when
-- D >= C * P; the queue: C when D == 0, else 0); retryAfter is the smallest whole wait after
-- which the request is granted; reset = ceil(D / R), the time until full, as is the TTL.
--
-- Charging is exact: a grant adds n * P / R as a whole part and a remainder, so there is no
-- rounding at all: C single permits pass from full, and 600,000 single permits per second (5 us
-- per 3 permits) are granted at exactly that rate. The process-local GCRA limiters count the
-- same way in nanoseconds, so client-time mode and the local fallback decide alike.
--
-- ARGV[9] selects one of two more operations, both for blocking acquires:
--   'reserve', ARGV[10] the longest wait (units): reserve n permits whose slot comes within that
--     wait: wait = ceil(D / R) for the queue, which must then hold them (D <= (C - n) * P), else
--     the smallest wait after which D <= (C - n) * P; the state moves as for a grant, so later
--     callers queue behind the reservation. Returns {allowed, remaining, wait (-1: never), reset,
--     the state written, 1 if a state was present else 0, the state replaced}.
--   'release', ARGV[10] the state a reservation wrote, ARGV[11] the state it replaced ('' if
--     absent): give the reservation back only if it is still the last write (the stored state
--     equals it, remainder included), else forfeit it: later grants were computed on top of it.
--     Returns {1} if given back, else {0}.
-- 'batch' decides several requests in one call (see the end of this script), and four more
-- operations take one call each:
--   'peek': the decision of n permits, written nothing (no key created, no TTL touched).
--   'reset': deletes the state (full). Returns {1}.
--   'refund': the full-at instant moves back by n * P / R, not before now (then it is now, kept
--     for the grace only). Returns {1} if anything was given back, else {0} (already full).
--   'drain': a grant of every permit available now (nothing written when none is). Returns the
--     decision's reply with the permits taken at index 5.
-- A granted decision's reply carries n at index 5 too (ignored by decisions).
-- pre_now and pre_stored: the time and the state gcra_fast.lua read before falling through to
-- this general script (nil when it did not, as under an operation or in a composite).
local now = pre_now or read_now(ARGV[1])
local cap, rate, period, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local queue = ARGV[6] == '1'
local units_per_ms, grace_ms = tonumber(ARGV[7]), tonumber(ARGV[8])

-- A state string as (F, q) at this rate; (nil, 0) if absent or empty. A fraction written under
-- another rate is rounded up to this rate's (carried into F when it reaches a whole unit).
local function parse(s)
  if not s or s == '' then return nil, 0 end
  local space = string.find(s, ' ', 1, true)
  if not space then return tonumber(s), 0 end
  local f = tonumber(string.sub(s, 1, space - 1))
  local rest = string.sub(s, space + 1)
  local space2 = string.find(rest, ' ', 1, true)
  if not space2 then return f, tonumber(rest) end
  local q, r = tonumber(string.sub(rest, 1, space2 - 1)), tonumber(string.sub(rest, space2 + 1))
  if r == rate then return f, q end
  q = ceil_mul_div(q, rate, r)
  if q >= rate then return f + 1, q - rate end
  return f, q
end

local function format(f, q)
  if q == 0 then return int(f) end
  return int(f) .. ' ' .. int(q) .. ' ' .. int(rate)
end

-- The whole units from now until the state (f, q) is full: ceil of the exact time, at least 0.
local function until_full(f, q)
  if not f or f < now or (f == now and q == 0) then return 0 end
  if q > 0 then return f - now + 1 end
  return f - now
end

local mode = ARGV[9]

if mode == 'reset' then
  redis.call('DEL', KEYS[1])
  return {1}
end

local stored
if pre_now then stored = pre_stored else stored = redis.call('GET', KEYS[1]) end
local raw_f, raw_q = parse(stored)
local f, q = raw_f, raw_q

-- The debt as (d, dq): D = d * R + dq, d >= 0, 0 <= dq < R.
local d, dq = 0, 0
if f and (f > now or (f == now and q > 0)) then d, dq = f - now, q end

if mode == 'release' then
  -- States are written in one canonical form: equal strings are equal states, remainder included.
  if not stored or stored ~= ARGV[10] then return {0} end
  local pf, pq = parse(ARGV[11])
  local wait = until_full(pf, pq)
  if wait == 0 then
    redis.call('DEL', KEYS[1])
  else
    redis.call('SET', KEYS[1], ARGV[11], 'PX', ttl_ms(wait, units_per_ms, grace_ms))
  end
  return {1}
end

local function remaining(x, xq)
  if x == 0 and xq == 0 then return cap end
  if queue then return 0 end
  if cmp_muladd_product(x, rate, xq, cap, period) >= 0 then return 0 end
  return cap - ceil_muladd_div(x, rate, xq, period)
end

local function ceil_debt(x, xq)
  if xq > 0 then return x + 1 end
  return x
end

if mode == 'refund' then
  if d == 0 and dq == 0 then return {0} end
  -- Refunding n * P / R of the debt D / R, not before now: full when D <= n * P (n <= 2^52).
  -- The state becomes now (not deleted), so a later reading from a clock behind this one is
  -- judged as a decision would judge it: no permit from a refund at a later time.
  if cmp_muladd_product(d, rate, dq, n, period) <= 0 then
    redis.call('SET', KEYS[1], int(now), 'PX', ttl_ms(0, units_per_ms, grace_ms))
    return {1}
  end
  local s, t = mul_div_mod(n, period, rate)
  local nf, nq = f - s, q - t
  if nq < 0 then nf, nq = nf - 1, nq + rate end
  redis.call('SET', KEYS[1], format(nf, nq), 'PX', ttl_ms(until_full(nf, nq), units_per_ms, grace_ms))
  return {1}
end

if mode == 'drain' then
  n = remaining(d, dq)
  if n == 0 then return {0, 0, 0, ceil_debt(d, dq), 0} end
end

-- The smallest whole wait w with D - w * R <= (C - n) * P: with (C - n) * P = a * R + b,
-- w = d - a, plus 1 when dq > b (negative when the request fits now).
local function wait_to_fit()
  local a, b = mul_div_mod(cap - n, period, rate)
  if dq > b then return d - a + 1 end
  return d - a
end

-- The state after n more permits from max(F + q / R, now).
local function step()
  local bf, bq = now, 0
  if d > 0 or dq > 0 then bf, bq = f, q end
  local s, t = mul_div_mod(n, period, rate)
  local nf, nq = bf + s, bq + t
  if nq >= rate then nf, nq = nf + 1, nq - rate end
  return nf, nq
end

if mode == 'reserve' then
  if n > cap then return {0, remaining(d, dq), -1, ceil_debt(d, dq)} end
  local max_wait = tonumber(ARGV[10])
  local wait
  if queue then
    -- The permits waiting, this request included, must fit: D <= (C - n) * P.
    if cmp_muladd_product(d, rate, dq, cap - n, period) > 0 then return {0, remaining(d, dq), -1, ceil_debt(d, dq)} end
    wait = ceil_debt(d, dq)
  else
    wait = wait_to_fit()
    if wait < 0 then wait = 0 end
  end
  if wait > max_wait then return {0, remaining(d, dq), wait, ceil_debt(d, dq)} end
  local nf, nq = step()
  -- Reservations may pile debt beyond C: refuse one whose state would leave the exact range.
  if ceil_debt(nf, nq) >= 9007199254740992 then return {0, remaining(d, dq), wait, ceil_debt(d, dq)} end
  local after = until_full(nf, nq)
  local written = format(nf, nq)
  redis.call('SET', KEYS[1], written, 'PX', ttl_ms(after, units_per_ms, grace_ms))
  if stored then return {1, remaining(nf - now, nq), wait, after, written, 1, stored} end
  return {1, remaining(nf - now, nq), wait, after, written, 0, ''}
end

-- The decision of n permits at now on the state (f, q), which sets the debt (d, dq) it is taken
-- on: its reply and, for a grant, the state it leaves (nil for a refusal).
local function decide()
  d, dq = 0, 0
  if f and (f > now or (f == now and q > 0)) then d, dq = f - now, q end
  if n > cap then return {0, remaining(d, dq), -1, ceil_debt(d, dq)} end
  local grantable
  if queue then
    grantable = d == 0 and dq == 0
  else
    grantable = cmp_muladd_product(d, rate, dq, cap - n, period) <= 0
  end
  if not grantable then
    local retry
    if queue then retry = ceil_debt(d, dq) else retry = wait_to_fit() end
    return {0, remaining(d, dq), retry, ceil_debt(d, dq)}
  end
  local nf, nq = step()
  return {1, remaining(nf - now, nq), 0, until_full(nf, nq), n}, nf, nq
end

local key = KEYS[1]
if mode == 'batch' then
  -- The coalesced decisions of one process on this key, in arrival order, each taken on the state
  -- the ones before it left, as if they had come one after another: ARGV[10], ARGV[11], ... are
  -- each request's clock reading ('' for ARGV[1]'s, which is what Redis time sends) and permits.
  -- One write, the last grant's state, with that grant's TTL. Returns the four figures of each
  -- decision, one after another.
  local out, last_after, first = {}, nil, now
  for i = 10, #ARGV, 2 do
    if ARGV[i] == '' then now = first else now = tonumber(ARGV[i]) end
    n = tonumber(ARGV[i + 1])
    local reply, nf, nq = decide()
    local o = #out
    out[o + 1], out[o + 2], out[o + 3], out[o + 4] = reply[1], reply[2], reply[3], reply[4]
    if nf then f, q, last_after = nf, nq, reply[4] end
  end
  if last_after then
    redis.call('SET', key, format(f, q), 'PX', ttl_ms(last_after, units_per_ms, grace_ms))
  end
  return out
end

local reply, nf, nq = decide()
if not nf or mode == 'peek' then return reply end
return finish(reply, function()
  redis.call('SET', key, format(nf, nq), 'PX', ttl_ms(reply[4], units_per_ms, grace_ms))
end)
