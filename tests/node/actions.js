#!/usr/bin/env node
'use strict';

// actions.js --redis URL --prefix P --bullmq 5|6 --step seed|report|work [--queues a,b] [--jobs q/id,...]
//
// The Node side of bullring's action tests (tests/it/actions.rs):
//   seed    writes the action fixture (README.md, "actions.js") with the real BullMQ and prints
//           {"ok":true,"bullmq":"<version>","queues":[...]}
//   report  what BullMQ's own API says afterwards: per queue isPaused() and getJobCounts(), per
//           job getState(), name, data, opts, attemptsMade, returnvalue. Read-only.
//   work    starts a Worker on the queues of --jobs, waits until every listed job is completed
//           (fails at once if one fails), closes the workers and prints the jobs as in report.

const {
  parseArgs,
  loadBullmq,
  connectionOptions,
  connectRaw,
  waitUntil,
  run,
  UsageError,
  COUNT_STATES,
} = require('./lib');

const HOUR_MS = 60 * 60 * 1000;
const TOKEN = 'bullring-actions-token';

// Every fixture queue: the ids that end up in each state. Job names are the state's ("fail" for
// failed, "ok" for completed ...), data {id}, unless SPECIAL says otherwise.
const FIXTURE = {
  jobs: {
    failed: ['fail-1', 'fail-2', 'fail-3'],
    completed: ['done-1', 'done-2'],
    delayed: ['later-1', 'later-2', 'later-3'],
    waiting: ['wait-1', 'edit-1', 'dup-1'],
    prioritized: ['prio-1'],
  },
  bulk: {
    failed: ['b-1', 'b-2', 'b-3'],
    delayed: ['b-4', 'b-5'],
    waiting: ['b-6', 'b-7'],
  },
  cleaning: {
    completed: ['c-1', 'c-2', 'c-3', 'c-4', 'c-5'],
    failed: ['cf-1', 'cf-2', 'cf-3'],
  },
  draining: {
    waiting: ['d-1', 'd-2', 'd-3'],
    prioritized: ['d-4'],
    delayed: ['d-5', 'd-6'],
  },
  doomed: {
    active: ['o-1'],
    waiting: ['o-2', 'o-3'],
    delayed: ['o-4'],
  },
  'pause-a': { waiting: ['pa-1'] },
  'pause-b': { waiting: ['pb-1'] },
  adding: { waiting: ['seed-1'] },
};

// Flow: parents p-1 and p-2 in "parents", each with two children in "children".
const FLOWS = [
  { id: 'p-1', children: ['k-1', 'k-2'] },
  { id: 'p-2', children: ['k-3', 'k-4'] },
];

const SPECIAL = {
  'edit-1': { name: 'edit-me', data: { version: 1 } },
  'dup-1': {
    name: 'mail',
    data: { to: 'ops@example.com', n: 7 },
    opts: { attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: 5 },
  },
};

const NAMES = { failed: 'fail', completed: 'ok', delayed: 'later', waiting: 'wait', prioritized: 'prio', active: 'busy' };

function splitJobs(spec) {
  return (spec || '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const slash = s.indexOf('/');
      if (slash <= 0 || slash === s.length - 1) {
        throw new UsageError(`bad --jobs entry ${JSON.stringify(s)}, expected queue/id`);
      }
      return { queue: s.slice(0, slash), id: s.slice(slash + 1) };
    });
}

function splitList(spec) {
  return (spec || '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

async function describe(queue, id) {
  const state = await queue.getJobState(id);
  const job = await queue.getJob(id);
  if (!job) return { state };
  return {
    state,
    name: job.name,
    data: job.data,
    opts: job.opts,
    attemptsMade: job.attemptsMade,
    returnvalue: job.returnvalue,
    failedReason: job.failedReason,
    parentKey: job.parentKey,
  };
}

async function seed(bullmq, connection, prefix, closer) {
  const { Queue, Worker, FlowProducer } = bullmq;
  const raw = closer.add(await connectRaw(connection.url));
  const all = [...Object.keys(FIXTURE), 'parents', 'children'];
  for (const name of all) {
    if ((await raw.exists(`${prefix}:${name}:meta`, `${prefix}:${name}:id`)) > 0) {
      throw new Error(`queue ${prefix}:${name} already exists; use a fresh prefix`);
    }
  }
  const add = (queue, id, state, extra = {}) => {
    const special = SPECIAL[id] || {};
    const opts = { jobId: id, ...(special.opts || {}), ...extra };
    return queue.add(special.name || NAMES[state], special.data || { id }, opts);
  };

  for (const [name, states] of Object.entries(FIXTURE)) {
    const queue = closer.add(new Queue(name, { connection, prefix }));
    // 1. The jobs that must be taken into active, while they are the only waiting ones.
    if (states.active) {
      for (const id of states.active) await add(queue, id, 'active');
      const manual = closer.add(
        new Worker(name, undefined, { connection, prefix, autorun: false, lockDuration: HOUR_MS }),
      );
      for (const id of states.active) {
        const job = await manual.getNextJob(TOKEN, { block: false });
        if (!job || job.id !== id) throw new Error(`${name}: expected to take ${id}, got ${job && job.id}`);
      }
      await manual.close();
    }
    // 2. Failed and completed: processed by a worker while nothing else waits.
    const failed = states.failed || [];
    const completed = states.completed || [];
    if (failed.length + completed.length > 0) {
      for (const id of failed) await add(queue, id, 'failed');
      for (const id of completed) await add(queue, id, 'completed');
      const worker = closer.add(
        new Worker(
          name,
          async (job) => {
            if (job.name === 'fail') throw new Error(`boom ${job.id}`);
            return { done: job.id };
          },
          { connection, prefix },
        ),
      );
      await waitUntil(`${name}: ${failed.length} failed, ${completed.length} completed`, async () => {
        const c = await queue.getJobCounts('completed', 'failed');
        return c.completed === completed.length && c.failed === failed.length;
      });
      await worker.close();
    }
    // 3. Jobs that stay where they are added.
    for (const id of states.waiting || []) await add(queue, id, 'waiting');
    for (const id of states.delayed || []) await add(queue, id, 'delayed', { delay: HOUR_MS });
    for (const id of states.prioritized || []) await add(queue, id, 'prioritized', { priority: 5 });
  }

  closer.add(new Queue('parents', { connection, prefix }));
  closer.add(new Queue('children', { connection, prefix }));
  const flow = closer.add(new FlowProducer({ connection, prefix }));
  for (const f of FLOWS) {
    await flow.add({
      name: 'parent',
      queueName: 'parents',
      data: { id: f.id },
      opts: { jobId: f.id },
      children: f.children.map((id) => ({ name: 'child', queueName: 'children', data: { id }, opts: { jobId: id } })),
    });
  }

  // Self-check: every listed job is in its state.
  const queues = Object.fromEntries(
    all.map((name) => [name, closer.add(new Queue(name, { connection, prefix, skipMetasUpdate: true }))]),
  );
  const wrong = [];
  for (const [name, states] of Object.entries(FIXTURE)) {
    for (const [state, ids] of Object.entries(states)) {
      for (const id of ids) {
        const got = await queues[name].getJobState(id);
        if (got !== state) wrong.push(`${name}/${id} is ${got}, expected ${state}`);
      }
    }
  }
  for (const f of FLOWS) {
    const got = await queues.parents.getJobState(f.id);
    if (got !== 'waiting-children') wrong.push(`parents/${f.id} is ${got}`);
  }
  if (wrong.length > 0) throw new Error(`fixture is not as documented: ${wrong.join('; ')}`);
  return all;
}

async function report(bullmq, connection, prefix, queueNames, jobs, closer) {
  const open = {};
  const queue = (name) => {
    if (!open[name]) {
      open[name] = closer.add(new bullmq.Queue(name, { connection, prefix, skipMetasUpdate: true }));
    }
    return open[name];
  };
  const queues = {};
  for (const name of queueNames) {
    queues[name] = {
      paused: await queue(name).isPaused(),
      counts: await queue(name).getJobCounts(...COUNT_STATES),
    };
  }
  const described = {};
  for (const { queue: name, id } of jobs) {
    described[`${name}/${id}`] = await describe(queue(name), id);
  }
  return { queues, jobs: described };
}

async function work(bullmq, connection, prefix, jobs, closer) {
  const { Queue, Worker } = bullmq;
  const names = [...new Set(jobs.map((j) => j.queue))];
  const queues = {};
  for (const name of names) {
    queues[name] = closer.add(new Queue(name, { connection, prefix, skipMetasUpdate: true }));
    closer.add(new Worker(name, async (job) => ({ worked: job.id, by: 'node' }), { connection, prefix }));
  }
  await waitUntil(`jobs ${jobs.map((j) => `${j.queue}/${j.id}`).join(', ')} completed`, async () => {
    for (const { queue: name, id } of jobs) {
      const state = await queues[name].getJobState(id);
      if (state === 'failed') throw new Error(`${name}/${id} failed in the Node worker`);
      if (state !== 'completed') return false;
    }
    return true;
  });
  const described = {};
  for (const { queue: name, id } of jobs) {
    described[`${name}/${id}`] = await describe(queues[name], id);
  }
  return described;
}

run('actions.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'bullmq', 'step'],
    optional: ['queues', 'jobs'],
  });
  const { bullmq, version } = loadBullmq(args.bullmq);
  const connection = connectionOptions(args.redis);
  closer.add(await connectRaw(args.redis));
  let out;
  switch (args.step) {
    case 'seed':
      out = { ok: true, bullmq: version, queues: await seed(bullmq, connection, args.prefix, closer) };
      break;
    case 'report':
      out = {
        ok: true,
        bullmq: version,
        ...(await report(bullmq, connection, args.prefix, splitList(args.queues), splitJobs(args.jobs), closer)),
      };
      break;
    case 'work':
      out = { ok: true, bullmq: version, jobs: await work(bullmq, connection, args.prefix, splitJobs(args.jobs), closer) };
      break;
    default:
      throw new UsageError(`--step must be seed, report or work, got ${JSON.stringify(args.step)}`);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
