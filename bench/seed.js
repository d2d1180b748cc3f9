#!/usr/bin/env node
'use strict';

// bench/seed.js --redis URL --prefix P [--scale S]
//
// Seeds the fixture of bench/run.sh with the real npm BullMQ 6 (bench/node_modules):
//
//   q00 .. q09  each 50,000 completed, 5,000 failed (with a stack trace), 2,000 delayed and
//               10,000 waiting jobs
//   big         1,000,000 completed jobs
//   small       10,000 completed jobs (the "10,000-job queue" that `big` is compared with)
//
// every count multiplied by --scale (default 1). How it stays within a few minutes:
//
//   1. waiting, delayed and failed jobs, and the first 1,000 completed jobs of each queue, are
//      added by BullMQ itself with `Queue.addBulk` (1,000 per call; delayed ones with a one-day
//      `delay`, so they stay delayed);
//   2. the jobs meant to be failed or completed are then moved straight out of `wait` by a Lua
//      script (MOVE below), 1,000 per call: it writes what a worker would have left behind
//      (processedOn, finishedOn, atm / ats, failedReason and a Node-style stack trace, or a
//      returnvalue) and ZADDs the id to `failed` / `completed` with finishedOn as the score;
//   3. the remaining completed jobs (49,000 per queue, 999,000 for `big`) are clones of the
//      first completed job BullMQ made: a second Lua script (CLONE) takes a block of ids from the
//      queue's `id` counter (INCRBY, as BullMQ's own adds would) and writes 2,000 job hashes with
//      that job's fields plus their own timestamps, and one ZADD of 2,000 members, per call;
//      four calls are kept in flight on one pipelined connection.
//
// So every job hash has exactly the fields BullMQ writes, the ids follow the queue's counter, and
// Node's getJobCounts / getJobs read the result as usual. Prints one JSON line: the counts
// BullMQ reports for every queue, and the seconds taken.

const { Queue } = require('bullmq');
const IORedis = require('ioredis');

const ADD_BATCH = 1000;
const CLONE_BATCH = 2000;
const IN_FLIGHT = 4;
const HOUR = 60 * 60 * 1000;

const STACK = [
  'Error: connect ECONNREFUSED 10.0.3.7:5432',
  '    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1607:16)',
  '    at Client._connectionCallback (/srv/app/node_modules/pg/lib/client.js:131:24)',
  '    at Pool.acquire (/srv/app/src/db/pool.js:58:17)',
  '    at async sendInvoice (/srv/app/src/jobs/invoices.js:112:5)',
  '    at async Worker.processJob (/srv/app/node_modules/bullmq/dist/cjs/classes/worker.js:455:28)',
  '    at async Worker.retryIfFailed (/srv/app/node_modules/bullmq/dist/cjs/classes/worker.js:640:24)',
].join('\n');

// KEYS: wait, target set. ARGV: count, finishedOn of the first job, 'failed' | 'completed',
// job key prefix, failedReason, stacktrace JSON, returnvalue JSON.
const MOVE = `
local ids = redis.call('RPOP', KEYS[1], tonumber(ARGV[1]))
if not ids then return 0 end
local t0 = tonumber(ARGV[2])
for i, id in ipairs(ids) do
  local key = ARGV[4] .. id
  local t = t0 + i
  if ARGV[3] == 'failed' then
    redis.call('HSET', key, 'timestamp', t - 1000, 'processedOn', t - 40, 'finishedOn', t, 'atm', 1, 'ats', 1,
      'failedReason', ARGV[5], 'stacktrace', ARGV[6])
  else
    redis.call('HSET', key, 'timestamp', t - 1000, 'processedOn', t - 40, 'finishedOn', t, 'atm', 1, 'ats', 1,
      'returnvalue', ARGV[7])
  end
  redis.call('ZADD', KEYS[2], t, id)
end
return #ids
`;

// KEYS: id counter, target set. ARGV: count, finishedOn of the first clone, job key prefix,
// then the template's field/value pairs (without the per-job times).
const CLONE = `
local n = tonumber(ARGV[1])
local t0 = tonumber(ARGV[2])
local last = redis.call('INCRBY', KEYS[1], n)
local first = last - n + 1
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
local members = {}
for id = first, last do
  local t = t0 + (id - first)
  redis.call('HSET', ARGV[3] .. id, 'timestamp', t - 1000, 'processedOn', t - 40,
    'finishedOn', t, unpack(fields))
  members[#members + 1] = t
  members[#members + 1] = id
end
redis.call('ZADD', KEYS[2], unpack(members))
return n
`;

function parseArgs(argv) {
  const out = { scale: '1' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['redis', 'prefix', 'scale'].includes(key) || argv[i + 1] === undefined) {
      throw new Error(`usage: seed.js --redis URL --prefix P [--scale S] (bad argument ${argv[i]})`);
    }
    out[key] = argv[i + 1];
  }
  if (!out.redis || !out.prefix) throw new Error('--redis and --prefix are required');
  out.scale = Number(out.scale);
  if (!(out.scale > 0 && out.scale <= 1)) throw new Error('--scale must be in (0, 1]');
  return out;
}

function payload(kind, n) {
  return {
    kind,
    n,
    customer: `cus_${(n * 7919) % 100000}`,
    invoice: { id: `in_${n}`, amount: (n % 1000) * 13, currency: 'eur' },
    note: 'a small payload like real jobs carry',
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sized = (n) => Math.max(1, Math.round(n * args.scale));
  const plan = [];
  for (let i = 0; i < 10; i++) {
    plan.push({
      name: `q${String(i).padStart(2, '0')}`,
      completed: sized(50_000),
      failed: sized(5_000),
      delayed: sized(2_000),
      waiting: sized(10_000),
    });
  }
  plan.push({ name: 'big', completed: sized(1_000_000), failed: 0, delayed: 0, waiting: 0 });
  plan.push({ name: 'small', completed: sized(10_000), failed: 0, delayed: 0, waiting: 0 });

  const raw = new IORedis(args.redis, { maxRetriesPerRequest: null });
  raw.defineCommand('benchMove', { numberOfKeys: 2, lua: MOVE });
  raw.defineCommand('benchClone', { numberOfKeys: 2, lua: CLONE });
  const connection = new IORedis(args.redis, { maxRetriesPerRequest: null });
  const started = Date.now();
  // Finished jobs look two hours old, in the order they were moved.
  let clock = started - 2 * HOUR;
  const report = {};

  for (const spec of plan) {
    const queue = new Queue(spec.name, { connection, prefix: args.prefix });
    const base = `${args.prefix}:${spec.name}`;
    let n = 0;
    const addThenMove = async (state, total) => {
      for (let done = 0; done < total; done += ADD_BATCH) {
        const count = Math.min(ADD_BATCH, total - done);
        const jobs = [];
        for (let i = 0; i < count; i++) {
          jobs.push({ name: state === 'failed' ? 'send-invoice' : 'render-report', data: payload(state, n++) });
        }
        await queue.addBulk(jobs);
        const moved = await raw.benchMove(`${base}:wait`, `${base}:${state}`, count, clock, state,
          `${base}:`, 'connect ECONNREFUSED 10.0.3.7:5432', JSON.stringify([STACK]),
          JSON.stringify({ ok: true, pages: 3 }));
        if (moved !== count) throw new Error(`${spec.name}: moved ${moved} of ${count} jobs to ${state}`);
        clock += count + 1;
      }
    };
    const add = async (name, total, opts) => {
      for (let done = 0; done < total; done += ADD_BATCH) {
        const count = Math.min(ADD_BATCH, total - done);
        const jobs = [];
        for (let i = 0; i < count; i++) jobs.push({ name, data: payload(name, n++), opts });
        await queue.addBulk(jobs);
      }
    };

    await addThenMove('failed', spec.failed);
    const real = Math.min(spec.completed, ADD_BATCH);
    await addThenMove('completed', real);
    const clones = spec.completed - real;
    if (clones > 0) {
      const newest = await raw.zrevrange(`${base}:completed`, 0, 0);
      const template = await raw.hgetall(`${base}:${newest[0]}`);
      for (const field of ['timestamp', 'processedOn', 'finishedOn']) delete template[field];
      const pairs = Object.entries(template).flat();
      const inFlight = [];
      for (let done = 0; done < clones; done += CLONE_BATCH) {
        const count = Math.min(CLONE_BATCH, clones - done);
        inFlight.push(raw.benchClone(`${base}:id`, `${base}:completed`, count, clock, `${base}:`, ...pairs));
        clock += count;
        if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
      }
      await Promise.all(inFlight);
    }
    await add('reminder', spec.delayed, { delay: 24 * HOUR });
    await add('render-report', spec.waiting);

    const counts = await queue.getJobCounts('waiting', 'delayed', 'completed', 'failed');
    const want = { waiting: spec.waiting, delayed: spec.delayed, completed: spec.completed, failed: spec.failed };
    for (const [state, count] of Object.entries(want)) {
      if (counts[state] !== count) {
        throw new Error(`${spec.name}: BullMQ counts ${counts[state]} ${state} jobs, expected ${count}`);
      }
    }
    report[spec.name] = counts;
    await queue.close();
  }
  await connection.quit();
  await raw.quit();
  process.stdout.write(JSON.stringify({ ok: true, queues: report, seconds: (Date.now() - started) / 1000 }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`seed.js: ${err.stack || err}\n`);
  process.exit(1);
});
