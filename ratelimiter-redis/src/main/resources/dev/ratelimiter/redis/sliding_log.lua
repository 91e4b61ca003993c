-- The exact sliding window log: never more than L permits in any interval (t - W, t].
--
-- KEYS[1]  a list. Element 0 is the head "time live": the time of the newest grant known to have
--          left the window ('s' before any did) and the permits of the grants still listed.
--          Then one element "time permits" per grant still in the window, oldest first.
--          Absent: empty. The key exists only while some permits are in the window.
-- ARGV     now ('redis' or the caller's reading), L, W, n, units per ms, grace ms.
-- Returns  {allowed, remaining, retryAfter (-1: never), reset}, times in the caller's unit.
--
-- The decision's effective time is max(now, last grant's time, head time + W): it never acts at a
-- time earlier than one it already acted on, so a clock that steps back sees no permit return.
local now = read_now(ARGV[1])
local limit, window, n = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local units_per_ms, grace_ms = tonumber(ARGV[5]), tonumber(ARGV[6])
local key = KEYS[1]

-- Reads and decides first; only a grant writes (a refusal, an oversized request included, writes
-- nothing, so it cannot move the time a later, earlier reading is judged at), and its first write
-- is the RPUSH, which Redis checks against maxmemory.
local head_time, live = nil, 0
local head = redis.call('LINDEX', key, 0)
if head then
  local sep = string.find(head, ' ', 1, true)
  head_time = tonumber(string.sub(head, 1, sep - 1)) -- nil for 's'
  live = tonumber(string.sub(head, sep + 1))
end

local function parse(entry)
  local sep = string.find(entry, ' ', 1, true)
  return tonumber(string.sub(entry, 1, sep - 1)), tonumber(string.sub(entry, sep + 1))
end

local last_time = nil
if live > 0 then last_time = parse(redis.call('LINDEX', key, -1)) end

local effective = now
if last_time and last_time > effective then effective = last_time end
if head_time and head_time + window > effective then effective = head_time + window end

-- The grants that left the window at the effective time: entries 1 .. expired (a read only).
local horizon = effective - window
local expired = 0
local scanned_to = 0 -- entries 1 .. scanned_to have been read
local done = live == 0
while not done do
  local chunk = redis.call('LRANGE', key, scanned_to + 1, scanned_to + 128)
  if #chunk == 0 then break end
  for _, entry in ipairs(chunk) do
    local t, p = parse(entry)
    if t > horizon then done = true break end
    expired = expired + 1
    head_time, live = t, live - p
  end
  scanned_to = scanned_to + #chunk
end

local function until_expiry(t)
  local left = t + window - now
  if left < 1 then return 1 end
  return left
end

local reset = 0
if live > 0 then reset = until_expiry(last_time) end
local rem = limit - live
if rem < 0 then rem = 0 end

if n > limit then
  return {0, rem, -1, reset}
end

if live + n > limit then
  -- The first grant whose expiry brings the live permits down to L - n must leave the window.
  local must_expire, gone, retry = live + n - limit, 0, nil
  local from = expired + 1
  while not retry do
    local chunk = redis.call('LRANGE', key, from, from + 127)
    for _, entry in ipairs(chunk) do
      local t, p = parse(entry)
      gone = gone + p
      if gone >= must_expire then
        retry = until_expiry(t)
        break
      end
    end
    from = from + 128
  end
  return {0, rem, retry, reset}
end

local h = 's'
if head_time then h = int(head_time) end
live = live + n
local new_head = h .. ' ' .. int(live)
local entry = int(effective) .. ' ' .. int(n)
if not head then
  redis.call('RPUSH', key, new_head, entry)
else
  redis.call('RPUSH', key, entry)
  if expired > 0 then
    -- Drop the head and all but the last expired entry, which then becomes the head.
    redis.call('LTRIM', key, expired, -1)
  end
  redis.call('LSET', key, 0, new_head)
end
reset = until_expiry(effective)
redis.call('PEXPIRE', key, ttl_ms(reset, units_per_ms, grace_ms))
return {1, limit - live, 0, reset}
