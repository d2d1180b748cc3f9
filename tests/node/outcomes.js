#!/usr/bin/env node
'use strict';

// outcomes.js --redis URL --prefix P --bullmq 5|6 --queue Q --fail N --complete M
//
// Adds N jobs named `doomed` (attempts 1) and M jobs named `fine` to queue Q, lets a Worker with
// metrics on (MetricsTime.ONE_WEEK) fail the doomed ones ("doomed to fail: <id>") and complete
// the fine ones, waits until all of them finished, and prints one JSON line:
//   {"ok":true,"failed":["<id>",...],"completed":N}

const { parseArgs, loadBullmq, connectionOptions, waitUntil, run } = require('./lib');

run('outcomes.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'bullmq', 'queue', 'fail', 'complete'],
  });
  const { bullmq } = loadBullmq(args.bullmq);
  const { Queue, Worker, MetricsTime } = bullmq;
  const connection = connectionOptions(args.redis);
  const prefix = args.prefix;
  const queue = closer.add(new Queue(args.queue, { connection, prefix }));
  const fail = Number(args.fail);
  const complete = Number(args.complete);
  const before = await queue.getJobCounts('completed', 'failed');
  const failed = [];
  for (let i = 0; i < fail; i++) {
    failed.push((await queue.add('doomed', { n: i }, { attempts: 1 })).id);
  }
  for (let i = 0; i < complete; i++) {
    await queue.add('fine', { n: i });
  }
  const worker = closer.add(
    new Worker(
      args.queue,
      async (job) => {
        if (job.name === 'doomed') throw new Error(`doomed to fail: ${job.id}`);
        return 'fine';
      },
      { connection, prefix, concurrency: 5, metrics: { maxDataPoints: MetricsTime.ONE_WEEK } },
    ),
  );
  await waitUntil('every job to finish', async () => {
    const c = await queue.getJobCounts('completed', 'failed');
    return c.failed - before.failed === fail && c.completed - before.completed === complete;
  });
  await worker.close();
  process.stdout.write(`${JSON.stringify({ ok: true, failed, completed: complete })}\n`);
});
