#!/usr/bin/env node
'use strict';

// ux.js: the Node side of bullring's browser tests of the dashboard (tests/it/ux.rs).
//
//   ux.js add --redis URL --prefix P --bullmq 5|6 --queue Q --name N [--data JSON]
//     A producer adds one job; prints {"ok":true,"id":"<id>"}.

const { parseArgs, loadBullmq, connectionOptions, run, UsageError } = require('./lib');

const mode = process.argv[2];
const MODES = ['add'];
if (!MODES.includes(mode)) {
  process.stderr.write(`usage: ux.js ${MODES.join('|')} --redis URL --prefix P --bullmq 5|6 --queue Q ...\n`);
  process.exit(64);
}

run(`ux.js ${mode}`, async (closer) => {
  const args = parseArgs(process.argv.slice(3), {
    required: ['redis', 'prefix', 'bullmq', 'queue'],
    optional: ['name', 'data'],
  });
  const { bullmq } = loadBullmq(args.bullmq);
  const queue = new bullmq.Queue(args.queue, { connection: connectionOptions(args.redis), prefix: args.prefix });
  closer.add(queue);
  if (mode === 'add') {
    if (!args.name) throw new UsageError('add needs --name');
    const job = await queue.add(args.name, args.data ? JSON.parse(args.data) : {});
    process.stdout.write(JSON.stringify({ ok: true, id: job.id }) + '\n');
  }
});
