#!/usr/bin/env node
'use strict';

// seed.js --redis URL --prefix P --bullmq 5|6
//
// Writes the bullring interop fixture with the real BullMQ package: jobs in
// every state, under prefix P (plus the hash-tagged prefix {P} for the
// "tagged" queue). Prints one JSON line:
//   {"ok":true,"bullmq":"<version>","queues":[{"prefix":"P","name":"basic"},...]}
// See README.md for the exact contents and the expected counts.

const {
  parseArgs,
  loadBullmq,
  connectionOptions,
  connectRaw,
  waitUntil,
  run,
  fixtureQueues,
  expectedCounts,
  COUNT_STATES,
} = require('./lib');

const HOUR_MS = 60 * 60 * 1000;
// Token used for the jobs seed.js takes manually (lock value in Redis).
const SEED_TOKEN = 'bullring-seed-token';
const XSS = '<script>alert(1)</script>';

run('seed.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), { required: ['redis', 'prefix', 'bullmq'] });
  const { bullmq, version } = loadBullmq(args.bullmq);
  const { Queue, Worker, FlowProducer } = bullmq;
  const prefix = args.prefix;
  const tagPrefix = `{${prefix}}`;
  const queues = fixtureQueues(prefix);

  // --- refuse to seed on top of an existing fixture (ids must be fresh) ----
  const raw = closer.add(await connectRaw(args.redis));
  for (const q of queues) {
    const base = `${q.prefix}:${q.name}`;
    const n = await raw.exists(`${base}:meta`, `${base}:id`, `${base}:events`);
    if (n > 0) {
      throw new Error(`queue ${base} already exists in Redis; use a fresh prefix or an empty database`);
    }
  }

  const connection = connectionOptions(args.redis);
  const newQueue = (name, qprefix = prefix) => closer.add(new Queue(name, { connection, prefix: qprefix }));

  // =========================================================================
  // queue "basic"
  // =========================================================================
  const basic = newQueue('basic');

  // Step 1: the jobs that end up completed / failed (ids 1..5). Nothing else
  // is in the queue while the worker runs, so it can only process these.
  await basic.add('complete-json', { kind: 'json' }); // 1 -> completed, returns an object
  await basic.add('complete-string', { kind: 'string' }); // 2 -> completed, returns a string
  await basic.add('fail', { kind: 'fail' }, { attempts: 2 }); // 3 -> fails twice, ends failed
  await basic.add('fail', { kind: 'fail' }, { attempts: 2 }); // 4 -> fails twice, ends failed
  await basic.add('with-progress', { kind: 'progress' }); // 5 -> progress + 3 logs, completed

  const processor = async (job) => {
    switch (job.name) {
      case 'complete-json':
        return { ok: true, rows: 3, note: 'json-result' };
      case 'complete-string':
        return 'plain-string-result';
      case 'fail':
        throw new Error(`boom ${job.id}`);
      case 'with-progress':
        await job.updateProgress({ pct: 40, step: 'upload' });
        await job.log('log line 1: starting');
        await job.log('log line 2: uploading');
        await job.log('log line 3: done');
        return undefined;
      default:
        throw new Error(`seed worker picked up an unexpected job ${job.id} (${job.name})`);
    }
  };
  const basicWorker = closer.add(new Worker('basic', processor, { connection, prefix }));
  await waitUntil('basic: 3 completed and 2 failed', async () => {
    const c = await basic.getJobCounts('completed', 'failed');
    return c.completed === 3 && c.failed === 2;
  });
  await basicWorker.close();

  // Step 2: two jobs taken into "active" and left there (ids 6, 7). They are
  // the only jobs in "wait" when they are taken.
  await basic.add('active', { n: 1 }); // 6
  await basic.add('active', { n: 2 }); // 7
  const manualBasic = closer.add(
    new Worker('basic', undefined, { connection, prefix, autorun: false, lockDuration: HOUR_MS }),
  );
  const taken = [];
  for (let i = 0; i < 2; i++) {
    const job = await manualBasic.getNextJob(SEED_TOKEN, { block: false });
    if (!job) throw new Error('basic: getNextJob returned nothing');
    taken.push(job.id);
  }
  if (taken.join(',') !== '6,7') {
    throw new Error(`basic: expected to take jobs 6,7 into active, took ${taken.join(',')}`);
  }
  await manualBasic.close();

  // Step 3: jobs that stay where they are added.
  for (let n = 1; n <= 5; n++) {
    await basic.add('plain', { n }); // 8..12 waiting
  }
  for (let n = 1; n <= 4; n++) {
    await basic.add('delayed', { n }, { delay: HOUR_MS }); // 13..16 delayed
  }
  for (const priority of [1, 5, 10]) {
    await basic.add(`prio-${priority}`, { priority }, { priority }); // 17..19 prioritized
  }
  await basic.add(XSS, { html: XSS, note: `name and data contain ${XSS}` }); // 20 waiting
  await basic.add('attachment', { file: 'report.pdf', size: 42 }, { jobId: 'attachment-42' }); // waiting (uses up counter value 21)
  const dedupA = await basic.add('dedup', { attempt: 1 }, { deduplication: { id: 'dedup-1' } }); // 22 waiting
  const dedupB = await basic.add('dedup', { attempt: 2 }, { deduplication: { id: 'dedup-1' } }); // no new job
  if (dedupA.id !== dedupB.id) {
    throw new Error(`basic: deduplication produced two jobs (${dedupA.id}, ${dedupB.id})`);
  }

  // =========================================================================
  // queue "paused-q": 3 waiting jobs, then pause
  // =========================================================================
  const pausedQ = newQueue('paused-q');
  for (let n = 1; n <= 3; n++) {
    await pausedQ.add('paused-job', { n }); // 1..3
  }
  await pausedQ.pause();

  // =========================================================================
  // flow: parent-1 in "flow-parent" with children child-1..3 in "flow-child"
  // =========================================================================
  const flowParent = newQueue('flow-parent');
  const flowChild = newQueue('flow-child');
  const flow = closer.add(new FlowProducer({ connection, prefix }));
  await flow.add({
    name: 'report',
    queueName: 'flow-parent',
    data: { report: 'monthly', month: '2024-01' },
    opts: { jobId: 'parent-1' },
    children: [1, 2, 3].map((n) => ({
      name: 'child',
      queueName: 'flow-child',
      data: { part: n },
      opts: { jobId: `child-${n}` },
    })),
  });
  // Complete child-1 by hand: take exactly one job and check it is child-1.
  const manualChild = closer.add(new Worker('flow-child', undefined, { connection, prefix, autorun: false }));
  const child = await manualChild.getNextJob(SEED_TOKEN, { block: false });
  if (!child || child.id !== 'child-1') {
    throw new Error(`flow-child: expected to take child-1, got ${child && child.id}`);
  }
  await child.moveToCompleted({ rows: 10 }, SEED_TOKEN, false);
  await manualChild.close();
  const parent = await flowParent.getJob('parent-1');
  const deps = await parent.getDependenciesCount();
  const parentState = await parent.getState();
  if (parentState !== 'waiting-children' || deps.processed !== 1 || deps.unprocessed !== 2) {
    throw new Error(
      `flow-parent: unexpected parent state ${parentState} / dependencies ${JSON.stringify(deps)}`,
    );
  }

  // =========================================================================
  // queue "sched": two job schedulers
  // =========================================================================
  const sched = newQueue('sched');
  await sched.upsertJobScheduler(
    'hourly-sync',
    { pattern: '0 * * * *' },
    { name: 'sync-updated-dossiers', data: { full: false } },
  );
  await sched.upsertJobScheduler('every-minute', { every: 60000 });

  // =========================================================================
  // queue "tagged" under the hash-tagged prefix {P}
  // =========================================================================
  const tagged = newQueue('tagged', tagPrefix);
  await tagged.add('tagged-done', { n: 1 }); // 1 -> completed
  const taggedWorker = closer.add(
    new Worker(
      'tagged',
      async (job) => {
        if (job.name !== 'tagged-done') {
          throw new Error(`seed worker picked up an unexpected job ${job.id} (${job.name})`);
        }
        return { tagged: true };
      },
      { connection, prefix: tagPrefix },
    ),
  );
  await waitUntil('tagged: 1 completed', async () => {
    const c = await tagged.getJobCounts('completed', 'failed');
    if (c.failed > 0) throw new Error('tagged: seed job failed');
    return c.completed === 1;
  });
  await taggedWorker.close();
  await tagged.add('tagged-wait', { n: 2 }); // 2 waiting
  await tagged.add('tagged-wait', { n: 3 }); // 3 waiting

  // =========================================================================
  // self-check: the fixture must match the documented counts exactly
  // =========================================================================
  const expected = expectedCounts(args.bullmq);
  const byName = { basic, 'paused-q': pausedQ, 'flow-parent': flowParent, 'flow-child': flowChild, sched, tagged };
  const mismatches = [];
  for (const q of queues) {
    const got = await byName[q.name].getJobCounts(...COUNT_STATES);
    if (JSON.stringify(got) !== JSON.stringify(expected[q.name])) {
      mismatches.push(`${q.prefix}:${q.name} expected ${JSON.stringify(expected[q.name])} got ${JSON.stringify(got)}`);
    }
  }
  if (!(await pausedQ.isPaused())) mismatches.push('paused-q is not paused');
  if (mismatches.length > 0) {
    throw new Error(`fixture does not match the expected counts: ${mismatches.join('; ')}`);
  }

  process.stdout.write(JSON.stringify({ ok: true, bullmq: version, queues }) + '\n');
});
