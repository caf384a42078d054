import { join } from 'node:path';
import { ensureSearchAttributes } from '../../src/client.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { freePort } from './ports.js';
import { testClient } from './temporal.js';

/** A dev server on a fixed port and SQLite file, so it can be killed and started again on the same state. */
export class KillableServer {
  server?: DevServer;
  private constructor(
    readonly dbFile: string,
    readonly port: number,
    private readonly cli: string,
  ) {}

  static async start(dir: string): Promise<KillableServer> {
    const cli = process.env.SURECRON_TEST_TEMPORAL_CLI;
    if (!cli) throw new Error('npm test provides the Temporal CLI path (SURECRON_TEST_TEMPORAL_CLI)');
    const chaos = new KillableServer(join(dir, 'temporal.db'), await freePort(), cli);
    await chaos.restart();
    const client = await testClient(chaos.address);
    await ensureSearchAttributes(client);
    await client.connection.close();
    return chaos;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts the server on the same file and port; resolves when the frontend answers. */
  async restart(): Promise<number> {
    const started = Date.now();
    this.server = await startDevServer({
      executable: { kind: 'path', path: this.cli, source: 'TEMPORAL_CLI' },
      dbFile: this.dbFile,
      port: this.port,
      namespace: 'default',
    });
    return Date.now() - started;
  }

  /** `kill -9` of the server process. */
  kill(): void {
    if (!this.server?.pid) throw new Error('no server process to kill');
    process.kill(this.server.pid, 'SIGKILL');
    this.server = undefined;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
