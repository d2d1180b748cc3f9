-- One step of a clean, with Bull's cleanJobsInSet rules: a job is removed when no worker holds
-- its lock and the first of finishedOn, processedOn, timestamp it has is older than ARGV[2]
-- (or it has none); the armed next run of a repeatable job is kept too, so the repeatable
-- keeps running. Removed jobs lose their hash, logs, priority entry and, unless finished,
-- their debounce key. Lists are walked from their tail (oldest first), sorted sets from their
-- lowest score.
-- ARGV: container (wait, paused, delayed, completed, failed), max timestamp, how many entries
-- to look at (at most as many are removed), how many entries were kept by the earlier steps.
-- Returns { removed, entries kept so far, 1 when the walk is over }.
local name = ARGV[1]
local setKey = base .. name
local maxTs = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local skip = tonumber(ARGV[4])
local isList = name == "wait" or name == "paused"
local ids, first
if isList then
  local len = rcall("LLEN", setKey)
  first = math.max(0, len - skip - window)
  ids = rcall("LRANGE", setKey, first, len - skip - 1)
else
  ids = rcall("ZRANGE", setKey, skip, skip + window - 1)
end
local removed, kept = 0, 0
for i = #ids, 1, -1 do
  -- Oldest first: a list's tail, a sorted set's lowest score.
  local at = i
  if not isList then
    at = #ids - i + 1
  end
  local id = ids[at]
  local jobKey = base .. id
  local keep = rcall("EXISTS", jobKey .. ":lock") == 1
  if not keep then
    local ts
    for _, value in ipairs(rcall("HMGET", jobKey, "finishedOn", "processedOn", "timestamp")) do
      if value then
        ts = tonumber(value)
        break
      end
    end
    keep = ts ~= nil and ts >= maxTs
  end
  if not keep and name == "delayed" then
    keep = isArmedRepeat(id)
  end
  if keep then
    kept = kept + 1
  else
    if isList then
      -- Job ids are never empty: "" marks the entry, removed in one pass below.
      rcall("LSET", setKey, first + at - 1, "")
    else
      rcall("ZREM", setKey, id)
    end
    rcall("ZREM", base .. "priority", id)
    deleteJob(id, name == "completed" or name == "failed")
    removed = removed + 1
  end
end
if isList and removed > 0 then
  rcall("LREM", setKey, 0, "")
end
local over = 0
if #ids < window then
  over = 1
end
return { removed, skip + kept, over }
