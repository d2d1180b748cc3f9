#!/usr/bin/env node
'use strict';

// bench/seed-actions.js --redis URL --prefix P --queue Q --failed N --completed M
//
// Seeds a benchmark queue fast: the jobs are added with the real BullMQ 6 (`addBulk`, 1,000 per
// call), then moved straight from `wait` to `failed` / `completed` by a small Lua script (what a
// worker would leave behind: processedOn, finishedOn two hours ago, atm (attempts made) 1, failedReason
// or returnvalue), 1,000 per call. Running real workers over 200,000 jobs would take minutes.
// Prints one JSON line with the counts BullMQ reports afterwards.
//
// It uses the packages of tests/node (run `npm ci` there first).

const path = require('node:path');

const nodeDir = path.join(__dirname, '..', 'tests', 'node');
const { parseArgs, loadBullmq, connectionOptions, connectRaw, run } = require(path.join(nodeDir, 'lib'));

const BATCH = 1000;
const AGE_MS = 2 * 60 * 60 * 1000;

// Move up to ARGV[1] of the oldest waiting jobs into the finished set KEYS[2].
const MOVE = `
local ids = redis.call('RPOP', KEYS[1], ARGV[1])
if not ids then return 0 end
for _, id in ipairs(ids) do
  local key = ARGV[4] .. id
  if ARGV[3] == 'failed' then
    redis.call('HSET', key, 'processedOn', ARGV[2], 'finishedOn', ARGV[2], 'atm', 1,
      'ats', 1, 'failedReason', 'bench failure', 'stacktrace', '["Error: bench failure"]')
  else
    redis.call('HSET', key, 'processedOn', ARGV[2], 'finishedOn', ARGV[2], 'atm', 1,
      'ats', 1, 'returnvalue', '{"ok":true}')
  end
  redis.call('ZADD', KEYS[2], ARGV[2], id)
end
return #ids
`;

run('seed-actions.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'queue', 'failed', 'completed'],
  });
  const { bullmq, version } = loadBullmq('6');
  const raw = closer.add(await connectRaw(args.redis));
  const queue = closer.add(new bullmq.Queue(args.queue, { connection: connectionOptions(args.redis), prefix: args.prefix }));
  const base = `${args.prefix}:${args.queue}`;
  const finished = String(Date.now() - AGE_MS);

  const fill = async (state, total) => {
    for (let done = 0; done < total; done += BATCH) {
      const n = Math.min(BATCH, total - done);
      const jobs = [];
      for (let i = 0; i < n; i++) {
        jobs.push({ name: `bench-${state}`, data: { n: done + i, note: 'a small payload like real jobs have' } });
      }
      await queue.addBulk(jobs);
      const moved = await raw.eval(MOVE, 2, `${base}:wait`, `${base}:${state}`, n, finished, state, `${base}:`);
      if (moved !== n) throw new Error(`moved ${moved} of ${n} jobs to ${state}`);
    }
  };
  const started = Date.now();
  await fill('failed', Number(args.failed));
  await fill('completed', Number(args.completed));
  const counts = await queue.getJobCounts('waiting', 'failed', 'completed');
  process.stdout.write(JSON.stringify({ ok: true, bullmq: version, counts, seconds: (Date.now() - started) / 1000 }) + '\n');
});
