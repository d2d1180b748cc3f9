#!/usr/bin/env node
'use strict';

// bench/bull-retry.js --redis URL --prefix P --queue Q --step seed --failed N
// bench/bull-retry.js --redis URL --prefix P --queue Q --step retry
//
// seed: adds N jobs with the real Bull 4 (`addBulk`, 1,000 per call), then moves them straight
//   from `wait` to `failed` with a small Lua script, as a Bull worker leaves a failed job
//   (processedOn, finishedOn two hours ago, attemptsMade 1, failedReason, stacktrace), 1,000 per
//   call: running a real worker over 100,000 jobs would take minutes.
// retry: Node Bull's own `queue.retryJobs()` (batches of 1,000, Bull's default), timed, with the
//   process's peak RSS.
// Prints one JSON line. Uses the packages of tests/node (run `npm ci` there first).

const path = require('node:path');

const nodeDir = path.join(__dirname, '..', 'tests', 'node');
const { parseArgs, run, UsageError } = require(path.join(nodeDir, 'lib'));
const Bull = require(path.join(nodeDir, 'node_modules', 'bull'));

const BATCH = 1000;
const AGE_MS = 2 * 60 * 60 * 1000;

const FAIL = `
local ids = redis.call('RPOP', KEYS[1], ARGV[1])
if not ids then return 0 end
for _, id in ipairs(ids) do
  redis.call('HSET', ARGV[3] .. id, 'processedOn', ARGV[2], 'finishedOn', ARGV[2],
    'attemptsMade', 1, 'failedReason', 'bench failure', 'stacktrace', '["Error: bench failure"]')
  redis.call('ZADD', KEYS[2], ARGV[2], id)
end
return #ids`;

async function seed(queue, args) {
  const n = Number(args.failed);
  for (let i = 0; i < n; i += BATCH) {
    const jobs = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) {
      jobs.push({ name: 'diagnose', data: { n: j }, opts: { attempts: 1 } });
    }
    await queue.addBulk(jobs);
  }
  const at = Date.now() - AGE_MS;
  const base = `${args.prefix}:${args.queue}:`;
  let moved;
  do {
    moved = await queue.client.eval(FAIL, 2, `${base}wait`, `${base}failed`, BATCH, at, base);
  } while (moved > 0);
  return { counts: await queue.getJobCounts() };
}

async function retry(queue) {
  await queue.isReady();
  const start = process.hrtime.bigint();
  await queue.retryJobs();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, peakRssKb: process.resourceUsage().maxRSS, counts: await queue.getJobCounts() };
}

run('bull-retry.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'queue', 'step'],
    optional: ['failed'],
  });
  const queue = closer.add(new Bull(args.queue, args.redis, { prefix: args.prefix }));
  const steps = { seed, retry };
  if (!steps[args.step]) throw new UsageError(`unknown step ${args.step}`);
  const out = await steps[args.step](queue, args);
  process.stdout.write(JSON.stringify({ ok: true, ...out }) + '\n');
});
