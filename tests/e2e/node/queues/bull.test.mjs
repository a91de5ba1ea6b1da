// Bull 4, unmodified, with several worker processes.
//
// Bull takes jobs with BRPOPLPUSH (wait -> active), and its Lua scripts (moveToActive,
// moveToFinished, retryJob, moveStalledJobsToWait, updateDelaySet, ...) build each job's
// hash key from a prefix and the id inside the script, so they touch keys they never
// declared. Each test skips, naming the missing capability, on a server without them.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Queue from 'bull';
import {
  queueSuite, records, waitUntil, duplicates, within, killMidRun, assertKilledWorkersJobsRedone,
} from './probes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'bull-worker.mjs');
const SUITE_TIMEOUT = 300_000;
const RUN_TIMEOUT = 100_000;

const NEEDS = { commands: ['brpoplpush'], undeclaredKeys: true };

function openQueue(port, name, settings = {}) {
  const q = new Queue(name, { redis: { host: '127.0.0.1', port, connectTimeout: 5000 }, settings });
  q.on('error', () => {});
  return q;
}

async function closeQueue(q) {
  await within(q.close(), 10_000, 'queue close').catch(() => {});
}

describe('bull', { timeout: SUITE_TIMEOUT }, () => {
  const ctx = queueSuite(WORKER, NEEDS);

  it('10,000 jobs (delayed, prioritized, retried, failing) over 3 worker processes: each completes exactly once',
    { timeout: 200_000 }, async (t) => {
      if (ctx.skip) return t.skip(ctx.skip);
      const name = 'bulk';
      const N = 10_000;
      const settings = { stalledInterval: 5000, lockDuration: 10_000, guardInterval: 500, drainDelay: 1 };
      const q = openQueue(ctx.server.port, name, settings);
      try {
        // Job i: every 10th delayed, every 10th prioritized, every 10th failing its first
        // attempt or two before it completes, every 100th failing all its attempts.
        const jobs = [];
        const expect = { done: new Set(), failed: new Set(), failures: 0, delayed: new Map() };
        for (let i = 0; i < N; i++) {
          const opts = { attempts: 3, backoff: { type: 'fixed', delay: 20 } };
          const data = { i, failTimes: 0 };
          if (i % 10 === 1) opts.delay = 100 + (i % 900);
          if (i % 10 === 2) opts.priority = 1 + (i % 7);
          if (i % 10 === 3) data.failTimes = 1 + (i % 2);
          if (i % 100 === 99) data.failTimes = 99;
          jobs.push({ data, opts });
        }
        const added = [];
        for (let at = 0; at < N; at += 1000) added.push(...await q.addBulk(jobs.slice(at, at + 1000)));
        assert.equal(added.length, N);
        for (const job of added) {
          const { failTimes } = job.data;
          if (failTimes >= 3) {
            expect.failed.add(String(job.id));
            expect.failures += 3;
          } else {
            expect.done.add(String(job.id));
            expect.failures += failTimes;
          }
          if (job.opts.delay) expect.delayed.set(String(job.id), job.opts.delay);
        }
        assert.equal(new Set(added.map((j) => String(j.id))).size, N, 'job ids are distinct');

        const ws = await ctx.workers.start(3, { queue: name, concurrency: 8, settings });
        await waitUntil(async () => {
          const n = await q.getJobCounts();
          return n.completed + n.failed === N;
        }, RUN_TIMEOUT, async () => JSON.stringify(await q.getJobCounts()));
        await ctx.workers.stop(ws);

        const done = (await records(ctx.c, name, 'done')).map((r) => r.id);
        assert.deepEqual(duplicates(done), [], 'no job completes twice');
        assert.equal(done.length, expect.done.size);
        assert.deepEqual(new Set(done), expect.done);
        assert.equal((await records(ctx.c, name, 'failures')).length, expect.failures);

        const counts = await q.getJobCounts();
        assert.deepEqual(counts, {
          waiting: 0, active: 0, completed: expect.done.size, failed: expect.failed.size, delayed: 0, paused: 0,
        });
        assert.equal(await q.getCompletedCount(), expect.done.size);
        const failed = await q.getFailed(0, -1);
        assert.deepEqual(new Set(failed.map((j) => String(j.id))), expect.failed);
        for (const j of failed) {
          assert.equal(j.attemptsMade, 3);
          assert.match(j.failedReason, /fails on purpose/);
        }
        // A delayed job starts no earlier than its delay after it was added.
        const delayedIds = [...expect.delayed.keys()].filter((id) => expect.done.has(id));
        const delayedJobs = await Promise.all(delayedIds.map((id) => q.getJob(id)));
        for (const j of delayedJobs) {
          assert.ok(j.processedOn >= j.timestamp + expect.delayed.get(String(j.id)),
            `job ${j.id} processed at ${j.processedOn}, added ${j.timestamp} with delay ${j.opts.delay}`);
          assert.ok(j.finishedOn >= j.processedOn);
          assert.deepEqual(j.returnvalue && Object.keys(j.returnvalue), ['worker']);
        }
      } finally {
        await closeQueue(q);
      }
    });

  it('prioritized jobs run in priority order, waiting ones in insertion order', { timeout: 60_000 }, async (t) => {
    if (ctx.skip) return t.skip(ctx.skip);
    const name = 'prio';
    const q = openQueue(ctx.server.port, name);
    try {
      await q.pause();
      const prios = [5, 1, 3, 1, 2, 5, 4, 2, 3, 1];
      const added = [];
      for (const priority of prios) added.push(await q.add({ priority }, { priority }));
      assert.equal((await q.getJobCounts()).paused, prios.length);
      const [w] = await ctx.workers.start(1, { queue: name, concurrency: 1, settings: { drainDelay: 1 } });
      await q.resume();
      await waitUntil(async () => (await q.getCompletedCount()) === prios.length, 30_000,
        async () => JSON.stringify(await q.getJobCounts()));
      await ctx.workers.stop([w]);
      const order = (await records(ctx.c, name, 'done')).map((r) => r.id);
      const expected = added
        .map((j, i) => ({ id: String(j.id), priority: prios[i], i }))
        .sort((a, b) => a.priority - b.priority || a.i - b.i)
        .map((j) => j.id);
      assert.deepEqual(order, expected);
    } finally {
      await closeQueue(q);
    }
  });

  it('a worker killed with SIGKILL mid-run loses no job: its stalled jobs are redone by the others',
    { timeout: 150_000 }, async (t) => {
      if (ctx.skip) return t.skip(ctx.skip);
      const name = 'kill';
      const N = 3000;
      const settings = {
        lockDuration: 4000, stalledInterval: 2000, maxStalledCount: 10, guardInterval: 500, drainDelay: 1,
      };
      const q = openQueue(ctx.server.port, name, settings);
      try {
        const added = await q.addBulk(Array.from({ length: N }, (_, i) => ({ data: { i } })));
        const ids = new Set(added.map((j) => String(j.id)));
        const ws = await ctx.workers.start(3, { queue: name, concurrency: 4, settings, workMs: 25 });
        // Kill w0 while it holds jobs: once it has started a few hundred (25 ms jobs, 4 at
        // a time, so it is all but always inside some when the signal lands).
        const startedByKilled = await killMidRun(ctx, name, ws[0], 200, async () => JSON.stringify(await q.getJobCounts()));
        await waitUntil(async () => (await q.getCompletedCount()) === N, RUN_TIMEOUT,
          async () => JSON.stringify(await q.getJobCounts()));
        await ctx.workers.stop(ws.slice(1));

        await assertKilledWorkersJobsRedone(ctx, name, ids, ws[0], startedByKilled, 4);
        assert.deepEqual(await q.getJobCounts(), { waiting: 0, active: 0, completed: N, failed: 0, delayed: 0, paused: 0 });
      } finally {
        await closeQueue(q);
      }
    });
});
