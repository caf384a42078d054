import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert } from '../../src/contract/alert.js';
import type { AlertsConfig } from '../../src/alerting/channels/config.js';
import { defaultWebhookName } from '../../src/alerting/channels/load.js';
import { createAlertRouter } from '../../src/alerting/router.js';

const alert = (severity: Alert['severity']) => ({ event: 'run_failed', taskId: 't', severity }) as Alert;
const webhook = (name: string, severities?: Alert['severity'][]) =>
  ({
    name,
    type: 'webhook',
    url: `https://hooks.example.com/${name}`,
    ...(severities ? { severities } : {}),
  }) as AlertsConfig['channels'][number];

describe('alert router', () => {
  const config: AlertsConfig = {
    channels: [webhook('oncall'), webhook('team', ['P1', 'P2']), webhook(defaultWebhookName)],
    routes: { P0: ['oncall', defaultWebhookName], P1: ['team', defaultWebhookName] },
  };
  const router = createAlertRouter(config, () => Promise.resolve());

  it('routes by severity, and a severity without a route goes to every channel that accepts it', () => {
    assert.deepEqual(router.targets(alert('P0')), ['oncall', defaultWebhookName]);
    assert.deepEqual(router.targets(alert('P1')), ['team', defaultWebhookName]);
    assert.deepEqual(router.targets(alert('P2')), ['oncall', 'team', defaultWebhookName]);
  });

  it("a task's own channel list replaces the routes, but SURECRON_ALERT_WEBHOOK_URL still gets every alert", () => {
    assert.deepEqual(router.targets(alert('P0'), ['team']), ['team', defaultWebhookName]);
    assert.deepEqual(router.targets(alert('P2'), ['unknown', 'oncall']), ['oncall', defaultWebhookName]);
    const withoutEnv = createAlertRouter({ channels: [webhook('oncall')] }, () => Promise.resolve());
    assert.deepEqual(withoutEnv.targets(alert('P1'), ['oncall']), ['oncall']);
  });
});
