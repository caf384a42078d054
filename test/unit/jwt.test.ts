import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { exportSPKI, SignJWT, UnsecuredJWT } from 'jose';
import { pino } from 'pino';
import { buildApp } from '../../src/api/app.js';
import { JwtVerifier, jwtConfigOf, type JwtConfig } from '../../src/api/jwt.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { TaskService } from '../../src/tasks/service.js';
import { TaskStore } from '../../src/tasks/store.js';
import { IdentityProvider } from '../helpers/identity-provider.js';
import { testRules } from '../helpers/rules.js';

const AUDIENCE = 'surecron-test';

describe('JWT bearer tokens against a real local identity provider', () => {
  let idp: IdentityProvider;
  let verifier: JwtVerifier;
  const config = (over: Partial<JwtConfig> = {}): JwtConfig => ({
    issuer: idp.issuer,
    audience: AUDIENCE,
    rolesClaim: 'roles',
    scopeClaim: 'surecron_scope',
    algorithms: ['RS256', 'ES256'],
    clockToleranceSeconds: 30,
    refetchCooldownMs: 0,
    ...over,
  });
  const now = (): number => Math.floor(Date.now() / 1000);

  before(async () => {
    idp = await IdentityProvider.start();
    verifier = new JwtVerifier(config());
  });
  after(() => idp.close());

  it('discovers the key set from the issuer and accepts a write token: the subject is the actor', async () => {
    const outcome = await verifier.verify(await idp.token({ audience: AUDIENCE, sub: 'alice', roles: ['write'] }));
    assert.deepEqual(outcome, { ok: true, principal: { name: 'alice', subject: 'alice', scope: 'write' } });
    assert.equal(idp.jwksFetches, 1);
  });

  it('roles: read is read, admin is write, a space-separated string counts, scope tags are carried', async () => {
    const read = await verifier.verify(await idp.token({ audience: AUDIENCE, sub: 'bob', roles: ['read'] }));
    assert.equal(read.ok && read.principal.scope, 'read');
    const admin = await verifier.verify(await idp.token({ audience: AUDIENCE, sub: 'root', roles: 'read admin' }));
    assert.equal(admin.ok && admin.principal.scope, 'write');
    const scoped = await verifier.verify(
      await idp.token({ audience: AUDIENCE, sub: 'erp', roles: ['read'], surecron_scope: ['team=erp', 'team=crm'] }),
    );
    assert.deepEqual(scoped.ok && scoped.principal.teamScope, { team: ['erp', 'crm'] });
    const spaced = await verifier.verify(
      await idp.token({ audience: AUDIENCE, sub: 'ops', roles: ['write'], surecron_scope: 'team=ops env=prod' }),
    );
    assert.deepEqual(spaced.ok && spaced.principal.teamScope, { team: ['ops'], env: ['prod'] });
    assert.equal(idp.jwksFetches, 1, 'the key set is cached');
  });

  it('a scope claim that is not key=value is 403, never read as no scope', async () => {
    const outcome = await verifier.verify(
      await idp.token({ audience: AUDIENCE, sub: 'dave', roles: ['write'], surecron_scope: ['erp'] }),
    );
    assert.deepEqual(outcome, {
      ok: false,
      status: 403,
      detail: 'token of "dave": surecron_scope: scope tag "erp" is not key=value',
    });
  });

  it('a valid token without a surecron role is 403', async () => {
    const outcome = await verifier.verify(await idp.token({ audience: AUDIENCE, sub: 'carol', roles: ['billing'] }));
    assert.deepEqual(outcome, {
      ok: false,
      status: 403,
      detail: 'token of "carol" has no surecron role (read, write or admin)',
    });
  });

  const refused = async (token: string): Promise<string> => {
    const outcome = await verifier.verify(token);
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.status, 401);
    return outcome.ok ? '' : outcome.detail;
  };

  it('expired beyond the skew is refused; expired within it is accepted; nbf ahead beyond the skew is refused', async () => {
    assert.equal(
      await refused(await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'], exp: now() - 60 })),
      'bearer token: expired',
    );
    const withinSkew = await verifier.verify(
      await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'], exp: now() - 10 }),
    );
    assert.equal(withinSkew.ok, true);
    assert.equal(
      await refused(await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'], nbf: now() + 120 })),
      'bearer token: claim "nbf" is not accepted',
    );
  });

  it('wrong audience, wrong issuer, no subject, no exp: refused', async () => {
    assert.equal(
      await refused(await idp.token({ audience: 'another-app', sub: 'a', roles: ['read'] })),
      'bearer token: claim "aud" is not accepted',
    );
    assert.equal(
      await refused(await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'], iss: 'https://evil.example' })),
      'bearer token: claim "iss" is not accepted',
    );
    assert.equal(
      await refused(await idp.token({ audience: AUDIENCE, roles: ['read'], sub: undefined })),
      'bearer token: claim "sub" is missing',
    );
    assert.equal(
      await refused(await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'], exp: undefined })),
      'bearer token: claim "exp" is missing',
    );
  });

  it('forged: signed with a foreign key under a served kid, or under its own unknown kid', async () => {
    const served = await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['write'] });
    const kid = JSON.parse(Buffer.from(served.split('.')[0]!, 'base64url').toString()) as { kid: string };
    const foreign = await idp.foreignKey();
    assert.equal(
      await refused(
        await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['write'] }, { ...foreign, kidOverride: kid.kid }),
      ),
      'bearer token: signature does not verify',
    );
    const fetches = idp.jwksFetches;
    assert.equal(
      await refused(await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['write'] }, foreign)),
      'bearer token: signed with an unknown key',
    );
    assert.equal(idp.jwksFetches, fetches + 1, 'an unknown kid fetches the key set again');
  });

  it('wrong algorithms: alg none, HS256 keyed with the public key, ES256 when only RS256 is allowed', async () => {
    const unsecured = new UnsecuredJWT({ sub: 'a', roles: ['admin'] })
      .setIssuer(idp.issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .encode();
    assert.match(await refused(unsecured), /^bearer token: /);
    const key = await idp.foreignKey();
    const publicPem = await exportSPKI(key.publicKey);
    const confused = await new SignJWT({ sub: 'a', roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(idp.issuer)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    assert.equal(await refused(confused), 'bearer token: algorithm not allowed');
    await idp.rotate('ES256');
    const rsOnly = new JwtVerifier(config({ algorithms: ['RS256'] }));
    const es = await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'] });
    const outcome = await rsOnly.verify(es);
    assert.deepEqual(outcome, { ok: false, status: 401, detail: 'bearer token: algorithm not allowed' });
    assert.equal((await verifier.verify(es)).ok, true, 'ES256 is accepted where it is allowed');
  });

  it('rotated keys: a token under the new kid verifies after one more fetch; the old key, once retired, does not', async () => {
    const before = await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'] });
    await idp.rotate();
    await idp.rotate();
    const fetches = idp.jwksFetches;
    const fresh = await verifier.verify(await idp.token({ audience: AUDIENCE, sub: 'a', roles: ['read'] }));
    assert.equal(fresh.ok, true);
    assert.equal(idp.jwksFetches, fetches + 1);
    assert.equal(await refused(before), 'bearer token: signed with an unknown key');
  });

  it('a JWKS URL instead of discovery works the same', async () => {
    const direct = new JwtVerifier(config({ issuer: undefined, jwksUrl: idp.jwksUrl }));
    const outcome = await direct.verify(await idp.token({ audience: AUDIENCE, sub: 'dave', roles: ['write'] }));
    assert.equal(outcome.ok && outcome.principal.name, 'dave');
  });

  describe('through the API', () => {
    let app: Awaited<ReturnType<typeof buildApp>>;
    const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: 'default' });
    before(async () => {
      app = await buildApp({
        service: new TaskService(client, new TaskStore(client, 'jwt-test')),
        rules: testRules(''),
        logger: pino({ level: 'silent' }),
        apiToken: 'static-admin-token-0123456789',
        readiness: () => Promise.resolve({ ready: true, checks: {} }),
        jwt: verifier,
      });
    });
    after(() => app.close());

    const post = async (token: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { authorization: `Bearer ${token}` },
        payload: { id: 'BAD!' },
      });

    it('a read token on a write route is 403 naming its subject; a forged one 401; both as problem+json', async () => {
      const read = await post(await idp.token({ audience: AUDIENCE, sub: 'auditor', roles: ['read'] }));
      assert.equal(read.statusCode, 403, read.body);
      assert.equal(read.json<{ detail: string }>().detail, 'token "auditor" lacks the write scope');
      const expired = await post(await idp.token({ audience: AUDIENCE, sub: 'x', roles: ['write'], exp: now() - 600 }));
      assert.equal(expired.statusCode, 401);
      assert.match(String(expired.headers['content-type']), /^application\/problem\+json/);
      assert.equal(expired.json<{ detail: string }>().detail, 'bearer token: expired');
    });

    it('a write token passes authentication (the invalid body is then 400); static tokens keep working', async () => {
      const write = await post(await idp.token({ audience: AUDIENCE, sub: 'deployer', roles: ['write'] }));
      assert.equal(write.statusCode, 400, write.body);
      const staticToken = await post('static-admin-token-0123456789');
      assert.equal(staticToken.statusCode, 400, staticToken.body);
    });

    it('an identity provider that cannot be reached is 503, not 401', async () => {
      const down = await IdentityProvider.start();
      const issuer = down.issuer;
      const token = await down.token({ audience: AUDIENCE, sub: 'x', roles: ['write'] });
      await down.close();
      const offline = await buildApp({
        service: new TaskService(client, new TaskStore(client, 'jwt-test')),
        rules: testRules(''),
        logger: pino({ level: 'silent' }),
        apiToken: 'static-admin-token-0123456789',
        readiness: () => Promise.resolve({ ready: true, checks: {} }),
        jwt: new JwtVerifier(config({ issuer })),
      });
      try {
        const response = await offline.inject({
          method: 'GET',
          url: '/v1/tasks',
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(response.statusCode, 503, response.body);
        assert.match(response.json<{ detail: string }>().detail, /identity provider/);
      } finally {
        await offline.close();
      }
    });
  });
});

describe('JWT configuration', () => {
  const env = (over: Record<string, string>) => ({ SURECRON_API_TOKEN: 'x'.repeat(20), ...over });

  it('an issuer or a JWKS URL needs an audience; an audience needs one of them', () => {
    assert.throws(() => jwtConfigOf(loadConfig(env({ SURECRON_JWT_ISSUER: 'https://idp.example' }))), ConfigError);
    assert.throws(() => jwtConfigOf(loadConfig(env({ SURECRON_JWT_AUDIENCE: 'surecron' }))), ConfigError);
    assert.equal(jwtConfigOf(loadConfig(env({}))), undefined);
    const config = jwtConfigOf(
      loadConfig(env({ SURECRON_JWT_JWKS_URL: 'https://idp.example/jwks', SURECRON_JWT_AUDIENCE: 'surecron' })),
    );
    assert.deepEqual(config, {
      jwksUrl: 'https://idp.example/jwks',
      audience: 'surecron',
      rolesClaim: 'roles',
      scopeClaim: 'surecron_scope',
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      clockToleranceSeconds: 30,
    });
  });

  it('HS256 and none are not accepted as algorithms', () => {
    for (const algorithms of ['HS256', 'none', 'RS256,HS512'])
      assert.throws(() => loadConfig(env({ SURECRON_JWT_ALGORITHMS: algorithms })), /SURECRON_JWT_ALGORITHMS/);
  });
});
