import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { circuitMetricName } from '../../src/metrics/circuit-metrics.js';
import { alertResults, surecronMetricNames, taskOutcomes } from '../../src/metrics/task-metrics.js';

const root = new URL('../../', import.meta.url);
const rulesPath = new URL('deploy/prometheus/alerts.yml', root).pathname;
const dashboardPath = new URL('deploy/grafana/surecron-dashboard.json', root).pathname;

/**
 * The API's metrics (src/api/routes/metrics.ts). Listed here rather than imported: that module builds a Fastify
 * plugin. Keep in sync with it.
 */
const apiMetricNames = ['surecron_api_requests_total', 'surecron_api_request_duration_seconds'];
const knownMetrics = new Set<string>([...surecronMetricNames, circuitMetricName, ...apiMetricNames, 'up']);
const histograms = new Set(['surecron_task_run_duration_seconds', 'surecron_task_start_lateness_seconds']);
histograms.add('surecron_api_request_duration_seconds');

const functions = new Set([
  'abs',
  'absent',
  'absent_over_time',
  'avg_over_time',
  'ceil',
  'changes',
  'clamp',
  'clamp_max',
  'clamp_min',
  'count_over_time',
  'delta',
  'deriv',
  'floor',
  'histogram_quantile',
  'idelta',
  'increase',
  'irate',
  'label_replace',
  'max_over_time',
  'min_over_time',
  'rate',
  'resets',
  'round',
  'scalar',
  'sort',
  'sort_desc',
  'sum_over_time',
  'time',
  'timestamp',
  'vector',
]);
const aggregations = new Set(['sum', 'avg', 'min', 'max', 'count', 'topk', 'bottomk', 'quantile', 'stddev', 'group']);
const modifiers = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const keywords = new Set([...modifiers, 'and', 'or', 'unless', 'offset', 'bool']);
const labelValues: Record<string, readonly string[]> = { outcome: taskOutcomes, result: alertResults };

/** Metric names an expression uses, per the brief's pattern: `surecron_…` with histogram series suffixes removed. */
function surecronMetrics(expr: string): string[] {
  return [...expr.matchAll(/\b(surecron_[a-z_]+)\b/g)].map((m) => m[1]!.replace(/_(bucket|sum|count)$/, ''));
}

/**
 * A rough PromQL check, returning problems: balanced brackets, known functions, well-formed matchers and ranges,
 * label values that the metrics can take, histogram_quantile over `le`, counters only inside range functions, and
 * no metric but the known ones. Grafana variables must be substituted first.
 */
function promqlProblems(expr: string): string[] {
  const problems: string[] = [];
  const strings: string[] = [];
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, (s) => `"${strings.push(s) - 1}"`);
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', '}': '{', ']': '[' };
  for (const ch of bare) {
    if ('({['.includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) problems.push(`unbalanced ${ch}`);
  }
  if (stack.length > 0) problems.push(`unclosed ${stack.join('')}`);

  for (const [, name] of bare.matchAll(/([A-Za-z_][\w]*)\s*\(/g)) {
    if (!functions.has(name!) && !aggregations.has(name!) && !keywords.has(name!)) problems.push(`unknown ${name}(`);
  }
  for (const [, body] of bare.matchAll(/\{([^}]*)\}/g)) {
    for (const matcher of body!.split(',').map((m) => m.trim())) {
      const m = /^([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"(\d+)"$/.exec(matcher);
      if (!m) {
        problems.push(`bad matcher ${matcher}`);
        continue;
      }
      const value = JSON.parse(strings[Number(m[3])]!) as string;
      const allowed = labelValues[m[1]!];
      if (allowed && (m[2] === '=' || m[2] === '!=') && !allowed.includes(value)) {
        problems.push(`${m[1]}="${value}" is never exposed`);
      }
    }
  }
  for (const [range] of bare.matchAll(/\[[^\]]*\]/g)) {
    if (!/^\[\d+[smhdwy](:\d+[smhdwy]?)?\]$/.test(range)) problems.push(`bad range ${range}`);
  }
  for (const [, phi] of bare.matchAll(/histogram_quantile\s*\(([^,]*),/g)) {
    if (!/^\s*(0?\.\d+|1)\s*$/.test(phi!)) problems.push(`histogram_quantile φ ${phi!.trim()}`);
  }
  for (const [call] of bare.matchAll(/histogram_quantile\s*\([^,]+,\s*\w+\s+by\s*\(([^)]*)\)/g)) {
    if (!/\ble\b/.test(call)) problems.push(`histogram_quantile without le: ${call}`);
  }
  // Counters and buckets mean nothing raw: each selector of one must take a range, for rate() or increase().
  for (const m of bare.matchAll(/\b(surecron_\w+?(?:_total|_bucket|_sum|_count))\b(\{[^}]*\})?(\s*\[)?/g)) {
    if (!m[3]) problems.push(`${m[1]} without a range`);
  }
  for (const [, name] of bare.matchAll(/\b(surecron_\w+)_(?:bucket|sum|count)\b/g)) {
    if (!histograms.has(name!)) problems.push(`${name} is not a histogram`);
  }

  const outside = bare
    .replace(/"\d+"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  for (const m of outside.matchAll(/\d+(?:\.\d+)?[smhdwy]?|([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const name = m[1];
    if (!name || m[2] || keywords.has(name)) continue;
    const metric = name.replace(/_(bucket|sum|count)$/, '');
    if (!knownMetrics.has(metric)) problems.push(`unknown metric ${name}`);
  }
  return problems;
}

interface Rule {
  alert?: unknown;
  record?: unknown;
  expr?: unknown;
  for?: unknown;
  labels?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}
const rulesFile = parse(readFileSync(rulesPath, 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const rules = rulesFile.groups.flatMap((group) => group.rules);

describe('deploy/prometheus/alerts.yml', () => {
  it('has named groups of rules', () => {
    assert.ok(Array.isArray(rulesFile.groups) && rulesFile.groups.length > 0);
    const names = rulesFile.groups.map((group) => group.name);
    assert.equal(new Set(names).size, names.length, 'group names are unique');
    for (const group of rulesFile.groups) assert.ok(group.rules.length > 0, group.name);
  });

  it('every rule is an alert with expr, for, severity and summary', () => {
    const alerts = rules.map((rule) => rule.alert);
    assert.equal(new Set(alerts).size, alerts.length, 'alert names are unique');
    for (const rule of rules) {
      const name = String(rule.alert);
      assert.match(name, /^[A-Z][A-Za-z0-9]+$/);
      assert.equal(typeof rule.expr, 'string', name);
      assert.match(String(rule.for), /^\d+[smhdwy]$/, name);
      assert.ok(['critical', 'warning', 'info'].includes(String(rule.labels?.severity)), name);
      for (const key of ['summary', 'description']) {
        const text = rule.annotations?.[key];
        assert.equal(typeof text, 'string', `${name} ${key}`);
        assert.equal((text as string).split('{{').length, (text as string).split('}}').length, `${name} ${key} {{ }}`);
      }
    }
  });

  it('alerts on failures, missed runs, lateness, the worker and API errors', () => {
    const exprs = rules.map((rule) => String(rule.expr));
    const has = (pattern: RegExp) =>
      assert.ok(
        exprs.some((expr) => pattern.test(expr)),
        String(pattern),
      );
    has(/increase\(surecron_task_runs_total\{outcome!="succeeded"\}\[15m\]\)\) > 0/);
    has(/increase\(surecron_task_missed_total\[15m\]\)\) > 0/);
    has(/histogram_quantile\(0\.99, .*rate\(surecron_task_start_lateness_seconds_bucket\[10m\]\).*> 60/);
    has(/up\{job="surecron-worker"\} == 0/);
    has(/absent\(up\{job="surecron-worker"\}\)/);
    has(/surecron_api_requests_total\{status=~"5\.\."\}/);
  });

  it('every metric referenced exists', () => {
    for (const rule of rules) {
      for (const metric of surecronMetrics(String(rule.expr))) {
        assert.ok(knownMetrics.has(metric), `${String(rule.alert)}: unknown metric ${metric}`);
      }
    }
  });

  it('every expression is plausible PromQL', () => {
    for (const rule of rules) assert.deepEqual(promqlProblems(String(rule.expr)), [], String(rule.alert));
  });

  it('the PromQL check catches mistakes', () => {
    const cases: [string, RegExp][] = [
      ['sum(rate(surecron_task_runs_total[5m])', /unclosed/],
      ['sum(rat(surecron_task_runs_total[5m]))', /unknown rat\(/],
      ['increase(surecron_task_runs_total{outcome="success"}[5m])', /never exposed/],
      ['increase(surecron_task_runs_total{outcome=succeeded}[5m])', /bad matcher/],
      ['increase(surecron_task_runs_total[5 m])', /bad range/],
      ['surecron_task_missed_total > 0', /without a range/],
      ['rate(surecron_task_missed_count[5m])', /not a histogram/],
      ['histogram_quantile(0.99, sum by (task) (rate(surecron_task_run_duration_seconds_bucket[5m])))', /without le/],
      ['rate(surecron_task_run_total[5m]) > 0', /unknown metric surecron_task_run_total/],
      ['rate(process_cpu_seconds_total[5m])', /unknown metric process_cpu_seconds_total/],
      ['histogram_quantile(99, sum by (le) (rate(surecron_task_run_duration_seconds_bucket[5m])))', /φ 99/],
    ];
    for (const [expr, problem] of cases) assert.match(promqlProblems(expr).join('; '), problem, expr);
  });

  it('passes promtool check rules, when promtool is installed', (t) => {
    const result = promtool(['check', 'rules', rulesPath]);
    if (!result) return t.skip('promtool is not on PATH');
    assert.equal(result.status, 0, result.output);
  });

  it('fires as intended on sample series (promtool test rules, when installed)', (t) => {
    // Annotations are stripped so that the expectations need only name labels.
    const dir = mkdtempSync(join(tmpdir(), 'surecron-rules-'));
    try {
      const bare = structuredClone(rulesFile);
      for (const rule of bare.groups.flatMap((group) => group.rules)) delete rule.annotations;
      writeFileSync(join(dir, 'alerts.yml'), stringify(bare));
      writeFileSync(join(dir, 'test.yml'), stringify(promtoolTests));
      const result = promtool(['test', 'rules', join(dir, 'test.yml')]);
      if (!result) return t.skip('promtool is not on PATH');
      assert.equal(result.status, 0, result.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Runs promtool; undefined if it is not installed. */
/**
 * Runs promtool; undefined when it is not installed, which only a developer's machine may skip: CI installs it
 * (scripts/install-debian-packages.sh), so there a missing promtool fails the test.
 */
function promtool(args: string[]): { status: number | null; output: string } | undefined {
  const result = spawnSync('promtool', args, { encoding: 'utf8' });
  if (result.error && 'code' in result.error && result.error.code === 'ENOENT') {
    assert.ok(!process.env.CI, 'promtool is not on PATH in CI: run scripts/install-debian-packages.sh');
    return undefined;
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const worker = 'job="surecron-worker"';
const promtoolTests = {
  rule_files: ['alerts.yml'],
  evaluation_interval: '1m',
  tests: [
    {
      interval: '1m',
      input_series: [
        { series: `surecron_task_runs_total{${worker},task="a",outcome="failed"}`, values: '0 0 1 1 1 1 1' },
        { series: `surecron_task_runs_total{${worker},task="ok",outcome="succeeded"}`, values: '0+1x30' },
        { series: `surecron_task_missed_total{${worker},task="n"}`, values: '0 0 2 2 2' },
        { series: `surecron_task_start_lateness_seconds_bucket{${worker},task="slow",le="60"}`, values: '0x20' },
        { series: `surecron_task_start_lateness_seconds_bucket{${worker},task="slow",le="120"}`, values: '0+1x20' },
        { series: `surecron_task_start_lateness_seconds_bucket{${worker},task="slow",le="+Inf"}`, values: '0+1x20' },
        { series: `surecron_alerts_total{${worker},channel="email",result="failed"}`, values: '0 0 1 1 1' },
        { series: `up{${worker},instance="w:9464"}`, values: '1 1 0 0 0 0 0' },
        { series: 'surecron_api_requests_total{instance="api:8080",status="500"}', values: '0+10x20' },
        { series: 'surecron_api_requests_total{instance="api:8080",status="200"}', values: '0+10x20' },
      ],
      alert_rule_test: [
        {
          eval_time: '5m',
          alertname: 'SurecronTaskFailing',
          exp_alerts: [alert('warning', { task: 'a', outcome: 'failed' })],
        },
        { eval_time: '3m', alertname: 'SurecronTaskMissedRun', exp_alerts: [alert('critical', { task: 'n' })] },
        { eval_time: '16m', alertname: 'SurecronTaskLate', exp_alerts: [alert('warning', { task: 'slow' })] },
        {
          eval_time: '3m',
          alertname: 'SurecronAlertDeliveryFailing',
          exp_alerts: [alert('critical', { channel: 'email' })],
        },
        {
          eval_time: '5m',
          alertname: 'SurecronWorkerDown',
          exp_alerts: [alert('critical', { job: 'surecron-worker', instance: 'w:9464' })],
        },
        { eval_time: '5m', alertname: 'SurecronWorkerAbsent', exp_alerts: [] },
        {
          eval_time: '16m',
          alertname: 'SurecronApiErrorRate',
          exp_alerts: [alert('warning', { instance: 'api:8080' })],
        },
      ],
    },
    {
      // "broken" succeeded hourly for two days, then only failed; "weekly" never ran: neither fires on a quiet task.
      interval: '1h',
      input_series: [
        { series: 'surecron_task_runs_total{task="broken",outcome="succeeded"}', values: '0+1x48 49x100' },
        { series: 'surecron_task_runs_total{task="broken",outcome="failed"}', values: '0x48 1+1x100' },
        { series: 'surecron_task_runs_total{task="weekly",outcome="succeeded"}', values: '0x100' },
      ],
      alert_rule_test: [
        { eval_time: '40h', alertname: 'SurecronTaskNoRecentSuccess', exp_alerts: [] },
        {
          eval_time: '80h',
          alertname: 'SurecronTaskNoRecentSuccess',
          exp_alerts: [alert('critical', { task: 'broken' })],
        },
      ],
    },
    {
      interval: '1m',
      input_series: [],
      alert_rule_test: [
        {
          eval_time: '6m',
          alertname: 'SurecronWorkerAbsent',
          exp_alerts: [alert('critical', { job: 'surecron-worker' })],
        },
      ],
    },
  ],
};

function alert(severity: string, labels: Record<string, string>): { exp_labels: Record<string, string> } {
  return { exp_labels: { severity, ...labels } };
}

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: { name: string; datasource?: { uid?: string }; query: string | { query: string } }[] };
}
const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
const targets = panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel, target })));
const grafanaVariables = (expr: string): string =>
  expr
    .replace(/\$__rate_interval|\$__interval/g, '5m')
    .replace(/\$__range/g, '1h')
    .replace(/\$task/g, '.*');

describe('deploy/grafana/surecron-dashboard.json', () => {
  it('is an importable dashboard with a Prometheus datasource input', () => {
    assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, String(dashboard.schemaVersion));
    assert.ok(dashboard.uid && dashboard.title);
    assert.deepEqual(
      dashboard.__inputs.map(({ name, type, pluginId }) => ({ name, type, pluginId })),
      [{ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }],
    );
    for (const { panel, target } of targets) {
      assert.equal(panel.datasource?.uid, '${DS_PROMETHEUS}', panel.title);
      assert.equal(target.datasource?.uid ?? '${DS_PROMETHEUS}', '${DS_PROMETHEUS}', panel.title);
    }
    for (const variable of dashboard.templating.list) {
      if (variable.datasource) assert.equal(variable.datasource.uid, '${DS_PROMETHEUS}', variable.name);
    }
  });

  it('panels have unique ids and do not overlap', () => {
    const ids = panels.map((panel) => panel.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const [i, a] of panels.entries()) {
      assert.ok(a.gridPos.x >= 0 && a.gridPos.x + a.gridPos.w <= 24, a.title);
      for (const b of panels.slice(i + 1)) {
        const apart =
          a.gridPos.x + a.gridPos.w <= b.gridPos.x ||
          b.gridPos.x + b.gridPos.w <= a.gridPos.x ||
          a.gridPos.y + a.gridPos.h <= b.gridPos.y ||
          b.gridPos.y + b.gridPos.h <= a.gridPos.y;
        assert.ok(apart, `${a.title} overlaps ${b.title}`);
      }
    }
  });

  it('shows runs, lateness, attempts, missed runs, alerts and API latency', () => {
    const exprs = targets.map(({ target }) => target.expr ?? '');
    for (const pattern of [
      /sum by \(outcome\) \(increase\(surecron_task_runs_total/,
      /histogram_quantile\(0\.5, sum by \(task, le\) \(rate\(surecron_task_start_lateness_seconds_bucket/,
      /histogram_quantile\(0\.99, sum by \(task, le\) \(rate\(surecron_task_start_lateness_seconds_bucket/,
      /rate\(surecron_task_attempts_total/,
      /surecron_task_missed_total/,
      /sum by \(channel, result\) \(increase\(surecron_alerts_total/,
      /histogram_quantile\(0\.99, .*surecron_api_request_duration_seconds_bucket/,
    ]) {
      assert.ok(
        exprs.some((expr) => pattern.test(expr)),
        String(pattern),
      );
    }
  });

  it('every query parses (promtool, when installed)', (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'surecron-dashboard-'));
    try {
      const rules = targets.map(({ target }, i) => ({
        record: `dashboard:query_${i}`,
        expr: grafanaVariables(target.expr ?? ''),
      }));
      writeFileSync(join(dir, 'queries.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
      const result = promtool(['check', 'rules', join(dir, 'queries.yml')]);
      if (!result) return t.skip('promtool is not on PATH');
      assert.equal(result.status, 0, result.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every metric used exists and every query is plausible PromQL', () => {
    const queries = [
      ...targets.map(({ panel, target }) => [panel.title, target.expr ?? ''] as const),
      ...dashboard.templating.list.map(
        (v) => [`$${v.name}`, typeof v.query === 'string' ? v.query : v.query.query] as const,
      ),
    ];
    assert.ok(queries.length > 0);
    for (const [title, expr] of queries) {
      assert.ok(expr.includes('surecron_') || expr.includes('up{'), `${title}: ${expr}`);
      for (const metric of surecronMetrics(expr)) assert.ok(knownMetrics.has(metric), `${title}: ${metric}`);
    }
    for (const { panel, target } of targets) {
      assert.deepEqual(promqlProblems(grafanaVariables(target.expr ?? '')), [], panel.title);
    }
  });
});
