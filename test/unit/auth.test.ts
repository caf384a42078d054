import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allows, authenticate, parseTokens, TokenConfigError } from '../../src/api/auth.js';

const admin = 'admin-token-0123456789';
const named = 'ops:opsreadtoken123:read,deploy:deploywritetoken1:write';

function tokenConfigError(namedTokens: string): TokenConfigError {
  try {
    parseTokens(admin, namedTokens);
  } catch (error) {
    assert.ok(error instanceof TokenConfigError, `expected TokenConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`parseTokens accepted ${JSON.stringify(namedTokens)}`);
}

describe('parseTokens', () => {
  it('the API token alone is the admin entry with write scope', () => {
    const entries = parseTokens(admin);
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.name, 'admin');
    assert.equal(entries[0]!.scope, 'write');
  });

  it('adds named read and write tokens in order, skipping blank entries and whitespace', () => {
    const entries = parseTokens(admin, ` ops:opsreadtoken123:read , ,deploy:deploywritetoken1:write,`);
    assert.deepEqual(
      entries.map((e) => [e.name, e.scope]),
      [
        ['admin', 'write'],
        ['ops', 'read'],
        ['deploy', 'write'],
      ],
    );
  });

  it('never keeps a token in clear text, only its digest', () => {
    const entries = parseTokens(admin, named);
    const dump = JSON.stringify(entries.map((e) => ({ ...e, digest: e.digest.toString('latin1') })));
    for (const secret of [admin, 'opsreadtoken123', 'deploywritetoken1']) assert.ok(!dump.includes(secret));
    assert.ok(entries.every((e) => e.digest.length === 32));
  });

  const malformed: [entry: string, why: string][] = [
    ['ops:secretvalue999', 'two parts'],
    ['ops:secretvalue999:admin', 'unknown scope'],
    ['ops:secretvalue999:READ', 'scope is case-sensitive'],
    [':secretvalue999:read', 'no name'],
    ['ops::read', 'no token'],
    ['ops:secret:value999:read', 'four parts (a ":" in the token)'],
    ['ops:secretvalue999:read:', 'an empty team scope'],
    ['ops:secretvalue999:read:team', 'a scope tag without "="'],
    ['ops:secretvalue999:read:=erp', 'a scope tag without a key'],
    ['secretvalue999', 'one part'],
  ];
  for (const [entry, why] of malformed) {
    it(`a malformed SURECRON_API_TOKENS entry (${why}) throws TokenConfigError without the token`, () => {
      const error = tokenConfigError(`good:goodtoken12345:read,${entry}`);
      assert.match(
        error.message,
        /^SURECRON_API_TOKENS: (entries must be name:token:read\|write|the team scope|scope tag "[^"]*" is not key=value)/,
      );
      assert.ok(!error.message.includes('secretvalue999'), `message leaks the token: ${error.message}`);
      assert.ok(!error.message.includes('goodtoken12345'), `message leaks another token: ${error.message}`);
      assert.ok(!error.message.includes('secret'), error.message);
    });
  }

  it('the error names the position of the bad entry', () => {
    assert.match(tokenConfigError('a:tokentokentoken1:read,b:tokentokentoken2:nope').message, /\(entry 2\)$/);
    assert.match(tokenConfigError('b:tokentokentoken2:nope').message, /\(entry 1\)$/);
  });
});

describe('authenticate', () => {
  const entries = parseTokens(admin, named);

  it('the admin token is {name: "admin", scope: "write"}', () => {
    assert.deepEqual(authenticate(entries, `Bearer ${admin}`), { name: 'admin', scope: 'write' });
  });

  it('named tokens authenticate as their name and scope', () => {
    assert.deepEqual(authenticate(entries, 'Bearer opsreadtoken123'), { name: 'ops', scope: 'read' });
    assert.deepEqual(authenticate(entries, 'Bearer deploywritetoken1'), { name: 'deploy', scope: 'write' });
  });

  it('"Bearer" is case-insensitive and surrounding whitespace is tolerated', () => {
    for (const header of [
      `bearer ${admin}`,
      `BEARER ${admin}`,
      `BeArEr ${admin}`,
      `Bearer    ${admin}`,
      `Bearer ${admin}  `,
    ]) {
      assert.deepEqual(authenticate(entries, header), { name: 'admin', scope: 'write' }, header);
    }
  });

  const rejected: [header: string | undefined, why: string][] = [
    [undefined, 'missing header'],
    ['', 'empty header'],
    ['Bearer', 'no token'],
    ['Bearer ', 'blank token'],
    ['Bearer wrong-token-0123456789', 'wrong token'],
    [`Bearer ${admin}x`, 'token with an extra character'],
    [`Bearer ${admin.slice(0, -1)}`, 'token prefix'],
    [`Basic ${admin}`, 'another scheme'],
    [admin, 'bare token'],
    [`Bearer ${admin} extra`, 'two tokens'],
    [`Bearer:${admin}`, 'no space'],
    [`Token ${admin}`, 'Token scheme'],
    [`Bearer OPSREADTOKEN123`, 'token is case-sensitive'],
  ];
  for (const [header, why] of rejected) {
    it(`${why} → undefined`, () => {
      assert.equal(authenticate(entries, header), undefined);
    });
  }

  it('a header naming the digest of an empty token does not match anything', () => {
    // An empty presented token hashes like any string; no entry has an empty token, so nothing matches.
    assert.equal(authenticate(parseTokens(admin), 'Bearer  '), undefined);
  });
});

describe('team-scoped tokens', () => {
  const entries = parseTokens(
    admin,
    'erp:erptoken123456:write:team=erp,both:bothtoken12345:read:team=erp;team=crm;env=prod:eu,plain:plaintoken1234:read',
  );

  it('a fourth part limits the token to tags: keys ANDed, values of one key ORed, ":" allowed in a value', () => {
    assert.deepEqual(authenticate(entries, 'Bearer erptoken123456'), {
      name: 'erp',
      scope: 'write',
      teamScope: { team: ['erp'] },
    });
    assert.deepEqual(authenticate(entries, 'Bearer bothtoken12345'), {
      name: 'both',
      scope: 'read',
      teamScope: { team: ['erp', 'crm'], env: ['prod:eu'] },
    });
  });

  it('a token without one is not scoped', () => {
    assert.deepEqual(authenticate(entries, 'Bearer plaintoken1234'), { name: 'plain', scope: 'read' });
    assert.deepEqual(authenticate(entries, `Bearer ${admin}`), { name: 'admin', scope: 'write' });
  });
});

describe('allows', () => {
  it('a read token may read but not write', () => {
    assert.equal(allows({ name: 'ops', scope: 'read' }, 'read'), true);
    assert.equal(allows({ name: 'ops', scope: 'read' }, 'write'), false);
  });

  it('a write token may read and write', () => {
    assert.equal(allows({ name: 'deploy', scope: 'write' }, 'read'), true);
    assert.equal(allows({ name: 'deploy', scope: 'write' }, 'write'), true);
  });

  it('end to end: the named read token is not allowed write, the admin token is', () => {
    const entries = parseTokens(admin, named);
    const reader = authenticate(entries, 'Bearer opsreadtoken123');
    const writer = authenticate(entries, `Bearer ${admin}`);
    assert.ok(reader && writer);
    assert.equal(allows(reader, 'write'), false);
    assert.equal(allows(writer, 'write'), true);
  });
});
