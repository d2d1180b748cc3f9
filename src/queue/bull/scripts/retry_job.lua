-- Retry one failed job as Bull's Job#retry (reprocessJob) does: refused while it is locked;
-- finishedOn, processedOn and failedReason go, retriedOn is set, and the job goes to the head
-- of the waiting list (its tail for LIFO jobs; `paused` while the queue is paused), announced
-- on `waiting@<token>`. The job is checked to be failed before anything is written.
-- ARGV: job id, now (ms), token. Returns 1 done, 0 no such job, -1 locked, -2 not failed.
local id = ARGV[1]
local jobKey = base .. id
if rcall("EXISTS", jobKey) == 0 then
  return 0
end
if rcall("EXISTS", jobKey .. ":lock") == 1 then
  return -1
end
if rcall("ZSCORE", base .. "failed", id) == false then
  return -2
end
rcall("HDEL", jobKey, "finishedOn", "processedOn", "failedReason")
rcall("HSET", jobKey, "retriedOn", ARGV[2])
rcall("ZREM", base .. "failed", id)
local pushCmd = "LPUSH"
if optionsOf(jobKey).lifo == true then
  pushCmd = "RPUSH"
end
rcall(pushCmd, targetList(), id)
rcall("PUBLISH", base .. "waiting@" .. ARGV[3], id)
return 1
