// Bull throughput for bench/queue_bench.py: one run against one server.
//
//   node bench/queue_bull.mjs '{"port": P, "jobs": N, "workers": W, "concurrency": C, "queue": "q"}'
//
// Adds N jobs to the paused queue (addBulk, 1000 at a time), starts W worker processes
// (this script with "worker" as its second argument) with C jobs each in flight, then
// resumes the queue and times until Bull counts N completed jobs. Prints one JSON line:
// { jobs, seconds } (seconds: resume to the last completion).

import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import Queue from 'bull';

const cfg = JSON.parse(process.argv[2]);
const redis = { host: '127.0.0.1', port: cfg.port, connectTimeout: 5000 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const TIMEOUT_MS = cfg.timeoutMs || 300_000;

async function worker() {
  const q = new Queue(cfg.queue, { redis, settings: { drainDelay: 1 } });
  q.on('error', (e) => process.stderr.write(`worker queue error: ${e}\n`));
  q.process(cfg.concurrency, async (job) => job.data.i).catch((e) => {
    process.stderr.write(`process loop: ${e}\n`);
  });
  await q.isReady();
  process.on('SIGTERM', async () => {
    setTimeout(() => process.exit(2), 10_000).unref();
    await q.close();
    process.exit(0);
  });
  process.stdout.write('ready\n');
}

function startWorker() {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), process.argv[2], 'worker'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (l) => { if (l === 'ready') resolve(); });
    child.on('exit', (code) => reject(new Error(`worker exited (${code}) before ready`)));
  });
  return { child, ready };
}

async function main() {
  const q = new Queue(cfg.queue, { redis });
  q.on('error', (e) => process.stderr.write(`queue error: ${e}\n`));
  await q.isReady();
  await q.pause();
  for (let at = 0; at < cfg.jobs; at += 1000) {
    const n = Math.min(1000, cfg.jobs - at);
    await q.addBulk(Array.from({ length: n }, (_, k) => ({ data: { i: at + k } })));
  }
  const workers = Array.from({ length: cfg.workers }, startWorker);
  const deadline = Date.now() + TIMEOUT_MS;
  let timer;
  await Promise.race([
    Promise.all(workers.map((w) => w.ready)),
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error('workers not ready')), 30_000); }),
  ]);
  clearTimeout(timer);
  const t0 = process.hrtime.bigint();
  await q.resume();
  let done = 0;
  while ((done = await q.getCompletedCount()) < cfg.jobs) {
    if (Date.now() > deadline) throw new Error(`only ${done} of ${cfg.jobs} jobs completed in time`);
    await sleep(10);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((resolve) => {
    if (w.child.exitCode !== null) resolve(); else w.child.on('exit', resolve);
  })));
  const counts = await q.getJobCounts();
  await q.close();
  process.stdout.write(`${JSON.stringify({ jobs: cfg.jobs, seconds, counts })}\n`);
}

if (process.argv[3] === 'worker') {
  await worker();
} else {
  try {
    await main();
    process.exit(0);
  } catch (e) {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  }
}
