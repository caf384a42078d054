import type { IncomingMessage } from 'node:http';

/** How much of a refused body is read and thrown away so its 413 reaches the client (beyond it: closed). */
export const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
const DISCARD_TIMEOUT_MS = 15_000;

/**
 * Reads and discards what is left of a request body the API refused, so the answer can be sent on a connection the
 * client has stopped writing to. Closing a socket with unread data makes the kernel send a reset, which can reach
 * the client before the 413 does. Resolves true once the whole body is read (the connection stays usable), false
 * when it is larger than `limit` bytes or still arriving after 15 s (the connection is then closed after the answer).
 */
export function discardBody(request: IncomingMessage, limit = DISCARD_LIMIT_BYTES): Promise<boolean> {
  if (request.readableEnded || request.complete) return Promise.resolve(true);
  const declared = Number(request.headers['content-length']);
  if (declared > limit) return Promise.resolve(false);
  return new Promise((resolve) => {
    let read = 0;
    const finish = (drained: boolean): void => {
      clearTimeout(timer);
      request.off('data', onData).off('end', onEnd).off('error', onError);
      if (!drained) request.pause();
      resolve(drained);
    };
    const onData = (chunk: Buffer): void => {
      read += chunk.length;
      if (read > limit) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onError = (): void => finish(false);
    const timer = setTimeout(() => finish(false), DISCARD_TIMEOUT_MS);
    request.on('data', onData).on('end', onEnd).on('error', onError);
    request.resume();
  });
}
