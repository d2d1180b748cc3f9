'use strict';

// Bull 3/4 fixtures for bullring's Bull tests, written by the real npm `bull` (4.16.5), and
// Bull's own view of them.
//
//   node bull.js --redis URL --prefix P --step seed
//       writes the queues "pre-diagnosis" (completed jobs with return values, logs and
//       progress; failed jobs with stack traces after their attempts; plain, priority, LIFO,
//       custom string and integer id, and delayed jobs) and "bull-paused" (a paused queue,
//       with jobs added before and while it was paused).
//   node bull.js --redis URL --prefix P --step report --queue NAME
//       prints Bull's getJobCounts(), isPaused(), getJobs([state]) ids in both orders, and
//       getJob(id) fields, getState() and logs of every job.
//   node bull.js --redis URL --prefix P --step work --queue NAME
//       runs a Bull worker until the queue has no waiting job, and prints what it processed.
//   node bull.js --redis URL --prefix P --step repeat --queue NAME
//       adds cron (with and without a time zone, an end date, a custom job id) and every
//       repeatable jobs, and prints getRepeatableJobs() and the ids of the delayed jobs.
//   node bull.js --redis URL --prefix P --step metrics --queue NAME
//       runs a Bull worker with `metrics: {maxDataPoints: 60}` that completes 3 jobs and fails
//       2 (1 attempt each), and prints getMetrics('completed' | 'failed').
//   node bull.js --redis URL --prefix P --step fail --queue NAME
//       adds one job with 2 attempts that a Bull worker fails twice, and prints its id and
//       finishedOn once it is in `failed`.
//   node bull.js --redis URL --prefix P --step stall --queue NAME
//       makes a job stall once (a worker whose lock is never renewed, then Bull's stalled-jobs
//       check), so it is back in `wait` with stalledCounter 1, and prints its id; on the queue
//       NAME-retried, a job failed once and retried with `Job#retry` (waiting, with retriedOn).
//
// Prints one JSON line: {"ok": true, ...}.

const Bull = require('bull');
const { parseArgs, run, waitUntil, UsageError } = require('./lib');

const STATES = ['waiting', 'active', 'delayed', 'completed', 'failed', 'paused'];
const HOUR = 3_600_000;

function open(closer, args, name) {
  return closer.add(new Bull(name, args.redis, { prefix: args.prefix }));
}

async function seed(closer, args) {
  // Jobs that finish: processed by a Bull worker, then that worker is closed.
  const worker = open(closer, args, 'pre-diagnosis');
  worker.process('*', 2, async (job) => {
    if (job.data.kind === 'fail') {
      throw new Error(`model unavailable for case ${job.data.n}`);
    }
    await job.log(`diagnosed case ${job.data.n}`);
    await job.log('report written');
    await job.progress(100);
    return { score: job.data.n * 10, ok: true };
  });
  for (const n of [1, 2, 3]) {
    await worker.add('diagnose', { kind: 'ok', n }, { jobId: `done-${n}` });
  }
  for (const n of [4, 5]) {
    await worker.add('diagnose', { kind: 'fail', n }, { jobId: `broken-${n}`, attempts: 2 });
  }
  await waitUntil('3 completed and 2 failed jobs', async () => {
    const c = await worker.getJobCounts();
    return c.completed === 3 && c.failed === 2;
  });
  await worker.close();

  // Jobs that wait: no worker runs on this one.
  const queue = open(closer, args, 'pre-diagnosis');
  await queue.add('diagnose', { kind: 'ok', n: 10 });
  await queue.add('diagnose', { kind: 'ok', n: 11 }, { jobId: 'order-42' });
  await queue.add('diagnose', { kind: 'ok', n: 12 }, { jobId: 1001 });
  await queue.add('urgent', { kind: 'ok', n: 13 }, { priority: 5 });
  await queue.add('urgent', { kind: 'ok', n: 14 }, { priority: 1 });
  await queue.add('urgent', { kind: 'ok', n: 15 }, { priority: 3, jobId: 'prio-3' });
  await queue.add('diagnose', { kind: 'ok', n: 16 }, { lifo: true, jobId: 'lifo-1' });
  const noted = await queue.add('diagnose', { kind: 'ok', n: 17 }, { attempts: 3, backoff: { type: 'exponential', delay: 2000 } });
  await noted.log('queued by the test');
  await noted.progress(30);
  await queue.add('later', { kind: 'ok', n: 18 }, { delay: HOUR, jobId: 'later-1' });
  await queue.add('later', { kind: 'ok', n: 19 }, { delay: 2 * HOUR, priority: 2 });

  // A paused queue: jobs added before the pause move to `paused`, later ones go there.
  const paused = open(closer, args, 'bull-paused');
  await paused.add('diagnose', { n: 1 }, { jobId: 'before-1' });
  await paused.add('diagnose', { n: 2 }, { jobId: 'before-2' });
  await paused.pause();
  await paused.add('diagnose', { n: 3 }, { jobId: 'while-1' });
  await paused.add('urgent', { n: 4 }, { jobId: 'while-2', priority: 1 });
  return {};
}

async function report(closer, args) {
  const queue = open(closer, args, args.queue);
  const counts = await queue.getJobCounts();
  const isPaused = await queue.isPaused();
  const ids = {};
  const all = new Set();
  for (const state of STATES) {
    const asc = (await queue.getJobs([state], 0, -1, true)).filter(Boolean).map((j) => String(j.id));
    const desc = (await queue.getJobs([state], 0, -1, false)).filter(Boolean).map((j) => String(j.id));
    ids[state] = { asc, desc };
    asc.forEach((id) => all.add(id));
  }
  const jobs = {};
  for (const id of all) {
    const job = await queue.getJob(id);
    const logs = await queue.getJobLogs(id);
    jobs[id] = {
      id: String(job.id),
      name: job.name,
      data: job.data,
      opts: job.opts,
      progress: job._progress,
      delay: job.delay,
      timestamp: job.timestamp,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason,
      stacktrace: job.stacktrace,
      returnvalue: job.returnvalue,
      finishedOn: job.finishedOn,
      processedOn: job.processedOn,
      retriedOn: job.retriedOn,
      state: await job.getState(),
      logs: logs.logs,
      logCount: logs.count,
    };
  }
  return { counts, isPaused, ids, jobs };
}

async function work(closer, args) {
  const queue = open(closer, args, args.queue);
  const waiting = (await queue.getJobs(['waiting'], 0, -1, true)).map((j) => String(j.id));
  const processed = [];
  queue.process('*', async (job) => {
    processed.push(String(job.id));
    return { worked: true };
  });
  await waitUntil(`the ${waiting.length} waiting jobs to complete`, async () => {
    const c = await queue.getJobCounts();
    return c.waiting === 0 && c.active === 0 && processed.length >= waiting.length;
  });
  const states = {};
  for (const id of waiting) {
    states[id] = await (await queue.getJob(id)).getState();
  }
  return { waiting, processed, states, counts: await queue.getJobCounts() };
}

async function repeat(closer, args) {
  const queue = open(closer, args, args.queue);
  const end = Date.UTC(2099, 0, 1);
  await queue.add('nightly', { report: 'daily' }, { repeat: { cron: '0 3 * * *', tz: 'Europe/Paris' } });
  await queue.add('hourly', { n: 1 }, { repeat: { cron: '15 * * * *', endDate: end }, jobId: 'sweep' });
  await queue.add('heartbeat', { n: 2 }, { repeat: { every: 90_000 } });
  await queue.add({ plain: true }, { repeat: { every: 3_600_000, endDate: end } });
  const repeatable = await queue.getRepeatableJobs(0, -1, true);
  const delayed = (await queue.getJobs(['delayed'], 0, -1, true)).map((j) => ({
    id: String(j.id),
    name: j.name,
    data: j.data,
    repeatKey: j.opts.repeat && j.opts.repeat.key,
  }));
  return { repeatable, delayed };
}

async function metrics(closer, args) {
  const queue = closer.add(new Bull(args.queue, args.redis, {
    prefix: args.prefix,
    metrics: { maxDataPoints: 60 },
  }));
  queue.process(async (job) => {
    if (job.data.fail) throw new Error('metrics failure');
    return 'ok';
  });
  for (let n = 0; n < 5; n++) {
    await queue.add({ n, fail: n >= 3 });
  }
  await waitUntil('3 completed and 2 failed jobs', async () => {
    const c = await queue.getJobCounts();
    return c.completed === 3 && c.failed === 2;
  });
  return {
    completed: await queue.getMetrics('completed'),
    failed: await queue.getMetrics('failed'),
  };
}

async function fail(closer, args) {
  const queue = open(closer, args, args.queue);
  queue.process('*', async (job) => {
    throw new Error(`pre-diagnosis failed for case ${job.data.n}`);
  });
  const job = await queue.add('diagnose', { n: 7 }, { attempts: 2 });
  await waitUntil('the job to fail for good', async () => (await job.getState()) === 'failed');
  const failed = await queue.getJob(job.id);
  return { id: String(job.id), finishedOn: failed.finishedOn, attemptsMade: failed.attemptsMade };
}

async function stall(closer, args) {
  // The first worker takes the job and never finishes it, with a lock it never renews; it is
  // closed without waiting for the job, so the job stays in `active` with an expiring lock.
  const settings = { lockDuration: 300, lockRenewTime: 3_600_000, stalledInterval: 0 };
  const first = new Bull(args.queue, args.redis, { prefix: args.prefix, settings });
  const job = await first.add('stuck', { n: 1 });
  let started;
  const taken = new Promise((resolve) => { started = resolve; });
  first.process('*', () => { started(); return new Promise(() => {}); });
  await taken;
  await first.close(true);
  // Bull's own stalled-jobs check, as any worker of the queue runs it: the first pass marks
  // the active job, a later one (its lock gone) moves it back to `wait`.
  const checker = open(closer, args, args.queue);
  checker.settings.stalledInterval = 50;
  await waitUntil('the job to be moved back to wait', async () => {
    await checker.moveUnlockedJobsToWait();
    const counter = await checker.client.hget(checker.toKey(String(job.id)), 'stalledCounter');
    return counter === '1' && (await (await checker.getJob(job.id)).getState()) === 'waiting';
  });
  // On a second queue (NAME-retried), a job that failed and was retried with Bull's own
  // `Job#retry`, with no worker left to take it: waiting, with `retriedOn`.
  const failing = open(closer, args, `${args.queue}-retried`);
  failing.process('*', async () => { throw new Error('first try failed'); });
  const retried = await failing.add('again', { n: 2 }, { jobId: 'retried-1' });
  await waitUntil('the job to fail', async () => (await retried.getState()) === 'failed');
  await failing.close();
  const reopened = open(closer, args, `${args.queue}-retried`);
  await (await reopened.getJob('retried-1')).retry();
  return { id: String(job.id), retried: 'retried-1' };
}

run('bull.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'step'],
    optional: ['queue'],
  });
  const steps = { seed, report, work, repeat, metrics, fail, stall };
  const step = steps[args.step];
  if (!step) throw new UsageError(`unknown step ${args.step}`);
  if (args.step !== 'seed' && !args.queue) throw new UsageError('--queue is required');
  const out = await step(closer, args);
  const version = require('bull/package.json').version;
  process.stdout.write(JSON.stringify({ ok: true, bull: version, ...out }) + '\n');
});
