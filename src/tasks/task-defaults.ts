/** Defaults for what a task leaves out. Documented in the README under "Policies". */
export const taskDefaults = {
  attemptTimeout: '5m',
  /**
   * The heartbeat timeout of an attempt run as an activity task whose task declares none: the worker heartbeats on
   * the handler's behalf, so an attempt lost with its worker is retried after this long, not after its attempt
   * timeout.
   */
  livenessTimeout: '15s',
  maxAttempts: 3,
  initialInterval: '1s',
  backoffCoefficient: 2,
  maxInterval: '1m',
  catchupWindow: '1h',
} as const;
