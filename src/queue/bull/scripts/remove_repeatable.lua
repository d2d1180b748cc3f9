-- Remove a repeatable job as Bull's Queue#removeRepeatableByKey does: its entry in `repeat`,
-- and its armed next run if that is still delayed (hash deleted). Bull finds that run by an id
-- built from md5 hashes of the key; here it is the delayed job due at the repeatable's next
-- time whose options name the key, which is the same job.
-- ARGV: the repeatable's key. Returns 1 removed, 0 no such repeatable.
local key = ARGV[1]
local millis = rcall("ZSCORE", base .. "repeat", key)
if not millis then
  return 0
end
local low = tonumber(millis) * 4096
local suffix = ":" .. millis
for _, id in ipairs(rcall("ZRANGEBYSCORE", base .. "delayed", low, low + 4095)) do
  if string.sub(id, 1, 7) == "repeat:" and string.sub(id, -#suffix) == suffix then
    local rep = optionsOf(base .. id)["repeat"]
    if type(rep) == "table" and rep.key == key then
      rcall("ZREM", base .. "delayed", id)
      rcall("DEL", base .. id)
    end
  end
end
rcall("ZREM", base .. "repeat", key)
return 1
