/**
 * Auth's pure parts: etcd's permission intervals (points, ranges, "\0" ends, gaps), simple tokens
 * (signature, expiry after the last use, renewal), JWT (each method family, expiry, another
 * key), the password pool's bound, --auth-token parsing, and credentials taken from a call.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseAuthToken, type JwtSignMethod } from '../../src/config';
import { isValidPermissionRange, KeyPermissions, PermType } from '../../src/mvcc/auth/key-permissions';
import { JwtTokens, loadJwtKeys } from '../../src/rpc/auth/jwt-tokens';
import { Passwords } from '../../src/rpc/auth/passwords';
import { presentedByGrpc } from '../../src/rpc/auth/presented';
import { SimpleTokens } from '../../src/rpc/auth/simple-tokens';
import { credentialsOf, type TokenProvider } from '../../src/rpc/auth/tokens';

const k = (s: string) => Buffer.from(s, 'latin1');
const NONE = Buffer.alloc(0);
const OPEN = Buffer.from([0]);

describe('key permissions (etcd range_perm_cache)', () => {
  const p = new KeyPermissions([
    { permType: PermType.READWRITE, key: k('/a/'), rangeEnd: k('/a0') },
    { permType: PermType.READ, key: k('/b'), rangeEnd: NONE },
    { permType: PermType.WRITE, key: k('/c/'), rangeEnd: k('/c0') },
    { permType: PermType.READ, key: k('/d'), rangeEnd: k('/e') },
    { permType: PermType.READ, key: k('/e'), rangeEnd: k('/f') },
    { permType: PermType.READ, key: k('/z'), rangeEnd: OPEN },
  ]);

  it('answers points by any interval meeting the key', () => {
    expect(p.permits('read', k('/a/x'), NONE)).toBe(true);
    expect(p.permits('write', k('/a/x'), NONE)).toBe(true);
    expect(p.permits('read', k('/b'), NONE)).toBe(true);
    expect(p.permits('read', k('/bb'), NONE)).toBe(false);
    expect(p.permits('write', k('/b'), NONE)).toBe(false);
    expect(p.permits('read', k('/c/x'), NONE)).toBe(false);
    expect(p.permits('write', k('/c/x'), NONE)).toBe(true);
    expect(p.permits('read', k('/zzz'), NONE)).toBe(true);
  });

  it('answers ranges by intervals covering them with no gap', () => {
    expect(p.permits('read', k('/a/'), k('/a0'))).toBe(true);
    expect(p.permits('read', k('/a/b'), k('/a/c'))).toBe(true);
    expect(p.permits('read', k('/a/'), k('/a1'))).toBe(false);
    // [/d, /e) and [/e, /f) touch: together they cover [/d, /f).
    expect(p.permits('read', k('/d'), k('/f'))).toBe(true);
    expect(p.permits('read', k('/d'), k('/f\0'))).toBe(false);
    // A single-key permission covers the range of that one key.
    expect(p.permits('read', k('/b'), k('/b\0'))).toBe(true);
    expect(p.permits('read', k('/b'), k('/c'))).toBe(false);
  });

  it('treats "\\0" as the end of the key space, on both sides', () => {
    expect(p.permits('read', k('/z'), OPEN)).toBe(true);
    expect(p.permits('read', k('/zz'), OPEN)).toBe(true);
    expect(p.permits('read', k('/y'), OPEN)).toBe(false);
    expect(p.permits('read', k('/a/'), OPEN)).toBe(false);
  });

  it('checks a permission range as etcd’s isValidPermissionRange', () => {
    expect(isValidPermissionRange(NONE, NONE)).toBe(false);
    expect(isValidPermissionRange(k('a'), NONE)).toBe(true);
    expect(isValidPermissionRange(k('a'), OPEN)).toBe(true);
    expect(isValidPermissionRange(k('a'), k('b'))).toBe(true);
    expect(isValidPermissionRange(k('b'), k('a'))).toBe(false);
    expect(isValidPermissionRange(k('a'), k('a'))).toBe(false);
  });
});

describe('simple tokens', () => {
  const subject = { user: 'alice', fingerprint: 'f', revision: 3 };
  const clock = () => {
    let t = 1_000_000;
    return { now: () => t, advance: (ms: number) => (t += ms) };
  };

  it('are taken by another instance with the same secret, and by no other secret', async () => {
    const c = clock();
    const secret = Buffer.alloc(32, 7);
    const a = new SimpleTokens(secret, 300_000, c.now);
    const b = new SimpleTokens(secret, 300_000, c.now);
    const other = new SimpleTokens(Buffer.alloc(32, 8), 300_000, c.now);
    const token = await a.issue(subject);
    expect(b.resolve(token)).toEqual({ kind: 'simple', user: 'alice', fingerprint: 'f', revision: 3 });
    expect(other.resolve(token)).toEqual({ kind: 'invalid' });
    const [body, mac] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'root', f: 'f', r: 3, t: c.now() })).toString('base64url');
    expect(b.resolve(`${forged}.${mac}`)).toEqual({ kind: 'invalid' });
    expect(b.resolve(`${body}.`)).toEqual({ kind: 'invalid' });
    expect(b.resolve('garbage')).toEqual({ kind: 'invalid' });
    expect(b.resolve('')).toEqual({ kind: 'invalid' });
    for (const t of [a, b, other]) t.stop();
  });

  it('live ttl after their last use on each instance', async () => {
    const c = clock();
    const secret = Buffer.alloc(32, 1);
    const a = new SimpleTokens(secret, 2000, c.now);
    const b = new SimpleTokens(secret, 2000, c.now);
    const token = await a.issue(subject);
    for (let i = 0; i < 5; i++) {
      c.advance(1500);
      expect(a.resolve(token).kind).toBe('simple');
    }
    // Renewed on a only: on b it has been 7.5 s since it was issued.
    expect(b.resolve(token)).toEqual({ kind: 'invalid' });
    c.advance(2001);
    expect(a.resolve(token)).toEqual({ kind: 'invalid' });
    a.stop();
    b.stop();
  });
});

describe('JWT tokens', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-jwt-unit-'));
  /** A key pair in PEM files named after `name`. */
  const files = (name: string, type: 'rsa' | 'ec') => {
    const { publicKey, privateKey } =
      type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pub = path.join(dir, `${name}.pub`);
    const priv = path.join(dir, `${name}.key`);
    writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    return { pub, priv };
  };
  const rsa = files('rsa', 'rsa');
  const ec = files('ec', 'ec');
  const hmac = path.join(dir, 'hmac.key');
  writeFileSync(hmac, 'a shared secret of some length');

  const make = (signMethod: JwtSignMethod, f: { pub?: string; priv?: string }, now = Date.now) => {
    const o = { kind: 'jwt' as const, signMethod, publicKeyFile: f.pub, privateKeyFile: f.priv, ttlMs: 60_000 };
    return new JwtTokens(o, loadJwtKeys(o), now);
  };

  it.each([
    ['RS256', rsa],
    ['PS384', rsa],
    ['ES256', ec],
    ['HS512', { priv: hmac }],
  ] as const)('%s: signs etcd’s claims and verifies them', async (method, f) => {
    const t = make(method, f);
    const token = await t.issue({ user: 'alice', fingerprint: 'ignored', revision: 5 });
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(Object.keys(claims).sort()).toEqual(['exp', 'revision', 'username']);
    expect(await t.resolve(token)).toEqual({ kind: 'jwt', user: 'alice', revision: 5 });
  });

  it('refuses a token of another method or key, and an expired one', async () => {
    let now = Date.now();
    const rs = make('RS256', rsa, () => now);
    const es = make('ES256', ec);
    const token = await rs.issue({ user: 'alice', fingerprint: '', revision: 1 });
    expect(await es.resolve(token)).toEqual({ kind: 'invalid' });
    expect(await make('RS512', rsa).resolve(token)).toEqual({ kind: 'invalid' });
    now += 61_000;
    expect(await rs.resolve(token)).toEqual({ kind: 'invalid' });
  });

  it('with a public key only verifies and never signs (etcd’s verify-only)', async () => {
    const signer = make('RS256', rsa);
    const verifier = make('RS256', { pub: rsa.pub });
    const token = await signer.issue({ user: 'bob', fingerprint: '', revision: 2 });
    expect(await verifier.resolve(token)).toEqual({ kind: 'jwt', user: 'bob', revision: 2 });
    await expect(verifier.issue({ user: 'bob', fingerprint: '', revision: 2 })).rejects.toThrow('verify-only');
  });

  it('refuses keys that do not fit the method, or each other', () => {
    const o = (m: JwtSignMethod, f: { pub?: string; priv?: string }) => ({
      kind: 'jwt' as const,
      signMethod: m,
      publicKeyFile: f.pub,
      privateKeyFile: f.priv,
      ttlMs: 1,
    });
    expect(() => loadJwtKeys(o('ES256', rsa))).toThrow('EC key');
    expect(() => loadJwtKeys(o('RS256', {}))).toThrow('missing key data');
    expect(() => loadJwtKeys(o('HS256', { pub: rsa.pub }))).toThrow('missing key data');
    expect(() => loadJwtKeys(o('RS256', { pub: files('other', 'rsa').pub, priv: rsa.priv }))).toThrow("don't match");
  });
});

describe('--auth-token', () => {
  it('parses simple and jwt as etcd does', () => {
    expect(parseAuthToken('simple', 300_000)).toEqual({ kind: 'simple', ttlMs: 300_000 });
    expect(parseAuthToken('jwt,pub-key=/p,priv-key=/k,sign-method=ES384,ttl=10m', 1)).toEqual({
      kind: 'jwt',
      signMethod: 'ES384',
      publicKeyFile: '/p',
      privateKeyFile: '/k',
      ttlMs: 600_000,
    });
    expect(parseAuthToken('jwt,priv-key=/k,sign-method=RS256', 1)).toMatchObject({ ttlMs: 300_000 });
  });

  it.each([
    ['jwt,sign-method=RS256,sign-method=RS384', 'given twice'],
    ['jwt,priv-key', 'key=value'],
    ['jwt,priv-key=/k', 'sign-method is one of'],
    ['jwt,priv-key=/k,sign-method=none', 'sign-method is one of'],
    ['jwt,priv-key=/k,sign-method=RS256,colour=blue', 'unknown option'],
    ['simple,ttl=5', 'no options'],
    ['', 'simple or jwt'],
    ['kerberos', 'simple or jwt'],
  ])('refuses %s', (spec, why) => {
    expect(() => parseAuthToken(spec, 1)).toThrow(ConfigError);
    expect(() => parseAuthToken(spec, 1)).toThrow(why);
  });
});

describe('passwords', () => {
  it('hash and compare with bcrypt, refusing what Go’s bcrypt refuses', async () => {
    const p = new Passwords({ cost: 4, concurrency: 2, queue: 8 });
    const h = await p.hash('secret');
    expect(h).toMatch(/^\$2[aby]\$04\$/);
    expect(await p.compare('secret', h)).toBe(true);
    expect(await p.compare('Secret', h)).toBe(false);
    expect(await p.compare('secret', '')).toBe(false);
    expect(await p.compare('secret', 'not a hash')).toBe(false);
    expect(await p.hash('x'.repeat(72))).toMatch(/^\$2/);
    await expect(p.hash('x'.repeat(73))).rejects.toThrow('bcrypt: password length exceeds 72 bytes');
  });

  it('run at most `concurrency` at once and refuse beyond the queue with etcd’s too many requests', async () => {
    const p = new Passwords({ cost: 8, concurrency: 2, queue: 3 });
    const h = await p.hash('x');
    const calls = Array.from({ length: 8 }, () =>
      p.compare('y', h).then(
        (ok) => ({ ok }),
        (e: Error) => ({ err: e.message }),
      ),
    );
    expect(p.load).toEqual({ running: 2, waiting: 3 });
    const out = await Promise.all(calls);
    expect(out.filter((o) => 'err' in o)).toEqual(Array(3).fill({ err: 'etcdserver: too many requests' }));
    expect(out.filter((o) => 'ok' in o)).toEqual(Array(5).fill({ ok: false }));
    expect(p.load).toEqual({ running: 0, waiting: 0 });
  });
});

describe('credentials of a call', () => {
  const tokens: TokenProvider = {
    issue: async () => '',
    resolve: (t) => (t === 'good' ? { kind: 'jwt', user: 'u', revision: 1 } : { kind: 'invalid' }),
    stop: () => undefined,
  };
  const call = (md: Record<string, string>, cn?: string) => {
    const metadata = new grpc.Metadata();
    for (const [key, v] of Object.entries(md)) metadata.set(key, v);
    return { metadata, getAuthContext: () => (cn ? { sslPeerCertificate: { subject: { CN: cn } } } : {}) };
  };

  it('takes the token first (token, else authorization, a Bearer prefix dropped), then the certificate name', () => {
    expect(credentialsOf(presentedByGrpc(call({ token: 'good' }, 'cn')), tokens, true)).toEqual({ kind: 'jwt', user: 'u', revision: 1 });
    expect(credentialsOf(presentedByGrpc(call({ authorization: 'Bearer good' })), tokens, true)).toEqual({
      kind: 'jwt',
      user: 'u',
      revision: 1,
    });
    expect(credentialsOf(presentedByGrpc(call({ token: 'bad' }, 'cn')), tokens, true)).toEqual({ kind: 'invalid' });
    expect(credentialsOf(presentedByGrpc(call({}, 'cn')), tokens, true)).toEqual({ kind: 'cert', user: 'cn' });
    // Without --client-cert-auth a certificate names nobody (etcd's ClientCertAuthEnabled).
    expect(credentialsOf(presentedByGrpc(call({}, 'cn')), tokens, false)).toEqual({ kind: 'none' });
    expect(credentialsOf(presentedByGrpc(call({})), tokens, true)).toEqual({ kind: 'none' });
  });
});
