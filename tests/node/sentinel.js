#!/usr/bin/env node
'use strict';

// sentinel.js: a Node BullMQ producer on Redis Sentinel, for bullring's runner tests (see
// README.md, "sentinel.js").
//
//   sentinel.js add --sentinels HOST:PORT[,HOST:PORT] --master NAME --prefix P --bullmq 5|6
//                   --queue Q --name N --id ID [--password PW] [--sentinel-password PW]
//     Connects through the sentinels (ioredis asks them where the master is), adds job ID named
//     N with data {"id": ID} to Q, waits until it is completed or failed (deadline 45 s), and
//     prints {"ok":true,"id","state","returnvalue","attemptsMade"}.

const { parseArgs, loadBullmq, run, waitUntil, UsageError } = require('./lib');

const mode = process.argv[2];
if (mode !== 'add') {
  process.stderr.write('usage: sentinel.js add --sentinels HOST:PORT --master NAME --prefix P --bullmq 5|6 --queue Q --name N --id ID\n');
  process.exit(64);
}

run('sentinel.js add', async (closer) => {
  const args = parseArgs(process.argv.slice(3), {
    required: ['sentinels', 'master', 'prefix', 'bullmq', 'queue', 'name', 'id'],
    optional: ['password', 'sentinel-password'],
  });
  const { bullmq } = loadBullmq(args.bullmq);
  const sentinels = args.sentinels.split(',').map((node) => {
    const at = node.lastIndexOf(':');
    if (at < 1) throw new UsageError(`--sentinels: ${node} is not HOST:PORT`);
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
  const connection = {
    sentinels,
    name: args.master,
    maxRetriesPerRequest: null,
  };
  if (args.password !== undefined) connection.password = args.password;
  if (args['sentinel-password'] !== undefined) connection.sentinelPassword = args['sentinel-password'];
  const queue = closer.add(new bullmq.Queue(args.queue, { connection, prefix: args.prefix }));
  await queue.add(args.name, { id: args.id }, { jobId: args.id });
  let state;
  await waitUntil(`job ${args.id} to finish`, async () => {
    state = await queue.getJobState(args.id);
    return state === 'completed' || state === 'failed';
  }, { timeoutMs: 45_000, intervalMs: 50 });
  const job = await queue.getJob(args.id);
  process.stdout.write(JSON.stringify({
    ok: true,
    id: String(job.id),
    state,
    returnvalue: job.returnvalue,
    attemptsMade: job.attemptsMade,
  }) + '\n');
});
