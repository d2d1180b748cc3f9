'use strict';

// Twin Bull 3/4 queues for bullring's Bull action tests, written and acted on by the real npm
// `bull` (4.16.5).
//
//   node bull_twin.js --redis URL --prefix P --step seed --queue A,B
//       seeds each named queue the same way, one after the other: 2 completed jobs, 3 failed
//       ones, waiting jobs (plain, priority, LIFO), delayed jobs (plain and priority) and an
//       hourly repeatable job.
//   node bull_twin.js --redis URL --prefix P --step act --queue NAME --action A [--id ID] [--arg JSON]
//       does A with Bull's own method: retry, promote, remove, edit (Job#update with --arg),
//       add (Queue#add with --arg {name, data, opts}), retry-failed (Queue#retryJobs),
//       promote-delayed (Job#promote on each delayed job, earliest first, as Bull Board does),
//       clean (Queue#clean with --arg {grace, type, limit}), pause, resume, obliterate
//       (Queue#obliterate({force: true})), remove-repeatable (Queue#removeRepeatableByKey(--id)).
//   node bull_twin.js --redis URL --prefix P --step idle --queue NAME
//       starts a Bull worker and waits until it blocks on the queue's `wait` list (so it found
//       no job to take), then prints what it processed (nothing, on a paused queue) and the
//       counts.
//   node bull_twin.js --redis URL --prefix P --step repeatables --queue NAME
//       prints Queue#getRepeatableJobs().
//
// Prints one JSON line: {"ok": true, ...}.

const Bull = require('bull');
const { parseArgs, run, waitUntil, UsageError } = require('./lib');

const HOUR = 3_600_000;

function open(closer, args, name) {
  return closer.add(new Bull(name, args.redis, { prefix: args.prefix }));
}

async function seedOne(closer, args, name) {
  const worker = open(closer, args, name);
  worker.process('*', 1, async (job) => {
    if (job.data.kind === 'fail') {
      throw new Error(`model unavailable for case ${job.data.n}`);
    }
    await job.log(`diagnosed case ${job.data.n}`);
    return { score: job.data.n * 10 };
  });
  for (const n of [1, 2]) {
    await worker.add('diagnose', { kind: 'ok', n }, { jobId: `done-${n}` });
  }
  for (const n of [1, 2, 3]) {
    await worker.add('diagnose', { kind: 'fail', n }, { jobId: `fail-${n}` });
  }
  await waitUntil('2 completed and 3 failed jobs', async () => {
    const c = await worker.getJobCounts();
    return c.completed === 2 && c.failed === 3;
  });
  await worker.close();

  const queue = open(closer, args, name);
  await queue.add('diagnose', { n: 10 });
  await queue.add('urgent', { n: 11 }, { priority: 2 });
  await queue.add('diagnose', { n: 12 }, { jobId: 'order-42' });
  await queue.add('urgent', { n: 13 }, { priority: 1, jobId: 'prio-1' });
  await queue.add('diagnose', { n: 14 }, { lifo: true, jobId: 'lifo-1' });
  await queue.add('diagnose', { n: 15 }, { attempts: 3, backoff: { type: 'exponential', delay: 2000 } });
  await queue.add('later', { n: 16 }, { delay: HOUR, jobId: 'later-1' });
  await queue.add('later', { n: 17 }, { delay: 2 * HOUR, priority: 1, jobId: 'later-p' });
  await queue.add('later', { n: 18 }, { delay: 3 * HOUR });
  await queue.add('tick', { every: 'day' }, { repeat: { every: 24 * HOUR } });
}

async function seed(closer, args) {
  for (const name of args.queue.split(',')) {
    await seedOne(closer, args, name);
  }
  return {};
}

async function act(closer, args) {
  const queue = open(closer, args, args.queue);
  const arg = args.arg ? JSON.parse(args.arg) : {};
  const job = async () => {
    const found = await queue.getJob(args.id);
    if (!found) throw new Error(`no job ${args.id}`);
    return found;
  };
  switch (args.action) {
    case 'retry': await (await job()).retry(); break;
    case 'promote': await (await job()).promote(); break;
    case 'remove': await (await job()).remove(); break;
    case 'edit': await (await job()).update(arg); break;
    case 'add': {
      const added = await queue.add(arg.name, arg.data, arg.opts);
      return { id: String(added.id) };
    }
    case 'retry-failed': await queue.retryJobs({ count: 1000 }); break;
    case 'promote-delayed':
      for (const delayed of await queue.getJobs(['delayed'], 0, -1, true)) {
        await delayed.promote();
      }
      break;
    case 'clean': return { cleaned: (await queue.clean(arg.grace, arg.type, arg.limit)).length };
    case 'pause': await queue.pause(); break;
    case 'resume': await queue.resume(); break;
    case 'obliterate': await queue.obliterate({ force: true }); break;
    case 'remove-repeatable': await queue.removeRepeatableByKey(args.id); break;
    default: throw new UsageError(`unknown action ${args.action}`);
  }
  return {};
}

async function idle(closer, args) {
  const queue = open(closer, args, args.queue);
  const processed = [];
  queue.process('*', async (job) => {
    processed.push(String(job.id));
    return {};
  });
  const waitKey = `${args.prefix}:${args.queue}:wait`;
  // A Bull worker blocks on BRPOPLPUSH wait -> active only when `wait` has nothing for it.
  await waitUntil('the worker to block on an empty wait list', async () => {
    const clients = await queue.client.client('LIST');
    return clients.split('\n').some((line) => /\bcmd=brpoplpush\b/.test(line) && /\bflags=b\b/.test(line));
  });
  const counts = await queue.getJobCounts();
  return { processed, counts, waitKey };
}

async function repeatables(closer, args) {
  const queue = open(closer, args, args.queue);
  return { repeatables: await queue.getRepeatableJobs() };
}

run('bull_twin.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'step', 'queue'],
    optional: ['action', 'id', 'arg'],
  });
  const steps = { seed, act, idle, repeatables };
  const step = steps[args.step];
  if (!step) throw new UsageError(`unknown step ${args.step}`);
  const out = await step(closer, args);
  const version = require('bull/package.json').version;
  process.stdout.write(JSON.stringify({ ok: true, bull: version, ...out }) + '\n');
});
