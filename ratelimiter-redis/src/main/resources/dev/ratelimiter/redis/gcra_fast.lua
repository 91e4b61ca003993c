-- The fast path of gcra.lua: a plain decision (no operation in ARGV[9]) on a state written at
-- this rate ("F", "F q R", or absent) whose figures are all exact in doubles. It runs before the
-- prelude and the general script are even defined (the single GCRA script is this, then
-- exact.lua and gcra.lua as one function called only when this path does not answer), so a
-- decision pays for no function definition: defining exact.lua's and gcra.lua's functions at
-- every call was a large part of the script's Redis time above its commands.
--
-- The arithmetic is gcra_core.lua's. Anything it does not decide (larger figures, a state
-- written at another rate) and any operation fall through to gcra.lua with the time and the state
-- already read (pre_now, pre_stored), so the Redis commands are the same on either path: TIME
-- (under Redis time), GET, and SET for a grant.
local pre_now, pre_stored
if ARGV[9] == nil then
--#include fast_now.lua
  pre_stored = redis.call('GET', KEYS[1])
  local stored, now = pre_stored, pre_now
  local cap, rate, period, n = ARGV[2] + 0, ARGV[3] + 0, ARGV[4] + 0, ARGV[5] + 0 -- as fast_now.lua, no tonumber
  local rate_text, queue = ARGV[3], ARGV[6] == '1'
--#include gcra_core.lua
  if res == 1 then
    local ms = math.ceil(reset / ARGV[7]) + ARGV[8]
    if ms < 1 then ms = 1 end
    redis.call('SET', KEYS[1], written, 'PX', ms)
    return {1, rem, 0, reset, n}
  elseif res == 0 then
    return {0, rem, retry, reset}
  end
end
