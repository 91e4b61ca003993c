-- Several limits decided as one: granted only if every limit grants, and then by all of them;
-- refused, nothing is consumed anywhere.
--
-- Preceded by exact.lua and by the algorithm scripts, each wrapped as a function of (KEYS, ARGV)
-- named run_gcra, run_sliding_log and run_sliding_counter, unchanged: every limit is decided by
-- the very code of the single-limit scripts.
--
-- KEYS     one key per limit, all in one hash slot (the caller gives them one hash tag).
-- ARGV     now ('redis' for TIME in us, else the caller's reading), then per limit: its script
--          ('gcra', 'sliding_log' or 'sliding_counter'), its argument count a, and its a
--          arguments as the single-limit script takes them from its second on (the first, now,
--          is this script's now, read once so that every limit judges the same instant).
-- Returns  per limit {grants, remaining, retryAfter (-1: never), reset}, times in the caller's
--          unit. When everything is granted: each limit's reply. When refused: the refusing
--          limits' replies (grants 0) and, for each limit that would have granted, {1, remaining,
--          0, reset} of its unchanged state.
--
-- All-or-nothing: each limit is run in turn; a limit that grants while the decision may yet be
-- refused is first snapshotted (type, value, PTTL), and if the decision is refused its key is
-- restored from the snapshot. The script runs atomically, so no client sees the interim state.
-- The snapshot is skipped when it cannot be needed: for the last limit while all before it
-- granted (the Java side puts sliding logs, the costliest to copy, last).
local now = read_now(ARGV[1])
local runs = {gcra = run_gcra, sliding_log = run_sliding_log, sliding_counter = run_sliding_counter}
-- Where each script takes n, the permits asked for (its second argument is always the maximum).
local n_at = {gcra = 5, sliding_log = 4, sliding_counter = 4}

local specs, pos = {}, 2
while pos <= #ARGV do
  local argc = tonumber(ARGV[pos + 1])
  local args = {int(now)}
  for j = 1, argc do args[j + 1] = ARGV[pos + 1 + j] end
  specs[#specs + 1] = {run = runs[ARGV[pos]], n_index = n_at[ARGV[pos]], args = args}
  pos = pos + 2 + argc
end

local function snapshot(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then return {kind = kind} end
  local s = {kind = kind, pttl = redis.call('PTTL', key)}
  if kind == 'string' then
    s.value = redis.call('GET', key)
  elseif kind == 'hash' then
    s.value = redis.call('HGETALL', key)
  elseif kind == 'list' then
    s.value = redis.call('LRANGE', key, 0, -1)
  else
    error('unexpected type ' .. kind .. ' at ' .. key)
  end
  return s
end

local function restore(key, s)
  redis.call('DEL', key)
  if s.kind == 'none' then return end
  if s.kind == 'string' then
    redis.call('SET', key, s.value)
  else
    -- In chunks: unpack puts its values on Lua's C stack, which is bounded.
    local cmd = 'HSET'
    if s.kind == 'list' then cmd = 'RPUSH' end
    local v = s.value
    for from = 1, #v, 1000 do
      local to = from + 999
      if to > #v then to = #v end
      redis.call(cmd, key, unpack(v, from, to))
    end
  end
  if s.pttl > 0 then redis.call('PEXPIRE', key, s.pttl) end
end

local replies, saved, refused = {}, {}, false
for i, spec in ipairs(specs) do
  local snap = nil
  if refused or i < #specs then snap = snapshot(KEYS[i]) end
  local r = spec.run({KEYS[i]}, spec.args)
  replies[i] = r
  if r[1] == 1 then
    saved[i] = snap
  else
    refused = true
  end
end

if refused then
  for i, spec in ipairs(specs) do
    if replies[i][1] == 1 then
      restore(KEYS[i], saved[i])
      -- Asking for more than the limit holds decides nothing and reports the state as it is.
      local peek = {}
      for j, a in ipairs(spec.args) do peek[j] = a end
      peek[spec.n_index] = int(tonumber(spec.args[2]) + 1)
      local p = spec.run({KEYS[i]}, peek)
      replies[i] = {1, p[2], 0, p[4]}
    end
  end
end

local out = {}
for i = 1, #replies do
  for j = 1, 4 do out[#out + 1] = replies[i][j] end
end
return out
