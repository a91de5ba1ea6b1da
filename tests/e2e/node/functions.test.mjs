// End-to-end tests of Redis 7 functions through the Node.js clients:
//   ioredis: FUNCTION LOAD / LIST / DUMP / RESTORE / DELETE and FCALL / FCALL_RO as plain
//     commands (buffers for the payload);
//   node-redis: its functions API (createClient({ functions })), which sends FCALL or
//     FCALL_RO with the declared number of keys, and its FUNCTION helpers' reply
//     transforms, over RESP2 and RESP3.
// The same expectations hold against redis-server (SLUICE_SERVER=/usr/bin/redis-server).

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createClient, RESP_TYPES } from 'redis';
import { startServer, HOST } from './harness.mjs';

const SUITE_TIMEOUT = 120_000;
const TEST_TIMEOUT = 30_000;

const COUNTER_LIB = `#!lua name=counter
redis.register_function('counter_incr', function(keys, args)
  return redis.call('incrby', keys[1], args[1])
end)
redis.register_function{
  function_name = 'counter_get',
  callback = function(keys) return redis.call('get', keys[1]) end,
  flags = { 'no-writes' },
  description = 'reads a counter',
}`;

describe('functions with ioredis', { timeout: SUITE_TIMEOUT }, () => {
  let server;
  let client;
  before(async () => {
    server = await startServer();
    client = new Redis({ host: HOST, port: server.port, maxRetriesPerRequest: 3 });
    client.on('error', () => {});
  });
  after(async () => {
    await client.quit();
    await server.stop();
  });

  it('loads a library and calls its functions', { timeout: TEST_TIMEOUT }, async () => {
    await client.call('FUNCTION', 'FLUSH');
    assert.equal(await client.call('FUNCTION', 'LOAD', COUNTER_LIB), 'counter');
    assert.equal(await client.call('FCALL', 'counter_incr', 1, 'io:n', 5), 5);
    assert.equal(await client.call('FCALL', 'counter_incr', 1, 'io:n', 2), 7);
    assert.equal(await client.call('FCALL_RO', 'counter_get', 1, 'io:n'), '7');
    await assert.rejects(client.call('FCALL_RO', 'counter_incr', 1, 'io:n', 1),
      /Can not execute a script with write flag using \*_ro command/);
    await assert.rejects(client.call('FCALL', 'nosuch', 0), /Function not found/);
    await assert.rejects(client.call('FUNCTION', 'LOAD', COUNTER_LIB),
      /Library 'counter' already exists/);
  });

  it('lists, dumps and restores libraries', { timeout: TEST_TIMEOUT }, async () => {
    await client.call('FUNCTION', 'FLUSH');
    await client.call('FUNCTION', 'LOAD', COUNTER_LIB);
    const [lib] = await client.call('FUNCTION', 'LIST', 'WITHCODE');
    assert.deepEqual(lib.slice(0, 4), ['library_name', 'counter', 'engine', 'LUA']);
    assert.equal(lib[6], 'library_code');
    assert.equal(lib[7], COUNTER_LIB);
    const names = lib[5].map((fn) => fn[1]).sort();
    assert.deepEqual(names, ['counter_get', 'counter_incr']);

    const dump = await client.callBuffer('FUNCTION', 'DUMP');
    assert.ok(Buffer.isBuffer(dump) && dump.length > 10);
    assert.equal(await client.call('FUNCTION', 'DELETE', 'counter'), 'OK');
    await assert.rejects(client.call('FCALL', 'counter_incr', 1, 'io:m', 1), /Function not found/);
    assert.equal(await client.call('FUNCTION', 'RESTORE', dump), 'OK');
    assert.equal(await client.call('FCALL', 'counter_incr', 1, 'io:m', 3), 3);
    await assert.rejects(client.call('FUNCTION', 'RESTORE', dump), /Library counter already exists/);
    assert.equal(await client.call('FUNCTION', 'RESTORE', dump, 'REPLACE'), 'OK');
    const damaged = Buffer.from(dump);
    damaged[damaged.length - 1] ^= 0xff;
    await assert.rejects(client.call('FUNCTION', 'RESTORE', damaged, 'FLUSH'),
      /payload version or checksum are wrong/);
  });

  it('runs functions from a pipeline and MULTI', { timeout: TEST_TIMEOUT }, async () => {
    await client.call('FUNCTION', 'FLUSH');
    await client.call('FUNCTION', 'LOAD', COUNTER_LIB);
    await client.del('io:p');
    const piped = await client.pipeline()
      .call('FCALL', 'counter_incr', 1, 'io:p', 1)
      .call('FCALL', 'counter_incr', 1, 'io:p', 1)
      .exec();
    assert.deepEqual(piped.map(([err, v]) => [err, v]), [[null, 1], [null, 2]]);
    const tx = await client.multi()
      .call('FCALL', 'counter_incr', 1, 'io:p', 10)
      .call('FCALL_RO', 'counter_get', 1, 'io:p')
      .exec();
    assert.deepEqual(tx.map(([err, v]) => [err, v]), [[null, 12], [null, '12']]);
  });
});

for (const RESP of [2, 3]) {
  describe(`functions with node-redis (RESP${RESP})`, { timeout: SUITE_TIMEOUT }, () => {
    let server;
    let client;
    before(async () => {
      server = await startServer();
      client = createClient({
        url: server.url,
        RESP,
        socket: { reconnectStrategy: false },
        functions: {
          counter: {
            incr: {
              NUMBER_OF_KEYS: 1,
              parseCommand(parser, key, by) {
                parser.pushKey(key);
                parser.push(String(by));
              },
              transformReply: undefined,
            },
            get: {
              NUMBER_OF_KEYS: 1,
              IS_READ_ONLY: true,
              parseCommand(parser, key) {
                parser.pushKey(key);
              },
              transformReply: undefined,
            },
          },
        },
      });
      client.on('error', () => {});
      await client.connect();
    });
    after(async () => {
      await client.close();
      await server.stop();
    });

    // The library is loaded under its own name; node-redis calls the functions by the
    // names of its `functions` option (counter.incr -> FCALL incr).
    const LIB = `#!lua name=counter
redis.register_function('incr', function(keys, args) return redis.call('incrby', keys[1], args[1]) end)
redis.register_function{function_name='get', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}`;

    it('calls functions through the functions API', { timeout: TEST_TIMEOUT }, async () => {
      await client.functionFlush();
      assert.equal(await client.functionLoad(LIB), 'counter');
      assert.equal(await client.counter.incr('nr:n', 4), 4);
      assert.equal(await client.counter.incr('nr:n', 6), 10);
      assert.equal(await client.counter.get('nr:n'), '10');
      assert.equal(await client.fCall('incr', { keys: ['nr:n'], arguments: ['1'] }), 11);
      assert.equal(await client.fCallRo('get', { keys: ['nr:n'] }), '11');
      await assert.rejects(client.functionLoad(LIB), /already exists/);
      assert.equal(await client.functionLoad(LIB, { REPLACE: true }), 'counter');
    });

    it('reads FUNCTION LIST and STATS', { timeout: TEST_TIMEOUT }, async () => {
      await client.functionFlush();
      await client.functionLoad(LIB);
      const [lib] = await client.functionList({ LIBRARYNAME: 'count*' });
      assert.equal(lib.library_name, 'counter');
      assert.equal(lib.engine, 'LUA');
      const fns = [...lib.functions].sort((a, b) => (a.name < b.name ? -1 : 1));
      assert.deepEqual(fns.map((f) => f.name), ['get', 'incr']);
      assert.equal(fns[0].description, null);
      assert.deepEqual([...fns[0].flags], ['no-writes']);
      assert.deepEqual([...fns[1].flags], []);
      assert.deepEqual(await client.functionList({ LIBRARYNAME: 'nomatch' }), []);
      const stats = await client.functionStats();
      assert.equal(stats.running_script, null);
      assert.equal(stats.engines.LUA.libraries_count, 1);
      assert.equal(stats.engines.LUA.functions_count, 2);
    });

    it('dumps and restores through the helpers', { timeout: TEST_TIMEOUT }, async () => {
      await client.functionFlush();
      await client.functionLoad(LIB);
      const bin = client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
      const dump = await bin.functionDump();
      assert.ok(Buffer.isBuffer(dump));
      await client.functionDelete('counter');
      await assert.rejects(client.counter.incr('nr:r', 1), /Function not found/);
      assert.equal(await client.functionRestore(dump), 'OK');
      assert.equal(await client.counter.incr('nr:r', 1), 1);
      assert.equal(await client.functionRestore(dump, { mode: 'REPLACE' }), 'OK');
      assert.equal(await client.functionRestore(dump, { mode: 'FLUSH' }), 'OK');
      assert.equal(await client.counter.incr('nr:r', 1), 2);
    });
  });
}
