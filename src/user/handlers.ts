import type { HandlerRegistry } from '../activities/handler.js';

/** Your function handlers, under the names tasks give them in `{ type: 'function', name }`. */
export const handlers: HandlerRegistry = {
  /** Logs one line per fire, to show the pipeline works. */
  heartbeat: async (_input, { log, nominalTime, attempt }) => {
    log.info({ nominalTime, attempt }, 'surecron example heartbeat');
    return Promise.resolve({ ok: true, nominalTime });
  },
};
