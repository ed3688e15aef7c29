/**
 * etcd's simple tokens, made verifiable by every instance on the database: a token is its subject
 * (user, password fingerprint, auth revision, issue time) signed with HMAC-SHA256 under a key kept
 * in the database (meta auth_token_secret). Any instance accepts a token any other issued, with no
 * table of tokens and no write per Authenticate.
 *
 * A token lives `ttl` after its last use, as etcd's: each instance renews the tokens used on it.
 * Renewals are not shared, so a token used only on one instance for longer than `ttl` is refused
 * on another with etcd's "invalid auth token", and the client authenticates again (etcd's clients
 * do it on that error; APISIX's re-authenticates every 3–4 minutes anyway).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Credentials } from '../../mvcc/auth/types';
import type { TokenProvider, TokenSubject } from './tokens';

interface Payload {
  u: string;
  f: string;
  r: number;
  /** Issued at, ms since the epoch. */
  t: number;
}

interface Known {
  credentials: Credentials;
  lastUse: number;
}

const MAC_CHARS = 32;
const INVALID: Credentials = { kind: 'invalid' };

export class SimpleTokens implements TokenProvider {
  private readonly known = new Map<string, Known>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly secret: Buffer,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    // etcd drops expired tokens once a second; here they would only take memory.
    this.sweeper = setInterval(() => this.sweep(), Math.min(ttlMs, 10_000));
    this.sweeper.unref();
  }

  async issue(s: TokenSubject): Promise<string> {
    const t = this.now();
    const payload: Payload = { u: s.user, f: s.fingerprint, r: s.revision, t };
    const body = Buffer.from(JSON.stringify(payload), 'utf8').toString('base64url');
    const token = `${body}.${this.mac(body)}`;
    this.known.set(token, { credentials: credentialsOf(payload), lastUse: t });
    return token;
  }

  resolve(token: string): Credentials {
    const now = this.now();
    let k = this.known.get(token);
    if (!k) {
      const payload = this.verify(token);
      if (!payload) return INVALID;
      k = { credentials: credentialsOf(payload), lastUse: payload.t };
      this.known.set(token, k);
    }
    if (now - k.lastUse > this.ttlMs) {
      this.known.delete(token);
      return INVALID;
    }
    k.lastUse = now;
    return k.credentials;
  }

  stop(): void {
    clearInterval(this.sweeper);
    this.known.clear();
  }

  private verify(token: string): Payload | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    const mac = Buffer.from(token.slice(dot + 1));
    const want = Buffer.from(this.mac(body));
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return undefined;
    try {
      const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Payload;
      if (typeof p.u !== 'string' || typeof p.f !== 'string' || typeof p.r !== 'number' || typeof p.t !== 'number') return undefined;
      return p;
    } catch {
      return undefined;
    }
  }

  private mac(body: string): string {
    return createHmac('sha256', this.secret).update(body).digest('base64url').slice(0, MAC_CHARS);
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, k] of this.known) if (now - k.lastUse > this.ttlMs) this.known.delete(token);
  }
}

function credentialsOf(p: Payload): Credentials {
  return { kind: 'simple', user: p.u, fingerprint: p.f, revision: p.r };
}
