#!/usr/bin/env node
'use strict';

// doctor.js --redis URL --prefix P --bullmq 5|6 --step seed|attach|report|hold|recover
//
// The Node side of bullring's doctor tests (tests/it/doctor.rs):
//   seed    writes one queue per finding with the real BullMQ and prints {"ok":true}:
//             orphans   jobs o-1, o-2, o-3 waiting, then o-2's hash deleted by hand;
//             flow      parent p-1 with child k-1 in queue kids (failParentOnFailure off); a
//                       Worker fails the child, so the parent stays in waiting-children;
//             late      delayed job d-1 whose due time is set two minutes back by hand, no worker;
//             paused    the queue paused, job w-1 waiting.
//   attach  starts a Worker on "paused", prints {"ok":true} and keeps it until stdin closes.
//   report  getJobCounts() and the ids of getJobs() of "orphans". Read-only.
//   hold    adds job l-1 to "locks" and runs a Worker with lockDuration 1000 ms whose processor
//           prints {"ok":true,"active":"l-1"} once it has the job and then never returns: the
//           test kills this process with kill -9, so the lock is left to expire by its TTL
//           (stalledInterval 1000 ms too: its stalled-job check holds the queue's stalled-check
//           key that long, and another worker's check waits for it).
//   recover runs a Worker on "locks" (stalledInterval 300 ms) until l-1 is completed (its
//           stalled-job check moves l-1 back to waiting, then it processes it), and prints
//           {"ok":true,"state","returnvalue","stalledCounter"} as Queue#getJob reads them.

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

async function hold(closer) {
  const locks = queue(closer, 'locks');
  await locks.add('job', {}, { jobId: 'l-1' });
  closer.add(
    new Worker(
      'locks',
      async (job) => {
        process.stdout.write(JSON.stringify({ ok: true, active: job.id }) + '\n');
        await new Promise(() => {}); // held until the process is killed
      },
      // Its stalled-job check claims the queue's `stalled-check` key for stalledInterval: a
      // short one lets the recovering worker run its own check soon after this one dies.
      { connection, prefix, lockDuration: 1000, stalledInterval: 1000 },
    ),
  );
  await new Promise(() => {}); // killed with kill -9 by the test
}

async function recover(closer) {
  const locks = queue(closer, 'locks');
  closer.add(
    new Worker('locks', async () => ({ recovered: true }), {
      connection,
      prefix,
      stalledInterval: 300,
    }),
  );
  await waitUntil('l-1 completed', async () => (await locks.getJobState('l-1')) === 'completed', {
    timeoutMs: 30_000,
  });
  const job = await locks.getJob('l-1');
  process.stdout.write(
    JSON.stringify({
      ok: true,
      state: await job.getState(),
      returnvalue: job.returnvalue,
      stalledCounter: job.stalledCounter,
    }) + '\n',
  );
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
  else if (args.step === 'hold') await hold(closer);
  else if (args.step === 'recover') await recover(closer);
  else throw new Error(`unknown step ${args.step}`);
});
