import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
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

/** An alert as a generic-webhook receiver gets it, and whether its signature verified. */
export interface ReceivedAlert {
  id?: string;
  event: string;
  taskId: string;
  severity: string;
  summary: string;
  details: Record<string, unknown>;
  signed: boolean;
  /** When it arrived (epoch ms). */
  at: number;
}

/** A generic-webhook alert receiver on 127.0.0.1 that checks every signature against `secret`. */
export async function alertReceiver(secret: string): Promise<LocalServer & { url: string; received: ReceivedAlert[] }> {
  const received: ReceivedAlert[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const timestamp = String(request.headers['x-surecron-timestamp']);
      const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
      const alert = JSON.parse(body) as Omit<ReceivedAlert, 'signed' | 'at'>;
      received.push({ ...alert, signed: request.headers['x-surecron-signature'] === expected, at: Date.now() });
      response.writeHead(204).end();
    });
  });
  const local = await listenLocal(server);
  return { ...local, url: `${local.origin}/hook`, received };
}
