#!/usr/bin/env node
'use strict';

// doctor.js --redis URL --prefix P --bullmq 5|6 --step seed|attach|report
//
// The Node side of bullring's doctor tests (tests/it/doctor.rs):
//   seed    writes one queue per finding with the real BullMQ and prints {"ok":true}:
//             orphans   jobs o-1, o-2, o-3 waiting, then o-2's hash deleted by hand;
//             locks     job l-1 taken by a Worker (getNextJob), the worker closed and the lock
//                       key deleted by hand, as when a killed worker's lock expires;
//             flow      parent p-1 with child k-1 in queue kids (failParentOnFailure off); a
//                       Worker fails the child, so the parent stays in waiting-children;
//             late      delayed job d-1 whose due time is set two minutes back by hand, no worker;
//             paused    the queue paused, job w-1 waiting.
//   attach  starts a Worker on "paused", prints {"ok":true} and keeps it until stdin closes.
//   report  getJobCounts() and the ids of getJobs() of "orphans". Read-only.

const { parseArgs, loadBullmq, connectionOptions, connectRaw, waitUntil, run } = require('./lib');

const args = parseArgs(process.argv.slice(2), { required: ['redis', 'prefix', 'bullmq', 'step'] });
const { bullmq } = loadBullmq(args.bullmq);
const { Queue, Worker, FlowProducer } = bullmq;
const connection = connectionOptions(args.redis);
const prefix = args.prefix;

function queue(closer, name) {
  return closer.add(new Queue(name, { connection, prefix }));
}

async function seed(closer) {
  const raw = closer.add(await connectRaw(args.redis));

  const orphans = queue(closer, 'orphans');
  for (const id of ['o-1', 'o-2', 'o-3']) await orphans.add('job', { id }, { jobId: id });
  await raw.del(`${prefix}:orphans:o-2`);

  const locks = queue(closer, 'locks');
  await locks.add('job', {}, { jobId: 'l-1' });
  const taker = new Worker('locks', null, { connection, prefix, autorun: false });
  const job = await taker.getNextJob('doctor-token');
  if (!job || job.id !== 'l-1') throw new Error('the worker did not take l-1');
  await taker.close(true);
  await raw.del(`${prefix}:locks:l-1:lock`);

  const flows = closer.add(new FlowProducer({ connection, prefix }));
  await flows.add({
    name: 'parent',
    queueName: 'flow',
    opts: { jobId: 'p-1' },
    children: [{ name: 'child', queueName: 'kids', opts: { jobId: 'k-1', attempts: 1 } }],
  });
  const kids = queue(closer, 'kids');
  const failer = new Worker(
    'kids',
    async () => {
      throw new Error('child fails on purpose');
    },
    { connection, prefix },
  );
  await waitUntil('k-1 failed', async () => (await kids.getJobState('k-1')) === 'failed');
  await failer.close();
  const flow = queue(closer, 'flow');
  const parentState = await flow.getJobState('p-1');
  if (parentState !== 'waiting-children') throw new Error(`parent is ${parentState}`);

  const late = queue(closer, 'late');
  await late.add('job', {}, { jobId: 'd-1', delay: 60 * 60 * 1000 });
  const due = Date.now() - 2 * 60 * 1000;
  await raw.zadd(`${prefix}:late:delayed`, 'XX', due * 4096, 'd-1');

  const paused = queue(closer, 'paused');
  await paused.add('job', {}, { jobId: 'w-1' });
  await paused.pause();

  process.stdout.write(JSON.stringify({ ok: true }) + '\n');
}

async function attach(closer) {
  const worker = closer.add(new Worker('paused', async () => {}, { connection, prefix }));
  await worker.waitUntilReady();
  process.stdout.write(JSON.stringify({ ok: true }) + '\n');
  await new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
}

async function report(closer) {
  const orphans = queue(closer, 'orphans');
  const counts = await orphans.getJobCounts();
  const jobs = (await orphans.getJobs(['waiting'])).filter(Boolean).map((j) => j.id);
  process.stdout.write(JSON.stringify({ ok: true, counts, jobs }) + '\n');
}

run('doctor.js', async (closer) => {
  if (args.step === 'seed') await seed(closer);
  else if (args.step === 'attach') await attach(closer);
  else if (args.step === 'report') await report(closer);
  else throw new Error(`unknown step ${args.step}`);
});
