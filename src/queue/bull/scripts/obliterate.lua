-- One step of Bull's Queue#obliterate, on a paused queue: at most ARGV[1] jobs of `active`
-- (with their locks), `wait`, `paused`, `delayed`, `completed` and `failed` are deleted with
-- their hashes and logs; when none is left, the queue's own keys go too. Returns 1 while jobs
-- remain, 0 when the queue is gone.
local budget = tonumber(ARGV[1])
local function dropList(name)
  local key = base .. name
  local ids = rcall("LRANGE", key, 0, budget - 1)
  for _, id in ipairs(ids) do
    rcall("DEL", base .. id .. ":lock")
    deleteJob(id, false)
  end
  rcall("LTRIM", key, #ids, -1)
  budget = budget - #ids
end
local function dropSet(name)
  local key = base .. name
  local ids = rcall("ZRANGE", key, 0, budget - 1)
  for _, id in ipairs(ids) do
    deleteJob(id, false)
  end
  if #ids > 0 then
    rcall("ZREM", key, unpack(ids))
  end
  budget = budget - #ids
end
for _, list in ipairs({ "active", "wait", "paused" }) do
  dropList(list)
  if budget <= 0 then
    return 1
  end
end
for _, set in ipairs({ "delayed", "completed", "failed" }) do
  dropSet(set)
  if budget <= 0 then
    return 1
  end
end
for _, name in ipairs({ "priority", "stalled-check", "stalled", "meta-paused", "meta", "id",
  "repeat", "metrics:completed", "metrics:completed:data", "metrics:failed",
  "metrics:failed:data" }) do
  rcall("DEL", base .. name)
end
return 0
