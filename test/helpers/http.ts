import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A test's own HTTP server on 127.0.0.1. */
export interface LocalServer {
  port: number;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Ends the open connections and resolves once the server is closed. */
  close: () => Promise<void>;
}

/** Starts `server` on a free port of 127.0.0.1. */
export async function listenLocal(server: Server): Promise<LocalServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
