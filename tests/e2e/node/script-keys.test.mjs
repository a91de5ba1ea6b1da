// Scripts that build key names inside themselves (as Bull and BullMQ do), defined with
// ioredis defineCommand (EVALSHA, EVAL after NOSCRIPT) and run from many connections at
// once: every run succeeds and the runs are atomic (docs/scripting.md, "Undeclared keys").

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './harness.mjs';
import { makeClient, closeAll } from './ioredis-clients.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 60_000;

// A job queue's "add": a new id from the queue's counter, the job's hash under a key
// built from the prefix and the id, the id pushed on the wait list. Only the counter is
// declared; reading the whole wait list's length first makes it a read-modify-write.
const ADD_JOB = `
local id = redis.call('INCR', KEYS[1] .. ':id')
redis.call('HSET', KEYS[1] .. ':job:' .. id, 'name', ARGV[1], 'seen', redis.call('LLEN', KEYS[1] .. ':wait'))
redis.call('RPUSH', KEYS[1] .. ':wait', id)
return id
`;

// Moves one unit between two accounts it did not declare, after summing all of them.
const TRANSFER = `
local total = 0
for i = 0, tonumber(ARGV[1]) - 1 do
  total = total + tonumber(redis.call('GET', 'acct:' .. i))
end
local from, to = 'acct:' .. ARGV[2], 'acct:' .. ARGV[3]
redis.call('SET', from, tonumber(redis.call('GET', from)) - 1)
redis.call('SET', to, tonumber(redis.call('GET', to)) + 1)
return total
`;

describe('undeclared-key scripts over ioredis defineCommand', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let pool;

  before(async () => {
    server = await startServer(['--io-threads', '2']);
    pool = Array.from({ length: 8 }, () => makeClient(server.port, clients, { commandTimeout: 20_000 }));
    for (const c of pool) {
      c.defineCommand('addJob', { numberOfKeys: 1, lua: ADD_JOB });
      c.defineCommand('transfer', { numberOfKeys: 1, lua: TRANSFER });
    }
    await Promise.all(pool.map((c) => c.ping()));
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  it('every add from many clients succeeds, with unique ids', { timeout: TEST_TIMEOUT }, async () => {
    const perClient = 100;
    const ids = (await Promise.all(pool.map(async (c, n) => {
      const got = [];
      for (let i = 0; i < perClient; i++) got.push(await c.addJob('q1', `job-${n}-${i}`));
      return got;
    }))).flat();
    const total = pool.length * perClient;
    assert.equal(ids.length, total);
    assert.equal(new Set(ids).size, total);
    assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: total }, (_, i) => i + 1));
    const r = pool[0];
    assert.equal(await r.llen('q1:wait'), total);
    // Atomic: each job saw exactly the jobs added before it.
    for (const id of [1, 2, Math.floor(total / 2), total]) {
      assert.equal(await r.hget(`q1:job:${id}`, 'seen'), String(id - 1));
    }
  });

  it('addBulk: one MULTI of many adds per client, all at once', { timeout: TEST_TIMEOUT }, async () => {
    const perClient = 250;
    const results = await Promise.all(pool.map((c, n) => {
      const m = c.multi();
      for (let i = 0; i < perClient; i++) m.addJob('q2', `bulk-${n}-${i}`);
      return m.exec();
    }));
    for (const res of results) {
      assert.equal(res.length, perClient);
      for (const [err, id] of res) {
        assert.equal(err, null);
        assert.equal(typeof id, 'number');
      }
      // Inside one EXEC the ids are consecutive: nothing ran in between.
      const ids = res.map(([, id]) => id);
      for (let i = 1; i < ids.length; i++) assert.equal(ids[i], ids[0] + i);
    }
    assert.equal(await pool[0].llen('q2:wait'), pool.length * perClient);
  });

  it('read-modify-write of undeclared keys stays atomic', { timeout: TEST_TIMEOUT }, async () => {
    const accounts = 30;
    const initial = 100;
    const r = pool[0];
    await r.mset(Object.fromEntries(Array.from({ length: accounts }, (_, i) => [`acct:${i}`, initial])));
    const seen = (await Promise.all(pool.map(async (c, n) => {
      const out = [];
      for (let i = 0; i < 40; i++) {
        const a = (n * 7 + i) % accounts;
        const b = (a + 1 + (i % (accounts - 1))) % accounts;
        out.push(await c.transfer('bank', accounts, a, b));
      }
      return out;
    }))).flat();
    assert.equal(seen.length, pool.length * 40);
    for (const total of seen) assert.equal(total, accounts * initial);
    const values = await r.mget(Array.from({ length: accounts }, (_, i) => `acct:${i}`));
    assert.equal(values.reduce((s, v) => s + Number(v), 0), accounts * initial);
  });
});
