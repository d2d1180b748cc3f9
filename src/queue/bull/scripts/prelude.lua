-- bullring's helpers for Bull 3/4 queues, put in front of each of its Bull scripts.
-- KEYS[1] is always the queue's key prefix, `<prefix>:<queue>:`; every other key is built from it
-- (with a hash-tagged prefix they all share one cluster slot, as Bull's own keys do).
local rcall = redis.call
local base = KEYS[1]

-- The list new waiting jobs go to: `paused` while `meta-paused` exists, else `wait`.
local function targetList()
  if rcall("EXISTS", base .. "meta-paused") == 1 then
    return base .. "paused"
  end
  return base .. "wait"
end

-- Put a job in the waiting list as Bull does. A priority job goes after the jobs of the same or
-- a higher priority (lower number), found through the `priority` index; another job goes to the
-- head (LPUSH, FIFO: workers pop the tail) or, for LIFO, to the tail (RPUSH).
local function pushWaiting(target, id, priority, pushCmd)
  if priority == 0 then
    rcall(pushCmd, target, id)
    return
  end
  local index = base .. "priority"
  rcall("ZADD", index, priority, id)
  local ahead = rcall("ZCOUNT", index, 0, priority)
  local at = rcall("LINDEX", target, rcall("LLEN", target) - (ahead - 1))
  if at then
    rcall("LINSERT", target, "BEFORE", at, id)
  else
    rcall("RPUSH", target, id)
  end
end

-- A job's stored options, decoded (an empty table when they are missing or not JSON).
local function optionsOf(jobKey)
  local text = rcall("HGET", jobKey, "opts")
  if not text then
    return {}
  end
  local ok, opts = pcall(cjson.decode, text)
  if ok and type(opts) == "table" then
    return opts
  end
  return {}
end

-- Whether delayed job `id` is the armed next run of a repeatable job still in `repeat`.
local function isArmedRepeat(id)
  if string.sub(id, 1, 7) ~= "repeat:" then
    return false
  end
  local rep = optionsOf(base .. id)["repeat"]
  return type(rep) == "table" and type(rep.key) == "string"
    and rcall("ZSCORE", base .. "repeat", rep.key) ~= false
end

-- Remove a job's hash, logs and the keys that point at it (debounce, rate limiter index).
local function deleteJob(id, keepDebounce)
  local jobKey = base .. id
  if not keepDebounce then
    local debounceId = rcall("HGET", jobKey, "deid")
    if debounceId then
      rcall("DEL", base .. "de:" .. debounceId)
    end
  end
  rcall("DEL", jobKey, jobKey .. ":logs")
  local limiterIndex = base .. "limiter:index"
  local limited = rcall("HGET", limiterIndex, id)
  if limited then
    rcall("SREM", limited, id)
    rcall("HDEL", limiterIndex, id)
  end
end
