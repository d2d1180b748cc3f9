#!/usr/bin/env node
'use strict';

// runner.js: the Node side of bullring's runner tests (see README.md, "runner.js").
//
//   runner.js produce --redis URL --prefix P --bullmq 5|6 --queue Q
//     Adds a mixed set of jobs to Q (plain, delayed, prioritized, custom id, one that
//     the bullring handler fails twice before it succeeds), waits until every one of them is
//     completed or failed, and prints {"ok":true,"jobs":{<key>:{id,state,returnvalue,attemptsMade,failedReason,stacktrace}}}.
//
//   runner.js consume --redis URL --prefix P --bullmq 5|6 --queue Q --names a,b [--count N]
//     Runs a Worker on Q until it has processed N (default 2) jobs of every listed name,
//     then prints {"ok":true,"processed":{name:count},"schedulers":[{key,name,pattern,every,tz}]}.

const { parseArgs, loadBullmq, connectionOptions, connectRaw, run, waitUntil, UsageError } = require('./lib');

const mode = process.argv[2];
if (mode !== 'produce' && mode !== 'consume') {
  process.stderr.write('usage: runner.js produce|consume --redis URL --prefix P --bullmq 5|6 --queue Q ...\n');
  process.exit(64);
}

run(`runner.js ${mode}`, async (closer) => {
  const args = parseArgs(process.argv.slice(3), {
    required: ['redis', 'prefix', 'bullmq', 'queue'],
    optional: ['names', 'count'],
  });
  const { bullmq } = loadBullmq(args.bullmq);
  closer.add(await connectRaw(args.redis));
  const connection = connectionOptions(args.redis);
  const queue = closer.add(new bullmq.Queue(args.queue, { connection, prefix: args.prefix }));

  if (mode === 'produce') {
    const added = {
      plain: await queue.add('plain', { n: 1 }),
      delayed: await queue.add('delayed', { n: 2 }, { delay: 300 }),
      prioritized: await queue.add('prioritized', { n: 3 }, { priority: 5 }),
      custom: await queue.add('custom', { n: 4 }, { jobId: 'custom-id-1' }),
      // The bullring handlers fail a job named "flaky" on its first two attempts.
      flaky: await queue.add('flaky', { n: 5 }, { attempts: 3, backoff: { type: 'fixed', delay: 100 } }),
    };
    const jobs = {};
    await waitUntil('every job to finish', async () => {
      for (const [key, job] of Object.entries(added)) {
        // State first: a job read before its move to completed would carry stale fields.
        const state = await queue.getJobState(job.id);
        if (state !== 'completed' && state !== 'failed') return false;
        const fresh = await queue.getJob(job.id);
        jobs[key] = {
          id: String(fresh.id),
          state,
          returnvalue: fresh.returnvalue,
          attemptsMade: fresh.attemptsMade,
          failedReason: fresh.failedReason,
          stacktrace: fresh.stacktrace,
        };
      }
      return true;
    }, { timeoutMs: 30_000 });
    process.stdout.write(JSON.stringify({ ok: true, jobs }) + '\n');
    return;
  }

  if (!args.names) throw new UsageError('consume needs --names');
  const names = args.names.split(',');
  const count = Number(args.count || 2);
  const processed = Object.fromEntries(names.map((n) => [n, 0]));
  const worker = closer.add(
    new bullmq.Worker(
      args.queue,
      async (job) => {
        if (job.name in processed) processed[job.name] += 1;
        return { seenBy: 'node' };
      },
      { connection, prefix: args.prefix },
    ),
  );
  await waitUntil('the scheduled jobs', async () => names.every((n) => processed[n] >= count), {
    timeoutMs: 30_000,
  });
  await worker.close();
  const schedulers = (await queue.getJobSchedulers()).map((s) => ({
    key: s.key,
    name: s.name,
    pattern: s.pattern,
    every: s.every,
    tz: s.tz,
  }));
  process.stdout.write(JSON.stringify({ ok: true, processed, schedulers }) + '\n');
});
