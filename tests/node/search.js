#!/usr/bin/env node
'use strict';

// search.js --redis URL --prefix P --bullmq 5|6 --step seed|find|export [--queue Q] [--n N]
//           [--states a,b] [--queries JSON]
//
// The Node side of bullring's search tests (tests/it/search.rs):
//   seed    writes queue Q with N jobs through a real Worker: failed ones (some after 2 attempts)
//           and completed ones, then waiting and delayed ones; prints {"ok":true,"bullmq":..}
//   find    what users do today: getJobs([state], 0, -1) and a filter in memory, for each query
//           of the JSON array --queries (the query language of the README, implemented here
//           on its own); prints {"ok":true,"results":{"<query>":{"<state>":[ids...]}}}
//   export  every job of --states as Node's Job has it (name, data, opts): {"ok":true,"jobs":[..]}

const { parseArgs, loadBullmq, connectionOptions, waitUntil, run } = require('./lib');

const args = parseArgs(process.argv.slice(2), {
  required: ['redis', 'prefix', 'bullmq', 'step'],
  optional: ['queue', 'n', 'states', 'queries'],
});
const { bullmq, version } = loadBullmq(args.bullmq);
const connection = connectionOptions(args.redis);
const queueName = args.queue || 'search';

// ---------------------------------------------------------------------------
// The query language, read on its own (not a port of bullring's parser).
// ---------------------------------------------------------------------------
function splitTerms(text) {
  const terms = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === '\\' && quoted) {
      cur += c + (text[++i] || '');
    } else if (/\s/.test(c) && !quoted) {
      if (cur) terms.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  if (cur) terms.push(cur);
  return terms;
}

function unquote(raw) {
  let out = '';
  let quoted = false;
  let starQuoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '"') quoted = !quoted;
    else if (c === '\\' && quoted) {
      out += raw[++i];
      starQuoted = true;
    } else {
      out += c;
      starQuoted = quoted;
    }
  }
  return { value: out, starQuoted };
}

function toMs(text) {
  if (/^\d+$/.test(text)) return Number(text);
  const withZone = /T/.test(text) ? `${text}Z` : `${text}T00:00:00Z`;
  const ms = Date.parse(withZone);
  if (Number.isNaN(ms)) throw new Error(`bad time ${text}`);
  return ms;
}

const CMP = {
  '>=': (a, b) => a >= b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '<': (a, b) => a < b,
  ':': (a, b) => a === b,
  '=': (a, b) => a === b,
};

function textMatcher(value, starQuoted) {
  if (value.endsWith('*') && !starQuoted) {
    const prefix = value.slice(0, -1);
    return (s) => typeof s === 'string' && s.startsWith(prefix);
  }
  return (s) => s === value;
}

function predicate(term) {
  const m = /^([A-Za-z0-9_.-]+)(>=|<=|>|<|=|:)(.*)$/s.exec(term);
  if (!m) throw new Error(`bad term ${term}`);
  const [, key, op, rest] = m;
  const { value, starQuoted } = unquote(rest);
  const cmp = CMP[op];
  switch (key) {
    case 'name': {
      const t = textMatcher(value, starQuoted);
      return (job) => t(job.name);
    }
    case 'id': {
      const t = textMatcher(value, starQuoted);
      return (job) => t(String(job.id));
    }
    case 'data':
      return (job) => JSON.stringify(job.data).includes(value);
    case 'reason':
      return (job) =>
        (job.failedReason || '').includes(value) ||
        (job.stacktrace || []).some((line) => String(line).includes(value));
    case 'result':
      return (job) => job.returnvalue != null && JSON.stringify(job.returnvalue).includes(value);
    case 'added':
      return (job) => job.timestamp != null && cmp(job.timestamp, toMs(value));
    case 'processed':
      return (job) => job.processedOn != null && cmp(job.processedOn, toMs(value));
    case 'finished':
      return (job) => job.finishedOn != null && cmp(job.finishedOn, toMs(value));
    case 'attempts':
      return (job) => cmp(job.attemptsMade || 0, Number(value));
    default: {
      if (!key.startsWith('data.')) throw new Error(`unknown field ${key}`);
      const path = key.slice('data.'.length).split('.');
      return (job) => {
        let at = job.data;
        for (const part of path) {
          if (at === null || typeof at !== 'object') return false;
          at = at[part];
        }
        if (at === undefined) return false;
        const text = typeof at === 'string' ? at : JSON.stringify(at);
        return text === value;
      };
    }
  }
}

function compile(query) {
  const tests = splitTerms(query).map(predicate);
  return (job) => tests.every((t) => t(job));
}

// ---------------------------------------------------------------------------

async function seed(closer) {
  const n = Number(args.n || 120);
  const { Queue, Worker } = bullmq;
  const queue = closer.add(new Queue(queueName, { connection, prefix: args.prefix }));
  const jobs = [];
  for (let i = 0; i < n; i++) {
    const name = ['send-email', 'send-sms', 'resize'][i % 3];
    const data = {
      user: { id: i % 7, name: i % 2 ? 'ada' : 'bob' },
      to: i % 5 === 0 ? `ada${i}@example.com` : `bob${i}@x`,
      n: i,
    };
    const opts = { attempts: i % 5 === 0 ? 2 : 1 };
    if (i % 4 === 0) opts.jobId = `attachment-${i}`;
    jobs.push({ name, data, opts });
  }
  await queue.addBulk(jobs);
  let done = 0;
  const worker = closer.add(
    new Worker(
      queueName,
      async (job) => {
        const i = job.data.n;
        if (i % 2 === 0) {
          throw new Error(i % 3 === 0 ? `timeout after ${i} ms` : `bad input ${i}`);
        }
        return { status: i % 4 === 1 ? 500 : 200, n: i };
      },
      { connection, prefix: args.prefix, concurrency: 4 },
    ),
  );
  worker.on('completed', () => done++);
  worker.on('failed', (job) => {
    if (job.attemptsMade >= (job.opts.attempts || 1)) done++;
  });
  await waitUntil(`${n} jobs finished`, async () => done >= n, { timeoutMs: 50_000 });
  await worker.close();
  const later = [];
  for (let i = n; i < n + 30; i++) {
    later.push({
      name: i % 2 ? 'send-email' : 'resize',
      data: { user: { id: i % 7 }, n: i },
      opts: i % 3 === 0 ? { delay: 3_600_000 } : {},
    });
  }
  await queue.addBulk(later);
  process.stdout.write(JSON.stringify({ ok: true, bullmq: version }) + '\n');
}

async function find(closer) {
  const queue = closer.add(new bullmq.Queue(queueName, { connection, prefix: args.prefix }));
  const queries = JSON.parse(args.queries || '[]');
  const states = (args.states || 'failed').split(',');
  const byState = {};
  for (const state of states) {
    byState[state] = (await queue.getJobs([state], 0, -1, false)).filter(Boolean);
  }
  const results = {};
  for (const query of queries) {
    const test = compile(query);
    results[query] = {};
    for (const state of states) {
      results[query][state] = byState[state].filter(test).map((job) => String(job.id));
    }
  }
  process.stdout.write(JSON.stringify({ ok: true, results }) + '\n');
}

async function exportJobs(closer) {
  const queue = closer.add(new bullmq.Queue(queueName, { connection, prefix: args.prefix }));
  const states = (args.states || 'failed').split(',');
  const jobs = [];
  for (const state of states) {
    for (const job of (await queue.getJobs([state], 0, -1, false)).filter(Boolean)) {
      jobs.push({ id: String(job.id), name: job.name, data: job.data, opts: job.opts });
    }
  }
  process.stdout.write(JSON.stringify({ ok: true, jobs }) + '\n');
}

run('search.js', async (closer) => {
  if (args.step === 'seed') return seed(closer);
  if (args.step === 'find') return find(closer);
  if (args.step === 'export') return exportJobs(closer);
  throw new Error(`unknown step ${args.step}`);
});
