import { connect, createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1, held back from other processes' ephemeral picks.
 *
 * A port that is merely closed again can be handed straight to the next `listen(0)`, such as the Temporal CLI's
 * own picks for the dev server's HTTP, metrics and internal ports, which then collide with ours. So the port is
 * left in TIME_WAIT (the server side closes a connection to it first): Linux assigns no ephemeral port in that
 * state for about a minute, while an explicit bind to it (with SO_REUSEADDR, as Node and Go listen) still works.
 * The Temporal CLI reserves its ports the same way.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const client = connect(port, '127.0.0.1');
      client.on('error', () => undefined);
      client.on('end', () => client.end());
      client.on('close', () => server.close(() => resolve(port)));
    });
  });
}

/**
 * A TCP port on 127.0.0.1 that is free now, below the kernel's ephemeral range (which starts at 32768): for
 * servers whose ports must fit a signed 16-bit column, as the Temporal server's membership table stores them.
 * Tries random ports in [20000, 32768) until one binds.
 */
export async function freeLowPort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    if (taken.has(port)) continue;
    if (await portFree(port)) return port;
  }
  throw new Error('no free port found in [20000, 32768)');
}

/** True when nothing listens on `port` of 127.0.0.1 now (a bind succeeds). */
export function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
