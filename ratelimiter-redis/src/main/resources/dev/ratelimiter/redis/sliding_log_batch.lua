-- The sliding window log's entry, after exact.lua and sliding_log.lua wrapped as the function
-- run_log(KEYS, ARGV, finish): one decision or operation, ARGV as sliding_log.lua takes them; or,
-- with ARGV[7] 'batch', the coalesced decisions of one process on this key, in arrival order.
-- For a batch, ARGV[8] and ARGV[9] are the floor and its instant as for a decision, and ARGV[10],
-- ARGV[11], ... each request's clock reading ('' for ARGV[1]'s, which is what Redis time sends:
-- the one TIME read here) and permits. Each is decided by the very code of a lone decision, on the
-- log the ones before it left (a script sees its own writes), as if they had come one after
-- another. Returns the four figures of each decision, one after another; an error of one
-- decision (which a lone call would have got) fails the batch.
if ARGV[7] ~= 'batch' then return run_log(KEYS, ARGV, finish) end
local first = read_now(ARGV[1])
local out = {}
for i = 10, #ARGV, 2 do
  local at = ARGV[i]
  if at == '' then at = first end
  local reply = run_log(KEYS, {at, ARGV[2], ARGV[3], ARGV[i + 1], ARGV[5], ARGV[6], nil, ARGV[8], ARGV[9]}, finish)
  if reply.err then return reply end
  local o = #out
  out[o + 1], out[o + 2], out[o + 3], out[o + 4] = reply[1], reply[2], reply[3], reply[4]
end
return out
