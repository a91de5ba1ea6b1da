// ioredis connections for the Node.js end-to-end tests: made with bounded timeouts and
// retries, and closed together at the end of a suite.

import Redis from 'ioredis';
import { sleep, HOST } from './harness.mjs';

// A client on `port`, remembered in `clients` for closeAll; `options` override the
// defaults.
export function makeClient(port, clients, options = {}) {
  const c = new Redis({
    host: HOST,
    port,
    connectTimeout: 5000,
    commandTimeout: 10_000,
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => (times > 20 ? null : 50),
    ...options,
  });
  c.on('error', () => {}); // errors surface through the command promises
  clients.push(c);
  return c;
}

// QUITs every client (waiting at most 2 s for each), then drops the connections.
export async function closeAll(clients) {
  await Promise.all(clients.map(async (c) => {
    if (c.status === 'end') return;
    try {
      await Promise.race([c.quit(), sleep(2000)]);
    } catch {
      // already closed
    }
    c.disconnect();
  }));
}
