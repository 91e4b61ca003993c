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

local head_time, live = nil, 0
local head = redis.call('LPOP', key)
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
local last = redis.call('LINDEX', key, -1)
if last then last_time = parse(last) end

local effective = now
if last_time and last_time > effective then effective = last_time end
if head_time and head_time + window > effective then effective = head_time + window end

-- Drop the grants that left the window at the effective time.
local horizon = effective - window
while true do
  local first = redis.call('LINDEX', key, 0)
  if not first then break end
  local t, p = parse(first)
  if t > horizon then break end
  redis.call('LPOP', key)
  head_time, live = t, live - p
end

local function until_expiry(t)
  local left = t + window - now
  if left < 1 then return 1 end
  return left
end

local function store(reset)
  if live == 0 then
    redis.call('DEL', key)
    return
  end
  local h = 's'
  if head_time then h = int(head_time) end
  redis.call('LPUSH', key, h .. ' ' .. int(live))
  redis.call('PEXPIRE', key, ttl_ms(reset, units_per_ms, grace_ms))
end

local reset = 0
if live > 0 then reset = until_expiry(parse(redis.call('LINDEX', key, -1))) end

if n > limit then
  store(reset)
  local rem = limit - live
  if rem < 0 then rem = 0 end
  return {0, rem, -1, reset}
end

if live + n > limit then
  -- The first grant whose expiry brings the live permits down to L - n must leave the window.
  local must_expire, expired, retry = live + n - limit, 0, nil
  local from = 0
  while not retry do
    local chunk = redis.call('LRANGE', key, from, from + 127)
    for _, entry in ipairs(chunk) do
      local t, p = parse(entry)
      expired = expired + p
      if expired >= must_expire then
        retry = until_expiry(t)
        break
      end
    end
    from = from + 128
  end
  store(reset)
  local rem = limit - live
  if rem < 0 then rem = 0 end
  return {0, rem, retry, reset}
end

redis.call('RPUSH', key, int(effective) .. ' ' .. int(n))
live = live + n
reset = until_expiry(effective)
store(reset)
return {1, limit - live, 0, reset}
