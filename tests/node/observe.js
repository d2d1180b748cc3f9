#!/usr/bin/env node
'use strict';

// observe.js --redis URL --prefix P --bullmq 5|6
//
// Writes what the flows / schedulers / metrics / workers pages show, with the real BullMQ, then
// prints one JSON line with what BullMQ's own API reports about it (getFlow, getState,
// getJobSchedulers, getMetrics, getWorkers). A named worker stays connected to `obs-leaf`
// until standard input closes, so the caller can look at the connected workers meanwhile.
// See README.md, "observe.js".

const { parseArgs, loadBullmq, connectionOptions, waitUntil, run } = require('./lib');

const HOUR_MS = 60 * 60 * 1000;
const TOKEN = 'bullring-observe-token';

// Node's flow tree as {id, name, queue, children}, children sorted by id.
function flowTree(node) {
  return {
    id: node.job.id,
    name: node.job.name,
    queue: node.job.queueName,
    children: (node.children || []).map(flowTree).sort((a, b) => a.id.localeCompare(b.id)),
  };
}

run('observe.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), { required: ['redis', 'prefix', 'bullmq'] });
  const { bullmq, version } = loadBullmq(args.bullmq);
  const { Queue, Worker, FlowProducer, MetricsTime } = bullmq;
  const prefix = args.prefix;
  const connection = connectionOptions(args.redis);
  const newQueue = (name) => closer.add(new Queue(name, { connection, prefix }));

  // --- a flow across two queues: processed, failed and pending children, and a grandchild ---
  const root = newQueue('obs-root');
  const leaf = newQueue('obs-leaf');
  const flows = closer.add(new FlowProducer({ connection, prefix }));
  await flows.add({
    name: 'assemble-report',
    queueName: 'obs-root',
    opts: { jobId: 'root-1' },
    data: { report: 'weekly' },
    children: [
      { name: 'fetch-ok', queueName: 'obs-leaf', opts: { jobId: 'leaf-ok' }, data: { part: 1 } },
      {
        name: 'fetch-bad',
        queueName: 'obs-leaf',
        opts: { jobId: 'leaf-bad', ignoreDependencyOnFailure: true },
        data: { part: 2 },
      },
      {
        name: 'fetch-nested',
        queueName: 'obs-leaf',
        opts: { jobId: 'leaf-parent' },
        data: { part: 3 },
        children: [
          { name: 'grand', queueName: 'obs-root', opts: { jobId: 'grand-1', delay: HOUR_MS }, data: {} },
        ],
      },
    ],
  });
  // Take the two waiting leaves by hand: complete one, fail the other.
  const hand = closer.add(new Worker('obs-leaf', undefined, { connection, prefix, autorun: false }));
  for (let i = 0; i < 2; i++) {
    const job = await hand.getNextJob(TOKEN, { block: false });
    if (!job) throw new Error('obs-leaf: expected two waiting leaves');
    if (job.id === 'leaf-ok') {
      await job.moveToCompleted({ rows: 7 }, TOKEN, false);
    } else if (job.id === 'leaf-bad') {
      await job.moveToFailed(new Error('leaf exploded'), TOKEN, false);
    } else {
      throw new Error(`obs-leaf: unexpected job ${job.id}`);
    }
  }
  await hand.close();

  const flow = await flows.getFlow({ id: 'root-1', queueName: 'obs-root', prefix, depth: 10, maxChildren: 100 });
  const states = {};
  for (const [queue, id] of [
    [root, 'root-1'],
    [leaf, 'leaf-ok'],
    [leaf, 'leaf-bad'],
    [leaf, 'leaf-parent'],
    [root, 'grand-1'],
  ]) {
    states[id] = await (await queue.getJob(id)).getState();
  }

  // --- job schedulers: cron with seconds and a time zone, every, and a legacy repeatable ---
  const sched = newQueue('obs-sched');
  await sched.upsertJobScheduler(
    'tick',
    { pattern: '*/10 * * * * *', tz: 'Europe/Paris' },
    { name: 'tick-job', data: { source: 'observe' } },
  );
  await sched.upsertJobScheduler('beat', { every: 5000 }, { name: 'beat-job' });
  await sched.add('legacy-job', { old: true }, { repeat: { every: 60000 } });
  const schedulers = (await sched.getJobSchedulers()).map((s) => ({
    key: s.key,
    name: s.name,
    next: s.next,
    pattern: s.pattern,
    every: s.every === undefined || s.every === null ? undefined : Number(s.every),
    tz: s.tz,
    iterationCount: s.iterationCount,
  }));

  // --- metrics: a worker with metrics on completes 4 jobs and fails 2 ---
  const busy = newQueue('obs-metrics');
  const metricsWorker = closer.add(
    new Worker(
      'obs-metrics',
      async (job) => {
        if (job.data.fail) throw new Error('metered failure');
        return { ok: job.id };
      },
      { connection, prefix, metrics: { maxDataPoints: MetricsTime.ONE_WEEK } },
    ),
  );
  for (let i = 0; i < 6; i++) {
    await busy.add('metered', { fail: i >= 4 });
  }
  await waitUntil('6 metered jobs to finish', async () => {
    const c = await busy.getJobCounts('completed', 'failed');
    return c.completed === 4 && c.failed === 2;
  });
  await metricsWorker.close();
  const completed = await busy.getMetrics('completed');
  const failed = await busy.getMetrics('failed');

  // --- a named worker connected to obs-leaf, and waiting jobs nobody takes in obs-idle ---
  const idle = newQueue('obs-idle');
  await idle.add('stuck', {});
  await idle.add('stuck', {});
  const watcher = closer.add(new Worker('obs-leaf', async () => 'unused', { connection, prefix, name: 'observer-1' }));
  await watcher.waitUntilReady();
  const workers = await waitUntil('the worker to show up in getWorkers', async () => {
    const list = await leaf.getWorkers();
    return list.length > 0 ? list : null;
  });
  const idleWorkers = await idle.getWorkers();

  process.stdout.write(
    `${JSON.stringify({
      ok: true,
      bullmq: version,
      flow: flowTree(flow),
      states,
      schedulers,
      metrics: {
        completed: { count: completed.count, meta: completed.meta, data: completed.data },
        failed: { count: failed.count, meta: failed.meta, data: failed.data },
      },
      workers: { 'obs-leaf': workers.map((w) => ({ name: w.name, addr: w.addr })), 'obs-idle': idleWorkers.length },
    })}\n`,
  );
  // Keep the worker connected until the caller is done looking.
  await new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.resume();
  });
});
