#!/usr/bin/env node
'use strict';

// groups.js --redis URL --prefix P --bullmq 5|6
//
// Seeds the queue-group fixture of tests/it/groups.rs with the real BullMQ: the group
// "billing" (billing.invoices, billing.reminders), the group "mail" (mail.out) and "solo", a
// queue in no group. Each gets failed jobs (processed by a worker that throws) and jobs that
// stay waiting or delayed. Prints {"ok":true,"bullmq":"<version>","queues":[...]}.
// The test then reads them back with `actions.js --step report` (isPaused, getJobCounts).

const { parseArgs, loadBullmq, connectionOptions, connectRaw, waitUntil, run } = require('./lib');

const HOUR_MS = 60 * 60 * 1000;

// Per queue: how many jobs end failed, stay waiting, stay delayed.
const FIXTURE = {
  'billing.invoices': { failed: 2, waiting: 1, delayed: 0 },
  'billing.reminders': { failed: 1, waiting: 0, delayed: 2 },
  'mail.out': { failed: 1, waiting: 1, delayed: 0 },
  solo: { failed: 1, waiting: 2, delayed: 0 },
};

run('groups.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), { required: ['redis', 'prefix', 'bullmq'] });
  const { bullmq, version } = loadBullmq(args.bullmq);
  const { Queue, Worker } = bullmq;
  const connection = connectionOptions(args.redis);
  const prefix = args.prefix;
  const raw = closer.add(await connectRaw(args.redis));
  for (const [name, want] of Object.entries(FIXTURE)) {
    if ((await raw.exists(`${prefix}:${name}:meta`, `${prefix}:${name}:id`)) > 0) {
      throw new Error(`queue ${prefix}:${name} already exists; use a fresh prefix`);
    }
    const queue = closer.add(new Queue(name, { connection, prefix }));
    for (let i = 1; i <= want.failed; i++) await queue.add('fail', { i }, { attempts: 1 });
    const worker = closer.add(
      new Worker(name, async (job) => { throw new Error(`boom ${job.id}`); }, { connection, prefix }),
    );
    await waitUntil(`${name}: ${want.failed} failed`, async () => {
      const c = await queue.getJobCounts('failed');
      return c.failed === want.failed;
    });
    await worker.close();
    for (let i = 1; i <= want.waiting; i++) await queue.add('wait', { i });
    for (let i = 1; i <= want.delayed; i++) await queue.add('later', { i }, { delay: HOUR_MS });
  }
  process.stdout.write(JSON.stringify({ ok: true, bullmq: version, queues: Object.keys(FIXTURE) }) + '\n');
});
