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
