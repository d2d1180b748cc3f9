-- Promote delayed jobs as Bull's Job#promote does, each in turn: out of `delayed`, into the
-- waiting list (`paused` while the queue is paused) at its priority position, or at the head
-- for a job without priority; `delay` set to 0, and announced on `waiting@<token>`.
-- ARGV: token, then either "one" and a job id, or "batch" and how many (the earliest first).
-- Returns how many jobs were promoted (0: the one job is not delayed).
local delayed = base .. "delayed"
local ids
if ARGV[2] == "one" then
  ids = { ARGV[3] }
else
  ids = rcall("ZRANGE", delayed, 0, tonumber(ARGV[3]) - 1)
end
local target = targetList()
local promoted = 0
for _, id in ipairs(ids) do
  if rcall("ZREM", delayed, id) == 1 then
    local priority = tonumber(rcall("HGET", base .. id, "priority")) or 0
    pushWaiting(target, id, priority, "LPUSH")
    rcall("PUBLISH", base .. "waiting@" .. ARGV[1], id)
    rcall("HSET", base .. id, "delay", 0)
    promoted = promoted + 1
  end
end
return promoted
