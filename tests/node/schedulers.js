#!/usr/bin/env node
'use strict';

// schedulers.js --redis URL --prefix P --bullmq 5|6 --step seed|report
//
// The Node side of bullring's scheduler and queue-settings tests (tests/it/schedulers_edit.rs):
//   seed    with the real BullMQ: queue "sched" with two job schedulers, "every-min" (every
//           60000 ms, template "tick" {n:1} attempts 3) and "nightly" (pattern "0 3 * * *", tz
//           UTC, template "night" {n:2}); with the real Bull: queue "legacy" with one job.
//           Prints {"ok":true,"bullmq":"<version>"}.
//   report  what BullMQ's own API says about "sched": getJobSchedulers(), getJobs() of the
//           waiting, delayed, prioritized and paused jobs (id, name, data, delay), and
//           getGlobalConcurrency(). Read-only.

const Bull = require('bull');
const { parseArgs, loadBullmq, connectionOptions, connectRaw, run, UsageError } = require('./lib');

async function seed(bullmq, connection, args, closer) {
  const queue = closer.add(new bullmq.Queue('sched', { connection, prefix: args.prefix }));
  await queue.upsertJobScheduler(
    'every-min',
    { every: 60000 },
    { name: 'tick', data: { n: 1 }, opts: { attempts: 3 } },
  );
  await queue.upsertJobScheduler(
    'nightly',
    { pattern: '0 3 * * *', tz: 'UTC' },
    { name: 'night', data: { n: 2 } },
  );
  const legacy = closer.add(new Bull('legacy', args.redis, { prefix: args.prefix }));
  await legacy.add({ n: 3 }, { jobId: 'old-1' });
}

async function report(bullmq, connection, args, closer) {
  const queue = closer.add(new bullmq.Queue('sched', { connection, prefix: args.prefix }));
  const schedulers = await queue.getJobSchedulers(0, -1, true);
  const jobs = await queue.getJobs(['waiting', 'delayed', 'prioritized', 'paused'], 0, -1, true);
  return {
    schedulers,
    jobs: jobs
      .filter(Boolean)
      .map((job) => ({ id: job.id, name: job.name, data: job.data, delay: job.delay, opts: job.opts })),
    concurrency: await queue.getGlobalConcurrency(),
  };
}

run('schedulers.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), { required: ['redis', 'prefix', 'bullmq', 'step'] });
  const { bullmq, version } = loadBullmq(args.bullmq);
  const connection = connectionOptions(args.redis);
  closer.add(await connectRaw(args.redis));
  let out;
  switch (args.step) {
    case 'seed':
      await seed(bullmq, connection, args, closer);
      out = { ok: true, bullmq: version };
      break;
    case 'report':
      out = { ok: true, bullmq: version, ...(await report(bullmq, connection, args, closer)) };
      break;
    default:
      throw new UsageError(`--step must be seed or report, got ${JSON.stringify(args.step)}`);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
