// End-to-end tests of hashes, sets and sorted sets driven with ioredis (RESP2).
//
// Expected replies come from a model of each type kept in plain JavaScript, not from
// recorded output.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyError } from 'ioredis';
import { makeClient, closeAll } from './ioredis-clients.mjs';
import { startServer, ERR } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 20_000;
const STREAM_TIMEOUT_MS = 10_000;

async function rejectsReply(promise, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ReplyError, `expected ReplyError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

// Collects every batch a SCAN-family stream emits, failing after STREAM_TIMEOUT_MS.
function drain(stream) {
  return new Promise((resolve, reject) => {
    const batches = [];
    const timer = setTimeout(() => {
      stream.destroy();
      reject(new Error(`scan stream did not end within ${STREAM_TIMEOUT_MS} ms`));
    }, STREAM_TIMEOUT_MS);
    stream.on('data', (batch) => batches.push(batch));
    stream.on('error', (e) => { clearTimeout(timer); reject(e); });
    stream.on('end', () => { clearTimeout(timer); resolve(batches); });
  });
}

// Flat [a, b, c, d] -> [[a, b], [c, d]].
function pairs(flat) {
  assert.equal(flat.length % 2, 0, `odd-length reply ${JSON.stringify(flat)}`);
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

const sorted = (xs) => [...xs].sort();

// Sorted-set order: by score, then by member bytes.
function zsort(entries) {
  return [...entries].sort(([ma, sa], [mb, sb]) => (sa - sb) || Buffer.compare(Buffer.from(ma), Buffer.from(mb)));
}

// [[member, score]] -> the flat WITHSCORES reply in RESP2, scores as numbers.
function numericPairs(flat) {
  return pairs(flat).map(([m, s]) => [m, Number(s)]);
}

describe('ioredis hashes and sets', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let r;

  before(async () => {
    server = await startServer();
    r = makeClient(server.port, clients);
    await r.ping();
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  it('HSET/HGET/HMGET/HGETALL/HDEL/HLEN/HEXISTS/HSETNX', { timeout: TEST_TIMEOUT }, async () => {
    const model = { name: 'ada', lang: 'en', n: '1' };
    assert.equal(await r.hset('ioc:h', model), 3);
    assert.equal(await r.hset('ioc:h', 'lang', 'fr', 'extra', 'x'), 1); // one new field
    model.lang = 'fr';
    model.extra = 'x';
    assert.equal(await r.hget('ioc:h', 'lang'), 'fr');
    assert.equal(await r.hget('ioc:h', 'nope'), null);
    assert.equal(await r.hget('ioc:missing', 'f'), null);
    assert.deepEqual(await r.hmget('ioc:h', 'name', 'nope', 'n'), [model.name, null, model.n]);
    assert.deepEqual(await r.hgetall('ioc:h'), model);
    assert.deepEqual(await r.hgetall('ioc:missing'), {});
    assert.equal(await r.hlen('ioc:h'), Object.keys(model).length);
    assert.deepEqual(sorted(await r.hkeys('ioc:h')), sorted(Object.keys(model)));
    assert.deepEqual(sorted(await r.hvals('ioc:h')), sorted(Object.values(model)));
    assert.equal(await r.hexists('ioc:h', 'name'), 1);
    assert.equal(await r.hexists('ioc:h', 'nope'), 0);
    assert.equal(await r.hsetnx('ioc:h', 'name', 'other'), 0);
    assert.equal(await r.hsetnx('ioc:h', 'fresh', 'v'), 1);
    model.fresh = 'v';
    assert.equal(await r.hstrlen('ioc:h', 'name'), model.name.length);
    assert.equal(await r.hdel('ioc:h', 'fresh', 'extra', 'nope'), 2);
    delete model.fresh;
    delete model.extra;
    assert.deepEqual(await r.hgetall('ioc:h'), model);
    // Deleting the last field deletes the key.
    assert.equal(await r.hdel('ioc:h', ...Object.keys(model)), Object.keys(model).length);
    assert.equal(await r.exists('ioc:h'), 0);
  });

  it('HINCRBY/HINCRBYFLOAT', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.hincrby('ioc:hi', 'n', 5), 5);
    assert.equal(await r.hincrby('ioc:hi', 'n', -7), -2);
    assert.equal(await r.hget('ioc:hi', 'n'), '-2');
    // The documented examples: 10.50 + 0.1 and 5.0e3 + 2.0e2.
    await r.hset('ioc:hi', 'f', '10.50', 'e', '5.0e3');
    assert.equal(await r.hincrbyfloat('ioc:hi', 'f', 0.1), '10.6');
    assert.equal(await r.hincrbyfloat('ioc:hi', 'f', -5), '5.6');
    assert.equal(await r.hincrbyfloat('ioc:hi', 'e', '2.0e2'), '5200');
    assert.equal(await r.hget('ioc:hi', 'e'), '5200');
    assert.equal(await r.hincrbyfloat('ioc:hi', 'new', '3'), '3');
    await r.hset('ioc:hi', 's', 'abc');
    await rejectsReply(r.hincrby('ioc:hi', 's', 1), 'ERR hash value is not an integer');
    await rejectsReply(r.hincrbyfloat('ioc:hi', 's', 1), 'ERR hash value is not a float');
    await rejectsReply(r.hincrby('ioc:hi', 'n', 'x'), ERR.notInteger);
    await rejectsReply(r.hincrbyfloat('ioc:hi', 'f', 'x'), ERR.notFloat);
  });

  it('HRANDFIELD with count and WITHVALUES', { timeout: TEST_TIMEOUT }, async () => {
    const model = {};
    for (let i = 0; i < 20; i++) model[`f${i}`] = `v${i}`;
    await r.hset('ioc:hr', model);
    const one = await r.hrandfield('ioc:hr');
    assert.ok(one in model);
    const distinct = await r.hrandfield('ioc:hr', 5);
    assert.equal(distinct.length, 5);
    assert.equal(new Set(distinct).size, 5);
    for (const f of distinct) assert.ok(f in model);
    // A count above the size returns every field once.
    assert.deepEqual(sorted(await r.hrandfield('ioc:hr', 100)), sorted(Object.keys(model)));
    // A negative count allows repeats and returns exactly |count| fields.
    const repeats = await r.hrandfield('ioc:hr', -50);
    assert.equal(repeats.length, 50);
    for (const f of repeats) assert.ok(f in model);
    const withValues = pairs(await r.hrandfield('ioc:hr', 4, 'WITHVALUES'));
    assert.equal(withValues.length, 4);
    for (const [f, v] of withValues) assert.equal(v, model[f]);
    assert.equal(await r.hrandfield('ioc:missing'), null);
    assert.deepEqual(await r.hrandfield('ioc:missing', 3), []);
  });

  it('hscanStream visits every field (small and large hashes, MATCH)', { timeout: TEST_TIMEOUT }, async () => {
    for (const size of [5, 600]) {
      const key = `ioc:hs:${size}`;
      const model = {};
      for (let i = 0; i < size; i++) model[`field:${i}`] = `value:${i}`;
      await r.hset(key, model);
      const seen = {};
      for (const batch of await drain(r.hscanStream(key, { count: 25 }))) {
        for (const [f, v] of pairs(batch)) {
          assert.equal(v, model[f], `field ${f}`);
          seen[f] = v; // SCAN may return an element twice
        }
      }
      assert.deepEqual(seen, model);
      const matched = new Set();
      for (const batch of await drain(r.hscanStream(key, { match: 'field:1*', count: 50 }))) {
        for (const [f] of pairs(batch)) matched.add(f);
      }
      assert.deepEqual(sorted(matched), sorted(Object.keys(model).filter((f) => f.startsWith('field:1'))));
    }
    assert.deepEqual(await drain(r.hscanStream('ioc:missing')), [[]]);
  });

  it('SADD/SMEMBERS/SISMEMBER/SMISMEMBER/SREM/SCARD/SMOVE', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.sadd('ioc:s', 'a', 'b', 'c', 'a'), 3);
    assert.equal(await r.sadd('ioc:s', 'c', 'd'), 1);
    const model = new Set(['a', 'b', 'c', 'd']);
    assert.deepEqual(sorted(await r.smembers('ioc:s')), sorted(model));
    assert.deepEqual(await r.smembers('ioc:missing'), []);
    assert.equal(await r.scard('ioc:s'), model.size);
    assert.equal(await r.sismember('ioc:s', 'a'), 1);
    assert.equal(await r.sismember('ioc:s', 'z'), 0);
    assert.deepEqual(await r.smismember('ioc:s', 'a', 'z', 'd'), [1, 0, 1]);
    assert.equal(await r.srem('ioc:s', 'a', 'z'), 1);
    model.delete('a');
    assert.equal(await r.smove('ioc:s', 'ioc:s2', 'b'), 1);
    assert.equal(await r.smove('ioc:s', 'ioc:s2', 'b'), 0);
    model.delete('b');
    assert.deepEqual(sorted(await r.smembers('ioc:s')), sorted(model));
    assert.deepEqual(await r.smembers('ioc:s2'), ['b']);
    // Integers (intset encoding) keep their values.
    const ints = [-5, 0, 7, 1000000, 42];
    assert.equal(await r.sadd('ioc:si', ...ints), ints.length);
    assert.deepEqual((await r.smembers('ioc:si')).map(Number).sort((x, y) => x - y), [...ints].sort((x, y) => x - y));
  });

  it('SINTER/SUNION/SDIFF, their STORE forms and SINTERCARD', { timeout: TEST_TIMEOUT }, async () => {
    const A = ['1', '2', '3', '4', 'x', 'y'];
    const B = ['3', '4', '5', 'y', 'z'];
    const C = ['4', 'y', 'q'];
    await r.sadd('ioc:A', ...A);
    await r.sadd('ioc:B', ...B);
    await r.sadd('ioc:C', ...C);
    const inter = A.filter((m) => B.includes(m) && C.includes(m));
    const union = [...new Set([...A, ...B, ...C])];
    const diff = A.filter((m) => !B.includes(m) && !C.includes(m));
    assert.deepEqual(sorted(await r.sinter('ioc:A', 'ioc:B', 'ioc:C')), sorted(inter));
    assert.deepEqual(sorted(await r.sunion('ioc:A', 'ioc:B', 'ioc:C')), sorted(union));
    assert.deepEqual(sorted(await r.sdiff('ioc:A', 'ioc:B', 'ioc:C')), sorted(diff));
    assert.deepEqual(await r.sinter('ioc:A', 'ioc:missing'), []);
    assert.equal(await r.sinterstore('ioc:dst', 'ioc:A', 'ioc:B'), A.filter((m) => B.includes(m)).length);
    assert.deepEqual(sorted(await r.smembers('ioc:dst')), sorted(A.filter((m) => B.includes(m))));
    assert.equal(await r.sunionstore('ioc:dst', 'ioc:B', 'ioc:C'), new Set([...B, ...C]).size);
    assert.equal(await r.sdiffstore('ioc:dst', 'ioc:A', 'ioc:B'), A.filter((m) => !B.includes(m)).length);
    assert.equal(await r.sintercard(2, 'ioc:A', 'ioc:B'), A.filter((m) => B.includes(m)).length);
    assert.equal(await r.sintercard(2, 'ioc:A', 'ioc:B', 'LIMIT', 1), 1);
    // An empty result deletes the destination.
    assert.equal(await r.sinterstore('ioc:dst', 'ioc:A', 'ioc:missing'), 0);
    assert.equal(await r.exists('ioc:dst'), 0);
  });

  it('SPOP/SRANDMEMBER', { timeout: TEST_TIMEOUT }, async () => {
    const all = Array.from({ length: 30 }, (_, i) => `m${i}`);
    await r.sadd('ioc:sp', ...all);
    const rand = await r.srandmember('ioc:sp', 10);
    assert.equal(new Set(rand).size, 10);
    assert.deepEqual(sorted(await r.srandmember('ioc:sp', 100)), sorted(all));
    const rep = await r.srandmember('ioc:sp', -40);
    assert.equal(rep.length, 40);
    for (const m of rep) assert.ok(all.includes(m));
    const popped = await r.spop('ioc:sp', 12);
    assert.equal(new Set(popped).size, 12);
    const rest = await r.smembers('ioc:sp');
    assert.deepEqual(sorted([...popped, ...rest]), sorted(all));
    assert.equal(await r.spop('ioc:missing'), null);
  });

  it('sscanStream visits every member (intset, listpack, hashtable, MATCH)', { timeout: TEST_TIMEOUT }, async () => {
    const cases = {
      'ioc:ss:ints': Array.from({ length: 400 }, (_, i) => String(i * 3 - 100)),
      'ioc:ss:small': ['a', 'b', 'c'],
      'ioc:ss:big': Array.from({ length: 700 }, (_, i) => `member-${i}`),
    };
    for (const [key, members] of Object.entries(cases)) {
      await r.sadd(key, ...members);
      const seen = new Set();
      for (const batch of await drain(r.sscanStream(key, { count: 30 }))) for (const m of batch) seen.add(m);
      assert.deepEqual(sorted(seen), sorted(members), key);
    }
    const matched = new Set();
    for (const batch of await drain(r.sscanStream('ioc:ss:big', { match: 'member-1?', count: 100 }))) {
      for (const m of batch) matched.add(m);
    }
    assert.deepEqual(sorted(matched), sorted(cases['ioc:ss:big'].filter((m) => /^member-1.$/.test(m))));
  });

  it('pipeline and MULTI/EXEC with hash and set commands', { timeout: TEST_TIMEOUT }, async () => {
    const res = await r.pipeline()
      .hset('ioc:p:h', 'a', '1', 'b', '2')
      .hincrby('ioc:p:h', 'a', 10)
      .hgetall('ioc:p:h')
      .sadd('ioc:p:s', 'x', 'y')
      .smembers('ioc:p:s')
      .sadd('ioc:p:h', 'oops') // wrong type: fails alone, the rest still runs
      .scard('ioc:p:s')
      .exec();
    assert.equal(res.length, 7);
    assert.deepEqual(res[0], [null, 2]);
    assert.deepEqual(res[1], [null, 11]);
    assert.deepEqual(res[2], [null, { a: '11', b: '2' }]); // ioredis turns HGETALL into an object in pipelines too
    assert.deepEqual(res[3], [null, 2]);
    assert.equal(res[4][0], null);
    assert.deepEqual(sorted(res[4][1]), ['x', 'y']);
    assert.ok(res[5][0] instanceof ReplyError);
    assert.equal(res[5][0].message, ERR.wrongType);
    assert.deepEqual(res[6], [null, 2]);

    const tx = await r.multi()
      .hset('ioc:t:h', 'f', 'v')
      .sadd('ioc:t:s', 'm1', 'm2', 'm3')
      .srem('ioc:t:s', 'm2')
      .hget('ioc:t:s', 'f') // runtime WRONGTYPE inside EXEC
      .smembers('ioc:t:s')
      .hgetall('ioc:t:h')
      .exec();
    assert.equal(tx.length, 6);
    assert.deepEqual(tx[0], [null, 1]);
    assert.deepEqual(tx[1], [null, 3]);
    assert.deepEqual(tx[2], [null, 1]);
    assert.ok(tx[3][0] instanceof ReplyError);
    assert.equal(tx[3][0].message, ERR.wrongType);
    assert.deepEqual(sorted(tx[4][1]), ['m1', 'm3']);
    assert.deepEqual(tx[5], [null, { f: 'v' }]);

    // A command rejected while queueing aborts the transaction: nothing runs.
    await assert.rejects(
      r.multi().sadd('ioc:t:abort', 'a').hset('ioc:t:abort2').exec(),
      (e) => e instanceof ReplyError && /^EXECABORT/.test(e.message));
    assert.equal(await r.exists('ioc:t:abort'), 0);
  });

  it('WRONGTYPE between strings, hashes and sets', { timeout: TEST_TIMEOUT }, async () => {
    await r.set('ioc:w:str', 'v');
    await r.hset('ioc:w:hash', 'f', 'v');
    await r.sadd('ioc:w:set', 'm');
    await rejectsReply(r.hget('ioc:w:str', 'f'), ERR.wrongType);
    await rejectsReply(r.hset('ioc:w:str', 'f', 'v'), ERR.wrongType);
    await rejectsReply(r.hgetall('ioc:w:set'), ERR.wrongType);
    await rejectsReply(r.hincrbyfloat('ioc:w:set', 'f', 1), ERR.wrongType);
    await rejectsReply(r.sadd('ioc:w:hash', 'm'), ERR.wrongType);
    await rejectsReply(r.smembers('ioc:w:str'), ERR.wrongType);
    await rejectsReply(r.sinter('ioc:w:set', 'ioc:w:hash'), ERR.wrongType);
    await rejectsReply(r.get('ioc:w:hash'), ERR.wrongType);
    await rejectsReply(r.incr('ioc:w:set'), ERR.wrongType);
    await assert.rejects(drain(r.sscanStream('ioc:w:hash')), (e) => e instanceof ReplyError && e.message === ERR.wrongType);
    // The keys are unchanged by the failed commands.
    assert.equal(await r.get('ioc:w:str'), 'v');
    assert.deepEqual(await r.hgetall('ioc:w:hash'), { f: 'v' });
    assert.deepEqual(await r.smembers('ioc:w:set'), ['m']);
    assert.equal(await r.type('ioc:w:hash'), 'hash');
    assert.equal(await r.type('ioc:w:set'), 'set');
  });
});

describe('ioredis sorted sets', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let r;

  before(async () => {
    server = await startServer();
    r = makeClient(server.port, clients);
    await r.ping();
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  // A sorted-set test with the per-test timeout.
  const zit = (name, fn) => it(name, { timeout: TEST_TIMEOUT }, async (t) => {
    await fn(t);
  });

  zit('ZADD/ZSCORE/ZMSCORE/ZCARD/ZRANGE WITHSCORES', async () => {
    const entries = [['c', 3], ['a', 1], ['b', 2], ['b2', 2], ['neg', -1.5], ['frac', 0.25]];
    assert.equal(await r.zadd('ioc:z', ...entries.flatMap(([m, s]) => [s, m])), entries.length);
    const model = zsort(entries);
    assert.equal(await r.zcard('ioc:z'), model.length);
    for (const [m, s] of entries) assert.equal(Number(await r.zscore('ioc:z', m)), s, m);
    assert.equal(await r.zscore('ioc:z', 'nope'), null);
    assert.equal(await r.zscore('ioc:missing', 'a'), null);
    assert.deepEqual((await r.zmscore('ioc:z', 'a', 'nope', 'neg')).map((s) => (s === null ? null : Number(s))), [1, null, -1.5]);
    assert.deepEqual(await r.zrange('ioc:z', 0, -1), model.map(([m]) => m));
    assert.deepEqual(numericPairs(await r.zrange('ioc:z', 0, -1, 'WITHSCORES')), model);
    assert.deepEqual(await r.zrange('ioc:z', 1, 2), model.slice(1, 3).map(([m]) => m));
    assert.deepEqual(await r.zrange('ioc:z', -2, -1), model.slice(-2).map(([m]) => m));
    assert.deepEqual(await r.zrange('ioc:z', 5, 1), []);
    assert.deepEqual(await r.zrevrange('ioc:z', 0, -1), model.map(([m]) => m).reverse());
    assert.deepEqual(await r.zrange('ioc:z', 0, 1, 'REV'), model.map(([m]) => m).reverse().slice(0, 2));
    assert.deepEqual(await r.zrange('ioc:missing', 0, -1), []);
    // Integral scores come back without a fraction, infinities as inf/-inf.
    assert.equal(await r.zscore('ioc:z', 'c'), '3');
    await r.zadd('ioc:zi', '+inf', 'top', '-inf', 'bottom');
    assert.equal(await r.zscore('ioc:zi', 'top'), 'inf');
    assert.equal(await r.zscore('ioc:zi', 'bottom'), '-inf');
    await rejectsReply(r.zadd('ioc:z', 'notnum', 'x'), ERR.notFloat);
    await rejectsReply(r.zadd('ioc:z', 1, 'x', 2), ERR.syntax);
  });

  zit('ZADD NX/XX/GT/LT/CH/INCR', async () => {
    await r.zadd('ioc:zf', 10, 'a', 20, 'b');
    assert.equal(await r.zadd('ioc:zf', 'NX', 99, 'a', 30, 'c'), 1);
    assert.equal(Number(await r.zscore('ioc:zf', 'a')), 10);
    assert.equal(await r.zadd('ioc:zf', 'XX', 11, 'a', 40, 'd'), 0);
    assert.equal(Number(await r.zscore('ioc:zf', 'a')), 11);
    assert.equal(await r.zscore('ioc:zf', 'd'), null);
    assert.equal(await r.zadd('ioc:zf', 'XX', 'CH', 12, 'a', 20, 'b'), 1); // only a changed
    assert.equal(await r.zadd('ioc:zf', 'GT', 'CH', 5, 'a', 25, 'b'), 1); // a not lowered, b raised
    assert.equal(Number(await r.zscore('ioc:zf', 'a')), 12);
    assert.equal(Number(await r.zscore('ioc:zf', 'b')), 25);
    assert.equal(await r.zadd('ioc:zf', 'LT', 'CH', 1, 'a', 99, 'b'), 1);
    assert.equal(Number(await r.zscore('ioc:zf', 'a')), 1);
    assert.equal(Number(await r.zscore('ioc:zf', 'b')), 25);
    assert.equal(Number(await r.zadd('ioc:zf', 'INCR', 2.5, 'a')), 3.5);
    assert.equal(await r.zadd('ioc:zf', 'NX', 'INCR', 1, 'a'), null); // NX blocks the update
    await rejectsReply(r.zadd('ioc:zf', 'NX', 'XX', 1, 'a'),
      'ERR XX and NX options at the same time are not compatible');
    await rejectsReply(r.zadd('ioc:zf', 'INCR', 1, 'a', 2, 'b'),
      'ERR INCR option supports a single increment-element pair');
  });

  zit('ZINCRBY/ZREM/ZRANK/ZREVRANK/ZCOUNT', async () => {
    assert.equal(Number(await r.zincrby('ioc:zi2', 1.5, 'x')), 1.5);
    assert.equal(Number(await r.zincrby('ioc:zi2', 2, 'x')), 3.5);
    assert.equal(Number(await r.zincrby('ioc:zi2', -10, 'y')), -10);
    await rejectsReply(r.zincrby('ioc:zi2', 'abc', 'x'), ERR.notFloat);
    const model = new Map([['x', 3.5], ['y', -10]]);
    for (let i = 0; i < 10; i++) model.set(`m${i}`, i * 0.5);
    await r.zadd('ioc:zi2', ...[...model].flatMap(([m, s]) => [s, m]));
    let order = zsort([...model]);
    assert.equal(await r.zrank('ioc:zi2', 'x'), order.findIndex(([m]) => m === 'x'));
    assert.equal(await r.zrevrank('ioc:zi2', 'x'), order.length - 1 - order.findIndex(([m]) => m === 'x'));
    assert.equal(await r.zrank('ioc:zi2', 'nope'), null);
    assert.equal(await r.zcount('ioc:zi2', 1, 3), order.filter(([, s]) => s >= 1 && s <= 3).length);
    assert.equal(await r.zcount('ioc:zi2', '(1', '(3'), order.filter(([, s]) => s > 1 && s < 3).length);
    assert.equal(await r.zcount('ioc:zi2', '-inf', '+inf'), order.length);
    assert.equal(await r.zrem('ioc:zi2', 'x', 'm3', 'nope'), 2);
    model.delete('x');
    model.delete('m3');
    order = zsort([...model]);
    assert.deepEqual(numericPairs(await r.zrange('ioc:zi2', 0, -1, 'WITHSCORES')), order);
    // Removing every member deletes the key.
    assert.equal(await r.zrem('ioc:zi2', ...model.keys()), model.size);
    assert.equal(await r.exists('ioc:zi2'), 0);
  });

  zit('ZRANGEBYSCORE/ZRANGE BYSCORE/ZRANGEBYLEX/ZREMRANGEBYSCORE', async () => {
    const entries = Array.from({ length: 20 }, (_, i) => [`k${String(i).padStart(2, '0')}`, (i % 7) - 2]);
    await r.zadd('ioc:zs', ...entries.flatMap(([m, s]) => [s, m]));
    const model = zsort(entries);
    const between = (lo, hi, loEx = false, hiEx = false) => model.filter(([, s]) =>
      (loEx ? s > lo : s >= lo) && (hiEx ? s < hi : s <= hi));
    assert.deepEqual(await r.zrangebyscore('ioc:zs', 0, 2), between(0, 2).map(([m]) => m));
    assert.deepEqual(await r.zrangebyscore('ioc:zs', '(0', '(2'), between(0, 2, true, true).map(([m]) => m));
    assert.deepEqual(await r.zrangebyscore('ioc:zs', '-inf', '+inf'), model.map(([m]) => m));
    assert.deepEqual(numericPairs(await r.zrangebyscore('ioc:zs', 1, 3, 'WITHSCORES')), between(1, 3));
    assert.deepEqual(await r.zrangebyscore('ioc:zs', '-inf', '+inf', 'LIMIT', 3, 4), model.slice(3, 7).map(([m]) => m));
    assert.deepEqual(await r.zrevrangebyscore('ioc:zs', 2, 0), between(0, 2).map(([m]) => m).reverse());
    assert.deepEqual(await r.zrange('ioc:zs', 0, 2, 'BYSCORE'), between(0, 2).map(([m]) => m));
    assert.deepEqual(await r.zrange('ioc:zs', 2, 0, 'BYSCORE', 'REV', 'LIMIT', 1, 2),
      between(0, 2).map(([m]) => m).reverse().slice(1, 3));
    assert.deepEqual(await r.zrangebyscore('ioc:zs', 10, 20), []);
    await rejectsReply(r.zrangebyscore('ioc:zs', 'a', 2), 'ERR min or max is not a float');
    // All members with one score: lexicographic ranges.
    const lex = ['apple', 'banana', 'cherry', 'date', 'fig'];
    await r.zadd('ioc:zl', ...lex.flatMap((m) => [0, m]));
    assert.deepEqual(await r.zrangebylex('ioc:zl', '[b', '(d'), lex.filter((m) => m >= 'b' && m < 'd'));
    assert.deepEqual(await r.zrangebylex('ioc:zl', '-', '+'), lex);
    assert.deepEqual(await r.zrangebylex('ioc:zl', '(banana', '+', 'LIMIT', 0, 2), ['cherry', 'date']);
    // ZREMRANGEBYSCORE as redis-semaphore uses it: drop everything up to a bound.
    const removed = model.filter(([, s]) => s <= 0);
    assert.equal(await r.zremrangebyscore('ioc:zs', '-inf', 0), removed.length);
    assert.deepEqual(numericPairs(await r.zrange('ioc:zs', 0, -1, 'WITHSCORES')), model.filter(([, s]) => s > 0));
  });

  zit('ZPOPMIN/ZPOPMAX/ZRANDMEMBER', async () => {
    const entries = [['a', 5], ['b', 1], ['c', 3], ['d', 1], ['e', 9]];
    await r.zadd('ioc:zp', ...entries.flatMap(([m, s]) => [s, m]));
    const model = zsort(entries);
    assert.deepEqual(numericPairs(await r.zpopmin('ioc:zp')), model.slice(0, 1));
    assert.deepEqual(numericPairs(await r.zpopmin('ioc:zp', 2)), model.slice(1, 3));
    assert.deepEqual(numericPairs(await r.zpopmax('ioc:zp')), model.slice(-1));
    assert.deepEqual(numericPairs(await r.zpopmin('ioc:zp', 10)), model.slice(3, 4));
    assert.equal(await r.exists('ioc:zp'), 0);
    assert.deepEqual(await r.zpopmin('ioc:zp'), []);
    await r.zadd('ioc:zr', ...entries.flatMap(([m, s]) => [s, m]));
    const scores = new Map(entries);
    assert.ok(scores.has(await r.zrandmember('ioc:zr')));
    const distinct = await r.zrandmember('ioc:zr', 3);
    assert.equal(new Set(distinct).size, 3);
    assert.deepEqual(sorted(await r.zrandmember('ioc:zr', 50)), sorted(scores.keys()));
    const rep = numericPairs(await r.zrandmember('ioc:zr', -12, 'WITHSCORES'));
    assert.equal(rep.length, 12);
    for (const [m, s] of rep) assert.equal(s, scores.get(m));
    assert.equal(await r.zrandmember('ioc:missing'), null);
  });

  zit('zscanStream visits every member with its score (small and large, MATCH)', async () => {
    for (const size of [6, 500]) {
      const key = `ioc:zsc:${size}`;
      const model = new Map(Array.from({ length: size }, (_, i) => [`zm:${i}`, i / 4]));
      await r.zadd(key, ...[...model].flatMap(([m, s]) => [s, m]));
      const seen = new Map();
      for (const batch of await drain(r.zscanStream(key, { count: 20 }))) {
        for (const [m, s] of numericPairs(batch)) {
          assert.equal(s, model.get(m), m);
          seen.set(m, s);
        }
      }
      assert.deepEqual(seen, model);
      const matched = new Set();
      for (const batch of await drain(r.zscanStream(key, { match: 'zm:2*' }))) {
        for (const [m] of pairs(batch)) matched.add(m);
      }
      assert.deepEqual(sorted(matched), sorted([...model.keys()].filter((m) => m.startsWith('zm:2'))));
    }
  });

  zit('pipeline and MULTI/EXEC with sorted-set commands', async () => {
    const res = await r.pipeline()
      .zadd('ioc:zpl', 2, 'b', 1, 'a')
      .zincrby('ioc:zpl', 5, 'a')
      .zrange('ioc:zpl', 0, -1, 'WITHSCORES')
      .hset('ioc:zpl:h', 'f', 'v')
      .zadd('ioc:zpl:h', 1, 'x')
      .zcard('ioc:zpl')
      .exec();
    assert.deepEqual(res[0], [null, 2]);
    assert.equal(Number(res[1][1]), 6);
    assert.deepEqual(numericPairs(res[2][1]), [['b', 2], ['a', 6]]);
    assert.equal(res[4][0]?.message, ERR.wrongType);
    assert.deepEqual(res[5], [null, 2]);
    const tx = await r.multi()
      .zadd('ioc:zpl', 0, 'c')
      .zpopmin('ioc:zpl')
      .zrem('ioc:zpl', 'b')
      .zrangebyscore('ioc:zpl', '-inf', '+inf')
      .exec();
    assert.deepEqual(tx[0], [null, 1]);
    assert.deepEqual(numericPairs(tx[1][1]), [['c', 0]]);
    assert.deepEqual(tx[2], [null, 1]);
    assert.deepEqual(tx[3], [null, ['a']]);
  });

  zit('WRONGTYPE between sorted sets and other types', async () => {
    await r.zadd('ioc:zw', 1, 'm');
    await r.sadd('ioc:zw:set', 'm');
    await r.set('ioc:zw:str', 'v');
    await rejectsReply(r.zadd('ioc:zw:set', 1, 'm'), ERR.wrongType);
    await rejectsReply(r.zscore('ioc:zw:str', 'm'), ERR.wrongType);
    await rejectsReply(r.zrange('ioc:zw:set', 0, -1), ERR.wrongType);
    await rejectsReply(r.zincrby('ioc:zw:str', 1, 'm'), ERR.wrongType);
    await rejectsReply(r.smembers('ioc:zw'), ERR.wrongType);
    await rejectsReply(r.hgetall('ioc:zw'), ERR.wrongType);
    await rejectsReply(r.get('ioc:zw'), ERR.wrongType);
    assert.equal(await r.type('ioc:zw'), 'zset');
    assert.deepEqual(numericPairs(await r.zrange('ioc:zw', 0, -1, 'WITHSCORES')), [['m', 1]]);
  });
});
