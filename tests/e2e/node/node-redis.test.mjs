// End-to-end tests driving the server with node-redis 5, once over RESP2 and once over
// RESP3 (the client sends HELLO 3 when RESP: 3).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient, RESP_TYPES, ErrorReply } from 'redis';
import { startServer, sleep, parseInfo, parseClientLine, ERR } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 20_000;

function makeClientFactory(getUrl, clients, RESP) {
  return async (opts = {}, { connect = true } = {}) => {
    const c = createClient({
      url: getUrl(),
      RESP,
      ...opts,
      socket: { connectTimeout: 5000, reconnectStrategy: false, ...(opts.socket ?? {}) },
    });
    c.on('error', () => {}); // errors surface through the command promises
    clients.push(c);
    if (connect) await c.connect();
    return c;
  };
}

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

// Asserts that `promise` rejects with a node-redis ErrorReply carrying exactly `message`.
async function rejectsReply(promise, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ErrorReply, `expected ErrorReply, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

for (const RESP of [2, 3]) {
  describe(`node-redis RESP${RESP}`, { timeout: SUITE_TIMEOUT }, () => {
    let server;
    const clients = [];
    let newClient;
    let c;

    before(async () => {
      server = await startServer();
      newClient = makeClientFactory(() => server.url, clients, RESP);
      c = await newClient();
    });

    after(async () => {
      await closeAll(clients);
      if (server) await server.stop();
    });

    it('connects; PING/ECHO', { timeout: TEST_TIMEOUT }, async () => {
      assert.ok(c.isReady);
      assert.equal(await c.ping(), 'PONG');
      assert.equal(await c.ping('msg'), 'msg');
      assert.equal(await c.echo('hello'), 'hello');
    });

    it('HELLO reply and CLIENT INFO show the protocol', { timeout: TEST_TIMEOUT }, async () => {
      const hello = await c.hello();
      assert.equal(hello.server, 'redis');
      assert.equal(hello.proto, RESP);
      assert.match(String(hello.version), /^\d+\.\d+\.\d+/);
      assert.equal(typeof hello.id, 'number');
      assert.equal(hello.mode, 'standalone');
      assert.equal(hello.role, 'master');
      assert.deepEqual(hello.modules, []);
      const info = await c.clientInfo();
      assert.equal(info.resp, RESP);
      assert.equal(info.id, hello.id);
      assert.equal(info.id, await c.clientId());
      const raw = parseClientLine(await c.sendCommand(['CLIENT', 'INFO']));
      assert.equal(raw.resp, String(RESP));
      // HELLO with an unsupported version.
      await rejectsReply(c.sendCommand(['HELLO', '4']), 'NOPROTO unsupported protocol version');
      await rejectsReply(c.sendCommand(['HELLO', 'x']), 'ERR Protocol version is not an integer or out of range');
    });

    it('HELLO 3 on a raw sendCommand returns the map', { timeout: TEST_TIMEOUT }, async () => {
      // A second client switches protocol explicitly; node-redis decodes either way.
      const other = await newClient();
      const reply = await other.sendCommand(['HELLO', String(RESP)]);
      if (RESP === 3) {
        assert.equal(reply.proto, 3);
        assert.equal(reply.server, 'redis');
      } else {
        assert.ok(Array.isArray(reply));
        const map = Object.fromEntries(
          Array.from({ length: reply.length / 2 }, (_, i) => [reply[2 * i], reply[2 * i + 1]]));
        assert.equal(map.proto, 2);
        assert.equal(map.server, 'redis');
      }
    });

    it('SET options EX/PX/NX/XX/GET and GET', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.set('nr:s', 'v1'), 'OK');
      assert.equal(await c.get('nr:s'), 'v1');
      assert.equal(await c.get('nr:none'), null);
      assert.equal(await c.set('nr:ex', 'v', { EX: 100 }), 'OK');
      const ttl = await c.ttl('nr:ex');
      assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
      assert.equal(await c.set('nr:px', 'v', { PX: 100 }), 'OK');
      const pttl = await c.pTTL('nr:px');
      assert.ok(pttl > 0 && pttl <= 100, `pttl ${pttl}`);
      await sleep(250);
      assert.equal(await c.get('nr:px'), null);
      assert.equal(await c.set('nr:s', 'other', { NX: true }), null);
      assert.equal(await c.set('nr:nx', 'first', { NX: true }), 'OK');
      assert.equal(await c.set('nr:xx', 'v', { XX: true }), null);
      assert.equal(await c.set('nr:s', 'v2', { GET: true }), 'v1');
      assert.equal(await c.set('nr:fresh', 'v', { GET: true }), null);
      assert.equal(await c.set('nr:s', 'v3', { expiration: { type: 'EX', value: 50 }, GET: true }), 'v2');
      assert.ok((await c.ttl('nr:s')) > 45);
      assert.equal(await c.set('nr:s', 'v4', { KEEPTTL: true }), 'OK');
      assert.ok((await c.ttl('nr:s')) > 45);
      const at = Date.now() + 60_000;
      assert.equal(await c.set('nr:pxat', 'v', { PXAT: at }), 'OK');
      const p2 = await c.pTTL('nr:pxat');
      assert.ok(p2 > 55_000 && p2 <= 60_000, `pttl ${p2}`);
    });

    it('INCR family', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.incr('nr:n'), 1);
      assert.equal(await c.incrBy('nr:n', 9), 10);
      assert.equal(await c.decr('nr:n'), 9);
      assert.equal(await c.decrBy('nr:n', 20), -11);
      assert.equal(await c.get('nr:n'), '-11');
      await c.set('nr:f', '1.5');
      assert.equal(String(await c.incrByFloat('nr:f', 0.25)), '1.75');
      assert.equal(String(await c.incrByFloat('nr:f', -1.75)), '0');
      await c.set('nr:big', '9223372036854775806');
      assert.equal(await c.sendCommand(['INCR', 'nr:big']), 9223372036854775807);
      assert.equal(await c.get('nr:big'), '9223372036854775807');
    });

    it('MGET/MSET/MSETNX', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.mSet({ 'nr:m1': 'a', 'nr:m2': 'b' }), 'OK');
      assert.equal(await c.mSet([['nr:m3', 'c']]), 'OK');
      assert.deepEqual(await c.mGet(['nr:m1', 'nr:missing', 'nr:m2', 'nr:m3']), ['a', null, 'b', 'c']);
      assert.equal(await c.mSetNX({ 'nr:m3': 'x', 'nr:m4': 'y' }), 0);
      assert.equal(await c.exists('nr:m4'), 0);
      assert.equal(await c.mSetNX({ 'nr:m4': 'x', 'nr:m5': 'y' }), 1);
      assert.equal(await c.del(['nr:m1', 'nr:m2', 'nr:missing']), 2);
      assert.equal(await c.exists(['nr:m3', 'nr:m3', 'nr:m1']), 2);
    });

    it('EXPIRE/TTL/PTTL/PERSIST', { timeout: TEST_TIMEOUT }, async () => {
      await c.set('nr:e', 'v');
      assert.equal(await c.ttl('nr:e'), -1);
      assert.equal(await c.ttl('nr:e-missing'), -2);
      assert.equal(await c.expire('nr:e-missing', 10), 0);
      assert.equal(await c.expire('nr:e', 100), 1);
      const ttl = await c.ttl('nr:e');
      assert.ok(ttl > 95 && ttl <= 100);
      assert.equal(await c.pExpire('nr:e', 30_000), 1);
      const pttl = await c.pTTL('nr:e');
      assert.ok(pttl > 25_000 && pttl <= 30_000);
      assert.equal(await c.expire('nr:e', 10, 'NX'), 0);
      assert.equal(await c.expire('nr:e', 10, 'LT'), 1);
      const exat = await c.expireTime('nr:e');
      const now = Math.floor(Date.now() / 1000);
      assert.ok(exat >= now + 8 && exat <= now + 11, `expiretime ${exat} now ${now}`);
      assert.equal(await c.persist('nr:e'), 1);
      assert.equal(await c.ttl('nr:e'), -1);
      assert.equal(await c.expireTime('nr:e'), -1);
      assert.equal(await c.expireTime('nr:e-missing'), -2);
    });

    it('APPEND/STRLEN/GETRANGE/SETRANGE/TYPE', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.append('nr:a', 'abc'), 3);
      assert.equal(await c.append('nr:a', 'def'), 6);
      assert.equal(await c.strLen('nr:a'), 6);
      assert.equal(await c.getRange('nr:a', 1, -2), 'bcde');
      assert.equal(await c.setRange('nr:a', 3, 'XYZW'), 7);
      assert.equal(await c.get('nr:a'), 'abcXYZW');
      assert.equal(await c.type('nr:a'), 'string');
      assert.equal(await c.type('nr:nothing'), 'none');
    });

    it('scanIterator visits every key', { timeout: 60_000 }, async () => {
      const N = 3000;
      await Promise.all(Array.from({ length: N / 100 }, (_, b) => {
        const pairs = {};
        for (let i = b * 100; i < (b + 1) * 100; i++) pairs[`nrscan:${i}`] = String(i);
        return c.mSet(pairs);
      }));
      const seen = new Set();
      let batches = 0;
      for await (const keys of c.scanIterator({ MATCH: 'nrscan:*', COUNT: 100 })) {
        batches++;
        for (const k of keys) seen.add(k);
      }
      assert.ok(batches > 1);
      assert.equal(seen.size, N);
      for (let i = 0; i < N; i++) assert.ok(seen.has(`nrscan:${i}`), `missing nrscan:${i}`);
      // SCAN's raw reply: a cursor string and an array of keys.
      const [cursor, keys] = await c.sendCommand(['SCAN', '0', 'MATCH', 'nrscan:*', 'COUNT', '10']);
      assert.equal(typeof cursor, 'string');
      assert.ok(Array.isArray(keys));
    });

    it('sendCommand for raw commands', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.sendCommand(['SET', 'nr:raw', 'rawval']), 'OK');
      assert.equal(await c.sendCommand(['GET', 'nr:raw']), 'rawval');
      assert.equal(await c.sendCommand(['get', 'nr:raw']), 'rawval');
      assert.equal(await c.sendCommand(['StrLen', 'nr:raw']), 6);
      assert.equal(await c.sendCommand(['GET', 'nr:nope']), null);
      assert.deepEqual(await c.sendCommand(['MGET', 'nr:raw', 'nr:nope']), ['rawval', null]);
      assert.equal(await c.sendCommand(['DBSIZE']) > 0, true);
      const time = await c.sendCommand(['TIME']);
      assert.equal(time.length, 2);
      assert.ok(Math.abs(Number(time[0]) - Date.now() / 1000) < 5);
      const count = await c.sendCommand(['COMMAND', 'COUNT']);
      assert.ok(count > 10);
      const getInfo = await c.sendCommand(['COMMAND', 'INFO', 'get']);
      assert.equal(getInfo.length, 1);
      assert.equal(getInfo[0][0], 'get');
      assert.equal(getInfo[0][1], 2);
    });

    it('error texts', { timeout: TEST_TIMEOUT }, async () => {
      await c.set('nr:str', 'abc');
      await rejectsReply(c.incr('nr:str'), ERR.notInteger);
      await rejectsReply(c.incrByFloat('nr:str', 1), ERR.notFloat);
      await c.set('nr:max', '9223372036854775807');
      await rejectsReply(c.incr('nr:max'), ERR.overflow);
      await rejectsReply(c.sendCommand(['GET']), ERR.arity('get'));
      await rejectsReply(c.sendCommand(['EXPIRE', 'nr:str']), ERR.arity('expire'));
      await rejectsReply(c.sendCommand(['FOOBAR', 'x']), ERR.unknown('FOOBAR', ['x']));
      await rejectsReply(c.sendCommand(['SET', 'k', 'v', 'PX', '-5']), "ERR invalid expire time in 'set' command");
      await rejectsReply(c.sendCommand(['SET', 'k', 'v', 'KEEPTTL', 'EX', '5']), ERR.syntax);
      await rejectsReply(c.sendCommand(['SET', 'k', 'v', 'EX']), ERR.syntax);
      await rejectsReply(c.sendCommand(['INCRBY', 'nr:n2', '99999999999999999999']), ERR.notInteger);
      assert.equal(await c.get('nr:str'), 'abc');
    });

    it('WRONGTYPE on a list key', { timeout: TEST_TIMEOUT }, async () => {
      assert.equal(await c.rPush('nr:list', ['x', 'y']), 2);
      await rejectsReply(c.get('nr:list'), ERR.wrongType);
      await rejectsReply(c.incrBy('nr:list', 2), ERR.wrongType);
      await rejectsReply(c.setRange('nr:list', 0, 'z'), ERR.wrongType);
      assert.equal(await c.type('nr:list'), 'list');
      assert.equal(await c.del('nr:list'), 1);
    });

    it('Promise.all pipelining of many commands keeps order', { timeout: 30_000 }, async () => {
      const N = 2000;
      const ops = [];
      for (let i = 0; i < N; i++) {
        ops.push(c.set(`nr:p:${i}`, `v${i}`));
        ops.push(c.incr('nr:p:ctr'));
        ops.push(c.get(`nr:p:${i}`));
      }
      const res = await Promise.all(ops);
      for (let i = 0; i < N; i++) {
        assert.equal(res[3 * i], 'OK');
        assert.equal(res[3 * i + 1], i + 1);
        assert.equal(res[3 * i + 2], `v${i}`);
      }
      // An error inside a burst fails only its own promise.
      await c.set('nr:p:bad', 'x');
      const mixed = await Promise.allSettled([c.incr('nr:p:ctr'), c.incr('nr:p:bad'), c.incr('nr:p:ctr')]);
      assert.equal(mixed[0].value, N + 1);
      assert.equal(mixed[1].status, 'rejected');
      assert.equal(mixed[1].reason.message, ERR.notInteger);
      assert.equal(mixed[2].value, N + 2);
    });

    it('INFO', { timeout: TEST_TIMEOUT }, async () => {
      const text = await c.info();
      assert.equal(typeof text, 'string');
      const info = parseInfo(text);
      assert.ok(info.redis_version);
      assert.equal(Number(info.tcp_port), server.port);
      const clientsSection = parseInfo(await c.info('clients'));
      assert.ok(Number(clientsSection.connected_clients) >= 1);
      assert.equal(clientsSection.redis_version, undefined);
    });

    it('clientSetName/clientGetName/clientInfo', { timeout: TEST_TIMEOUT }, async () => {
      const d = await newClient();
      assert.equal(await d.clientGetName(), null);
      assert.equal(await d.clientSetName('nr-conn'), 'OK');
      assert.equal(await d.clientGetName(), 'nr-conn');
      const info = await d.clientInfo();
      assert.equal(info.name, 'nr-conn');
      assert.equal(info.db, 0);
      assert.equal(info.resp, RESP);
      assert.equal(info.cmd, 'client|info');
      const named = await newClient({ name: 'nr-preset' });
      assert.equal(await named.clientGetName(), 'nr-preset');
      // Empty name clears it.
      assert.equal(await d.clientSetName(''), 'OK');
      assert.equal(await d.clientGetName(), null);
    });

    it('configGet/configSet of maxclients', { timeout: TEST_TIMEOUT }, async () => {
      const before = await c.configGet('maxclients');
      assert.ok(Number(before.maxclients) > 0);
      assert.equal(await c.configSet('maxclients', '321'), 'OK');
      assert.deepEqual({ ...await c.configGet('maxclients') }, { maxclients: '321' });
      // Parameter names are case-insensitive (the reply's key spelling differs between
      // Redis versions, so only its value and lowercased name are checked).
      const upper = Object.entries(await c.configGet('MAXCLIENTS'));
      assert.equal(upper.length, 1);
      assert.equal(upper[0][0].toLowerCase(), 'maxclients');
      assert.equal(upper[0][1], '321');
      const globbed = await c.configGet('maxcl*');
      assert.equal(globbed.maxclients, '321');
      assert.equal(parseInfo(await c.info('clients')).maxclients, '321');
      assert.equal(await c.configSet({ maxclients: before.maxclients }), 'OK');
      assert.equal((await c.configGet('maxclients')).maxclients, before.maxclients);
      await rejectsReply(c.configSet('maxclients', 'lots'),
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer");
      await rejectsReply(c.configSet('no-such-param', '1'),
        "ERR Unknown option or number of arguments for CONFIG SET - 'no-such-param'");
      assert.deepEqual({ ...await c.configGet('no-such-param') }, {});
    });

    it('binary values via RESP_TYPES type mapping', { timeout: TEST_TIMEOUT }, async () => {
      const value = Buffer.alloc(512);
      for (let i = 0; i < value.length; i++) value[i] = (i * 7) % 256;
      const key = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x61]);
      assert.equal(await c.set(key, value), 'OK');
      const bin = c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      const got = await bin.get(key);
      assert.ok(Buffer.isBuffer(got));
      assert.ok(got.equals(value));
      const [a, b] = await bin.mGet([key, 'nr:bin-missing']);
      assert.ok(a.equals(value));
      assert.equal(b, null);
      assert.ok((await bin.getRange(key, 0, 3)).equals(value.subarray(0, 4)));
      assert.equal(await c.strLen(key), value.length);
      // A client created with a default type mapping.
      const binClient = await newClient({ commandOptions: { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } });
      assert.ok((await binClient.get(key)).equals(value));
      assert.equal(await binClient.get('nr:bin-missing'), null);
    });

    it('SELECT via the database option', { timeout: TEST_TIMEOUT }, async () => {
      const d = await newClient({ database: 4 });
      await d.set('nr:db4', 'x');
      assert.equal(await c.get('nr:db4'), null);
      assert.equal((await d.clientInfo()).db, 4);
      assert.equal(await d.dbSize(), 1);
    });

    // Must stay last: it empties every database.
    it('dbSize and flushAll', { timeout: TEST_TIMEOUT }, async () => {
      assert.ok((await c.dbSize()) > 0);
      assert.equal(await c.flushAll(), 'OK');
      assert.equal(await c.dbSize(), 0);
      const d = await newClient({ database: 4 });
      assert.equal(await d.dbSize(), 0);
      await c.mSet({ 'nr:x1': '1', 'nr:x2': '2' });
      assert.equal(await c.dbSize(), 2);
      assert.equal(await c.flushDb(), 'OK');
      assert.equal(await c.dbSize(), 0);
      assert.equal(await c.flushAll('ASYNC'), 'OK');
    });
  });

  describe(`node-redis RESP${RESP} with --requirepass`, { timeout: SUITE_TIMEOUT }, () => {
    const PASSWORD = 'nr-pass-123';
    let server;
    const clients = [];
    let newClient;

    before(async () => {
      server = await startServer(['--requirepass', PASSWORD]);
      newClient = makeClientFactory(() => server.url, clients, RESP);
    });

    after(async () => {
      await closeAll(clients);
      if (server) await server.stop();
    });

    it('authenticates with the password option', { timeout: TEST_TIMEOUT }, async () => {
      const c = await newClient({ password: PASSWORD });
      assert.equal(await c.ping(), 'PONG');
      assert.equal(await c.set('k', 'v'), 'OK');
      assert.equal((await c.clientInfo()).resp, RESP);
    });

    it('authenticates with a password in the URL', { timeout: TEST_TIMEOUT }, async () => {
      const c = await newClient({ url: `redis://:${PASSWORD}@127.0.0.1:${server.port}` });
      assert.equal(await c.get('k'), 'v');
    });

    it('without a password', { timeout: TEST_TIMEOUT }, async () => {
      // With RESP set, the handshake is HELLO <RESP> without AUTH: refused, and so is the
      // connection.
      const c = await newClient({}, { connect: false });
      await assert.rejects(c.connect(), (e) => {
        assert.ok(e instanceof ErrorReply, `got ${e?.constructor?.name}: ${e?.message}`);
        assert.match(e.message, /^NOAUTH HELLO must be called with the client already authenticated/);
        return true;
      });
      if (RESP === 2) {
        // Without RESP the handshake sends no HELLO and no AUTH; commands are refused.
        const legacy = await newClient({ RESP: undefined });
        await rejectsReply(legacy.get('k'), ERR.noAuth);
        await rejectsReply(legacy.sendCommand(['AUTH', 'wrong']), ERR.wrongPass);
        await rejectsReply(legacy.get('k'), ERR.noAuth);
        assert.equal(await legacy.sendCommand(['AUTH', PASSWORD]), 'OK');
        assert.equal(await legacy.get('k'), 'v');
        assert.equal((await legacy.clientInfo()).resp, 2);
      }
    });

    it('a wrong password is refused', { timeout: TEST_TIMEOUT }, async () => {
      const c = await newClient({ password: 'wrong' }, { connect: false });
      await assert.rejects(c.connect(), (e) => {
        assert.equal(e.message, ERR.wrongPass);
        return true;
      });
    });
  });
}
