#!/usr/bin/env node
'use strict';

// search_task.js --redis URL --prefix P --lib bullmq5|bullmq6|bull --queue Q --step seed|list
//                [--kind failed|delayed] [--n N]
//
// The Node side of bullring's "apply to every match" tests (tests/it/search_task.rs):
//   seed  writes queue Q with N jobs through the real library: every third is named
//         "sync-user" (the others "send-email"), data {n}; --kind failed: a worker fails each
//         (one attempt); --kind delayed: each is delayed an hour. Prints {"ok":true}.
//   list  what the library itself reads back: {"ok":true,"jobs":{"<state>":[{"id","name"}]}}
//         for the states waiting, delayed, completed and failed (getJobs, every job).

const { parseArgs, loadBullmq, connectionOptions, waitUntil, run } = require('./lib');

const args = parseArgs(process.argv.slice(2), {
  required: ['redis', 'prefix', 'lib', 'queue', 'step'],
  optional: ['kind', 'n'],
});
const STATES = ['waiting', 'delayed', 'completed', 'failed'];
const HOUR = 3_600_000;

function named(i) {
  return i % 3 === 0 ? 'sync-user' : 'send-email';
}

async function seedBullmq(closer, n, kind) {
  const { bullmq } = loadBullmq(args.lib === 'bullmq6' ? '6' : '5');
  const connection = connectionOptions(args.redis);
  const queue = closer.add(new bullmq.Queue(args.queue, { connection, prefix: args.prefix }));
  const opts = kind === 'delayed' ? { delay: HOUR } : { attempts: 1 };
  for (let from = 0; from < n; from += 500) {
    const jobs = [];
    for (let i = from; i < Math.min(n, from + 500); i++) jobs.push({ name: named(i), data: { n: i }, opts });
    await queue.addBulk(jobs);
  }
  if (kind === 'failed') {
    const worker = closer.add(
      new bullmq.Worker(
        args.queue,
        async (job) => {
          throw new Error(`failed ${job.data.n}`);
        },
        { connection, prefix: args.prefix, concurrency: 50 },
      ),
    );
    await waitUntil(`${n} failed jobs`, async () => (await queue.getFailedCount()) >= n, {
      timeoutMs: 50_000,
    });
    await worker.close();
  }
}

async function seedBull(closer, n, kind) {
  const Bull = require('bull');
  const queue = closer.add(new Bull(args.queue, args.redis, { prefix: args.prefix }));
  const opts = kind === 'delayed' ? { delay: HOUR } : { attempts: 1 };
  const jobs = [];
  for (let i = 0; i < n; i++) jobs.push({ name: named(i), data: { n: i }, opts });
  await queue.addBulk(jobs);
  if (kind === 'failed') {
    queue.process('*', 20, async (job) => {
      throw new Error(`failed ${job.data.n}`);
    });
    await waitUntil(`${n} failed jobs`, async () => (await queue.getFailedCount()) >= n, {
      timeoutMs: 50_000,
    });
  }
}

async function list(closer) {
  let queue;
  if (args.lib === 'bull') {
    const Bull = require('bull');
    queue = closer.add(new Bull(args.queue, args.redis, { prefix: args.prefix }));
  } else {
    const { bullmq } = loadBullmq(args.lib === 'bullmq6' ? '6' : '5');
    const connection = connectionOptions(args.redis);
    queue = closer.add(new bullmq.Queue(args.queue, { connection, prefix: args.prefix }));
  }
  const jobs = {};
  for (const state of STATES) {
    jobs[state] = (await queue.getJobs([state], 0, -1, false))
      .filter(Boolean)
      .map((job) => ({ id: String(job.id), name: job.name }));
  }
  process.stdout.write(JSON.stringify({ ok: true, jobs }) + '\n');
}

run('search_task.js', async (closer) => {
  if (args.step === 'seed') {
    const n = Number(args.n || 100);
    if (args.lib === 'bull') await seedBull(closer, n, args.kind || 'failed');
    else await seedBullmq(closer, n, args.kind || 'failed');
    process.stdout.write(JSON.stringify({ ok: true }) + '\n');
    return;
  }
  if (args.step === 'list') return list(closer);
  throw new Error(`unknown step ${args.step}`);
});
