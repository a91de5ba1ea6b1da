// bee-queue 2, unmodified, with several worker processes.
//
// bee-queue takes jobs with BRPOPLPUSH (waiting -> active); its Lua scripts (addJob,
// addDelayedJob, raiseDelayedJobs, checkStalledJobs, removeJob) touch only declared keys;
// events go over pub/sub. bee-queue has no job priorities. Each test skips, naming the
// missing capability, on a server without them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Queue from 'bee-queue';
import {
  queueSuite, records, waitUntil, duplicates, within, killMidRun, assertKilledWorkersJobsRedone,
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
  const ctx = queueSuite(WORKER, NEEDS);

  it('10,000 jobs (delayed, retried, failing) over 3 worker processes: each succeeds exactly once',
    { timeout: 200_000 }, async (t) => {
      if (ctx.skip) return t.skip(ctx.skip);
      const name = 'bulk';
      const N = 10_000;
      const q = openQueue(ctx.server.port, name);
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

        const ws = await ctx.workers.start(3, { queue: name, concurrency: 8, stallInterval: 5000 });
        await waitUntil(async () => {
          const h = await q.checkHealth();
          return h.succeeded + h.failed === N;
        }, RUN_TIMEOUT, async () => JSON.stringify(await q.checkHealth()));
        await ctx.workers.stop(ws);

        const done = (await records(ctx.c, name, 'done')).map((r) => r.id);
        assert.deepEqual(duplicates(done), [], 'no job succeeds twice');
        assert.deepEqual(new Set(done), expect.done);
        assert.equal((await records(ctx.c, name, 'failures')).length, expect.failures);
        assert.deepEqual(await q.checkHealth(), {
          waiting: 0, active: 0, succeeded: expect.done.size, failed: expect.failed.size, delayed: 0, newestJob: N,
        });
        const failed = await q.getJobs('failed', { size: N });
        assert.deepEqual(new Set(failed.map((j) => j.id)), expect.failed);
        // A delayed job starts no earlier than its time (the worker records any that do).
        assert.deepEqual(await records(ctx.c, name, 'early'), []);
        assert.equal(jobs.filter((j) => j.options.delay).length, N / 10);
        assert.equal(new Set((await records(ctx.c, name, 'started')).map((r) => r.id)).size, N, 'every job started');
      } finally {
        await closeQueue(q);
      }
    });

  it('a worker killed with SIGKILL mid-run loses no job: its stalled jobs are redone by the others',
    { timeout: 150_000 }, async (t) => {
      if (ctx.skip) return t.skip(ctx.skip);
      const name = 'kill';
      const N = 3000;
      const q = openQueue(ctx.server.port, name);
      try {
        await q.ready();
        const jobs = Array.from({ length: N }, (_, i) => q.createJob({ i }));
        await saveAll(q, jobs);
        const ids = new Set(jobs.map((j) => j.id));
        const ws = await ctx.workers.start(3, { queue: name, concurrency: 4, stallInterval: 2000, workMs: 25 });
        // Kill w0 while it holds jobs: once it has started a few hundred.
        const startedByKilled = await killMidRun(ctx, name, ws[0], 200, async () => JSON.stringify(await q.checkHealth()));
        await waitUntil(async () => (await q.checkHealth()).succeeded === N, RUN_TIMEOUT,
          async () => JSON.stringify(await q.checkHealth()));
        await ctx.workers.stop(ws.slice(1));

        await assertKilledWorkersJobsRedone(ctx, name, ids, ws[0], startedByKilled, 4);
        assert.deepEqual(await q.checkHealth(), {
          waiting: 0, active: 0, succeeded: N, failed: 0, delayed: 0, newestJob: N,
        });
      } finally {
        await closeQueue(q);
      }
    });
});
