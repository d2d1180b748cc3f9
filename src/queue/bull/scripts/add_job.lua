-- Add a job as Bull's Queue#add (addJob) does. `id` is incremented; a custom id whose hash
-- exists adds nothing (published on `duplicated@<token>`); else the hash gets name, data, opts,
-- timestamp, delay and priority, and the job goes to `delayed` (score run-at * 4096 + the id
-- counter's low 12 bits, the run-at published on `<queue>:delayed`) or to the waiting list
-- (`paused` while paused) at its priority position, head (FIFO) or tail (LIFO), announced on
-- `waiting@<token>`.
-- ARGV: custom id ("" for none), name, data, opts, timestamp, delay, run-at (0: not delayed),
-- priority, "LPUSH" or "RPUSH", token. Returns { id, 1 added or 0 already there }.
local counter = rcall("INCR", base .. "id")
local id = ARGV[1]
local token = ARGV[10]
if id == "" then
  id = tostring(counter)
elseif rcall("EXISTS", base .. id) == 1 then
  rcall("PUBLISH", base .. "duplicated@" .. token, id)
  return { id, 0 }
end
rcall("HMSET", base .. id, "name", ARGV[2], "data", ARGV[3], "opts", ARGV[4], "timestamp",
  ARGV[5], "delay", ARGV[6], "priority", ARGV[8])
local runAt = tonumber(ARGV[7])
if runAt ~= 0 then
  rcall("ZADD", base .. "delayed", runAt * 0x1000 + bit.band(counter, 0xfff), id)
  rcall("PUBLISH", base .. "delayed", runAt)
else
  pushWaiting(targetList(), id, tonumber(ARGV[8]), ARGV[9])
  rcall("PUBLISH", base .. "waiting@" .. token, id)
end
return { id, 1 }
