#!/usr/bin/env node
'use strict';

// bench/worker.js add   --redis URL --prefix P --queue Q --count N
// bench/worker.js work  --redis URL --prefix P --queue Q --concurrency C
//
// The Node side of the runner benchmark, with the real npm BullMQ 6 (bench/package.json).
// `add` adds N no-op jobs with Queue.addBulk (1,000 per call) and exits. `work` runs a BullMQ
// Worker with a no-op processor at concurrency C until SIGTERM; like `bullring run` it records
// BullMQ metrics (two weeks of data points) and names its connection, so both do the same work
// per job. Prints "ready" once the worker is running.

const { Queue, Worker, MetricsTime } = require('bullmq');

const [mode, ...rest] = process.argv.slice(2);
const args = {};
for (let i = 0; i < rest.length; i += 2) args[rest[i].replace(/^--/, '')] = rest[i + 1];
const url = new URL(args.redis || '');
const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };

async function add() {
  const queue = new Queue(args.queue, { connection, prefix: args.prefix });
  const total = Number(args.count);
  for (let done = 0; done < total; done += 1000) {
    const jobs = [];
    for (let i = done; i < Math.min(total, done + 1000); i++) jobs.push({ name: 'noop', data: { n: i } });
    await queue.addBulk(jobs);
  }
  await queue.close();
}

async function work() {
  const worker = new Worker(args.queue, async () => null, {
    connection,
    prefix: args.prefix,
    concurrency: Number(args.concurrency),
    name: 'node-bench',
    metrics: { maxDataPoints: MetricsTime.TWO_WEEKS },
  });
  await worker.waitUntilReady();
  process.stdout.write('ready\n');
  const stop = async () => {
    await worker.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

const run = mode === 'add' ? add : mode === 'work' ? work : null;
if (!run) {
  process.stderr.write('usage: worker.js add|work --redis URL --prefix P --queue Q (--count N | --concurrency C)\n');
  process.exit(1);
}
run().catch((err) => {
  process.stderr.write(`worker.js: ${err.stack || err}\n`);
  process.exit(1);
});
