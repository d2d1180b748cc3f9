#!/usr/bin/env node
'use strict';

// bench/runner-node.js: the Node side of bench/runner.sh (uses tests/node's BullMQ 6).
//
//   runner-node.js add   --redis URL --prefix P --queue Q --count N
//     Adds N no-op jobs with addBulk (1,000 per call) and prints {"added":N}.
//   runner-node.js work  --redis URL --prefix P --queue Q --count N --concurrency C
//     Runs BullMQ's Worker (no-op processor, metrics on) until N jobs are completed and prints
//     {"maxRssKb":...} (the process's peak resident set).
//   runner-node.js rate  --redis URL --prefix P --queue Q --count N
//     Waits until N jobs are completed, then prints {"completed":N,"spanMs":...,"jobsPerSec":...}
//     from the first and last finishedOn (the completed set's scores).

const path = require('node:path');
const modules = path.join(__dirname, '..', 'tests', 'node', 'node_modules');
const { Queue, Worker, MetricsTime } = require(path.join(modules, 'bullmq6'));
const IORedis = require(path.join(modules, 'ioredis'));

function args() {
  const out = {};
  const argv = process.argv.slice(3);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  return out;
}

async function waitCompleted(redis, key, count) {
  const deadline = Date.now() + 600_000;
  for (;;) {
    const done = await redis.zcard(key);
    if (done >= count) return;
    if (Date.now() > deadline) throw new Error(`only ${done} of ${count} completed`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

(async () => {
  const mode = process.argv[2];
  const a = args();
  const count = Number(a.count);
  const connection = { url: a.redis, maxRetriesPerRequest: null };
  const completedKey = `${a.prefix}:${a.queue}:completed`;
  if (mode === 'add') {
    const queue = new Queue(a.queue, { connection, prefix: a.prefix });
    for (let i = 0; i < count; i += 1000) {
      const n = Math.min(1000, count - i);
      await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
    }
    await queue.close();
    console.log(JSON.stringify({ added: count }));
  } else if (mode === 'work') {
    const redis = new IORedis(a.redis);
    const worker = new Worker(a.queue, async () => null, {
      connection,
      prefix: a.prefix,
      concurrency: Number(a.concurrency),
      metrics: { maxDataPoints: MetricsTime.TWO_WEEKS },
    });
    await waitCompleted(redis, completedKey, count);
    await worker.close();
    await redis.quit();
    console.log(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS }));
  } else if (mode === 'rate') {
    const redis = new IORedis(a.redis);
    await waitCompleted(redis, completedKey, count);
    const first = await redis.zrange(completedKey, 0, 0, 'WITHSCORES');
    const last = await redis.zrange(completedKey, -1, -1, 'WITHSCORES');
    const spanMs = Number(last[1]) - Number(first[1]);
    await redis.quit();
    console.log(JSON.stringify({ completed: count, spanMs, jobsPerSec: Math.round(((count - 1) * 1000) / Math.max(spanMs, 1)) }));
  } else {
    console.error('usage: runner-node.js add|work|rate --redis URL --prefix P --queue Q --count N [--concurrency C]');
    process.exit(64);
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
