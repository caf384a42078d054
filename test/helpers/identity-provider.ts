import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { listenLocal, type LocalServer } from './http.js';

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

/**
 * A real local identity provider over HTTP: OIDC discovery at `<issuer>/.well-known/openid-configuration`, its key
 * set at `<issuer>/jwks`, keys that rotate, and tokens signed with them. Counts the key-set fetches.
 */
export class IdentityProvider {
  jwksFetches = 0;
  private keys: SigningKey[] = [];
  private served: SigningKey[] = [];

  private constructor(private readonly server: LocalServer) {}

  static async start(): Promise<IdentityProvider> {
    const box: { provider?: IdentityProvider } = {};
    const server = createServer((request, response) => {
      const idp = box.provider as IdentityProvider;
      const json = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      if (request.url === '/.well-known/openid-configuration')
        return json(200, { issuer: idp.issuer, jwks_uri: idp.jwksUrl });
      if (request.url === '/jwks') {
        idp.jwksFetches += 1;
        return json(200, { keys: idp.served.map((key) => key.jwk) });
      }
      json(404, { error: 'not found' });
    });
    const provider = new IdentityProvider(await listenLocal(server));
    box.provider = provider;
    await provider.rotate();
    return provider;
  }

  get issuer(): string {
    return this.server.origin;
  }

  get jwksUrl(): string {
    return `${this.server.origin}/jwks`;
  }

  /** A new signing key (RS256 unless `alg` says otherwise), served from now on beside the previous one. */
  async rotate(alg = 'RS256'): Promise<string> {
    const key = await this.newKey(alg);
    this.keys.push(key);
    this.served = this.keys.slice(-2);
    return key.kid;
  }

  /** A key the provider never serves: tokens signed with it (under a served kid or its own) are forgeries. */
  async foreignKey(alg = 'RS256'): Promise<SigningKey> {
    return this.newKey(alg);
  }

  /** A token signed with the newest key (or `key`): `sub`, `aud`, `iss`, `exp` in 5 min unless `claims` say otherwise. */
  async token(claims: JWTPayload & { audience: string }, key?: SigningKey & { kidOverride?: string }): Promise<string> {
    const signing: SigningKey & { kidOverride?: string } = key ?? (this.keys.at(-1) as SigningKey);
    const { audience, ...rest } = claims;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: audience, iat: now, exp: now + 300, ...rest })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kidOverride ?? signing.kid, typ: 'JWT' })
      .sign(signing.privateKey);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async newKey(alg: string): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = `key-${this.keys.length + 1}-${Math.random().toString(36).slice(2, 8)}`;
    return { kid, alg, privateKey, publicKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
  }
}
