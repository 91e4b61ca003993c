-- Several limits decided as one: granted only if every limit grants, and then by all of them;
-- refused, nothing is consumed anywhere.
--
-- Preceded by exact.lua and by the algorithm scripts, each wrapped as a function of (KEYS, ARGV,
-- finish) named run_gcra, run_sliding_log and run_sliding_counter, unchanged: every limit is
-- decided by the very code of the single-limit scripts. All of it is one function, run only when
-- composite_fast.lua, which comes first, does not answer.
--
-- KEYS     one key per limit, all in one hash slot (the caller gives them one hash tag).
-- ARGV     now ('redis' for TIME in us, else the caller's reading), optionally 'mode' and an
--          operation (below), then per limit: its script
--          ('gcra', 'sliding_log' or 'sliding_counter'), its argument count a, and its a
--          arguments as the single-limit script takes them from its second on (the first, now,
--          is this script's now, read once so that every limit judges the same instant).
-- Returns  per limit {grants, remaining, retryAfter (-1: never), reset}, times in the caller's
--          unit. When everything is granted: each limit's reply. When refused: the refusing
--          limits' replies (grants 0) and, for each limit that would have granted, {1, remaining,
--          0, reset} of its unchanged state.
--
-- Operations, one call each:
--   'peek'    the decision, every limit run in its read-only mode: nothing is written.
--   'reset'   deletes every key. Returns {}.
--   'refund'  every limit refunds n as its script does (n as each limit's permits). Returns {}.
--   'drain'   every limit is peeked at for the permits it holds (a request above its maximum
--             decides nothing); the smallest, m, is then decided as one request (granted by all,
--             so written by all). Returns {m}; nothing is written when m is 0.
--   'batch'   the coalesced decisions of one process on this key, in arrival order: after the
--             limits (one per key), each request's clock reading ('' for ARGV[1]'s, which is what
--             Redis time sends: the one TIME read here) and permits. Each is decided by the very
--             code of a lone decision, on the state the ones before it left (each grant is written
--             before the next request is decided, and a script sees its own writes), as if they
--             had come one after another. Returns the figures of each decision, one after another.
--
-- All-or-nothing without undo: every limit decides first, its grant's writes handed back as a
-- function (the finish below) instead of run; only if all grant are the writes run, limit by limit
-- (each limit has its own key, so no decision depends on another's writes). A refused decision
-- writes nothing at all, and the first write of a granted one is a command Redis checks against
-- maxmemory (SET, HSET, ZADD): out of memory, nothing is written; in a slot being migrated, no key
-- is deleted or re-created, so a script that Redis stops leaves every key as it was.
-- pre_now: the time composite_fast.lua read before falling through (nil under an operation).
local now = pre_now or read_now(ARGV[1])
local runs = {gcra = run_gcra, sliding_log = run_sliding_log, sliding_counter = run_sliding_counter}
-- Where each script takes n, the permits asked for (its second argument is always the maximum).
local n_at = {gcra = 5, sliding_log = 4, sliding_counter = 4}

-- Where each script takes its operation.
local mode_at = {gcra = 9, sliding_log = 7, sliding_counter = 8}

local mode, pos = nil, 2
if ARGV[2] == 'mode' then mode, pos = ARGV[3], 4 end
if mode == 'reset' then
  for i = 1, #KEYS do redis.call('DEL', KEYS[i]) end
  return {}
end

local specs = {}
while pos <= #ARGV and #specs < #KEYS do
  local argc = tonumber(ARGV[pos + 1])
  local args = {int(now)}
  for j = 1, argc do args[j + 1] = ARGV[pos + 1 + j] end
  specs[#specs + 1] = {run = runs[ARGV[pos]], n_index = n_at[ARGV[pos]], mode_index = mode_at[ARGV[pos]],
    args = args}
  pos = pos + 2 + argc
end

local function defer(reply, write)
  return reply, write
end

if mode == 'refund' then
  for i, spec in ipairs(specs) do
    spec.args[spec.mode_index] = 'refund'
    spec.run({KEYS[i]}, spec.args, defer)
  end
  return {}
end

if mode == 'peek' then
  for _, spec in ipairs(specs) do spec.args[spec.mode_index] = 'peek' end
end

if mode == 'drain' then
  local m = nil
  for i, spec in ipairs(specs) do
    local probe = {}
    for j, a in ipairs(spec.args) do probe[j] = a end
    probe[spec.n_index] = int(tonumber(spec.args[2]) + 1)
    probe[spec.mode_index] = 'peek'
    local r = spec.run({KEYS[i]}, probe, defer)
    if not m or r[2] < m then m = r[2] end
  end
  if m == 0 then return {0} end
  -- Every limit decides m (each holds at least m, so each grants) before anything is written.
  local ws = {}
  for i, spec in ipairs(specs) do
    spec.args[spec.n_index] = int(m)
    local r, w = spec.run({KEYS[i]}, spec.args, defer)
    if r[1] ~= 1 then return redis.error_reply('ERR rate limiter: a composite drain was refused') end
    ws[i] = w
  end
  for i = 1, #specs do
    if ws[i] then ws[i]() end
  end
  return {m}
end

-- One decision of the specs as they are: each limit decides, then all write, or none does.
local function decide()
  local replies, writes, refused = {}, {}, false
  for i, spec in ipairs(specs) do
    local r, w = spec.run({KEYS[i]}, spec.args, defer)
    replies[i], writes[i] = r, w
    if r[1] ~= 1 then refused = true end
  end

  if refused then
    for i, spec in ipairs(specs) do
      if replies[i][1] == 1 then
        -- Asking for more than the limit holds decides nothing and reports the state as it is.
        local peek = {}
        for j, a in ipairs(spec.args) do peek[j] = a end
        peek[spec.n_index] = int(tonumber(spec.args[2]) + 1)
        local p = spec.run({KEYS[i]}, peek, defer)
        replies[i] = {1, p[2], 0, p[4]}
      end
    end
  else
    for i = 1, #specs do
      if writes[i] then writes[i]() end
    end
  end

  local out = {}
  for i = 1, #replies do
    for j = 1, 4 do out[#out + 1] = replies[i][j] end
  end
  return out
end

if mode == 'batch' then
  local all = {}
  for p = pos, #ARGV, 2 do
    local at = ARGV[p]
    if at == '' then at = int(now) end
    for _, spec in ipairs(specs) do
      spec.args[1], spec.args[spec.n_index] = at, ARGV[p + 1]
    end
    local out = decide()
    for j = 1, #out do all[#all + 1] = out[j] end
  end
  return all
end
return decide()
