#!/usr/bin/env node
'use strict';

// report.js --redis URL --prefix P --bullmq 5|6 [--queues prefix1/name1,prefix2/name2,...]
//
// Reads queues through the real BullMQ API and prints ONE JSON line:
//   {"bullmq":"<version>","queues":[{prefix,name,paused,counts,ids,jobs,schedulers}, ...]}
// Read-only: Queue objects are created with skipMetasUpdate, and only getters
// are called. Without --queues, the queues seed.js creates for --prefix are
// reported. In --queues each entry is split at its LAST "/" (prefix/name).

const {
  parseArgs,
  loadBullmq,
  connectionOptions,
  connectRaw,
  run,
  fixtureQueues,
  UsageError,
  COUNT_STATES: STATES,
} = require('./lib');

function parseQueues(spec) {
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const slash = s.lastIndexOf('/');
      if (slash <= 0 || slash === s.length - 1) {
        throw new UsageError(`bad --queues entry ${JSON.stringify(s)}, expected prefix/name`);
      }
      return { prefix: s.slice(0, slash), name: s.slice(slash + 1) };
    });
}

async function summarize(queue, job) {
  const id = String(job.id);
  return {
    id,
    name: job.name,
    data: job.data,
    opts: job.opts,
    progress: job.progress,
    returnvalue: job.returnvalue,
    stacktrace: job.stacktrace,
    attemptsMade: job.attemptsMade,
    attemptsStarted: job.attemptsStarted,
    failedReason: job.failedReason,
    timestamp: job.timestamp,
    processedOn: job.processedOn,
    finishedOn: job.finishedOn,
    delay: job.delay,
    priority: job.priority,
    parentKey: job.parentKey,
    repeatJobKey: job.repeatJobKey,
    deduplicationId: job.deduplicationId,
    state: await job.getState(),
    logs: (await queue.getJobLogs(id)).logs,
  };
}

async function reportQueue(Queue, connection, { prefix, name }) {
  const queue = new Queue(name, { connection, prefix, skipMetasUpdate: true });
  queue.on('error', (err) => process.stderr.write(`queue ${prefix}:${name} error: ${err && err.message}\n`));
  try {
    const counts = await queue.getJobCounts(...STATES);
    const ids = {};
    const jobs = {};
    for (const state of STATES) {
      const list = (await queue.getJobs([state], 0, -1)).filter(Boolean);
      ids[state] = list.map((job) => String(job.id));
      for (const job of list) {
        const id = String(job.id);
        if (!(id in jobs)) {
          jobs[id] = await summarize(queue, job);
        }
      }
    }
    const schedulers = (await queue.getJobSchedulers()).map((s) => ({
      key: s.key,
      name: s.name,
      next: s.next,
      pattern: s.pattern,
      every: s.every,
      tz: s.tz,
    }));
    const paused = await queue.isPaused();
    return { prefix, name, paused, counts, ids, jobs, schedulers };
  } finally {
    await queue.close();
  }
}

run('report.js', async (closer) => {
  const args = parseArgs(process.argv.slice(2), {
    required: ['redis', 'prefix', 'bullmq'],
    optional: ['queues'],
  });
  const { bullmq, version } = loadBullmq(args.bullmq);
  const targets = args.queues !== undefined ? parseQueues(args.queues) : fixtureQueues(args.prefix);

  // Fail fast if Redis is unreachable (BullMQ itself would retry forever).
  closer.add(await connectRaw(args.redis));

  const connection = connectionOptions(args.redis);
  const queues = [];
  for (const target of targets) {
    queues.push(await reportQueue(bullmq.Queue, connection, target));
  }
  process.stdout.write(JSON.stringify({ bullmq: version, queues }) + '\n');
});
