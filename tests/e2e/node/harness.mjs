// Starts and stops the server under test for the Node.js end-to-end tests.
//
// SLUICE_SERVER names the binary (default: <repo>/build/sluice-server). When its
// basename is `redis-server`, a real Redis is started instead, so the expectations of
// these tests can be checked against the reference implementation.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..', '..');
export const SERVER_BIN = process.env.SLUICE_SERVER || path.join(REPO_ROOT, 'build', 'sluice-server');
export const IS_REDIS = path.basename(SERVER_BIN) === 'redis-server';
export const HOST = '127.0.0.1';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const SANITIZER_RE = /(AddressSanitizer|LeakSanitizer|ThreadSanitizer|MemorySanitizer|UndefinedBehaviorSanitizer|runtime error:)/;

// Asks the kernel for a free TCP port on 127.0.0.1 (only for redis-server, which cannot
// report the port it bound with --port 0).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export class ServerProcess {
  constructor(child, args) {
    this.child = child;
    this.args = args;
    this.stdout = '';
    this.stderr = '';
    this.port = undefined;
    this.exited = false;
    this.exitCode = null;
    this.exitSignal = null;
    this.exitPromise = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exited = true;
        this.exitCode = code;
        this.exitSignal = signal;
        resolve();
      });
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { this.stdout += d; });
    child.stderr.on('data', (d) => { this.stderr += d; });
  }

  get host() { return HOST; }
  get url() { return `redis://${HOST}:${this.port}`; }

  output() {
    return `--- command: ${this.args.join(' ')}\n--- stdout:\n${this.stdout}\n--- stderr:\n${this.stderr}`;
  }

  // Sends SIGTERM and waits for the process to exit. Throws unless it exits with code 0
  // and no sanitizer report appeared in its output.
  async stop() {
    if (!this.exited) {
      this.child.kill('SIGTERM');
      let timer;
      const timedOut = await Promise.race([
        this.exitPromise.then(() => false),
        new Promise((resolve) => { timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS); }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.child.kill('SIGKILL');
        await this.exitPromise;
        throw new Error(`server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\n${this.output()}`);
      }
    }
    if (SANITIZER_RE.test(this.stderr) || SANITIZER_RE.test(this.stdout)) {
      throw new Error(`sanitizer report in server output\n${this.output()}`);
    }
    if (this.exitCode !== 0) {
      throw new Error(
        `server exited with code ${this.exitCode} signal ${this.exitSignal}, expected code 0\n${this.output()}`);
    }
  }
}

// Starts the server with `extraArgs` (sluice-style flags: ['--requirepass', 'pw'], ...),
// resolves once it accepts connections.
export async function startServer(extraArgs = []) {
  let args;
  let readyRe;
  if (IS_REDIS) {
    const port = await freePort();
    args = ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', ...extraArgs];
    readyRe = /Ready to accept connections/;
  } else {
    args = ['--port', '0', '--bind', HOST, ...extraArgs];
    readyRe = /Ready to accept connections tcp on port (\d+)/;
  }
  // Its own directory: where snapshots go (default save points, SHUTDOWN).
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-node-e2e-'));
  const child = spawn(path.resolve(SERVER_BIN), args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  child.on('exit', () => fs.rmSync(cwd, { recursive: true, force: true }));
  const server = new ServerProcess(child, [SERVER_BIN, ...args]);
  if (IS_REDIS) server.port = Number(args[1]);

  await new Promise((resolve, reject) => {
    let timer;
    const finish = (err) => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
      if (err) reject(err); else resolve();
    };
    const onData = () => {
      const m = server.stdout.match(readyRe);
      if (m) {
        if (!IS_REDIS) server.port = Number(m[1]);
        finish();
      }
    };
    const onExit = (code, signal) =>
      finish(new Error(`server exited before it was ready (code ${code}, signal ${signal})\n${server.output()}`));
    const onError = (e) => finish(new Error(`cannot start ${SERVER_BIN}: ${e.message}\n${server.output()}`));
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`server not ready within ${START_TIMEOUT_MS} ms\n${server.output()}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', onData);
    child.on('exit', onExit);
    child.on('error', onError);
    onData();
  });
  return server;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls `fn` until it returns a truthy value or `timeoutMs` passes.
export async function waitFor(fn, timeoutMs = 5000, stepMs = 20) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

// Parses INFO text into { field: value }.
export function parseInfo(text) {
  const out = {};
  for (const line of String(text).split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

// Parses one CLIENT INFO / CLIENT LIST line into { field: value }.
export function parseClientLine(text) {
  const out = {};
  for (const m of String(text).trim().matchAll(/([^\s=]+)=(\S*)/g)) out[m[1]] = m[2];
  return out;
}

// Redis's error texts, which clients match on.
export const ERR = {
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  overflow: 'ERR increment or decrement would overflow',
  syntax: 'ERR syntax error',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  arity: (cmd) => `ERR wrong number of arguments for '${cmd}' command`,
  unknown: (cmd, args = []) =>
    `ERR unknown command '${cmd}', with args beginning with: ${args.map((a) => `'${a}' `).join('')}`,
};

// Sends `name` with no arguments over a fresh connection and resolves with the first
// line of the reply. Every command this is used on needs arguments, so a server that
// knows the command answers with an arity error, one that does not with
// `ERR unknown command`; nothing is written to the keyspace either way.
function probeCommand(port, name, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host: HOST, port });
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply to ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`*1\r\n$${Buffer.byteLength(name)}\r\n${name}\r\n`));
    sock.on('data', (d) => {
      buf += d;
      const i = buf.indexOf('\r\n');
      if (i < 0) return;
      clearTimeout(timer);
      sock.destroy();
      resolve(buf.slice(0, i));
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// The names in `names` the server on `port` answers `ERR unknown command` to. Tests of
// a command family the server does not implement yet skip while this is not empty, so
// they run for real (and must pass) as soon as the commands exist.
export async function unknownCommands(port, names) {
  const missing = [];
  for (const name of names) {
    const line = await probeCommand(port, name);
    if (/^-ERR unknown command/i.test(line)) missing.push(name);
  }
  return missing;
}
