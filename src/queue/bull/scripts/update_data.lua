-- Replace a job's data as Bull's Job#update does. ARGV: job id, data (JSON).
-- Returns 1 saved, 0 no such job.
if rcall("EXISTS", base .. ARGV[1]) == 0 then
  return 0
end
rcall("HSET", base .. ARGV[1], "data", ARGV[2])
return 1
