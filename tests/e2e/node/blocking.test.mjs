// Blocking pops through the Node.js clients: ioredis (a dedicated connection per
// blocking call, commandTimeout) and node-redis 5 (duplicate() connections, RESP2 and
// RESP3). The server runs with two I/O threads, so waiter and pusher may be on
// different threads.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis, { ReplyError } from 'ioredis';
import { createClient } from 'redis';
import { startServer, sleep, waitFor, parseInfo, HOST } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 20_000;

async function blockedClients(info) {
  return Number(parseInfo(await info()).blocked_clients);
}

describe('blocking pops with ioredis', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let c;
  const open = (opts = {}) => {
    const r = new Redis({ host: HOST, port: server.port, connectTimeout: 5000,
      maxRetriesPerRequest: 0, retryStrategy: () => null, ...opts });
    r.on('error', () => {});
    clients.push(r);
    return r;
  };
  const waitBlocked = (n) => waitFor(async () => (await blockedClients(() => c.info('clients'))) === n, 10_000);

  before(async () => {
    server = await startServer(['--io-threads', '2']);
    c = open({ commandTimeout: 10_000 });
  });
  after(async () => {
    for (const r of clients) r.disconnect();
    await server?.stop();
  });

  it('BLPOP is served by a push from another connection', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    const w = open();
    const pending = w.blpop('jobs', 0);
    await waitBlocked(1);
    await c.rpush('jobs', 'job-1');
    assert.deepEqual(await pending, ['jobs', 'job-1']);
    await waitBlocked(0);
  });

  it('BRPOP times out with null', { timeout: TEST_TIMEOUT }, async () => {
    const w = open();
    assert.equal(await w.brpop('none', 0.05), null);
  });

  it('BLMOVE moves into the destination', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    const w = open();
    const pending = w.blmove('src', 'dst', 'LEFT', 'RIGHT', 5);
    await waitBlocked(1);
    await c.rpush('src', 'a', 'b');
    assert.equal(await pending, 'a');
    assert.deepEqual(await c.lrange('dst', 0, -1), ['a']);
  });

  it('BRPOPLPUSH and BZPOPMIN / BZPOPMAX', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    const w = open();
    const pending = w.bzpopmin('scores', 0);
    await waitBlocked(1);
    await c.zadd('scores', 3, 'c', 1.5, 'a');
    assert.deepEqual(await pending, ['scores', 'a', '1.5']);
    assert.deepEqual(await w.bzpopmax('scores', 0), ['scores', 'c', '3']);
    await c.rpush('l', 'x');
    assert.equal(await w.brpoplpush('l', 'm', 0), 'x');
  });

  it('BLMPOP and BZMPOP', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    const w = open();
    const pending = w.call('BLMPOP', '0', '2', 'a', 'b', 'LEFT', 'COUNT', '2');
    await waitBlocked(1);
    await c.rpush('b', '1', '2', '3');
    assert.deepEqual(await pending, ['b', ['1', '2']]);
    await c.zadd('z', 1, 'm');
    assert.deepEqual(await w.call('BZMPOP', '0', '1', 'z', 'MIN'), ['z', [['m', '1']]]);
  });

  it('waiters are served first come, first served', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    const waiters = [open(), open(), open()];
    const pending = [];
    for (let i = 0; i < waiters.length; i++) {
      pending.push(waiters[i].blpop('q', 0));
      await waitBlocked(i + 1);
    }
    await c.rpush('q', 'e0', 'e1', 'e2');
    assert.deepEqual(await Promise.all(pending), [['q', 'e0'], ['q', 'e1'], ['q', 'e2']]);
  });

  it('commandTimeout gives up on the client side; the server forgets the client on disconnect',
    { timeout: TEST_TIMEOUT }, async () => {
      await c.flushall();
      const w = open({ commandTimeout: 200 });
      await assert.rejects(w.blpop('never', 0), /Command timed out/);
      await waitBlocked(1);
      w.disconnect();
      await waitBlocked(0);
      await c.rpush('never', 'v');
      assert.equal(await c.llen('never'), 1);
    });

  it('errors: negative timeout, wrong type, CLIENT UNBLOCK ERROR', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    await assert.rejects(c.blpop('l', -1), (e) => e instanceof ReplyError &&
      e.message === 'ERR timeout is negative');
    await c.set('s', 'v');
    await assert.rejects(c.bzpopmin('s', 0), (e) => e instanceof ReplyError &&
      e.message.startsWith('WRONGTYPE'));
    const w = open();
    const id = await w.client('ID');
    const pending = w.blpop('l', 0);
    await waitBlocked(1);
    assert.equal(await c.client('UNBLOCK', id, 'ERROR'), 1);
    await assert.rejects(pending, (e) => e instanceof ReplyError &&
      e.message === 'UNBLOCKED client unblocked via CLIENT UNBLOCK');
    assert.equal(await w.ping(), 'PONG');
  });

  it('inside MULTI a blocking pop does not wait', { timeout: TEST_TIMEOUT }, async () => {
    await c.flushall();
    const res = await c.multi().blpop('empty', 0).bzpopmin('empty2', 0).exec();
    assert.deepEqual(res, [[null, null], [null, null]]);
  });
});

for (const RESP of [2, 3]) {
  describe(`blocking pops with node-redis RESP${RESP}`, { timeout: SUITE_TIMEOUT }, () => {
    let server;
    let c;
    const dups = [];
    const dup = async () => {
      const d = c.duplicate();
      d.on('error', () => {});
      dups.push(d);
      await d.connect();
      return d;
    };
    const waitBlocked = (n) => waitFor(async () => (await blockedClients(() => c.info('clients'))) === n, 10_000);

    before(async () => {
      server = await startServer(['--io-threads', '2']);
      c = createClient({ url: server.url, RESP,
        socket: { connectTimeout: 5000, reconnectStrategy: false } });
      c.on('error', () => {});
      await c.connect();
    });
    after(async () => {
      for (const d of dups) if (d.isOpen) d.destroy();
      if (c?.isOpen) c.destroy();
      await server?.stop();
    });

    it('blPop on a duplicate() connection', { timeout: TEST_TIMEOUT }, async () => {
      await c.flushAll();
      const w = await dup();
      const pending = w.blPop('jobs', 0);
      await waitBlocked(1);
      await c.rPush('jobs', 'j');
      assert.deepEqual(await pending, { key: 'jobs', element: 'j' });
    });

    it('brPop times out with null', { timeout: TEST_TIMEOUT }, async () => {
      const w = await dup();
      assert.equal(await w.brPop('none', 0.05), null);
    });

    it('blMove and brPopLPush', { timeout: TEST_TIMEOUT }, async () => {
      await c.flushAll();
      const w = await dup();
      const pending = w.blMove('src', 'dst', 'RIGHT', 'LEFT', 0);
      await waitBlocked(1);
      await c.rPush('src', ['a', 'b']);
      assert.equal(await pending, 'b');
      assert.equal(await w.brPopLPush('src', 'dst', 0), 'a');
      assert.deepEqual(await c.lRange('dst', 0, -1), ['a', 'b']);
    });

    it('bzPopMin / bzPopMax give the score', { timeout: TEST_TIMEOUT }, async () => {
      await c.flushAll();
      const w = await dup();
      const pending = w.bzPopMin('z', 0);
      await waitBlocked(1);
      await c.zAdd('z', [{ score: 2.5, value: 'm' }, { score: 7, value: 'n' }]);
      assert.deepEqual(await pending, { key: 'z', value: 'm', score: 2.5 });
      assert.deepEqual(await w.bzPopMax('z', 0), { key: 'z', value: 'n', score: 7 });
    });

    it('BLMPOP and BZMPOP through sendCommand', { timeout: TEST_TIMEOUT }, async () => {
      await c.flushAll();
      const w = await dup();
      const pending = w.sendCommand(['BLMPOP', '0', '1', 'l', 'RIGHT', 'COUNT', '5']);
      await waitBlocked(1);
      await c.rPush('l', ['1', '2']);
      assert.deepEqual(await pending, ['l', ['2', '1']]);
      assert.equal(await w.sendCommand(['BZMPOP', '0.05', '1', 'z', 'MAX']), null);
    });

    it('a disconnected waiter leaves no trace', { timeout: TEST_TIMEOUT }, async () => {
      await c.flushAll();
      const w = await dup();
      w.blPop('gone', 0).catch(() => {});
      await waitBlocked(1);
      w.destroy();
      await waitBlocked(0);
    });

    it('CLIENT UNBLOCK TIMEOUT ends the wait with null', { timeout: TEST_TIMEOUT }, async () => {
      const w = await dup();
      const id = await w.clientId();
      const pending = w.blPop('nothing', 0);
      await waitBlocked(1);
      assert.equal(await c.sendCommand(['CLIENT', 'UNBLOCK', String(id)]), 1);
      assert.equal(await pending, null);
      await sleep(0);
    });
  });
}
