-- The fast path of sliding_counter.lua: a plain decision (no operation in ARGV[8]) that grants,
-- at a reading in or after the stored window, with figures exact in doubles. It runs before the
-- prelude and the general script are even defined (the counter's script is this, then exact.lua
-- and sliding_counter.lua as one function called only when this path does not answer), so a grant
-- pays for no function definition. The arithmetic is sliding_counter.lua's, in doubles: every
-- product is checked to stay under 2^52, where doubles are exact integers, and each division is
-- corrected to the exact floor. A stored figure that does not change is written back as the very
-- text it was read as (sliding_counter.lua writes '%.0f', the canonical decimal), so only what
-- changed is formatted. A refusal, an earlier reading, larger figures or an operation fall through
-- to sliding_counter.lua with the time and the counts already read (pre_now, pre_stored): the Redis
-- commands are the same on either path (TIME under Redis time, HMGET, and HSET and PEXPIRE for a
-- grant).
local pre_now, pre_stored
if ARGV[8] == nil then
--#include fast_now.lua
  pre_stored = redis.call('HMGET', KEYS[1], 'o', 'w', 'p', 'c')
  local limit, w, n = ARGV[2] + 0, ARGV[3] + 0, ARGV[4] + 0 -- as fast_now.lua, no tonumber
  -- The texts of the stored figures (false when absent: then the origin is ARGV[5]).
  local so, sw, sp, sc = pre_stored[1], pre_stored[2], pre_stored[3], pre_stored[4]
  if not so then so = ARGV[5] end
  local origin = tonumber(so)
  local hw, prev, cur = tonumber(sw) or 0, tonumber(sp) or 0, tonumber(sc) or 0
  local SMALL = 4503599627370496 -- 2^52
  local x = pre_now - origin
  if x >= 0 and x < SMALL and w < SMALL and limit < SMALL and n > 0 and n <= limit and (prev + cur) * w < SMALL then
    -- The window k the reading falls in: floor(x / W), exactly.
    local k = math.floor(x / w)
    while k > 0 and k * w > x do k = k - 1 end
    while (k + 1) * w <= x do k = k + 1 end
    if k >= hw then
      if k > hw then
        -- The counts rotate to window k, as sliding_counter.lua's at() does.
        if k == hw + 1 then prev, sp = cur, sc else prev, sp = 0, '0' end
        cur, hw, sw = 0, k, false
      end
      local e = x - k * w
      -- weighted = ceil(prev * (W - e) / W), exactly.
      local weighted = 0
      if prev > 0 then
        local y = prev * (w - e)
        weighted = math.floor(y / w)
        while weighted > 0 and weighted * w > y do weighted = weighted - 1 end
        while (weighted + 1) * w <= y do weighted = weighted + 1 end
        if weighted * w < y then weighted = weighted + 1 end
      end
      local budget = limit - weighted
      if cur + n <= budget then
        cur = cur + n
        -- reset_of(cur) with cur > 0: the stored window starts e before now, so 2 W - e (> 0).
        local reset = 2 * w - e
        if not sw then sw = string.format('%.0f', hw) end
        if not sp then sp = '0' end
        redis.call('HSET', KEYS[1], 'o', so, 'w', sw, 'p', sp, 'c', string.format('%.0f', cur))
        local ms = math.ceil(reset / ARGV[6]) + ARGV[7]
        if ms < 1 then ms = 1 end
        redis.call('PEXPIRE', KEYS[1], ms)
        return {1, budget - cur, 0, reset, n}
      end
    end
  end
end
