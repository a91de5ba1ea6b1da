// Capability probes and process helpers shared by the job-queue tests.
//
// A queue library needs a handful of server capabilities beyond plain commands: blocking
// list pops (BRPOPLPUSH, BLMOVE), Lua scripts that touch keys they did not declare (Bull
// builds job keys inside its scripts), streams. Each test asks the server under test for
// what its library needs and skips, naming what is missing, when the server lacks it;
// nothing here looks at which server it is, so the same test runs for real wherever the
// capability exists.

import { spawn } from 'node:child_process';
import readline from 'node:readline';
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import Redis from 'ioredis';
import { HOST, sleep, startServer, unknownCommands } from '../harness.mjs';

// An ioredis client that gives up instead of retrying forever.
export function makeClient(port, opts = {}) {
  const c = new Redis({
    host: HOST,
    port,
    connectTimeout: 5000,
    commandTimeout: 20_000,
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => (times > 20 ? null : 50),
    ...opts,
  });
  c.on('error', () => {});
  return c;
}

export async function closeClient(c) {
  if (c.status === 'end') return;
  try {
    await Promise.race([c.quit(), sleep(2000)]);
  } catch {
    // already closed
  }
  c.disconnect();
}

// The commands in `names` the server does not know: `COMMAND INFO` answers nil for them
// (and a server without COMMAND INFO gets the arity probe of the harness).
export async function missingCommands(port, names) {
  const c = makeClient(port);
  try {
    const info = await c.call('COMMAND', 'INFO', ...names);
    return names.filter((_, i) => info[i] === null);
  } catch {
    return unknownCommands(port, names);
  } finally {
    await closeClient(c);
  }
}

// Whether a Lua script may read and write keys it did not pass in KEYS, in any order
// relative to the keys it did declare (Redis allows it outside cluster mode). Runs a
// script that declares one key and then writes 64 undeclared ones, with 8 different
// declared keys, so that undeclared keys land before and after the declared one in any
// key-to-lock mapping. Returns null when every run succeeds, else the server's error.
export async function undeclaredKeysProblem(port) {
  const c = makeClient(port);
  const script = `
    redis.call('SET', KEYS[1], '1')
    for i = 1, 64 do redis.call('SET', ARGV[1] .. i, '1') end
    for i = 1, 64 do redis.call('DEL', ARGV[1] .. i) end
    redis.call('DEL', KEYS[1])
    return 1`;
  try {
    for (let j = 0; j < 8; j++) {
      try {
        await c.eval(script, 1, `queue-probe:declared:${j}`, `queue-probe:undeclared:${j}:`);
      } catch (e) {
        return String(e.message || e);
      }
    }
    return null;
  } finally {
    await closeClient(c);
  }
}

// Why `t` should skip: a sentence naming the missing commands and capabilities, or null.
export async function missingCapabilities(port, { commands = [], undeclaredKeys = false } = {}) {
  const reasons = [];
  const missing = await missingCommands(port, commands);
  if (missing.length) reasons.push(`server lacks ${missing.join(', ')} (COMMAND INFO is empty)`);
  if (undeclaredKeys) {
    const problem = await undeclaredKeysProblem(port);
    if (problem) reasons.push(`a script writing undeclared keys fails: ${problem}`);
  }
  return reasons.length ? reasons.join('; ') : null;
}

// A worker child process (`node script json-config`). It prints one line "ready" once it
// takes jobs; `stop()` sends SIGTERM and waits (bounded) for it to exit, `kill()` sends
// SIGKILL.
export class WorkerProcess {
  constructor(script, config) {
    this.name = config.worker;
    this.child = spawn(process.execPath, [script, JSON.stringify(config)],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    this.exited = false;
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        this.code = code;
        this.signal = signal;
        resolve();
      });
    });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => { this.output += d; });
    this.readyPromise = new Promise((resolve, reject) => {
      const lines = readline.createInterface({ input: this.child.stdout });
      lines.on('line', (line) => {
        this.output += `${line}\n`;
        if (line === 'ready') resolve();
      });
      this.exitPromise.then(() => reject(new Error(`worker exited before ready:\n${this.output}`)));
    });
  }

  ready(timeoutMs = 15_000) {
    return within(this.readyPromise, timeoutMs, 'worker start');
  }

  kill() {
    this.child.kill('SIGKILL');
    return within(this.exitPromise, 10_000, 'worker SIGKILL');
  }

  async stop(timeoutMs = 15_000) {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    try {
      await within(this.exitPromise, timeoutMs, 'worker stop');
    } catch (e) {
      this.child.kill('SIGKILL');
      await this.exitPromise;
      throw new Error(`${e.message}\n${this.output}`);
    }
  }
}

// Resolves with `promise`'s outcome, or rejects once `ms` pass.
export function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Polls `fn` until it returns a truthy value; on timeout the error carries `describe()`.
export async function waitUntil(fn, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) {
      throw new Error(`not done within ${timeoutMs} ms: ${describe ? await describe() : ''}`);
    }
    await sleep(100);
  }
}

// Entries of `list` that occur more than once.
export function duplicates(list) {
  const seen = new Set();
  const dup = new Set();
  for (const x of list) {
    if (seen.has(x)) dup.add(x);
    seen.add(x);
  }
  return [...dup];
}

// The "<job id>:<worker>" entries a worker script recorded in `rec:<queue>:<what>`.
export async function records(c, queue, what) {
  return (await c.lrange(`rec:${queue}:${what}`, 0, -1)).map((s) => {
    const at = s.lastIndexOf(':');
    return { id: s.slice(0, at), worker: s.slice(at + 1) };
  });
}

// The worker processes of one test file, all stopped (or killed) by `stopAll()`.
export class WorkerSet {
  constructor(script, port) {
    this.script = script;
    this.port = port;
    this.all = [];
  }

  // Starts `n` workers named w0, w1, ... with `config`; resolves once all are ready.
  async start(n, config) {
    const started = [];
    for (let i = 0; i < n; i++) {
      started.push(new WorkerProcess(this.script, { port: this.port, worker: `w${i}`, ...config }));
    }
    this.all.push(...started);
    await Promise.all(started.map((w) => w.ready()));
    return started;
  }

  // Stops `ws` with SIGTERM; throws unless each exits with status 0.
  async stop(ws) {
    await Promise.all(ws.map((w) => w.stop()));
    for (const w of ws) {
      if (w.code !== 0) throw new Error(`worker exited with ${w.code}/${w.signal}:\n${w.output}`);
    }
  }

  async stopAll() {
    await Promise.all(this.all.map((w) => w.stop().catch(() => w.kill())));
  }
}

// Registers, in the calling describe(), hooks that start a server, probe it for `needs`
// (see missingCapabilities), open a client and a WorkerSet of `workerScript`; after the
// tests they stop the workers, the client and the server. The returned object's fields
// are set once the hooks ran: { server, skip (null, or why to skip), c, workers }.
export function queueSuite(workerScript, needs) {
  const ctx = { server: null, skip: null, c: null, workers: null };
  before(async () => {
    ctx.server = await startServer();
    ctx.skip = await missingCapabilities(ctx.server.port, needs);
    ctx.c = makeClient(ctx.server.port);
    ctx.workers = new WorkerSet(workerScript, ctx.server.port);
  });
  after(async () => {
    if (ctx.workers) await ctx.workers.stopAll();
    if (ctx.c) await closeClient(ctx.c);
    if (ctx.server) await ctx.server.stop();
  });
  return ctx;
}

// Waits until worker `victim` (one of `ws`) has started `starts` jobs of `queue`, then
// kills it with SIGKILL while it holds jobs. Returns the ids it had started.
export async function killMidRun(ctx, queue, victim, starts, describe) {
  const startedBy = async () =>
    (await records(ctx.c, queue, 'started')).filter((r) => r.worker === victim.name).map((r) => r.id);
  await waitUntil(async () => (await startedBy()).length >= starts, 60_000, describe);
  await victim.kill();
  return new Set(await startedBy());
}

// After a run in which `victim` was killed: every job in `ids` was done; each job the
// victim had started and not recorded as done was redone by another worker (and there was
// at least one); a job is done twice only if the victim had recorded it done but died
// before the queue marked it finished (at most `concurrency` of them).
export async function assertKilledWorkersJobsRedone(ctx, queue, ids, victim, startedByVictim, concurrency) {
  const done = await records(ctx.c, queue, 'done');
  const doneIds = done.map((r) => r.id);
  assert.deepEqual(new Set(doneIds), ids, 'every job done');
  const doneByVictim = new Set(done.filter((r) => r.worker === victim.name).map((r) => r.id));
  const inFlight = [...startedByVictim].filter((id) => !doneByVictim.has(id));
  assert.ok(inFlight.length >= 1, 'the killed worker held jobs when it died');
  for (const id of inFlight) {
    assert.ok(done.some((r) => r.id === id && r.worker !== victim.name), `job ${id} redone by another worker`);
  }
  const dup = duplicates(doneIds);
  assert.ok(dup.length <= concurrency, `duplicates: ${dup}`);
  for (const id of dup) assert.ok(doneByVictim.has(id), `job ${id} done twice though the killed worker never finished it`);
}
