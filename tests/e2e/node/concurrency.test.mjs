// Many clients updating the same keys at once: every increment must be counted.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startServer, sleep, HOST } from './harness.mjs';

const CLIENTS = 50;
const INCRS = 200;

describe('concurrency', { timeout: 120_000 }, () => {
  let server;
  const ioClients = [];
  const nrClients = [];

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await Promise.all(ioClients.map(async (c) => {
      try { await Promise.race([c.quit(), sleep(2000)]); } catch { /* closed */ }
      c.disconnect();
    }));
    await Promise.all(nrClients.map(async (c) => {
      try { if (c.isOpen) await Promise.race([c.close(), sleep(2000)]); } catch { /* closed */ }
      if (c.isOpen) c.destroy();
    }));
    if (server) await server.stop();
  });

  it(`${CLIENTS} ioredis clients x ${INCRS} INCR on one key`, { timeout: 60_000 }, async () => {
    for (let i = 0; i < CLIENTS; i++) {
      const c = new Redis({
        host: HOST, port: server.port, connectTimeout: 5000, commandTimeout: 20_000,
        maxRetriesPerRequest: 1, retryStrategy: () => null,
      });
      c.on('error', () => {});
      ioClients.push(c);
    }
    await Promise.all(ioClients.map((c) => c.ping()));
    const ids = new Set(await Promise.all(ioClients.map((c) => c.client('ID'))));
    assert.equal(ids.size, CLIENTS, 'each client has its own connection');

    // Each client awaits every reply before sending the next INCR, so the 50 streams
    // interleave on the server.
    const perClient = await Promise.all(ioClients.map(async (c) => {
      const seen = [];
      for (let j = 0; j < INCRS; j++) seen.push(await c.incr('conc:counter'));
      return seen;
    }));
    const total = CLIENTS * INCRS;
    assert.equal(await ioClients[0].get('conc:counter'), String(total));
    // Every reply value 1..total was handed out exactly once.
    const all = perClient.flat().sort((a, b) => a - b);
    assert.equal(all.length, total);
    for (let i = 0; i < total; i++) assert.equal(all[i], i + 1);
    for (const seen of perClient) {
      for (let j = 1; j < seen.length; j++) assert.ok(seen[j] > seen[j - 1], 'replies increase per client');
    }
  });

  it(`${CLIENTS} ioredis clients pipelining INCRBY/DECRBY on shared keys`, { timeout: 60_000 }, async () => {
    await Promise.all(ioClients.map(async (c, i) => {
      const p = c.pipeline();
      for (let j = 0; j < INCRS; j++) {
        p.incrby('conc:a', 3);
        p.decrby('conc:b', 2);
        p.incr(`conc:own:${i}`);
      }
      const res = await p.exec();
      for (const [err] of res) assert.equal(err, null);
    }));
    const [a, b] = await ioClients[0].mget('conc:a', 'conc:b');
    assert.equal(a, String(CLIENTS * INCRS * 3));
    assert.equal(b, String(-CLIENTS * INCRS * 2));
    const own = await ioClients[0].mget(...Array.from({ length: CLIENTS }, (_, i) => `conc:own:${i}`));
    assert.deepEqual(own, Array(CLIENTS).fill(String(INCRS)));
  });

  it(`${CLIENTS} node-redis RESP3 clients x ${INCRS} INCR, SETNX race`, { timeout: 60_000 }, async () => {
    for (let i = 0; i < CLIENTS; i++) {
      const c = createClient({
        url: `redis://${HOST}:${server.port}`, RESP: 3,
        socket: { connectTimeout: 5000, reconnectStrategy: false },
      });
      c.on('error', () => {});
      nrClients.push(c);
    }
    await Promise.all(nrClients.map((c) => c.connect()));
    await Promise.all(nrClients.map(async (c) => {
      for (let j = 0; j < INCRS; j++) await c.incr('conc:nr');
    }));
    assert.equal(await nrClients[0].get('conc:nr'), String(CLIENTS * INCRS));

    // Exactly one SET NX wins among clients racing for the same key.
    const wins = await Promise.all(nrClients.map((c, i) => c.set('conc:lock', `owner-${i}`, { NX: true })));
    const winners = wins.map((w, i) => (w === 'OK' ? i : -1)).filter((i) => i >= 0);
    assert.equal(winners.length, 1);
    assert.equal(await nrClients[0].get('conc:lock'), `owner-${winners[0]}`);
  });
});
