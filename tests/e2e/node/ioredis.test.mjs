// End-to-end tests driving the server with ioredis (RESP2).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import Redis, { ReplyError } from 'ioredis';
import { makeClient, closeAll } from './ioredis-clients.mjs';
import { startServer, sleep, waitFor, parseInfo, parseClientLine, ERR } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 20_000;

function makeClientFactory(getPort, clients) {
  return (opts = {}) => makeClient(getPort(), clients, opts);
}

// Asserts that `promise` rejects with an ioredis ReplyError carrying exactly `message`.
async function rejectsReply(promise, message) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof ReplyError, `expected ReplyError, got ${e?.constructor?.name}: ${e?.message}`);
    assert.equal(e.message, message);
    return true;
  });
}

describe('ioredis', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  const clients = [];
  let newClient;
  let r;

  before(async () => {
    server = await startServer();
    newClient = makeClientFactory(() => server.port, clients);
    r = newClient();
    await r.ping();
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  it('connects and answers PING/ECHO', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(r.status, 'ready');
    assert.equal(await r.ping(), 'PONG');
    assert.equal(await r.ping('hi there'), 'hi there');
    assert.equal(await r.echo('echo me'), 'echo me');
  });

  it('SET/GET, SET with EX', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.set('io:str', 'value-1'), 'OK');
    assert.equal(await r.get('io:str'), 'value-1');
    assert.equal(await r.get('io:missing'), null);
    assert.equal(await r.set('io:ex', 'v', 'EX', 100), 'OK');
    assert.equal(await r.get('io:ex'), 'v');
    const ttl = await r.ttl('io:ex');
    assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
    // NX/XX/GET options
    assert.equal(await r.set('io:str', 'other', 'NX'), null);
    assert.equal(await r.set('io:nx-new', 'x', 'NX'), 'OK');
    assert.equal(await r.set('io:xx-missing', 'x', 'XX'), null);
    assert.equal(await r.set('io:str', 'value-2', 'GET'), 'value-1');
    assert.equal(await r.get('io:str'), 'value-2');
    // A plain SET clears the TTL.
    await r.set('io:ex', 'w');
    assert.equal(await r.ttl('io:ex'), -1);
  });

  it('SET with PX expires the key', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.set('io:px', 'short-lived', 'PX', 100), 'OK');
    assert.equal(await r.get('io:px'), 'short-lived');
    const pttl = await r.pttl('io:px');
    assert.ok(pttl > 0 && pttl <= 100, `pttl ${pttl}`);
    await sleep(250);
    assert.equal(await r.get('io:px'), null);
    assert.equal(await r.exists('io:px'), 0);
    assert.equal(await r.ttl('io:px'), -2);
    // Active expiry: a key nobody touches is reclaimed too (DBSIZE counts keys that
    // expired but were not reclaimed yet, so it drops to 0 only by active expiry).
    const d9 = newClient({ db: 9 });
    await d9.flushdb();
    await d9.set('io:px2', 'v', 'PX', 50);
    assert.equal(await d9.dbsize(), 1);
    await waitFor(async () => (await d9.dbsize()) === 0, 5000, 50);
  });

  it('SETEX/PSETEX/GETEX/GETDEL/GETSET/SETNX', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.setex('io:setex', 50, 'a'), 'OK');
    assert.ok((await r.ttl('io:setex')) > 45);
    assert.equal(await r.psetex('io:psetex', 50_000, 'b'), 'OK');
    assert.ok((await r.pttl('io:psetex')) > 45_000);
    assert.equal(await r.getex('io:setex', 'PERSIST'), 'a');
    assert.equal(await r.ttl('io:setex'), -1);
    assert.equal(await r.getdel('io:setex'), 'a');
    assert.equal(await r.exists('io:setex'), 0);
    assert.equal(await r.getset('io:getset', 'one'), null);
    assert.equal(await r.getset('io:getset', 'two'), 'one');
    assert.equal(await r.setnx('io:getset', 'three'), 0);
    assert.equal(await r.setnx('io:setnx', 'three'), 1);
  });

  it('INCR/INCRBY/DECR/DECRBY', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.incr('io:ctr'), 1);
    assert.equal(await r.incr('io:ctr'), 2);
    assert.equal(await r.incrby('io:ctr', 40), 42);
    assert.equal(await r.incrby('io:ctr', -2), 40);
    assert.equal(await r.decrby('io:ctr', 50), -10);
    assert.equal(await r.decr('io:ctr'), -11);
    assert.equal(await r.get('io:ctr'), '-11');
    await r.set('io:big', '9223372036854775806');
    // Integers past 2^53 need stringNumbers to come through exactly.
    const exact = newClient({ stringNumbers: true });
    assert.equal(await exact.incr('io:big'), '9223372036854775807');
    assert.equal(await r.get('io:big'), '9223372036854775807');
  });

  it('INCRBYFLOAT formats like Redis', { timeout: TEST_TIMEOUT }, async () => {
    await r.set('io:f', '10.5');
    assert.equal(await r.incrbyfloat('io:f', '0.1'), '10.6');
    assert.equal(await r.incrbyfloat('io:f', '-5'), '5.6');
    assert.equal(await r.get('io:f'), '5.6');
    await r.set('io:f2', '1.5');
    assert.equal(await r.incrbyfloat('io:f2', '2.0e2'), '201.5');
    assert.equal(await r.incrbyfloat('io:f2', '-201.5'), '0');
    assert.equal(await r.incrbyfloat('io:fnew', '3'), '3');
    await r.set('io:f3', '7');
    assert.equal(await r.incrbyfloat('io:f3', '0.25'), '7.25');
  });

  it('MSET/MGET/MSETNX', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.mset('io:m1', 'a', 'io:m2', 'b', 'io:m3', 'c'), 'OK');
    assert.deepEqual(await r.mget('io:m1', 'io:nope', 'io:m2', 'io:m3'), ['a', null, 'b', 'c']);
    assert.equal(await r.mset({ 'io:m4': 'd', 'io:m5': 'e' }), 'OK');
    assert.deepEqual(await r.mget(['io:m4', 'io:m5']), ['d', 'e']);
    assert.equal(await r.msetnx('io:m5', 'x', 'io:m6', 'y'), 0);
    assert.equal(await r.exists('io:m6'), 0);
    assert.equal(await r.msetnx('io:m6', 'x', 'io:m7', 'y'), 1);
    assert.deepEqual(await r.mget('io:m6', 'io:m7'), ['x', 'y']);
  });

  it('APPEND/STRLEN/GETRANGE/SETRANGE', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.append('io:ap', 'Hello'), 5);
    assert.equal(await r.append('io:ap', ' World'), 11);
    assert.equal(await r.strlen('io:ap'), 11);
    assert.equal(await r.strlen('io:ap-missing'), 0);
    assert.equal(await r.getrange('io:ap', 0, 4), 'Hello');
    assert.equal(await r.getrange('io:ap', -5, -1), 'World');
    assert.equal(await r.getrange('io:ap', 5, 2), '');
    assert.equal(await r.getrange('io:ap', 0, 1000), 'Hello World');
    assert.equal(await r.getrange('io:ap-missing', 0, 10), '');
    assert.equal(await r.setrange('io:ap', 6, 'Redis'), 11);
    assert.equal(await r.get('io:ap'), 'Hello Redis');
    assert.equal(await r.setrange('io:sr', 5, 'abc'), 8);
    assert.equal(await r.get('io:sr'), '\0\0\0\0\0abc');
    assert.equal(await r.setrange('io:sr-empty', 0, ''), 0);
    assert.equal(await r.exists('io:sr-empty'), 0);
  });

  it('EXPIRE/TTL/PTTL/PERSIST/PEXPIRE/EXPIREAT', { timeout: TEST_TIMEOUT }, async () => {
    await r.set('io:e', 'v');
    assert.equal(await r.ttl('io:e'), -1);
    assert.equal(await r.pttl('io:e'), -1);
    assert.equal(await r.ttl('io:e-missing'), -2);
    assert.equal(await r.pttl('io:e-missing'), -2);
    assert.equal(await r.expire('io:e-missing', 10), 0);
    assert.equal(await r.expire('io:e', 100), 1);
    const ttl = await r.ttl('io:e');
    assert.ok(ttl > 95 && ttl <= 100, `ttl ${ttl}`);
    const pttl = await r.pttl('io:e');
    assert.ok(pttl > 95_000 && pttl <= 100_000, `pttl ${pttl}`);
    assert.equal(await r.persist('io:e'), 1);
    assert.equal(await r.persist('io:e'), 0);
    assert.equal(await r.ttl('io:e'), -1);
    assert.equal(await r.pexpire('io:e', 20_000), 1);
    const p2 = await r.pttl('io:e');
    assert.ok(p2 > 15_000 && p2 <= 20_000, `pttl ${p2}`);
    const at = Math.floor(Date.now() / 1000) + 1000;
    assert.equal(await r.expireat('io:e', at), 1);
    const t3 = await r.ttl('io:e');
    assert.ok(t3 > 990 && t3 <= 1000, `ttl ${t3}`);
    // An expiry in the past deletes the key.
    assert.equal(await r.expire('io:e', -1), 1);
    assert.equal(await r.exists('io:e'), 0);
    // EXPIRE options (Redis 7)
    await r.set('io:e2', 'v');
    assert.equal(await r.call('EXPIRE', 'io:e2', '100', 'XX'), 0);
    assert.equal(await r.call('EXPIRE', 'io:e2', '100', 'NX'), 1);
    assert.equal(await r.call('EXPIRE', 'io:e2', '50', 'GT'), 0);
    assert.equal(await r.call('EXPIRE', 'io:e2', '50', 'LT'), 1);
  });

  it('DEL/EXISTS/TYPE/UNLINK', { timeout: TEST_TIMEOUT }, async () => {
    await r.mset('io:d1', '1', 'io:d2', '2', 'io:d3', '3');
    assert.equal(await r.exists('io:d1', 'io:d1', 'io:d2', 'io:dx'), 3);
    assert.equal(await r.type('io:d1'), 'string');
    assert.equal(await r.type('io:dx'), 'none');
    assert.equal(await r.del('io:d1', 'io:d2', 'io:dx'), 2);
    assert.equal(await r.exists('io:d1', 'io:d2'), 0);
    assert.equal(await r.unlink('io:d3'), 1);
    assert.equal(await r.del('io:d3'), 0);
  });

  it('RENAME/RENAMENX/COPY', { timeout: TEST_TIMEOUT }, async () => {
    await r.set('io:rn1', 'v1', 'EX', 100);
    assert.equal(await r.rename('io:rn1', 'io:rn2'), 'OK');
    assert.equal(await r.get('io:rn2'), 'v1');
    assert.ok((await r.ttl('io:rn2')) > 90);
    await r.set('io:rn3', 'v3');
    assert.equal(await r.renamenx('io:rn2', 'io:rn3'), 0);
    await rejectsReply(r.rename('io:rn-missing', 'io:x'), 'ERR no such key');
    assert.equal(await r.copy('io:rn3', 'io:rn4'), 1);
    assert.equal(await r.get('io:rn4'), 'v3');
    assert.equal(await r.copy('io:rn3', 'io:rn4'), 0);
  });

  it('SCAN via scanStream returns each of 5,000 keys', { timeout: 60_000 }, async () => {
    const N = 5000;
    const pipe = r.pipeline();
    for (let i = 0; i < N; i += 100) {
      const args = [];
      for (let j = i; j < i + 100; j++) args.push(`scan:${j}`, String(j));
      pipe.mset(...args);
    }
    for (const [err] of await pipe.exec()) assert.equal(err, null);

    const seen = new Set();
    let batches = 0;
    const stream = r.scanStream({ match: 'scan:*', count: 200 });
    for await (const keys of stream) {
      batches++;
      for (const k of keys) {
        assert.match(k, /^scan:\d+$/);
        seen.add(k);
      }
    }
    assert.ok(batches > 1, 'expected several SCAN round trips');
    assert.equal(seen.size, N);
    for (let i = 0; i < N; i++) assert.ok(seen.has(`scan:${i}`), `missing scan:${i}`);

    // TYPE filter and plain SCAN without MATCH see them too.
    const all = new Set();
    for await (const keys of r.scanStream({ count: 500, type: 'string' })) for (const k of keys) all.add(k);
    for (let i = 0; i < N; i++) assert.ok(all.has(`scan:${i}`));
  });

  it('pipeline of 1,000 commands answers in order', { timeout: 30_000 }, async () => {
    const p = r.pipeline();
    for (let i = 0; i < 250; i++) {
      p.set(`pipe:${i}`, `v${i}`);
      p.incr(`pipe:ctr`);
      p.get(`pipe:${i}`);
      p.strlen(`pipe:${i}`);
    }
    const res = await p.exec();
    assert.equal(res.length, 1000);
    for (let i = 0; i < 250; i++) {
      const [s, c, g, l] = res.slice(i * 4, i * 4 + 4);
      assert.deepEqual(s, [null, 'OK']);
      assert.deepEqual(c, [null, i + 1]);
      assert.deepEqual(g, [null, `v${i}`]);
      assert.deepEqual(l, [null, `v${i}`.length]);
    }
    // An error in the middle of a pipeline does not disturb the replies around it.
    await r.set('pipe:notnum', 'abc');
    const res2 = await r.pipeline().set('pipe:a', '1').incr('pipe:notnum').incr('pipe:a').exec();
    assert.deepEqual(res2[0], [null, 'OK']);
    assert.ok(res2[1][0] instanceof ReplyError);
    assert.equal(res2[1][0].message, ERR.notInteger);
    assert.deepEqual(res2[2], [null, 2]);
  });

  it('error replies carry Redis\'s exact texts', { timeout: TEST_TIMEOUT }, async () => {
    await r.set('err:str', 'abc');
    await rejectsReply(r.incr('err:str'), ERR.notInteger);
    await rejectsReply(r.incrby('err:n', 'x'), ERR.notInteger);
    await rejectsReply(r.call('DECRBY', 'err:n', '1.5'), ERR.notInteger);
    await rejectsReply(r.incrbyfloat('err:str', '1'), ERR.notFloat);
    await rejectsReply(r.incrbyfloat('err:n', 'nan'), ERR.notFloat);
    await r.set('err:max', '9223372036854775807');
    await rejectsReply(r.incr('err:max'), ERR.overflow);
    await rejectsReply(r.incrby('err:max', 1), ERR.overflow);
    await r.set('err:min', '-9223372036854775808');
    await rejectsReply(r.decr('err:min'), ERR.overflow);
    assert.equal(await r.get('err:max'), '9223372036854775807');
    await rejectsReply(r.call('GET'), ERR.arity('get'));
    await rejectsReply(r.call('get', 'a', 'b'), ERR.arity('get'));
    await rejectsReply(r.call('SET', 'k'), ERR.arity('set'));
    await rejectsReply(r.call('NOSUCHCOMMAND', 'a', 'b'), ERR.unknown('NOSUCHCOMMAND', ['a', 'b']));
    await rejectsReply(r.call('nosuchcommand'), ERR.unknown('nosuchcommand'));
    await rejectsReply(r.call('SET', 'k', 'v', 'NX', 'XX'), ERR.syntax);
    await rejectsReply(r.call('SET', 'k', 'v', 'EX', '0'), "ERR invalid expire time in 'set' command");
    await rejectsReply(r.call('SET', 'k', 'v', 'EX', 'ten'), ERR.notInteger);
    await rejectsReply(r.call('EXPIRE', 'err:str', 'soon'), ERR.notInteger);
    await rejectsReply(r.call('GETRANGE', 'err:str', 'a', '1'), ERR.notInteger);
    await rejectsReply(r.call('SETRANGE', 'err:str', '-1', 'x'), 'ERR offset is out of range');
    // The connection is still usable after errors.
    assert.equal(await r.get('err:str'), 'abc');
  });

  it('WRONGTYPE for string commands on a list', { timeout: TEST_TIMEOUT }, async () => {
    assert.equal(await r.rpush('wt:list', 'a', 'b'), 2);
    assert.equal(await r.type('wt:list'), 'list');
    await rejectsReply(r.get('wt:list'), ERR.wrongType);
    await rejectsReply(r.incr('wt:list'), ERR.wrongType);
    await rejectsReply(r.append('wt:list', 'x'), ERR.wrongType);
    await rejectsReply(r.strlen('wt:list'), ERR.wrongType);
    await rejectsReply(r.getrange('wt:list', 0, 1), ERR.wrongType);
    await r.mset('wt:x', '1', 'wt:y', '2');
    // MGET treats a non-string as a missing key.
    assert.deepEqual(await r.mget('wt:list', 'wt:x'), [null, '1']);
    // SET overwrites whatever type was there.
    assert.equal(await r.set('wt:list', 'now a string'), 'OK');
    assert.equal(await r.type('wt:list'), 'string');
  });

  it('binary (Buffer) keys and values round-trip', { timeout: TEST_TIMEOUT }, async () => {
    const value = Buffer.alloc(256 * 4);
    for (let i = 0; i < value.length; i++) value[i] = i % 256;
    const key = Buffer.from([0x62, 0x00, 0xff, 0x0d, 0x0a, 0x80, 0x24, 0x2a]);
    assert.equal(await r.set(key, value), 'OK');
    const got = await r.getBuffer(key);
    assert.ok(Buffer.isBuffer(got));
    assert.ok(got.equals(value), 'binary value differs');
    assert.equal(await r.strlen(key), value.length);
    assert.equal(await r.append(key, Buffer.from([0x00, 0x0d, 0x0a])), value.length + 3);
    const tail = await r.getrangeBuffer(key, -3, -1);
    assert.ok(tail.equals(Buffer.from([0x00, 0x0d, 0x0a])));
    const [a, b] = await r.mgetBuffer(key, 'bin:missing');
    assert.equal(a.length, value.length + 3);
    assert.equal(b, null);
    // A large value (1 MiB) survives as well.
    const big = Buffer.alloc(1 << 20, 0x5a);
    big[12345] = 0;
    await r.set('bin:big', big);
    assert.ok((await r.getBuffer('bin:big')).equals(big));
  });

  it('CLIENT SETNAME/GETNAME/ID/INFO and connectionName', { timeout: TEST_TIMEOUT }, async () => {
    const c = newClient();
    assert.equal(await c.client('GETNAME'), null);
    assert.equal(await c.client('SETNAME', 'io-e2e-conn'), 'OK');
    assert.equal(await c.client('GETNAME'), 'io-e2e-conn');
    await rejectsReply(c.client('SETNAME', 'has space'),
      'ERR Client names cannot contain spaces, newlines or special characters.');
    const id = await c.client('ID');
    assert.equal(typeof id, 'number');
    const info = parseClientLine(await c.client('INFO'));
    assert.equal(info.name, 'io-e2e-conn');
    assert.equal(Number(info.id), id);
    assert.equal(info.db, '0');
    const named = newClient({ connectionName: 'preset-name' });
    assert.equal(await named.client('GETNAME'), 'preset-name');
    const list = await r.client('LIST');
    assert.match(list, /name=preset-name/);
    assert.match(list, /name=io-e2e-conn/);
  });

  it('INFO parses and names redis_version', { timeout: TEST_TIMEOUT }, async () => {
    const info = parseInfo(await r.info());
    assert.ok(info.redis_version, 'redis_version missing');
    assert.match(info.redis_version, /^\d+\.\d+\.\d+/);
    assert.ok(Number(info.connected_clients) >= 1);
    assert.ok('used_memory' in info);
    assert.ok('uptime_in_seconds' in info);
    const server = parseInfo(await r.info('server'));
    assert.ok(server.redis_version);
    assert.equal(Number(server.tcp_port), r.options.port);
    assert.equal(server.used_memory, undefined);
    const ks = await r.info('keyspace');
    assert.match(ks, /^# Keyspace/m);
    assert.match(ks, /^db0:keys=\d+,expires=\d+/m);
  });

  it('SELECT via the db option', { timeout: TEST_TIMEOUT }, async () => {
    const d5 = newClient({ db: 5 });
    const d5b = newClient({ db: 5 });
    await d5.set('io:dbkey', 'in-db5');
    assert.equal(await d5b.get('io:dbkey'), 'in-db5');
    assert.equal(await r.get('io:dbkey'), null);
    assert.equal(parseClientLine(await d5.client('INFO')).db, '5');
    assert.equal(await d5.dbsize(), 1);
    assert.equal(await d5.move('io:dbkey', 0), 1);
    assert.equal(await r.get('io:dbkey'), 'in-db5');
    await rejectsReply(r.select(16), 'ERR DB index is out of range');
    await rejectsReply(r.call('SELECT', 'x'), ERR.notInteger);
  });

  it('reconnects after CLIENT KILL of its own connection', { timeout: TEST_TIMEOUT }, async () => {
    const victim = newClient({ db: 3, connectionName: 'victim' });
    await victim.set('io:victim', 'v');
    const id = await victim.client('ID');
    const closed = once(victim, 'close');
    const ready = new Promise((resolve) => victim.once('close', () => victim.once('ready', resolve)));
    assert.equal(await r.client('KILL', 'ID', String(id)), 1);
    await closed;
    await ready;
    assert.equal(await victim.ping(), 'PONG');
    const id2 = await victim.client('ID');
    assert.notEqual(id2, id);
    // ioredis restores the db and the name on the new connection.
    assert.equal(await victim.get('io:victim'), 'v');
    assert.equal(await victim.client('GETNAME'), 'victim');
    assert.equal(await r.client('KILL', 'ID', String(id)), 0);
    await rejectsReply(r.client('KILL', '127.0.0.1:1'), 'ERR No such client');
  });

  it('commands issued while disconnected are sent after reconnect', { timeout: TEST_TIMEOUT }, async () => {
    const c = newClient();
    const id = await c.client('ID');
    const closed = once(c, 'close');
    await r.client('KILL', 'ID', String(id));
    await closed;
    const results = await Promise.all([c.incr('io:offline'), c.incr('io:offline'), c.get('io:offline')]);
    assert.deepEqual(results, [1, 2, '2']);
  });
});

describe('ioredis with --requirepass', { timeout: SUITE_TIMEOUT }, () => {
  const PASSWORD = 'e2e-s3cret';
  let server;
  const clients = [];
  let newClient;

  before(async () => {
    server = await startServer(['--requirepass', PASSWORD]);
    newClient = makeClientFactory(() => server.port, clients);
  });

  after(async () => {
    await closeAll(clients);
    if (server) await server.stop();
  });

  it('authenticates with the password option', { timeout: TEST_TIMEOUT }, async () => {
    const c = newClient({ password: PASSWORD });
    assert.equal(await c.ping(), 'PONG');
    assert.equal(await c.set('auth:k', 'v'), 'OK');
    assert.equal(await c.get('auth:k'), 'v');
  });

  it('answers NOAUTH without the password', { timeout: TEST_TIMEOUT }, async () => {
    const c = newClient({ enableReadyCheck: false, retryStrategy: () => null });
    await rejectsReply(c.get('auth:k'), ERR.noAuth);
    await rejectsReply(c.set('auth:k', 'x'), ERR.noAuth);
    // An unknown command is rejected as unknown before authentication is checked.
    await rejectsReply(c.call('NOSUCHCOMMAND'), ERR.unknown('NOSUCHCOMMAND'));
    await rejectsReply(c.call('GET'), ERR.arity('get'));
    await rejectsReply(c.auth('wrong-password'), ERR.wrongPass);
    await rejectsReply(c.get('auth:k'), ERR.noAuth);
    assert.equal(await c.auth(PASSWORD), 'OK');
    assert.equal(await c.get('auth:k'), 'v');
  });

  it('fails to connect with a wrong password option', { timeout: TEST_TIMEOUT }, async () => {
    const c = newClient({ password: 'not-it', retryStrategy: () => null, maxRetriesPerRequest: 0 });
    const err = await new Promise((resolve) => {
      c.removeAllListeners('error');
      c.once('error', resolve);
    });
    assert.match(err.message, /WRONGPASS invalid username-password pair or user is disabled\./);
  });
});
