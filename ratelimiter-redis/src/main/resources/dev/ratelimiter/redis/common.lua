-- What every script's general path starts with (exact.lua includes it; the sliding window log,
-- which needs no exact products, has only this: each function defined here is a cost paid at
-- every call).

-- An integer as a decimal string: tostring would print only 14 significant digits. Not '%d':
-- Lua 5.1 converts it to a C long, which has 32 bits on 32-bit builds of Redis (on which times
-- in microseconds, about 2^51, would wrap).
local function int(x)
  return string.format('%.0f', x)
end

-- The decision's time: Redis TIME in microseconds, or the caller's reading.
local function read_now(arg)
  if arg == 'redis' then
    local t = redis.call('TIME')
    return (t[1] + 0) * 1000000 + t[2] -- Lua's coercion: as fast_now.lua, no tonumber
  end
  return tonumber(arg)
end

-- Milliseconds for PEXPIRE: the time until the state is full again, rounded up, plus the grace,
-- never less than 1 ms.
local function ttl_ms(units, units_per_ms, grace_ms)
  local ms = math.ceil(units / units_per_ms) + grace_ms
  if ms < 1 then return 1 end
  return ms
end

-- How a script ends a decision: reply is its answer, write (nil for a refusal) the function that
-- stores a grant. Alone, a script writes at once. Inside composite.lua each algorithm script is a
-- function whose parameter of this name shadows this one and defers the write, so that every
-- limit is decided before anything is written.
local function finish(reply, write)
  if write then write() end
  return reply
end
