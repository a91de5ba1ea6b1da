// One Bull worker process for bull.test.mjs. argv[2] is a JSON config:
//   { port, queue, worker, concurrency, settings, workMs }
// Job data: { failTimes }: the first `failTimes` attempts throw. The worker records, in
// lists next to the queue's own keys, each attempt it starts (`rec:<queue>:started`),
// each attempt it fails on purpose (`rec:<queue>:failures`) and each job it completes
// (`rec:<queue>:done`), as "<job id>:<worker>". SIGTERM closes the queue and exits 0.

import Queue from 'bull';

const cfg = JSON.parse(process.argv[2]);
const rec = `rec:${cfg.queue}`;
const queue = new Queue(cfg.queue, {
  redis: { host: '127.0.0.1', port: cfg.port, connectTimeout: 5000 },
  settings: cfg.settings,
});
queue.on('error', (e) => process.stderr.write(`queue error: ${e.stack || e}\n`));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

queue.process(cfg.concurrency, async (job) => {
  const tag = `${job.id}:${cfg.worker}`;
  await queue.client.rpush(`${rec}:started`, tag);
  if (cfg.workMs) await sleep(cfg.workMs);
  if (job.attemptsMade < (job.data.failTimes || 0)) {
    await queue.client.rpush(`${rec}:failures`, tag);
    throw new Error(`attempt ${job.attemptsMade + 1} of job ${job.id} fails on purpose`);
  }
  await queue.client.rpush(`${rec}:done`, tag);
  return { worker: cfg.worker };
}).catch((e) => {
  process.stderr.write(`process loop: ${e.stack || e}\n`);
});

await queue.isReady();
process.stdout.write('ready\n');

process.on('SIGTERM', async () => {
  const timer = setTimeout(() => process.exit(2), 10_000);
  try {
    await queue.close();
  } finally {
    clearTimeout(timer);
    process.exit(0);
  }
});
