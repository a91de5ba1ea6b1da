// redis-semaphore (Mutex, Semaphore, MultiSemaphore), unmodified, over ioredis.
//
// Mutex is SET NX PX plus Lua (GET/PEXPIRE/DEL via EVALSHA, EVAL after NOSCRIPT).
// Semaphore and MultiSemaphore keep their holders in a sorted set (ZREMRANGEBYSCORE,
// ZCARD, ZADD, ZSCORE, ZREM from Lua).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Mutex, Semaphore, MultiSemaphore, TimeoutError, LostLockError } from 'redis-semaphore';
import { makeClient, closeAll } from './ioredis-clients.mjs';
import { startServer, sleep, waitFor } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 30_000;
// Every acquire in these tests gives up after this long unless a test sets less.
const ACQUIRE_TIMEOUT = 10_000;

// Resolves with `promise`'s outcome, or rejects once `ms` pass.
function within(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// Whether `promise` is still pending after `ms`.
async function stillPending(promise, ms) {
  const marker = Symbol('pending');
  let timer;
  const r = await Promise.race([
    promise.then(() => 'settled', () => 'settled'),
    new Promise((resolve) => { timer = setTimeout(() => resolve(marker), ms); }),
  ]);
  clearTimeout(timer);
  return r === marker;
}

// Runs `workers` tasks that each take a lock from `makeLock(i)`, hold it `holdMs` and
// release it. Returns the highest number of holders seen at once (counted on the
// client side) and how many critical sections ran.
async function contend(makeLock, workers, holdMs, onHold = async () => {}) {
  let holders = 0;
  let peak = 0;
  let done = 0;
  await within(Promise.all(Array.from({ length: workers }, async (_, i) => {
    const lock = makeLock(i);
    await lock.acquire();
    try {
      holders++;
      peak = Math.max(peak, holders);
      await onHold(holders);
      await sleep(holdMs);
      holders--;
      done++;
    } finally {
      await lock.release();
    }
  })), 25_000, 'contending workers');
  return { peak, done };
}

const lostLocks = [];
const onLockLost = (e) => lostLocks.push(e);

describe('redis-semaphore Mutex', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let pool; // several connections, as from separate processes
  let r;

  before(async () => {
    server = await startServer();
    pool = Array.from({ length: 4 }, () => makeClient(server.port, clients));
    r = pool[0];
    await Promise.all(pool.map((c) => c.ping()));
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  const opts = (o = {}) => ({ acquireTimeout: ACQUIRE_TIMEOUT, retryInterval: 5, onLockLost, ...o });
  // tryAcquire retries until acquireTimeout like acquire: one attempt for a probe.
  const once = () => opts({ acquireAttemptsLimit: 1 });

  it('concurrent holders never overlap', { timeout: TEST_TIMEOUT }, async () => {
    const { peak, done } = await contend(
      (i) => new Mutex(pool[i % pool.length], 'm:overlap', opts()), 10, 20,
      async () => assert.ok(await r.exists('mutex:m:overlap')));
    assert.equal(peak, 1);
    assert.equal(done, 10);
    assert.equal(await r.exists('mutex:m:overlap'), 0, 'the last release deletes the key');
  });

  it('release lets a waiter in; tryAcquire fails while held', { timeout: TEST_TIMEOUT }, async () => {
    const first = new Mutex(pool[0], 'm:wait', opts());
    const second = new Mutex(pool[1], 'm:wait', opts());
    await first.acquire();
    assert.equal(first.isAcquired, true);
    assert.equal(await r.get('mutex:m:wait'), first.identifier);
    assert.equal(await new Mutex(pool[2], 'm:wait', once()).tryAcquire(), false);
    const waiting = second.acquire();
    assert.ok(await stillPending(waiting, 200), 'the second acquire waits while the first holds');
    await first.release();
    assert.equal(first.isAcquired, false);
    await within(waiting, ACQUIRE_TIMEOUT, 'second acquire');
    assert.equal(second.isAcquired, true);
    assert.equal(await r.get('mutex:m:wait'), second.identifier);
    // Releasing again (no longer the holder) leaves the other holder's lock alone.
    await first.release();
    assert.equal(await r.get('mutex:m:wait'), second.identifier);
    await second.release();
    assert.equal(await r.exists('mutex:m:wait'), 0);
  });

  it('acquire times out with TimeoutError; acquireAttemptsLimit', { timeout: TEST_TIMEOUT }, async () => {
    const holder = new Mutex(pool[0], 'm:timeout', opts());
    await holder.acquire();
    const start = Date.now();
    await assert.rejects(new Mutex(pool[1], 'm:timeout', opts({ acquireTimeout: 300 })).acquire(),
      (e) => e instanceof TimeoutError && /timeout/i.test(e.message));
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 290 && elapsed < 5000, `timed out after ${elapsed} ms`);
    await assert.rejects(new Mutex(pool[1], 'm:timeout', opts({ acquireAttemptsLimit: 3 })).acquire(), TimeoutError);
    assert.equal(await r.get('mutex:m:timeout'), holder.identifier);
    await holder.release();
  });

  it('an unrefreshed lock expires after lockTimeout', { timeout: TEST_TIMEOUT }, async () => {
    const first = new Mutex(pool[0], 'm:expire', opts({ lockTimeout: 300, refreshInterval: 0 }));
    await first.acquire();
    const pttl = await r.pttl('mutex:m:expire');
    assert.ok(pttl > 0 && pttl <= 300, `PTTL ${pttl}`);
    const second = new Mutex(pool[1], 'm:expire', opts());
    const start = Date.now();
    await second.acquire(); // succeeds once the first lock has expired
    assert.ok(Date.now() - start >= 200, 'the second acquire waited for the expiry');
    assert.equal(await r.get('mutex:m:expire'), second.identifier);
    await first.release(); // not the holder any more: no effect
    assert.equal(await r.get('mutex:m:expire'), second.identifier);
    await second.release();
  });

  it('refresh keeps the lock past lockTimeout; losing it calls onLockLost', { timeout: TEST_TIMEOUT }, async () => {
    const lost = [];
    const m = new Mutex(pool[0], 'm:refresh', opts({ lockTimeout: 600, refreshInterval: 100, onLockLost: (e) => lost.push(e) }));
    await m.acquire();
    await sleep(1500);
    assert.equal(await r.get('mutex:m:refresh'), m.identifier, 'still held after 2.5 x lockTimeout');
    assert.ok((await r.pttl('mutex:m:refresh')) > 0);
    assert.equal(await new Mutex(pool[1], 'm:refresh', once()).tryAcquire(), false);
    await m.release();
    assert.equal(await r.exists('mutex:m:refresh'), 0);
    // Someone else takes the key: the next refresh finds it gone.
    const m2 = new Mutex(pool[0], 'm:refresh', opts({ lockTimeout: 400, refreshInterval: 50, onLockLost: (e) => lost.push(e) }));
    await m2.acquire();
    await r.set('mutex:m:refresh', 'intruder');
    await waitFor(() => lost.length === 1, 3000);
    assert.ok(lost[0] instanceof LostLockError);
    assert.equal(m2.isAcquired, false);
    assert.equal(await r.get('mutex:m:refresh'), 'intruder');
    await m2.release();
  });

  it('acquiredExternally refreshes a lock taken under the same identifier', { timeout: TEST_TIMEOUT }, async () => {
    const pre = new Mutex(pool[0], 'm:ext', opts({ lockTimeout: 5000, refreshInterval: 0 }));
    await pre.acquire();
    const handler = new Mutex(pool[1], 'm:ext', opts({
      identifier: pre.identifier, acquiredExternally: true, lockTimeout: 20_000, refreshInterval: 0,
    }));
    assert.equal(await handler.tryAcquire(), true);
    assert.ok((await r.pttl('mutex:m:ext')) > 5000, 'the refresh set the new lockTimeout');
    await handler.release();
    assert.equal(await r.exists('mutex:m:ext'), 0);
  });

  it('falls back to EVAL after SCRIPT FLUSH (NOSCRIPT)', { timeout: TEST_TIMEOUT }, async () => {
    const m = new Mutex(pool[0], 'm:noscript', opts({ refreshInterval: 0 }));
    await m.acquire();
    await m.release(); // loads the scripts
    await m.acquire();
    assert.equal(await r.script('FLUSH'), 'OK');
    await m.release();
    assert.equal(await r.exists('mutex:m:noscript'), 0);
  });

  it('no lock was lost unexpectedly', { timeout: TEST_TIMEOUT }, () => {
    assert.deepEqual(lostLocks, []);
  });
});

describe('redis-semaphore Semaphore and MultiSemaphore', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let pool;
  let r;
  const lost = [];

  before(async () => {
    server = await startServer();
    pool = Array.from({ length: 4 }, () => makeClient(server.port, clients));
    r = pool[0];
    await Promise.all(pool.map((c) => c.ping()));
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  const opts = (o = {}) => ({ acquireTimeout: ACQUIRE_TIMEOUT, retryInterval: 5, onLockLost: (e) => lost.push(e), ...o });
  const once = () => opts({ acquireAttemptsLimit: 1 });

  const zit = (name, fn) => it(name, { timeout: TEST_TIMEOUT }, async (t) => {
    await fn(t);
  });

  zit('Semaphore: N concurrent holders never exceed the limit', async () => {
    const limit = 3;
    const { peak, done } = await contend(
      (i) => new Semaphore(pool[i % pool.length], 's:limit', limit, opts()), 12, 40,
      async () => {
        const card = await r.zcard('semaphore:s:limit');
        assert.ok(card >= 1 && card <= limit, `ZCARD ${card}`);
      });
    assert.equal(peak, limit, 'the limit is reached and never exceeded');
    assert.equal(done, 12);
    assert.equal(await r.zcard('semaphore:s:limit'), 0);
  });

  zit('Semaphore: release lets a waiter in; tryAcquire and acquire timeout when full', async () => {
    const held = [new Semaphore(pool[0], 's:wait', 2, opts()), new Semaphore(pool[1], 's:wait', 2, opts())];
    for (const s of held) await s.acquire();
    assert.deepEqual((await r.zrange('semaphore:s:wait', 0, -1)).sort(), held.map((s) => s.identifier).sort());
    assert.equal(await new Semaphore(pool[2], 's:wait', 2, once()).tryAcquire(), false);
    const start = Date.now();
    await assert.rejects(new Semaphore(pool[2], 's:wait', 2, opts({ acquireTimeout: 300 })).acquire(), TimeoutError);
    assert.ok(Date.now() - start >= 290);
    const waiter = new Semaphore(pool[3], 's:wait', 2, opts());
    const waiting = waiter.acquire();
    assert.ok(await stillPending(waiting, 200));
    await held[0].release();
    await within(waiting, ACQUIRE_TIMEOUT, 'waiter acquire');
    assert.deepEqual((await r.zrange('semaphore:s:wait', 0, -1)).sort(), [held[1].identifier, waiter.identifier].sort());
    await held[1].release();
    await waiter.release();
    assert.equal(await r.exists('semaphore:s:wait'), 0);
  });

  zit('Semaphore: unrefreshed holders expire; refreshed ones stay', async () => {
    const stale = new Semaphore(pool[0], 's:exp', 1, opts({ lockTimeout: 300, refreshInterval: 0 }));
    await stale.acquire();
    const pttl = await r.pttl('semaphore:s:exp');
    assert.ok(pttl > 0 && pttl <= 300, `PTTL ${pttl}`);
    const next = new Semaphore(pool[1], 's:exp', 1, opts({ lockTimeout: 600, refreshInterval: 100 }));
    const start = Date.now();
    await next.acquire(); // once the stale holder's entry is older than lockTimeout
    assert.ok(Date.now() - start >= 200);
    assert.deepEqual(await r.zrange('semaphore:s:exp', 0, -1), [next.identifier]);
    await sleep(1500); // 2.5 x lockTimeout, refreshed every 100 ms
    assert.deepEqual(await r.zrange('semaphore:s:exp', 0, -1), [next.identifier]);
    assert.equal(await new Semaphore(pool[2], 's:exp', 1, once()).tryAcquire(), false);
    await next.release();
    await stale.release();
    assert.equal(await r.zcard('semaphore:s:exp'), 0);
  });

  zit('MultiSemaphore: permits count against the limit', async () => {
    const limit = 5;
    const { peak } = await contend(
      (i) => new MultiSemaphore(pool[i % pool.length], 'ms:limit', limit, 2, opts()), 8, 30,
      async () => {
        const card = await r.zcard('semaphore:ms:limit');
        assert.ok(card <= limit && card % 2 === 0, `ZCARD ${card}`);
      });
    assert.equal(peak, 2, 'two holders of 2 permits fit in 5, three do not');
    const a = new MultiSemaphore(pool[0], 'ms:wait', limit, 3, opts());
    await a.acquire();
    assert.equal(await r.zcard('semaphore:ms:wait'), 3);
    assert.equal(await new MultiSemaphore(pool[1], 'ms:wait', limit, 3, once()).tryAcquire(), false);
    const b = new MultiSemaphore(pool[1], 'ms:wait', limit, 3, opts());
    const c2 = new MultiSemaphore(pool[2], 'ms:wait', limit, 2, opts());
    assert.equal(await c2.tryAcquire(), true);
    const waiting = b.acquire();
    assert.ok(await stillPending(waiting, 200));
    await a.release();
    await within(waiting, ACQUIRE_TIMEOUT, 'MultiSemaphore waiter');
    assert.equal(await r.zcard('semaphore:ms:wait'), 5);
    await b.release();
    await c2.release();
    assert.equal(await r.exists('semaphore:ms:wait'), 0);
  });

  it('no semaphore lock was lost unexpectedly', { timeout: TEST_TIMEOUT }, () => {
    assert.deepEqual(lost, []);
  });
});
