// node-resque 9, unmodified: workers, the scheduler and delayed jobs.
//
// node-resque keeps Resque's layout: a list per queue, popped by a Lua script
// (popAndStoreJob: LPOP, cjson, SET of the worker's status key), a sorted set of
// timestamps plus a list per timestamp for delayed jobs, a leader lock (SET NX) for the
// scheduler, stat counters (INCR) and a failed list. No blocking commands, no undeclared
// keys in scripts.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Queue, Worker, Scheduler } from 'node-resque';
import { startServer, sleep, HOST } from '../harness.mjs';
import { missingCapabilities, waitUntil, duplicates, within } from './probes.mjs';

const SUITE_TIMEOUT = 120_000;

describe('node-resque', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  let skip = null;
  const ended = [];

  before(async () => {
    server = await startServer();
    skip = await missingCapabilities(server.port, { commands: ['evalsha', 'lpop', 'zrangebyscore'] });
  });

  after(async () => {
    for (const x of ended.reverse()) await within(x.end(), 10_000, 'node-resque end').catch(() => {});
    if (server) await server.stop();
  });

  it('two workers and the scheduler run immediate, delayed and failing jobs exactly once', { timeout: 90_000 }, async (t) => {
    if (skip) return t.skip(skip);
    const connection = { pkg: 'ioredis', host: HOST, port: server.port, namespace: 'resque' };
    const ran = [];
    const jobs = {
      record: {
        perform: async (id, dueAt) => {
          ran.push({ id, at: Date.now(), dueAt });
          return id;
        },
      },
      explode: {
        perform: async (id) => { throw new Error(`job ${id} fails on purpose`); },
      },
    };
    const queue = new Queue({ connection }, jobs);
    queue.on('error', () => {});
    await queue.connect();
    ended.push(queue);

    const N = 300;
    const DELAYED = 50;
    const FAILING = 5;
    for (let i = 0; i < N; i++) await queue.enqueue(i % 2 ? 'high' : 'low', 'record', [`now-${i}`, 0]);
    for (let i = 0; i < FAILING; i++) await queue.enqueue('low', 'explode', [`bad-${i}`]);
    const dueAt = Date.now() + 1500;
    for (let i = 0; i < DELAYED; i++) await queue.enqueueAt(dueAt, 'low', 'record', [`later-${i}`, dueAt]);
    assert.equal(await queue.length('high'), N / 2);
    assert.equal(await queue.length('low'), N / 2 + FAILING);
    const delayed = await queue.allDelayed();
    assert.equal(Object.values(delayed).flat().length, DELAYED);

    const failures = [];
    const workers = [];
    for (let w = 0; w < 2; w++) {
      const worker = new Worker({ connection, queues: ['high', 'low'], timeout: 20, name: `w${w}` }, jobs);
      worker.on('failure', (q, job, failure) => failures.push({ job, failure }));
      worker.on('error', () => {});
      await worker.connect();
      ended.push(worker);
      workers.push(worker);
      worker.start();
    }
    // Without a scheduler only the immediate jobs run.
    await waitUntil(() => ran.length === N && failures.length === FAILING, 30_000,
      () => `${ran.length} ran, ${failures.length} failed`);
    assert.equal(Object.values(await queue.allDelayed()).flat().length, DELAYED);

    const scheduler = new Scheduler({ connection, timeout: 50, name: 'scheduler' });
    scheduler.on('error', () => {});
    await scheduler.connect();
    ended.push(scheduler);
    scheduler.start();
    await waitUntil(() => ran.length === N + DELAYED, 30_000, () => `${ran.length} ran`);
    await waitUntil(async () => (await queue.leader()) === 'scheduler', 10_000, () => 'no leader');
    await sleep(200); // anything run twice would show now

    const ids = ran.map((r) => r.id);
    assert.deepEqual(duplicates(ids), []);
    assert.equal(ids.length, N + DELAYED);
    for (const r of ran.filter((x) => x.dueAt)) {
      // Resque timestamps have one-second resolution, so a job may run up to 1 s before
      // its millisecond due time, never earlier.
      assert.ok(r.at >= r.dueAt - 1000, `${r.id} ran at ${r.at}, due ${r.dueAt}`);
    }
    assert.deepEqual(await queue.allDelayed(), {});
    assert.equal(await queue.length('high'), 0);
    assert.equal(await queue.length('low'), 0);
    assert.equal(await queue.failedCount(), FAILING);
    const failed = await queue.failed(0, -1);
    assert.deepEqual(failed.map((f) => f.payload.args[0]).sort(), failures.map((f) => f.job.args[0]).sort());
    for (const f of failed) assert.match(f.error, /fails on purpose/);
    const stats = await queue.stats();
    assert.equal(Number(stats.processed), N + DELAYED);
    assert.equal(Number(stats.failed), FAILING);
    const workerNames = Object.keys(await queue.workers());
    assert.equal(workerNames.length, 2);
  });
});
