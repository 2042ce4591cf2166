"""The Lua scripts of reliable fetch: each is one atomic step on the Redis server."""

# ARGV: in-flight prefix of this process, recovered prefix, then the queue keys in order.
# The recovered list of a queue goes first: those messages were taken before.
TAKE = """
for i = 3, #ARGV do
  local source = ARGV[i]
  local inflight = ARGV[1] .. source
  local item = redis.call('LMOVE', ARGV[2] .. source, inflight, 'RIGHT', 'LEFT')
  if item then return {source, item, 1} end
  item = redis.call('LMOVE', source, inflight, 'RIGHT', 'LEFT')
  if item then return {source, item, 0} end
end
return false
"""

# ARGV: the key prefix, a process id. Nothing happens while its heartbeat is alive.
RECOVER = """
local prefix, id = ARGV[1], ARGV[2]
if redis.call('EXISTS', prefix .. 'alive:' .. id) == 1 then return -1 end
local moved = 0
for _, source in ipairs(redis.call('SMEMBERS', prefix .. 'sources:' .. id)) do
  local inflight = prefix .. 'inflight:' .. id .. ':' .. source
  while redis.call('LMOVE', inflight, prefix .. 'recovered:' .. source, 'RIGHT', 'LEFT') do
    moved = moved + 1
  end
end
redis.call('DEL', prefix .. 'sources:' .. id)
redis.call('SREM', prefix .. 'processes', id)
return moved
"""

# ARGV: in-flight list, recovered list, the entry. Moves it back only if it is still in flight.
PUT_BACK = """
if redis.call('LREM', ARGV[1], 1, ARGV[3]) == 1 then
  redis.call('LPUSH', ARGV[2], ARGV[3])
  return 1
end
return 0
"""
