// bee-queue 2, unmodified, with several worker processes.
//
// bee-queue takes jobs with BRPOPLPUSH (waiting -> active); its Lua scripts (addJob,
// addDelayedJob, raiseDelayedJobs, checkStalledJobs, removeJob) touch only declared keys;
// events go over pub/sub. bee-queue has no job priorities. Each test skips, naming the
// missing capability, on a server without them.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Queue from 'bee-queue';
import { startServer } from '../harness.mjs';
import {
  missingCapabilities, makeClient, closeClient, WorkerSet, records, waitUntil, duplicates, within,
} from './probes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'bee-queue-worker.mjs');
const SUITE_TIMEOUT = 300_000;
const RUN_TIMEOUT = 100_000;

const NEEDS = { commands: ['brpoplpush'] };

function openQueue(port, name) {
  const q = new Queue(name, {
    redis: { host: '127.0.0.1', port, connect_timeout: 5000 },
    isWorker: false,
    getEvents: false,
  });
  q.on('error', () => {});
  return q;
}

async function closeQueue(q) {
  await within(q.close(5000), 10_000, 'queue close').catch(() => {});
}

async function saveAll(q, jobs) {
  for (let at = 0; at < jobs.length; at += 1000) {
    const errors = await q.saveAll(jobs.slice(at, at + 1000));
    assert.equal(errors.size, 0, `saveAll errors: ${[...errors.values()]}`);
  }
}

describe('bee-queue', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  let skip = null;
  let c;
  let workers;

  before(async () => {
    server = await startServer();
    skip = await missingCapabilities(server.port, NEEDS);
    c = makeClient(server.port);
    workers = new WorkerSet(WORKER, server.port);
  });

  after(async () => {
    if (workers) await workers.stopAll();
    if (c) await closeClient(c);
    if (server) await server.stop();
  });

  it('10,000 jobs (delayed, retried, failing) over 3 worker processes: each succeeds exactly once',
    { timeout: 200_000 }, async (t) => {
      if (skip) return t.skip(skip);
      const name = 'bulk';
      const N = 10_000;
      const q = openQueue(server.port, name);
      try {
        await q.ready();
        // Job i: every 10th delayed, every 10th failing its first attempt or two before
        // it succeeds (2 retries), every 100th failing all 3 attempts.
        const jobs = [];
        const now = Date.now();
        for (let i = 0; i < N; i++) {
          const data = { i, failTimes: 0 };
          if (i % 10 === 3) data.failTimes = 1 + (i % 2);
          if (i % 100 === 99) data.failTimes = 99;
          const job = q.createJob(data).retries(2).backoff('fixed', 20);
          if (i % 10 === 1) job.delayUntil(now + 100 + (i % 900));
          jobs.push(job);
        }
        await saveAll(q, jobs);
        const expect = { done: new Set(), failed: new Set(), failures: 0 };
        for (const job of jobs) {
          if (job.data.failTimes >= 3) {
            expect.failed.add(job.id);
            expect.failures += 3;
          } else {
            expect.done.add(job.id);
            expect.failures += job.data.failTimes;
          }
        }
        assert.equal(new Set(jobs.map((j) => j.id)).size, N, 'job ids are distinct');

        const ws = await workers.start(3, { queue: name, concurrency: 8, stallInterval: 5000 });
        await waitUntil(async () => {
          const h = await q.checkHealth();
          return h.succeeded + h.failed === N;
        }, RUN_TIMEOUT, async () => JSON.stringify(await q.checkHealth()));
        await workers.stop(ws);

        const done = (await records(c, name, 'done')).map((r) => r.id);
        assert.deepEqual(duplicates(done), [], 'no job succeeds twice');
        assert.deepEqual(new Set(done), expect.done);
        assert.equal((await records(c, name, 'failures')).length, expect.failures);
        assert.deepEqual(await q.checkHealth(), {
          waiting: 0, active: 0, succeeded: expect.done.size, failed: expect.failed.size, delayed: 0, newestJob: N,
        });
        const failed = await q.getJobs('failed', { size: N });
        assert.deepEqual(new Set(failed.map((j) => j.id)), expect.failed);
        // A delayed job starts no earlier than its time (the worker records any that do).
        assert.deepEqual(await records(c, name, 'early'), []);
        assert.equal(jobs.filter((j) => j.options.delay).length, N / 10);
        assert.equal(new Set((await records(c, name, 'started')).map((r) => r.id)).size, N, 'every job started');
      } finally {
        await closeQueue(q);
      }
    });

  it('a worker killed with SIGKILL mid-run loses no job: its stalled jobs are redone by the others',
    { timeout: 150_000 }, async (t) => {
      if (skip) return t.skip(skip);
      const name = 'kill';
      const N = 3000;
      const q = openQueue(server.port, name);
      try {
        await q.ready();
        const jobs = Array.from({ length: N }, (_, i) => q.createJob({ i }));
        await saveAll(q, jobs);
        const ids = new Set(jobs.map((j) => j.id));
        const ws = await workers.start(3, { queue: name, concurrency: 4, stallInterval: 1000, workMs: 5 });
        await waitUntil(async () => (await records(c, name, 'started')).filter((r) => r.worker === 'w0').length >= 200,
          60_000, async () => JSON.stringify(await q.checkHealth()));
        await ws[0].kill();
        const startedByKilled = new Set((await records(c, name, 'started')).filter((r) => r.worker === 'w0').map((r) => r.id));
        await waitUntil(async () => (await q.checkHealth()).succeeded === N, RUN_TIMEOUT,
          async () => JSON.stringify(await q.checkHealth()));
        await workers.stop(ws.slice(1));

        const done = await records(c, name, 'done');
        const doneIds = done.map((r) => r.id);
        assert.deepEqual(new Set(doneIds), ids, 'every job succeeded');
        const doneByKilled = new Set(done.filter((r) => r.worker === 'w0').map((r) => r.id));
        const inFlight = [...startedByKilled].filter((id) => !doneByKilled.has(id));
        assert.ok(inFlight.length >= 1, 'the killed worker held jobs when it died');
        for (const id of inFlight) {
          assert.ok(done.some((r) => r.id === id && r.worker !== 'w0'), `job ${id} redone by another worker`);
        }
        const dup = duplicates(doneIds);
        assert.ok(dup.length <= 4, `duplicates: ${dup}`);
        for (const id of dup) assert.ok(doneByKilled.has(id), `job ${id} done twice though w0 never finished it`);
        const h = await q.checkHealth();
        assert.deepEqual({ ...h, newestJob: undefined }, {
          waiting: 0, active: 0, succeeded: N, failed: 0, delayed: 0, newestJob: undefined,
        });
      } finally {
        await closeQueue(q);
      }
    });
});
