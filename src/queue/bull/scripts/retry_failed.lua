-- One batch of Bull's Queue#retryJobs: the first ARGV[1] failed jobs lose finishedOn,
-- processedOn and failedReason and go to the head of the waiting list (`paused` while the
-- queue is paused), oldest first. Like Bull's, it publishes nothing (workers blocked on the
-- list wake up by themselves). Returns how many jobs were moved.
local failed = base .. "failed"
local ids = rcall("ZRANGE", failed, 0, tonumber(ARGV[1]) - 1)
if #ids == 0 then
  return 0
end
for _, id in ipairs(ids) do
  rcall("HDEL", base .. id, "finishedOn", "processedOn", "failedReason")
end
local target = targetList()
for from = 1, #ids, 1000 do
  local to = math.min(from + 999, #ids)
  rcall("ZREM", failed, unpack(ids, from, to))
  rcall("LPUSH", target, unpack(ids, from, to))
end
return #ids
