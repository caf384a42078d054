import { Gauge, type Registry } from 'prom-client';

/** The metric the worker adds beside its task metrics, once it has a client to read breakers with. */
export const circuitMetricName = 'surecron_circuit_state';

/** The value of `surecron_circuit_state` for each state: higher is worse. */
export const circuitStateValues = { closed: 0, halfOpen: 1, open: 2 } as const;

/**
 * Adds `surecron_circuit_state{key}` to `registry`: 0 closed, 1 half-open, 2 open, read from the breakers at each
 * scrape (every worker reports the same shared state). A scrape whose read fails shows no breaker rather than a
 * stale state. Registering twice in one registry keeps the first.
 */
export function registerCircuitGauge(
  registry: Registry,
  read: () => Promise<{ key: string; state: keyof typeof circuitStateValues }[]>,
): void {
  if (registry.getSingleMetric(circuitMetricName)) return;
  new Gauge({
    name: circuitMetricName,
    help: 'Circuit breaker state per dependency key: 0 closed, 1 half-open, 2 open',
    labelNames: ['key'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const circuits = await read().catch(() => []);
      for (const { key, state } of circuits) this.set({ key }, circuitStateValues[state]);
    },
  });
}
