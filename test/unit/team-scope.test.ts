import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdmitRequest, Silence } from '../../src/contract/alert.js';
import { parseTeamScope, scopeText, scopeWithin, tagsInScope, TeamScopeError } from '../../src/contract/team-scope.js';
import { silences } from '../../src/workflows/alert-state.js';

describe('team scopes', () => {
  const erpOrCrmInProd = parseTeamScope(['team=erp', 'team=crm', 'env=prod', 'team=erp']);

  it('parse: values of one key collect in order, once; a value may hold "="', () => {
    assert.deepEqual(erpOrCrmInProd, { team: ['erp', 'crm'], env: ['prod'] });
    assert.deepEqual(parseTeamScope(['expr=a=b']), { expr: ['a=b'] });
    assert.throws(() => parseTeamScope(['team']), TeamScopeError);
    assert.throws(() => parseTeamScope(['=erp']), /scope tag "=erp" is not key=value/);
  });

  it('match: every key, any of its values; extra tags do not matter', () => {
    assert.equal(tagsInScope(erpOrCrmInProd, ['team=crm', 'env=prod', 'owner=li']), true);
    assert.equal(tagsInScope(erpOrCrmInProd, ['team=erp']), false, 'env is missing');
    assert.equal(tagsInScope(erpOrCrmInProd, ['team=ops', 'env=prod']), false);
    assert.equal(tagsInScope(erpOrCrmInProd, []), false);
  });

  it('within: a narrower scope is within a wider one, not the reverse', () => {
    const erpProd = parseTeamScope(['team=erp', 'env=prod']);
    assert.equal(scopeWithin(erpProd, erpOrCrmInProd), true);
    assert.equal(scopeWithin(erpOrCrmInProd, erpProd), false);
    assert.equal(scopeWithin(parseTeamScope(['team=erp']), erpOrCrmInProd), false, 'no env: wider in env');
    assert.equal(scopeText(erpOrCrmInProd), 'team=erp, team=crm, env=prod');
  });

  it("a team's silence silences only its team's tasks", () => {
    const now = Date.parse('2027-03-01T12:00:00Z');
    const silence: Silence = {
      id: 's1',
      match: { severity: 'P1', scope: { team: ['erp'] } },
      startsAt: '2027-03-01T00:00:00Z',
      endsAt: '2027-03-02T00:00:00Z',
      reason: 'erp deploy',
      createdBy: 'erp-ops',
      createdAt: '2027-03-01T00:00:00Z',
    };
    const request = (tags: string[], severity: 'P1' | 'P0' = 'P1'): AdmitRequest => ({
      alert: {
        event: 'run_failed',
        taskId: 't',
        severity,
        at: '2027-03-01T12:00:00Z',
        summary: 'failed',
        details: {},
      },
      tags,
      windowMs: 0,
    });
    assert.equal(silences(silence, request(['team=erp']), now), true);
    assert.equal(silences(silence, request(['team=crm']), now), false);
    assert.equal(silences(silence, request([]), now), false);
    assert.equal(silences(silence, request(['team=erp'], 'P0'), now), false, 'its other fields still apply');
    assert.equal(silences({ ...silence, match: { severity: 'P1' } }, request(['team=crm']), now), true);
  });
});
