-- Pause or resume a queue as Bull's Queue#pause / #resume (the pause script) do. Pause: `wait`
-- is renamed `paused`, `meta-paused` is set and `meta.paused` too (Bull 3.18+), and "paused" is
-- published on `<queue>:paused`. Resume: the reverse, published on `<queue>:resumed`. Where
-- Bull's RENAME would overwrite a list that already holds jobs, the jobs are moved in front
-- of them instead, in their order, so none is lost.
-- ARGV: "paused" or "resumed".
local from, to = base .. "wait", base .. "paused"
if ARGV[1] ~= "paused" then
  from, to = to, from
end
if rcall("EXISTS", from) == 1 then
  if rcall("EXISTS", to) == 0 then
    rcall("RENAME", from, to)
  else
    while rcall("RPOPLPUSH", from, to) do
    end
  end
end
if ARGV[1] == "paused" then
  rcall("SET", base .. "meta-paused", 1)
  rcall("HSET", base .. "meta", "paused", 1)
  rcall("PUBLISH", base .. "paused", "paused")
else
  rcall("DEL", base .. "meta-paused")
  rcall("HDEL", base .. "meta", "paused")
  rcall("PUBLISH", base .. "resumed", "resumed")
end
return 1
