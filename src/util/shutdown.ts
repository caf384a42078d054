/**
 * Calls `stop` once on the first SIGINT or SIGTERM; a second signal exits at once.
 */
export function onShutdownSignal(stop: () => unknown): void {
  let stopping = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`\nsurecron: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    void Promise.resolve().then(stop);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
