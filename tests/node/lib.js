'use strict';

// Shared helpers for seed.js and report.js (bullring interop tests).
//
// Both scripts take:  --redis URL  --prefix P  --bullmq 5|6
// and load the matching BullMQ major through the npm aliases "bullmq5" /
// "bullmq6" declared in package.json.

const path = require('node:path');
const fs = require('node:fs');
const IORedis = require('ioredis');

const HARD_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------
// Hard timeout: if the script has not finished (or the event loop keeps
// running because of a leaked handle) after 60 s, exit with code 2.
// The timer is unref'd so it never keeps the process alive by itself.
// ---------------------------------------------------------------------------
function installHardTimeout(scriptName, ms = HARD_TIMEOUT_MS) {
  const timer = setTimeout(() => {
    let resources = [];
    try {
      resources = process.getActiveResourcesInfo();
    } catch (_) {
      // older node: ignore
    }
    process.stderr.write(
      `${scriptName}: hard timeout after ${ms} ms, giving up ` +
        `(active resources: ${JSON.stringify(resources)})\n`,
    );
    process.exit(2);
  }, ms);
  timer.unref();
  return timer;
}

// ---------------------------------------------------------------------------
// Argument parsing: "--name value" or "--name=value".
// ---------------------------------------------------------------------------
function parseArgs(argv, { required = [], optional = [] } = {}) {
  const known = new Set([...required, ...optional]);
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      throw new UsageError(`unexpected argument: ${arg}`);
    }
    let key = arg.slice(2);
    let value;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else {
      if (i + 1 >= argv.length) {
        throw new UsageError(`missing value for --${key}`);
      }
      value = argv[++i];
    }
    if (!known.has(key)) {
      throw new UsageError(`unknown option --${key}`);
    }
    out[key] = value;
  }
  for (const key of required) {
    if (out[key] === undefined || out[key] === '') {
      throw new UsageError(`--${key} is required`);
    }
  }
  if (out.bullmq !== undefined && out.bullmq !== '5' && out.bullmq !== '6') {
    throw new UsageError(`--bullmq must be 5 or 6, got ${JSON.stringify(out.bullmq)}`);
  }
  return out;
}

class UsageError extends Error {}

// ---------------------------------------------------------------------------
// BullMQ loading.
// ---------------------------------------------------------------------------
function loadBullmq(major) {
  const pkgName = major === '5' ? 'bullmq5' : 'bullmq6';
  const bullmq = require(pkgName);
  // The package "exports" map may hide package.json, so locate it on disk.
  let dir = path.dirname(require.resolve(pkgName));
  let version = 'unknown';
  while (dir !== path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate)) {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8'));
      if (pkg.name === 'bullmq') {
        version = pkg.version;
        break;
      }
    }
    dir = path.dirname(dir);
  }
  if (!version.startsWith(`${major}.`)) {
    throw new Error(`${pkgName} resolved to bullmq ${version}, expected ${major}.x`);
  }
  return { bullmq, version };
}

// ---------------------------------------------------------------------------
// Connection options. Both BullMQ 5 and 6 accept `connection: { url }` and
// hand the URL to `new IORedis(url, rest)`. Workers need
// maxRetriesPerRequest: null (BullMQ sets that itself for its blocking
// connection, but we pass it everywhere for consistency).
// ---------------------------------------------------------------------------
function connectionOptions(url) {
  return { url, maxRetriesPerRequest: null };
}

// Fail fast (instead of retrying until the hard timeout) when Redis is not
// reachable. Returns a connected raw ioredis client; the caller must quit it.
async function connectRaw(url) {
  const client = new IORedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError;
  client.on('error', (err) => {
    lastError = err; // reported through connect() below
  });
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    const reason = lastError && lastError.message !== err.message ? `${lastError.message} (${err.message})` : err.message;
    throw new Error(`cannot connect to Redis at ${url}: ${reason}`);
  }
  return client;
}

// ---------------------------------------------------------------------------
// Resource tracking: everything that owns a Redis connection is registered
// here and closed at the end, so the process exits on its own.
// ---------------------------------------------------------------------------
class Closer {
  constructor() {
    this.items = [];
  }

  // Register a BullMQ object (Queue, Worker, FlowProducer, QueueEvents) or a
  // raw ioredis client. Returns it for chaining.
  add(item) {
    // Connection errors are surfaced by the awaited calls; keep the
    // 'error' event from crashing the process as an unhandled event.
    if (typeof item.on === 'function') {
      item.on('error', (err) => {
        if (!this.closing) {
          process.stderr.write(`redis/bullmq error: ${err && err.message}\n`);
        }
      });
    }
    this.items.push(item);
    return item;
  }

  async closeAll() {
    this.closing = true;
    const items = this.items.splice(0).reverse();
    for (const item of items) {
      try {
        if (item instanceof IORedis) {
          await item.quit();
        } else {
          await item.close();
        }
      } catch (err) {
        process.stderr.write(`error while closing: ${err && err.message}\n`);
        try {
          if (typeof item.disconnect === 'function') item.disconnect();
        } catch (_) {
          // ignore
        }
      }
    }
  }
}

// Poll `check` (async, returns truthy when done) until it succeeds or the
// deadline passes. No fixed sleeps: the interval is only a polling period.
async function waitUntil(description, check, { timeoutMs = 20_000, intervalMs = 25 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

// Run a script body with uniform error handling:
// - usage errors: message on stderr, exit code 64;
// - other errors: {"ok":false,"error":...} on stdout, stack on stderr, exit 1;
// - success: exit code 0 once the event loop drains (no process.exit, so a
//   leaked handle shows up as the hard timeout instead of being hidden).
function run(scriptName, body) {
  installHardTimeout(scriptName);
  const closer = new Closer();
  // Closing a Bull queue whose worker is blocked on BRPOPLPUSH can reject that pending command
  // with ioredis's "Connection is closed." and nothing awaits it: once the step's answer is
  // written and everything is closing, that is the close itself, not a failure. Anything else
  // still crashes the script.
  const closingError = (err) => closer.closing && /Connection is closed/.test(String(err && err.message));
  process.on('unhandledRejection', (err) => {
    if (!closingError(err)) throw err;
  });
  process.on('uncaughtException', (err) => {
    if (closingError(err)) return;
    process.stderr.write(`${scriptName}: ${err && err.stack}\n`);
    process.exit(1);
  });
  (async () => {
    try {
      await body(closer);
      await closer.closeAll();
      process.exitCode = 0;
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`${scriptName}: ${err.message}\n`);
        process.exitCode = 64;
      } else {
        process.stdout.write(JSON.stringify({ ok: false, error: String(err && err.message) }) + '\n');
        process.stderr.write(`${scriptName}: ${err && err.stack}\n`);
        process.exitCode = 1;
      }
      // Best effort cleanup, bounded; then leave regardless of open handles.
      await Promise.race([
        closer.closeAll(),
        new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
      process.exit(process.exitCode);
    }
  })();
}

// The queues seed.js creates for a given prefix, in a fixed order.
function fixtureQueues(prefix) {
  return [
    { prefix, name: 'basic' },
    { prefix, name: 'paused-q' },
    { prefix, name: 'flow-parent' },
    { prefix, name: 'flow-child' },
    { prefix, name: 'sched' },
    { prefix: `{${prefix}}`, name: 'tagged' },
  ];
}

// The counts queue.getJobCounts(...COUNT_STATES) reports right after seed.js,
// per queue name (README.md has the same table). Only the paused queue
// differs between the majors: BullMQ 5 moves its jobs to the "paused" list,
// BullMQ 6 leaves them in "wait".
const COUNT_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed', 'paused'];

function expectedCounts(major) {
  const zero = Object.fromEntries(COUNT_STATES.map((s) => [s, 0]));
  const c = (partial) => ({ ...zero, ...partial });
  return {
    basic: c({ waiting: 8, active: 2, delayed: 4, prioritized: 3, completed: 3, failed: 2 }),
    'paused-q': major === '5' ? c({ paused: 3 }) : c({ waiting: 3 }),
    'flow-parent': c({ 'waiting-children': 1 }),
    'flow-child': c({ waiting: 2, completed: 1 }),
    sched: c({ waiting: 1, delayed: 1 }),
    tagged: c({ waiting: 2, completed: 1 }),
  };
}

module.exports = {
  COUNT_STATES,
  expectedCounts,
  HARD_TIMEOUT_MS,
  UsageError,
  parseArgs,
  loadBullmq,
  connectionOptions,
  connectRaw,
  Closer,
  waitUntil,
  run,
  fixtureQueues,
};
