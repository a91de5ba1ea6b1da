// End-to-end tests of hashes, sets and sorted sets driven with node-redis 5, over RESP2
// and over RESP3 (HELLO 3).
//
// Each reply is checked twice: through node-redis's own command (hGetAll, zScore, ...)
// and raw through sendCommand on a client mapping RESP3 maps to Map and sets to Set, so
// the wire type the server chose (map, set, double, nested pairs) is asserted, not only
// the transformed value. Expected values come from a JavaScript model of each type.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, RESP_TYPES, ErrorReply } from 'redis';
import { startServer, sleep, ERR } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 20_000;
const SCAN_TIMEOUT_MS = 10_000;

async function closeAll(clients) {
  await Promise.all(clients.map(async (c) => {
    if (!c.isOpen) return;
    try {
      await Promise.race([c.close(), sleep(2000)]);
    } catch {
      // already gone
    }
    if (c.isOpen) c.destroy();
  }));
}

async function rejectsReply(promise, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ErrorReply, `expected ErrorReply, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

// Collects every batch of an async scan iterator, failing after SCAN_TIMEOUT_MS.
async function collect(iterator) {
  const batches = [];
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`scan did not finish within ${SCAN_TIMEOUT_MS} ms`)), SCAN_TIMEOUT_MS);
  });
  try {
    await Promise.race([(async () => { for await (const b of iterator) batches.push(b); })(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return batches.flat();
}

function pairs(flat) {
  assert.ok(Array.isArray(flat), `expected an array, got ${typeof flat}`);
  assert.equal(flat.length % 2, 0, `odd-length reply ${JSON.stringify(flat)}`);
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

const sorted = (xs) => [...xs].sort();
const plain = (o) => ({ ...o }); // node-redis builds objects without a prototype

function zsort(entries) {
  return [...entries].sort(([ma, sa], [mb, sb]) => (sa - sb) || Buffer.compare(Buffer.from(ma), Buffer.from(mb)));
}

for (const RESP of [2, 3]) {
  // The raw reply shapes of RESP2 and RESP3, as Redis 7 sends them.
  // A WITHSCORES/WITHVALUES reply: RESP3 has [member, double] pairs, RESP2 a flat
  // array of bulk strings. Returns [[member, Number(score)]].
  const rawPairs = (reply, { numeric = true } = {}) => {
    if (RESP === 3) {
      assert.ok(Array.isArray(reply));
      for (const p of reply) {
        assert.ok(Array.isArray(p) && p.length === 2, `expected a pair, got ${JSON.stringify(p)}`);
        if (numeric) assert.equal(typeof p[1], 'number', 'RESP3 score is a double');
      }
      return reply.map(([m, s]) => [m, s]);
    }
    return pairs(reply).map(([m, s]) => {
      if (numeric) assert.equal(typeof s, 'string', 'RESP2 score is a bulk string');
      return [m, numeric ? Number(s) : s];
    });
  };
  // A double reply: RESP3 double, RESP2 bulk string.
  const rawDouble = (reply) => {
    if (reply === null) return null;
    assert.equal(typeof reply, RESP === 3 ? 'number' : 'string', `double reply ${reply}`);
    return Number(reply);
  };

  describe(`node-redis RESP${RESP} hashes and sets`, { timeout: SUITE_TIMEOUT }, () => {
    let server;
    const clients = [];
    let c;
    // sendCommand with RESP3 maps as Map and sets as Set, to see the wire type.
    const TYPED = { typeMapping: { [RESP_TYPES.MAP]: Map, [RESP_TYPES.SET]: Set } };
    const typed = { sendCommand: (args) => c.sendCommand(args, TYPED) };

    before(async () => {
      server = await startServer();
      c = createClient({ url: server.url, RESP, socket: { connectTimeout: 5000, reconnectStrategy: false } });
      c.on('error', () => {});
      clients.push(c);
      await c.connect();
    });

    after(async () => {
      await closeAll(clients);
      if (server) await server.stop();
    });

    it('HSET/HGET/HGETALL (a map in RESP3, a flat array in RESP2)', { timeout: TEST_TIMEOUT }, async () => {
      const model = { name: 'ada', lang: 'en', n: '1' };
      assert.equal(await c.hSet('nrc:h', model), 3);
      assert.equal(await c.hSet('nrc:h', 'extra', 'x'), 1);
      model.extra = 'x';
      assert.equal(await c.hGet('nrc:h', 'lang'), 'en');
      assert.equal(await c.hGet('nrc:h', 'nope'), null);
      assert.deepEqual(await c.hmGet('nrc:h', ['name', 'nope']), ['ada', null]);
      assert.deepEqual(plain(await c.hGetAll('nrc:h')), model);
      assert.deepEqual(plain(await c.hGetAll('nrc:missing')), {});
      const raw = await typed.sendCommand(['HGETALL', 'nrc:h']);
      if (RESP === 3) {
        assert.ok(raw instanceof Map, `RESP3 HGETALL should be a map, got ${raw?.constructor?.name}`);
        assert.deepEqual(Object.fromEntries(raw), model);
        const empty = await typed.sendCommand(['HGETALL', 'nrc:missing']);
        assert.ok(empty instanceof Map && empty.size === 0);
      } else {
        assert.ok(Array.isArray(raw));
        assert.deepEqual(Object.fromEntries(pairs(raw)), model);
      }
      assert.equal(await c.hLen('nrc:h'), 4);
      assert.deepEqual(sorted(await c.hKeys('nrc:h')), sorted(Object.keys(model)));
      assert.equal(await c.hExists('nrc:h', 'name'), 1);
      assert.equal(await c.hDel('nrc:h', ['extra', 'nope']), 1);
    });

    it('HINCRBY/HINCRBYFLOAT', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.hIncrBy('nrc:hi', 'n', 3), 3);
      assert.equal(await c.hIncrBy('nrc:hi', 'n', -4), -1);
      await c.hSet('nrc:hi', 'f', '10.50');
      // HINCRBYFLOAT answers with a bulk string in both protocols.
      assert.equal(await c.hIncrByFloat('nrc:hi', 'f', 0.1), '10.6');
      assert.equal(await c.sendCommand(['HINCRBYFLOAT', 'nrc:hi', 'f', '-0.6']), '10');
      await rejectsReply(c.hIncrByFloat('nrc:hi', 'f', 'x'), ERR.notFloat);
    });

    it('HRANDFIELD WITHVALUES (pairs in RESP3, flat in RESP2)', { timeout: TEST_TIMEOUT }, async () => {
      const model = {};
      for (let i = 0; i < 12; i++) model[`f${i}`] = `v${i}`;
      await c.hSet('nrc:hr', model);
      const hl = await c.hRandFieldCountWithValues('nrc:hr', 5);
      assert.equal(hl.length, 5);
      assert.equal(new Set(hl.map((e) => e.field)).size, 5);
      for (const { field, value } of hl) assert.equal(value, model[field]);
      const raw = rawPairs(await c.sendCommand(['HRANDFIELD', 'nrc:hr', '-20', 'WITHVALUES']), { numeric: false });
      assert.equal(raw.length, 20);
      for (const [f, v] of raw) assert.equal(v, model[f]);
      const all = await c.hRandFieldCount('nrc:hr', 50);
      assert.deepEqual(sorted(all), sorted(Object.keys(model)));
      assert.equal(await c.hRandField('nrc:missing'), null);
    });

    it('hScanIterator visits every field', { timeout: TEST_TIMEOUT }, async () => {
      const model = {};
      for (let i = 0; i < 500; i++) model[`field:${i}`] = `value:${i}`;
      await c.hSet('nrc:hs', model);
      const seen = {};
      for (const { field, value } of await collect(c.hScanIterator('nrc:hs', { COUNT: 40 }))) {
        assert.equal(value, model[field]);
        seen[field] = value;
      }
      assert.deepEqual(seen, model);
      const matched = new Set((await collect(c.hScanIterator('nrc:hs', { MATCH: 'field:4?' }))).map((e) => e.field));
      assert.deepEqual(sorted(matched), sorted(Object.keys(model).filter((f) => /^field:4.$/.test(f))));
    });

    it('SADD/SMEMBERS/SINTER/SUNION/SDIFF (sets in RESP3, arrays in RESP2)', { timeout: TEST_TIMEOUT }, async () => {
      const A = ['a', 'b', 'c', '1', '2'];
      const B = ['b', 'c', 'd', '2'];
      assert.equal(await c.sAdd('nrc:A', A), A.length);
      assert.equal(await c.sAdd('nrc:B', [...B, 'b']), B.length);
      assert.deepEqual(sorted(await c.sMembers('nrc:A')), sorted(A));
      const expected = {
        SMEMBERS: [['nrc:A'], A],
        SINTER: [['nrc:A', 'nrc:B'], A.filter((m) => B.includes(m))],
        SUNION: [['nrc:A', 'nrc:B'], [...new Set([...A, ...B])]],
        SDIFF: [['nrc:A', 'nrc:B'], A.filter((m) => !B.includes(m))],
      };
      for (const [cmd, [keys, members]] of Object.entries(expected)) {
        const raw = await typed.sendCommand([cmd, ...keys]);
        if (RESP === 3) assert.ok(raw instanceof Set, `RESP3 ${cmd} should be a set, got ${raw?.constructor?.name}`);
        else assert.ok(Array.isArray(raw), `RESP2 ${cmd} is an array`);
        assert.deepEqual(sorted(raw), sorted(members), cmd);
      }
      const empty = await typed.sendCommand(['SMEMBERS', 'nrc:missing']);
      assert.equal(RESP === 3 ? empty instanceof Set : Array.isArray(empty), true);
      assert.equal([...empty].length, 0);
      assert.deepEqual(sorted(await c.sInter(['nrc:A', 'nrc:B'])), sorted(expected.SINTER[1]));
      assert.equal(await c.sIsMember('nrc:A', 'a'), 1);
      assert.deepEqual(await c.smIsMember('nrc:A', ['a', 'zz', 'c']), [1, 0, 1]);
      assert.equal(await c.sCard('nrc:A'), A.length);
      assert.equal(await c.sInterCard(['nrc:A', 'nrc:B']), expected.SINTER[1].length);
      assert.equal(await c.sInterStore('nrc:AB', ['nrc:A', 'nrc:B']), expected.SINTER[1].length);
      assert.equal(await c.sRem('nrc:A', ['a', 'zz']), 1);
    });

    it('sScanIterator visits every member', { timeout: TEST_TIMEOUT }, async () => {
      const members = Array.from({ length: 600 }, (_, i) => (i % 2 ? `m${i}` : String(i)));
      await c.sAdd('nrc:ss', members);
      assert.deepEqual(sorted(new Set(await collect(c.sScanIterator('nrc:ss', { COUNT: 50 })))), sorted(members));
      const ints = Array.from({ length: 300 }, (_, i) => String(i * 7));
      await c.sAdd('nrc:ssi', ints);
      assert.deepEqual(sorted(new Set(await collect(c.sScanIterator('nrc:ssi')))), sorted(ints));
    });

    it('MULTI/EXEC and pipelines with hashes and sets; WRONGTYPE', { timeout: TEST_TIMEOUT }, async () => {
      const replies = await c.multi()
        .hSet('nrc:t:h', { a: '1', b: '2' })
        .hIncrBy('nrc:t:h', 'a', 4)
        .hGetAll('nrc:t:h')
        .sAdd('nrc:t:s', ['x', 'y', 'x'])
        .sMembers('nrc:t:s')
        .exec();
      assert.equal(replies[0], 2);
      assert.equal(replies[1], 5);
      assert.deepEqual(plain(replies[2]), { a: '5', b: '2' });
      assert.equal(replies[3], 2);
      assert.deepEqual(sorted(replies[4]), ['x', 'y']);
      // A runtime error inside EXEC: node-redis rejects with MultiErrorReply that holds
      // every reply, the other commands having run.
      await assert.rejects(
        c.multi().sAdd('nrc:t:s', 'z').hGet('nrc:t:s', 'f').sCard('nrc:t:s').exec(),
        (e) => {
          assert.deepEqual(e.errorIndexes, [1]);
          assert.equal(e.replies[0], 1);
          assert.equal(e.replies[1].message, ERR.wrongType);
          assert.equal(e.replies[2], 3);
          return true;
        });
      const piped = await Promise.allSettled([
        c.hSet('nrc:p:h', 'f', 'v'),
        c.sAdd('nrc:p:h', 'm'),
        c.sAdd('nrc:p:s', 'm'),
        c.hGetAll('nrc:p:s'),
        c.hGet('nrc:p:h', 'f'),
      ]);
      assert.deepEqual(piped.map((p) => p.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
      assert.equal(piped[1].reason.message, ERR.wrongType);
      assert.equal(piped[3].reason.message, ERR.wrongType);
      assert.equal(piped[4].value, 'v');
      await c.set('nrc:w:str', 'v');
      await rejectsReply(c.hGetAll('nrc:w:str'), ERR.wrongType);
      await rejectsReply(c.sMembers('nrc:p:h'), ERR.wrongType);
      await rejectsReply(c.hIncrByFloat('nrc:p:s', 'f', 1), ERR.wrongType);
      await rejectsReply(c.get('nrc:p:s'), ERR.wrongType);
    });
  });

  describe(`node-redis RESP${RESP} sorted sets`, { timeout: SUITE_TIMEOUT }, () => {
    let server;
    const clients = [];
    let c;

    before(async () => {
      server = await startServer();
      c = createClient({ url: server.url, RESP, socket: { connectTimeout: 5000, reconnectStrategy: false } });
      c.on('error', () => {});
      clients.push(c);
      await c.connect();
    });

    after(async () => {
      await closeAll(clients);
      if (server) await server.stop();
    });

    const zit = (name, fn) => it(name, { timeout: TEST_TIMEOUT }, async (t) => {
      await fn(t);
    });

    // Scores are exact in binary: node-redis 5 builds a RESP3 double digit by digit, so
    // a 17-digit rendering such as Redis 7.0's 0.10000000000000001 decodes one ulp off.
    const entries = [['c', 3], ['a', 1.5], ['b', 1.5], ['neg', -2], ['z', 0.125], ['big', 1e6]];
    const model = zsort(entries);

    zit('ZADD/ZSCORE/ZINCRBY (doubles in RESP3, bulk strings in RESP2)', async () => {
      assert.equal(await c.zAdd('nrc:z', entries.map(([value, score]) => ({ value, score }))), entries.length);
      for (const [m, s] of entries) {
        assert.equal(await c.zScore('nrc:z', m), s, m);
        assert.equal(rawDouble(await c.sendCommand(['ZSCORE', 'nrc:z', m])), s, m);
      }
      assert.equal(await c.zScore('nrc:z', 'nope'), null);
      assert.equal(await c.sendCommand(['ZSCORE', 'nrc:z', 'nope']), null);
      assert.deepEqual((await c.sendCommand(['ZMSCORE', 'nrc:z', 'a', 'nope', 'c'])).map(rawDouble), [1.5, null, 3]);
      assert.equal(await c.zIncrBy('nrc:z', 2, 'a'), 3.5);
      assert.equal(rawDouble(await c.sendCommand(['ZINCRBY', 'nrc:z', '-2', 'a'])), 1.5);
      if (RESP === 3) {
        await c.zAdd('nrc:zinf', [{ value: 'top', score: Infinity }, { value: 'bottom', score: -Infinity }]);
        assert.equal(await c.zScore('nrc:zinf', 'top'), Infinity);
        assert.equal(await c.zScore('nrc:zinf', 'bottom'), -Infinity);
      }
      assert.equal(await c.zCard('nrc:z'), entries.length);
      assert.equal(await c.zRank('nrc:z', 'b'), model.findIndex(([m]) => m === 'b'));
      assert.equal(await c.zRevRank('nrc:z', 'b'), model.length - 1 - model.findIndex(([m]) => m === 'b'));
      assert.equal(await c.zCount('nrc:z', 0, 3), model.filter(([, s]) => s >= 0 && s <= 3).length);
    });

    zit('ZRANGE WITHSCORES ([member, score] pairs in RESP3, flat in RESP2)', async () => {
      await c.zAdd('nrc:zr', entries.map(([value, score]) => ({ value, score })));
      assert.deepEqual(await c.zRange('nrc:zr', 0, -1), model.map(([m]) => m));
      assert.deepEqual(await c.zRangeWithScores('nrc:zr', 0, -1), model.map(([value, score]) => ({ value, score })));
      assert.deepEqual(rawPairs(await c.sendCommand(['ZRANGE', 'nrc:zr', '0', '-1', 'WITHSCORES'])), model);
      assert.deepEqual(rawPairs(await c.sendCommand(['ZRANGE', 'nrc:zr', '0', '1', 'REV', 'WITHSCORES'])),
        [...model].reverse().slice(0, 2));
      const inRange = model.filter(([, s]) => s > 0 && s <= 3);
      assert.deepEqual(await c.zRange('nrc:zr', '(0', 3, { BY: 'SCORE' }), inRange.map(([m]) => m));
      assert.deepEqual(rawPairs(await c.sendCommand(['ZRANGEBYSCORE', 'nrc:zr', '(0', '3', 'WITHSCORES'])), inRange);
      assert.deepEqual(await c.zRangeByScore('nrc:zr', '-inf', '+inf', { LIMIT: { offset: 1, count: 3 } }),
        model.slice(1, 4).map(([m]) => m));
      assert.equal(await c.zRemRangeByScore('nrc:zr', '-inf', 1.5), model.filter(([, s]) => s <= 1.5).length);
      assert.deepEqual(await c.zRangeWithScores('nrc:zr', 0, -1),
        model.filter(([, s]) => s > 1.5).map(([value, score]) => ({ value, score })));
    });

    zit('ZPOPMIN/ZPOPMAX (one flat pair without count; pairs with count in RESP3)', async () => {
      await c.zAdd('nrc:zp', entries.map(([value, score]) => ({ value, score })));
      const [m0, s0] = model[0];
      assert.deepEqual(await c.zPopMin('nrc:zp'), { value: m0, score: s0 });
      const rawOne = await c.sendCommand(['ZPOPMIN', 'nrc:zp']);
      assert.equal(rawOne.length, 2);
      assert.equal(rawOne[0], model[1][0]);
      assert.equal(rawDouble(rawOne[1]), model[1][1]);
      assert.deepEqual(await c.zPopMinCount('nrc:zp', 2), model.slice(2, 4).map(([value, score]) => ({ value, score })));
      assert.deepEqual(rawPairs(await c.sendCommand(['ZPOPMAX', 'nrc:zp', '1'])), model.slice(-1));
      assert.deepEqual(await c.zPopMax('nrc:zp'), { value: model[4][0], score: model[4][1] });
      assert.equal(await c.zPopMin('nrc:zp'), null);
      assert.deepEqual(await c.sendCommand(['ZPOPMIN', 'nrc:zp']), []);
      assert.equal(await c.exists('nrc:zp'), 0);
    });

    zit('ZRANDMEMBER WITHSCORES (pairs in RESP3, flat in RESP2)', async () => {
      await c.zAdd('nrc:zrm', entries.map(([value, score]) => ({ value, score })));
      const scores = new Map(entries);
      assert.ok(scores.has(await c.zRandMember('nrc:zrm')));
      const hl = await c.zRandMemberCountWithScores('nrc:zrm', 4);
      assert.equal(hl.length, 4);
      assert.equal(new Set(hl.map((e) => e.value)).size, 4);
      for (const { value, score } of hl) assert.equal(score, scores.get(value));
      const raw = rawPairs(await c.sendCommand(['ZRANDMEMBER', 'nrc:zrm', '-15', 'WITHSCORES']));
      assert.equal(raw.length, 15);
      for (const [m, s] of raw) assert.equal(s, scores.get(m));
      assert.deepEqual(sorted(await c.zRandMemberCount('nrc:zrm', 100)), sorted(scores.keys()));
    });

    zit('zScanIterator visits every member with its score', async () => {
      const big = new Map(Array.from({ length: 400 }, (_, i) => [`zm:${i}`, i - 100.5]));
      await c.zAdd('nrc:zs', [...big].map(([value, score]) => ({ value, score })));
      const seen = new Map();
      for (const { value, score } of await collect(c.zScanIterator('nrc:zs', { COUNT: 25 }))) {
        assert.equal(score, big.get(value), value);
        seen.set(value, score);
      }
      assert.deepEqual(seen, big);
    });

    zit('MULTI/EXEC with sorted sets; WRONGTYPE', async () => {
      const replies = await c.multi()
        .zAdd('nrc:zt', [{ value: 'a', score: 1 }, { value: 'b', score: 2 }])
        .zIncrBy('nrc:zt', 10, 'a')
        .zScore('nrc:zt', 'a')
        .zRangeWithScores('nrc:zt', 0, -1)
        .zPopMin('nrc:zt')
        .zRem('nrc:zt', 'a')
        .exec();
      assert.deepEqual(replies, [2, 11, 11, [{ value: 'b', score: 2 }, { value: 'a', score: 11 }], { value: 'b', score: 2 }, 1]);
      await c.hSet('nrc:zw:h', 'f', 'v');
      await c.zAdd('nrc:zw', { value: 'm', score: 1 });
      await rejectsReply(c.zAdd('nrc:zw:h', { value: 'm', score: 1 }), ERR.wrongType);
      await rejectsReply(c.zScore('nrc:zw:h', 'm'), ERR.wrongType);
      await rejectsReply(c.hGetAll('nrc:zw'), ERR.wrongType);
      await rejectsReply(c.sMembers('nrc:zw'), ERR.wrongType);
      assert.equal(await c.type('nrc:zw'), 'zset');
    });
  });
}
