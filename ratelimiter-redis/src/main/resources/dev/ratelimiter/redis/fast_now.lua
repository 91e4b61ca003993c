-- The fast paths' reading of the time, in us, into pre_now (declared by the including script):
-- Redis's TIME when ARGV[1] is 'redis', else the caller's reading in ARGV[1]. The texts are made
-- numbers by arithmetic ("x + 0", Lua's own string coercion) rather than by tonumber: the same
-- conversion without a function call, measurably cheaper at this rate (the client sends only
-- decimal integers here).
local t = ARGV[1]
if t == 'redis' then
  t = redis.call('TIME')
  pre_now = (t[1] + 0) * 1000000 + t[2]
else
  pre_now = t + 0
end
