-- What a Bull worker does to a job, for `bullring demo` only (bullring runs no Bull worker):
-- "take" moves the next job from `wait` to `active` as Bull's moveToActive does (lock for
-- ARGV[3] ms, out of the priority index, processedOn, `active@<token>` published); "complete"
-- and "fail" finish an active job as moveToFinished does (returnvalue or failedReason and a
-- stack trace appended, attemptsMade, finishedOn, published on `completed` / `failed`);
-- "retry" records the failure and puts the job in `delayed` until ARGV[6] (its backoff), as
-- Bull's moveToDelayed does for a retry.
-- ARGV: mode, token, lock ms, now, job id, value (returnvalue, or failedReason), stack, run-at.
local mode, token, now, id = ARGV[1], ARGV[2], tonumber(ARGV[4]), ARGV[5]
if mode == "take" then
  id = rcall("RPOPLPUSH", base .. "wait", base .. "active")
  if not id then
    return false
  end
  rcall("SET", base .. id .. ":lock", token, "PX", ARGV[3])
  rcall("ZREM", base .. "priority", id)
  rcall("HSET", base .. id, "processedOn", now)
  rcall("PUBLISH", base .. "active@" .. token, id)
  return id
end
local jobKey = base .. id
if rcall("LREM", base .. "active", -1, id) == 0 then
  return false
end
rcall("DEL", jobKey .. ":lock")
if mode == "complete" then
  rcall("HSET", jobKey, "returnvalue", ARGV[6], "finishedOn", now)
  rcall("ZADD", base .. "completed", now, id)
  rcall("PUBLISH", base .. "completed", cjson.encode({ jobId = id, val = ARGV[6] }))
  return id
end
local stack = {}
local ok, stored = pcall(cjson.decode, rcall("HGET", jobKey, "stacktrace") or "[]")
if ok and type(stored) == "table" then
  stack = stored
end
table.insert(stack, ARGV[7])
rcall("HINCRBY", jobKey, "attemptsMade", 1)
rcall("HSET", jobKey, "failedReason", ARGV[6], "stacktrace", cjson.encode(stack))
if mode == "retry" then
  local runAt = tonumber(ARGV[8])
  rcall("ZADD", base .. "delayed", runAt * 0x1000, id)
  rcall("PUBLISH", base .. "delayed", runAt)
else
  rcall("HSET", jobKey, "finishedOn", now)
  rcall("ZADD", base .. "failed", now, id)
  rcall("PUBLISH", base .. "failed", cjson.encode({ jobId = id, failedReason = ARGV[6] }))
end
return id
