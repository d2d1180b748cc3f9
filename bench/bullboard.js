#!/usr/bin/env node
'use strict';

// bench/bullboard.js --redis URL --prefix P --queues q1,q2,... --port N
//
// Bull Board as its README sets it up: @bull-board/api + @bull-board/express (bench/package.json)
// with one BullMQAdapter per queue, each Queue with its own connection options, mounted at
// /admin/queues of an express app (NODE_ENV=production). Prints "listening" once it accepts
// connections. This is the peer bullring's dashboard is measured against.

const express = require('express');
const { Queue } = require('bullmq');
const { createBullBoard } = require('@bull-board/api');
const { BullMQAdapter } = require('@bull-board/api/bullMQAdapter');
const { ExpressAdapter } = require('@bull-board/express');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const key of ['redis', 'prefix', 'queues', 'port']) {
  if (!args[key]) {
    process.stderr.write(`bullboard.js: --${key} is required\n`);
    process.exit(1);
  }
}
const url = new URL(args.redis);
const connection = { host: url.hostname, port: Number(url.port || 6379) };
const queues = args.queues.split(',').map((name) => new Queue(name, { connection, prefix: args.prefix }));

const serverAdapter = new ExpressAdapter();
serverAdapter.setBasePath('/admin/queues');
createBullBoard({ queues: queues.map((queue) => new BullMQAdapter(queue)), serverAdapter });

const app = express();
app.use('/admin/queues', serverAdapter.getRouter());
const server = app.listen(Number(args.port), '127.0.0.1', () => process.stdout.write('listening\n'));

const stop = async () => {
  server.close();
  await Promise.all(queues.map((queue) => queue.close()));
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
