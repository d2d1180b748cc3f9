-- Remove a job as Bull's Job#remove (removeJob) does: refused while a worker holds its lock;
-- else out of every list and set of the queue, with its hash, logs, debounce key and rate
-- limiter entry. ARGV: job id. Returns 1 removed, 0 locked.
local id = ARGV[1]
if rcall("EXISTS", base .. id .. ":lock") == 1 then
  return 0
end
for _, list in ipairs({ "active", "wait", "paused" }) do
  rcall("LREM", base .. list, 0, id)
end
for _, set in ipairs({ "delayed", "completed", "failed", "priority" }) do
  rcall("ZREM", base .. set, id)
end
deleteJob(id, false)
return 1
