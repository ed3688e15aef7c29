/**
 * etcd's JWT tokens (server/auth/jwt.go): claims `username`, `revision` (the auth revision at
 * Authenticate) and `exp`, signed with the configured method and key through the `jose` library.
 * Any instance with the key verifies any token; a token is not renewed on use, and one that
 * predates an auth change gets etcd's "revision of auth store is old" (clients then authenticate
 * again). With only a public key, tokens are verified and never issued, as in etcd.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { jwtVerify, SignJWT } from 'jose';
import type { JwtTokenOptions } from '../../config';
import { EtcdError, Code } from '../../errors';
import type { Credentials } from '../../mvcc/auth/types';
import type { TokenProvider, TokenSubject } from './tokens';

const INVALID: Credentials = { kind: 'invalid' };
/** Verified tokens kept so a busy client costs one signature check per token, not one per request. */
const CACHE_MAX = 10_000;

interface Keys {
  sign: KeyObject | undefined;
  verify: KeyObject;
}

/** Reads the key files for a signing method, as etcd's jwtOptions.Key does; throws with etcd's reason. */
export function loadJwtKeys(o: JwtTokenOptions): Keys {
  const read = (file: string | undefined) => (file ? readFileSync(file) : undefined);
  const priv = read(o.privateKeyFile);
  const pub = read(o.publicKeyFile);
  if (o.signMethod.startsWith('HS')) {
    if (!priv || priv.length === 0) throw new Error('auth: missing key data');
    const k = createSecretKey(priv);
    return { sign: k, verify: k };
  }
  if (!priv && !pub) throw new Error('auth: missing key data');
  const sign = priv ? createPrivateKey(priv) : undefined;
  const verify = pub ? createPublicKey(pub) : createPublicKey(sign as KeyObject);
  const want = o.signMethod.startsWith('ES') ? 'ec' : 'rsa';
  for (const k of [sign, verify]) {
    if (k && k.asymmetricKeyType !== want) throw new Error(`auth: key is not an ${want.toUpperCase()} key for ${o.signMethod}`);
  }
  if (sign && pub && !createPublicKey(sign).equals(verify)) throw new Error("auth: public and private keys don't match");
  return { sign, verify };
}

export class JwtTokens implements TokenProvider {
  private readonly cache = new Map<string, { credentials: Credentials; expMs: number }>();

  constructor(
    private readonly opts: JwtTokenOptions,
    private readonly keys: Keys,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(s: TokenSubject): Promise<string> {
    // etcd's ErrVerifyOnly, which reaches clients as Unknown.
    if (!this.keys.sign) throw new EtcdError(Code.Unknown, 'auth: token signing attempted with verify-only key');
    return new SignJWT({ username: s.user, revision: s.revision })
      .setProtectedHeader({ alg: this.opts.signMethod, typ: 'JWT' })
      .setExpirationTime(Math.floor((this.now() + this.opts.ttlMs) / 1000))
      .sign(this.keys.sign);
  }

  /** A token seen before is answered at once (no promise): requests of a busy client stay synchronous. */
  resolve(token: string): Credentials | Promise<Credentials> {
    const hit = this.cache.get(token);
    if (!hit) return this.verify(token);
    if (hit.expMs > this.now()) return hit.credentials;
    this.cache.delete(token);
    return INVALID;
  }

  private async verify(token: string): Promise<Credentials> {
    try {
      const { payload } = await jwtVerify(token, this.keys.verify, {
        algorithms: [this.opts.signMethod],
        currentDate: new Date(this.now()),
      });
      const { username, revision, exp } = payload as { username?: unknown; revision?: unknown; exp?: number };
      if (typeof username !== 'string' || typeof revision !== 'number') return INVALID;
      const credentials: Credentials = { kind: 'jwt', user: username, revision };
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      // A token without exp never expires in etcd either.
      this.cache.set(token, { credentials, expMs: exp === undefined ? Infinity : exp * 1000 });
      return credentials;
    } catch {
      return INVALID;
    }
  }

  stop(): void {
    this.cache.clear();
  }
}
