-- The fast path of composite.lua: a plain decision (no operation) on limits that are all GCRA
-- limits (token bucket, meter, queue), each decided by gcra_core.lua, the arithmetic of
-- gcra_fast.lua, and granted by all. It runs before the prelude and the general script are even
-- defined (the composite's script is this, then the general script as one function called only
-- when this path does not answer), so a grant pays for no function definition.
--
-- All-or-nothing as composite.lua: every limit decides before anything is written; only if all
-- grant are their states written, limit by limit (the first write is a SET, which Redis checks
-- against maxmemory, so out of memory nothing is written). A refusal, a limit of another family,
-- figures too large for doubles or an operation fall through to the general script with the time
-- already read (pre_now; pre_stored is for the general script's signature only, always nil), which then decides at the same instant; nothing was written, so the
-- only difference is that it reads the keys again.
--
-- ARGV as composite.lua's: now, then per limit 'gcra', 7, and gcra.lua's ARGV[2..8]: the
-- maximum, the rate, the period, n, the queue flag, the units per ms and the grace in ms.
local pre_now, pre_stored
if ARGV[2] ~= 'mode' and #ARGV == 1 + 9 * #KEYS then
--#include fast_now.lua
  local all = true
  for i = 1, #KEYS do
    if ARGV[9 * i - 7] ~= 'gcra' or ARGV[9 * i - 6] ~= '7' then
      all = false
      break
    end
  end
  if all then
    local out, states, ttls = {}, {}, {}
    for i = 1, #KEYS do
      local b = 9 * i - 5 -- the index of the limit's maximum
      local stored, now = redis.call('GET', KEYS[i]), pre_now
      local cap, rate, period, n = ARGV[b] + 0, ARGV[b + 1] + 0, ARGV[b + 2] + 0, ARGV[b + 3] + 0
      local rate_text, queue = ARGV[b + 1], ARGV[b + 4] == '1'
--#include gcra_core.lua
      if res ~= 1 then
        all = false
        break
      end
      out[4 * i - 3], out[4 * i - 2], out[4 * i - 1], out[4 * i] = 1, rem, 0, reset
      local ms = math.ceil(reset / ARGV[b + 5]) + ARGV[b + 6]
      if ms < 1 then ms = 1 end
      states[i], ttls[i] = written, ms
    end
    if all then
      for i = 1, #KEYS do
        redis.call('SET', KEYS[i], states[i], 'PX', ttls[i])
      end
      return out
    end
  end
end
