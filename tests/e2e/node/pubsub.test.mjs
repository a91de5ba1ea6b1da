// Pub/sub through real client libraries: an ioredis subscriber (RESP2) and node-redis
// subscribers over RESP2 and RESP3 (push frames), plus keyspace notifications.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startServer, sleep, waitFor, HOST } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 20_000;

// Collects (channel, message[, pattern]) tuples and resolves once `n` have arrived.
function collector() {
  const got = [];
  let waiters = [];
  const push = (item) => {
    got.push(item);
    waiters = waiters.filter(({ n, resolve }) => (got.length >= n ? (resolve(), false) : true));
  };
  const waitCount = (n, ms = 10_000) => new Promise((resolve, reject) => {
    if (got.length >= n) return resolve();
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${n}: ${JSON.stringify(got)}`)), ms);
    waiters.push({ n, resolve: () => { clearTimeout(timer); resolve(); } });
  });
  return { got, push, waitCount };
}

describe('pub/sub with ioredis and node-redis', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const closers = [];
  let pub;

  before(async () => {
    server = await startServer();
    pub = new Redis({ host: HOST, port: server.port, connectTimeout: 5000 });
    closers.push(() => pub.quit());
    await pub.ping();
  });

  after(async () => {
    for (const close of closers.reverse()) {
      try {
        await Promise.race([close(), sleep(2000)]);
      } catch {
        // already closed
      }
    }
    if (server) await server.stop();
  });

  async function numsub(channel) {
    const reply = await pub.pubsub('NUMSUB', channel);
    return Number(reply[1]);
  }

  it('ioredis subscriber: subscribe, psubscribe, messages, unsubscribe', { timeout: TEST_TIMEOUT }, async () => {
    const sub = new Redis({ host: HOST, port: server.port, connectTimeout: 5000 });
    closers.push(() => sub.disconnect());
    const c = collector();
    sub.on('message', (channel, message) => c.push(['message', channel, message]));
    sub.on('pmessage', (pattern, channel, message) => c.push(['pmessage', pattern, channel, message]));
    assert.equal(await sub.subscribe('io.news', 'io.other'), 2);
    assert.equal(await sub.psubscribe('io.*'), 3);
    assert.equal(await pub.publish('io.news', 'hello'), 2);
    await c.waitCount(2);
    assert.deepEqual(c.got, [['message', 'io.news', 'hello'], ['pmessage', 'io.*', 'io.news', 'hello']]);
    await sub.unsubscribe('io.news');
    assert.equal(await pub.publish('io.news', 'again'), 1);
    await c.waitCount(3);
    assert.deepEqual(c.got[2], ['pmessage', 'io.*', 'io.news', 'again']);
    assert.equal(await sub.punsubscribe('io.*'), 1);
    assert.equal(await sub.unsubscribe('io.other'), 0);
    assert.equal(await sub.get('io:x'), null); // back to normal mode
  });

  for (const RESP of [2, 3]) {
    it(`node-redis RESP${RESP} subscriber`, { timeout: TEST_TIMEOUT }, async () => {
      const client = createClient({ url: `redis://${HOST}:${server.port}`, RESP,
        socket: { connectTimeout: 5000, reconnectStrategy: false } });
      client.on('error', () => {});
      await client.connect();
      closers.push(() => client.close());
      const sub = RESP === 3 ? client : client.duplicate();
      if (sub !== client) {
        sub.on('error', () => {});
        await sub.connect();
        closers.push(() => sub.close());
      }
      const c = collector();
      const ch = `nr${RESP}.chan`;
      await sub.subscribe(ch, (message, channel) => c.push(['message', channel, message]));
      await sub.pSubscribe(`nr${RESP}.*`, (message, channel) => c.push(['pmessage', channel, message]));
      await waitFor(async () => (await numsub(ch)) === 1);
      assert.equal(await pub.publish(ch, 'one'), 2);
      await c.waitCount(2);
      assert.deepEqual(c.got, [['message', ch, 'one'], ['pmessage', ch, 'one']]);
      if (RESP === 3) {
        // Over RESP3 the subscribed connection keeps serving ordinary commands,
        // with messages arriving as push frames in between.
        assert.equal(await sub.set(`${ch}:k`, 'v'), 'OK');
        const pending = [];
        for (let i = 0; i < 50; i++) {
          pending.push(pub.publish(ch, `m${i}`));
          pending.push(sub.incr(`${ch}:n`));
        }
        const results = await Promise.all(pending);
        assert.deepEqual(results.filter((_, i) => i % 2 === 1), Array.from({ length: 50 }, (_, i) => i + 1));
        await c.waitCount(2 + 100);
        const direct = c.got.filter(([kind]) => kind === 'message').map(([, , m]) => m);
        assert.deepEqual(direct, ['one', ...Array.from({ length: 50 }, (_, i) => `m${i}`)]);
      }
      await sub.unsubscribe(ch);
      await sub.pUnsubscribe();
      await waitFor(async () => (await numsub(ch)) === 0);
      assert.equal(await pub.publish(ch, 'late'), 0);
    });
  }

  it('keyspace notifications reach an ioredis pattern subscriber', { timeout: TEST_TIMEOUT }, async () => {
    await pub.config('SET', 'notify-keyspace-events', 'KEA');
    const sub = new Redis({ host: HOST, port: server.port, connectTimeout: 5000 });
    closers.push(() => sub.disconnect());
    const c = collector();
    sub.on('pmessage', (pattern, channel, message) => c.push([channel, message]));
    await sub.psubscribe('__keyevent@0__:*');
    await pub.set('node:k', 'v');
    await pub.pexpire('node:k', 30);
    await c.waitCount(3);
    assert.deepEqual(c.got.slice(0, 3), [
      ['__keyevent@0__:set', 'node:k'],
      ['__keyevent@0__:expire', 'node:k'],
      ['__keyevent@0__:expired', 'node:k'],
    ]);
    await pub.config('SET', 'notify-keyspace-events', '');
  });
});
