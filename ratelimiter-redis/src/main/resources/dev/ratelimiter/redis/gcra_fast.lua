-- The fast path of gcra.lua: a plain decision (no operation in ARGV[9]) on a state written at
-- this rate ("F", "F q R", or absent) whose figures are all exact in doubles. It runs before the
-- prelude and the general script are even defined (the single GCRA script is this, then
-- exact.lua and gcra.lua as one function called only when this path does not answer), so a
-- decision pays for no function definition: defining exact.lua's and gcra.lua's functions at
-- every call was a large part of the script's Redis time above its commands.
--
-- The arithmetic is gcra.lua's, in doubles: every product and sum below is checked to stay under
-- 2^52, where doubles are exact integers, and each division is corrected to the exact floor.
-- Anything else (larger figures, an operation, a state written at another rate) falls through to
-- gcra.lua with the time and the state already read (pre_now, pre_stored), so the Redis commands
-- are the same on either path: TIME (under Redis time), GET, and SET for a grant.
local pre_now, pre_stored
if ARGV[9] == nil then
  local t = ARGV[1]
  if t == 'redis' then
    t = redis.call('TIME')
    pre_now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  else
    pre_now = tonumber(t)
  end
  pre_stored = redis.call('GET', KEYS[1])
  local now = pre_now
  local cap, rate, period, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  -- The state (f, q): "F", or "F q R" written at this very rate R; anything else falls through.
  local f, q = nil, 0
  if pre_stored then
    local space = string.find(pre_stored, ' ', 1, true)
    if not space then
      f = tonumber(pre_stored)
    else
      local space2 = string.find(pre_stored, ' ', space + 1, true)
      -- Compared as text: the client sends R in canonical decimal, and gcra.lua writes the same text.
      if space2 and string.sub(pre_stored, space2 + 1) == ARGV[3] then
        f = tonumber(string.sub(pre_stored, 1, space - 1))
        q = tonumber(string.sub(pre_stored, space + 1, space2 - 1))
      end
    end
  else
    f = now
  end
  local SMALL = 4503599627370496 -- 2^52
  if f and cap * period < SMALL and n <= cap and now < SMALL and now > -SMALL and f < SMALL then
    local queue = ARGV[6] == '1'
    -- The debt D = d * R + dq, as gcra.lua has it.
    local d, dq = 0, 0
    if f > now or (f == now and q > 0) then d, dq = f - now, q end
    local dr = d * rate + dq
    if d * rate < SMALL and dr < SMALL then
      local cp = cap * period
      local limit = (cap - n) * period
      local grantable
      if queue then grantable = dr == 0 else grantable = dr <= limit end
      if not grantable then
        -- Exact floor of x / y for integers 0 <= x, 0 < y below 2^52.
        local function fdiv(x, y)
          local q = math.floor(x / y)
          while q > 0 and q * y > x do q = q - 1 end
          while (q + 1) * y <= x do q = q + 1 end
          return q
        end
        -- remaining(d, 0): C - ceil(D / P), 0 when D >= C * P (the queue: 0 in debt).
        local rem = 0
        if not queue and dr < cp then
          local c = fdiv(dr, period)
          if c * period < dr then c = c + 1 end
          rem = cap - c
        end
        -- ceil_debt; wait_to_fit: (C - n) * P = a * R + b, wait = d - a, plus 1 when dq > b.
        local reset = d
        if dq > 0 then reset = d + 1 end
        local retry = reset
        if not queue then
          local a = fdiv(limit, rate)
          retry = d - a
          if dq > limit - a * rate then retry = retry + 1 end
        end
        return {0, rem, retry, reset}
      end
      local np = n * period
      if np < SMALL then
        local bf, bq = now, 0
        if dr > 0 then bf, bq = f, q end
        -- s = floor(n * P / R), exactly (inline: a grant defines no function).
        local s = math.floor(np / rate)
        while s > 0 and s * rate > np do s = s - 1 end
        while (s + 1) * rate <= np do s = s + 1 end
        local nq = bq + np - s * rate
        local nf = bf + s
        if nq >= rate then nf, nq = nf + 1, nq - rate end
        if nf < SMALL then
          local x = nf - now
          local after = x
          if nq > 0 then after = x + 1 end
          local rem
          if x == 0 and nq == 0 then
            rem = cap
          elseif queue then
            rem = 0
          else
            local xr = x * rate + nq
            if xr >= cp then
              rem = 0
            else
              -- c = ceil(xr / P), exactly.
              local c = math.floor(xr / period)
              while c > 0 and c * period > xr do c = c - 1 end
              while (c + 1) * period <= xr do c = c + 1 end
              if c * period < xr then c = c + 1 end
              rem = cap - c
            end
          end
          local written
          if nq > 0 then
            -- One format for the whole state; the rate as the caller sent it (Long.toString: the
            -- canonical decimal gcra.lua's format writes too, so equal states stay equal strings).
            written = string.format('%.0f %.0f %s', nf, nq, ARGV[3])
          else
            written = string.format('%.0f', nf)
          end
          local ms = math.ceil(after / tonumber(ARGV[7])) + tonumber(ARGV[8])
          if ms < 1 then ms = 1 end
          redis.call('SET', KEYS[1], written, 'PX', ms)
          return {1, rem, 0, after, n}
        end
      end
    end
  end
end
