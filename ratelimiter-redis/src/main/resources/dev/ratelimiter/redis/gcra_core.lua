-- The arithmetic of gcra.lua's plain decision in doubles, for the fast paths (included, as text,
-- by gcra_fast.lua and composite_fast.lua where they have a line "--#include gcra_core.lua", so
-- that no function is defined for it): every product and sum below is checked to stay under
-- 2^52, where doubles are exact integers, and each division is corrected to the exact floor.
--
-- In:  stored (the key's text, or nil/false when absent), now, cap, rate, rate_text (ARGV's text
--      of rate), period, n, queue (a boolean).
-- Out: res nil when this path cannot decide (a state written at another rate, figures too large
--      for doubles): the caller falls through to the general script; else res 0, refused, with
--      rem, retry and reset as gcra.lua's refusal reports them, or res 1, granted, with rem,
--      reset (the time until the state is full again, "after") and written, the new state's text.
local res, rem, retry, reset, written
-- The state (f, q): "F", or "F q R" written at this very rate R; anything else falls through.
local f, q = nil, 0
if stored then
  local space = string.find(stored, ' ', 1, true)
  if not space then
    f = tonumber(stored)
  else
    local space2 = string.find(stored, ' ', space + 1, true)
    -- Compared as text: the client sends R in canonical decimal, and gcra.lua writes the same text.
    if space2 and string.sub(stored, space2 + 1) == rate_text then
      f = tonumber(string.sub(stored, 1, space - 1))
      q = tonumber(string.sub(stored, space + 1, space2 - 1))
    end
  end
else
  f = now
end
local SMALL = 4503599627370496 -- 2^52
if f and cap * period < SMALL and n <= cap and now < SMALL and now > -SMALL and f < SMALL then
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
      rem = 0
      if not queue and dr < cp then
        local c = fdiv(dr, period)
        if c * period < dr then c = c + 1 end
        rem = cap - c
      end
      -- ceil_debt; wait_to_fit: (C - n) * P = a * R + b, wait = d - a, plus 1 when dq > b.
      reset = d
      if dq > 0 then reset = d + 1 end
      retry = reset
      if not queue then
        local a = fdiv(limit, rate)
        retry = d - a
        if dq > limit - a * rate then retry = retry + 1 end
      end
      res = 0
    else
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
          reset = x
          if nq > 0 then reset = x + 1 end
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
          if nq > 0 then
            -- One format for the whole state; the rate as the caller sent it (Long.toString: the
            -- canonical decimal gcra.lua's format writes too, so equal states stay equal strings).
            -- Not '%d', measurably cheaper: Lua 5.1 formats it from a C long, 32 bits on 32-bit
            -- builds of Redis (see int in exact.lua).
            written = string.format('%.0f %.0f %s', nf, nq, rate_text)
          else
            written = string.format('%.0f', nf)
          end
          res = 1
        end
      end
    end
  end
end
