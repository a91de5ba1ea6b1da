// End-to-end tests of the Node.js rate-limiting libraries that run on Lua scripts:
//   rate-limiter-flexible's RateLimiterRedis (EVALSHA through ioredis' defineCommand,
//     EVAL through node-redis),
//   express-rate-limit with rate-limit-redis (SCRIPT LOAD + EVALSHA, NOSCRIPT fallback)
//     behind a real express app answering real HTTP requests.
// The same expectations hold against redis-server (SLUICE_SERVER=/usr/bin/redis-server).
//
// Library calls that use MULTI (RateLimiterRedis.get/block, consume with a duration
// under one second) are left out: they belong to the transactions tests.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import express from 'express';
import { rateLimit } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { startServer, sleep, HOST } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 30_000;

async function expectRejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected the limiter to reject');
}

// The same scenario for both clients: consume until blocked, then penalty, reward,
// delete, and a fresh window after the duration.
async function limiterScenario(limiter, key) {
  const first = await limiter.consume(key);
  assert.equal(first.consumedPoints, 1);
  assert.equal(first.remainingPoints, 2);
  assert.ok(first.msBeforeNext > 0 && first.msBeforeNext <= 2000, String(first.msBeforeNext));
  const second = await limiter.consume(key, 2);
  assert.equal(second.consumedPoints, 3);
  assert.equal(second.remainingPoints, 0);

  const blocked = await expectRejection(limiter.consume(key));
  assert.equal(blocked.remainingPoints, 0);
  assert.equal(blocked.consumedPoints, 4);
  assert.ok(blocked.msBeforeNext > 0 && blocked.msBeforeNext <= 2000, String(blocked.msBeforeNext));

  // reward gives points back; penalty takes more (both through the same script).
  const rewarded = await limiter.reward(key, 3);
  assert.equal(rewarded.consumedPoints, 1);
  const ok = await limiter.consume(key);
  assert.equal(ok.remainingPoints, 1);
  const penalized = await limiter.penalty(key, 5);
  assert.equal(penalized.consumedPoints, 7);
  await expectRejection(limiter.consume(key));

  // After the window the key has expired: a fresh start.
  await sleep(2100);
  const fresh = await limiter.consume(key);
  assert.equal(fresh.consumedPoints, 1);
  assert.equal(fresh.remainingPoints, 2);

  assert.equal(await limiter.delete(key), true);
  const afterDelete = await limiter.consume(key);
  assert.equal(afterDelete.consumedPoints, 1);
}

describe('rate-limiter-flexible RateLimiterRedis', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const closers = [];
  before(async () => { server = await startServer(); });
  after(async () => {
    for (const close of closers) await close();
    await server.stop();
  });

  it('with ioredis (EVALSHA, EVAL on NOSCRIPT)', { timeout: TEST_TIMEOUT }, async () => {
    const client = new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 3 });
    client.on('error', () => {});
    closers.push(async () => { await client.quit(); });
    await client.script('FLUSH');
    const limiter = new RateLimiterRedis({
      storeClient: client, keyPrefix: 'rlf-io', points: 3, duration: 2,
    });
    await limiterScenario(limiter, 'user-1');
    // The script is cached now.
    const sha = createHash('sha1').update(limiter._incrTtlLuaScript).digest('hex');
    assert.deepEqual(await client.script('EXISTS', sha), [1]);
  });

  it('with node-redis (useRedisPackage)', { timeout: TEST_TIMEOUT }, async () => {
    const client = createClient({ url: server.url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    closers.push(async () => { await client.close(); });
    const limiter = new RateLimiterRedis({
      storeClient: client, useRedisPackage: true, keyPrefix: 'rlf-nr', points: 3, duration: 2,
    });
    await limiterScenario(limiter, 'user-2');
  });

  it('many concurrent consumers never exceed the points', { timeout: TEST_TIMEOUT }, async () => {
    const clients = Array.from({ length: 4 }, () =>
      new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 3 }));
    for (const c of clients) {
      c.on('error', () => {});
      closers.push(async () => { await c.quit(); });
    }
    const limiters = clients.map((c) => new RateLimiterRedis({
      storeClient: c, keyPrefix: 'rlf-many', points: 50, duration: 30,
    }));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => limiters[i % 4].consume('shared')));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 50);
  });
});

// An express app limited to `limit` requests per `windowMs`, its store on `sendCommand`.
async function startApp(sendCommand, prefix, limit, windowMs) {
  const app = express();
  app.use(rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-6',
    legacyHeaders: false,
    store: new RedisStore({ sendCommand, prefix }),
  }));
  app.get('/', (req, res) => res.send('hello'));
  const httpServer = await new Promise((resolve) => {
    const s = app.listen(0, HOST, () => resolve(s));
  });
  const { port } = httpServer.address();
  return {
    url: `http://${HOST}:${port}/`,
    close: () => new Promise((resolve) => httpServer.close(resolve)),
  };
}

async function httpScenario(app) {
  for (let i = 1; i <= 3; i++) {
    const res = await fetch(app.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello');
    assert.equal(res.headers.get('ratelimit-limit'), '3');
    assert.equal(res.headers.get('ratelimit-remaining'), String(3 - i));
    const reset = Number(res.headers.get('ratelimit-reset'));
    assert.ok(reset >= 0 && reset <= 2, String(reset));
  }
  const limited = await fetch(app.url);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get('ratelimit-remaining'), '0');
  await limited.text();
  // A new window after windowMs.
  await sleep(2100);
  const again = await fetch(app.url);
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('ratelimit-remaining'), '2');
  await again.text();
}

describe('express-rate-limit with rate-limit-redis', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const closers = [];
  before(async () => { server = await startServer(); });
  after(async () => {
    for (const close of closers) await close();
    await server.stop();
  });

  it('through node-redis sendCommand', { timeout: TEST_TIMEOUT }, async () => {
    const client = createClient({ url: server.url, socket: { reconnectStrategy: false } });
    client.on('error', () => {});
    await client.connect();
    closers.push(async () => { await client.close(); });
    const app = await startApp((...args) => client.sendCommand(args), 'erl-nr:', 3, 2000);
    closers.unshift(app.close);
    await httpScenario(app);
  });

  it('through ioredis call, after SCRIPT FLUSH', { timeout: TEST_TIMEOUT }, async () => {
    const client = new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 3 });
    client.on('error', () => {});
    closers.push(async () => { await client.quit(); });
    const app = await startApp((command, ...args) => client.call(command, ...args),
      'erl-io:', 3, 2000);
    closers.unshift(app.close);
    // The store loaded its scripts at start-up; a flush makes it hit NOSCRIPT and
    // load them again.
    await sleep(100);
    await client.script('FLUSH');
    await httpScenario(app);
  });
});
