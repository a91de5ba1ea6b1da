// One bee-queue worker process for bee-queue.test.mjs. argv[2] is a JSON config:
//   { port, queue, worker, concurrency, stallInterval, workMs }
// Job data: { failTimes }: the first `failTimes` attempts throw (bee-queue keeps no
// attempt count on the job, so the worker counts attempts in a hash). Records, as in
// bull-worker.mjs: `rec:<queue>:started`, `rec:<queue>:failures`, `rec:<queue>:done`
// lists of "<job id>:<worker>", and `rec:<queue>:early` for a delayed job started before
// its time. The worker activates delayed jobs and checks for stalled
// ones every stallInterval. SIGTERM closes the queue and exits 0.

import Queue from 'bee-queue';
import Redis from 'ioredis';

const cfg = JSON.parse(process.argv[2]);
const rec = `rec:${cfg.queue}`;
const redis = { host: '127.0.0.1', port: cfg.port, connect_timeout: 5000 };
const queue = new Queue(cfg.queue, {
  redis,
  isWorker: true,
  activateDelayedJobs: true,
  delayedDebounce: 50,
  stallInterval: cfg.stallInterval,
  removeOnSuccess: false,
});
queue.on('error', (e) => process.stderr.write(`queue error: ${e.stack || e}\n`));
const log = new Redis({ host: '127.0.0.1', port: cfg.port, maxRetriesPerRequest: 3 });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

await queue.ready();
queue.process(cfg.concurrency, async (job) => {
  const tag = `${job.id}:${cfg.worker}`;
  await log.rpush(`${rec}:started`, tag);
  if (job.options.delay && Date.now() < job.options.delay) await log.rpush(`${rec}:early`, tag);
  if (cfg.workMs) await sleep(cfg.workMs);
  const attempt = await log.hincrby(`${rec}:attempts`, job.id, 1);
  if (attempt <= (job.data.failTimes || 0)) {
    await log.rpush(`${rec}:failures`, tag);
    throw new Error(`attempt ${attempt} of job ${job.id} fails on purpose`);
  }
  await log.rpush(`${rec}:done`, tag);
  return { worker: cfg.worker };
});
queue.checkStalledJobs(cfg.stallInterval);
process.stdout.write('ready\n');

process.on('SIGTERM', async () => {
  const timer = setTimeout(() => process.exit(2), 10_000);
  try {
    await queue.close(5000);
    await log.quit();
  } finally {
    clearTimeout(timer);
    process.exit(0);
  }
});
