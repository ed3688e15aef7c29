/** The authentication flags (etcd's --auth-token, --auth-token-ttl, --bcrypt-cost) parsed for config.ts. */
import { ConfigError } from './config-error';
import { parseDuration, parsePositiveInt } from './config-values';

/** etcd's bounds of --bcrypt-cost (golang.org/x/crypto/bcrypt MinCost and MaxCost). */
const BCRYPT_MIN_COST = 4;
const BCRYPT_MAX_COST = 31;

/** etcd's JWT signing methods (golang-jwt's names). */
export const JWT_SIGN_METHODS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'HS256',
  'HS384',
  'HS512',
] as const;
export type JwtSignMethod = (typeof JWT_SIGN_METHODS)[number];

/** `--auth-token jwt,pub-key=…,priv-key=…,sign-method=…,ttl=…` */
export interface JwtTokenOptions {
  kind: 'jwt';
  signMethod: JwtSignMethod;
  publicKeyFile?: string;
  privateKeyFile?: string;
  ttlMs: number;
}

/** etcd's --auth-token: simple tokens (renewed on use, --auth-token-ttl) or JWT. */
export type TokenOptions = { kind: 'simple'; ttlMs: number } | JwtTokenOptions;

/** Authentication: how tokens are made and how hard passwords are hashed. */
export interface AuthOptions {
  token: TokenOptions;
  /** bcrypt cost of password hashes (etcd's --bcrypt-cost). */
  bcryptCost: number;
}

/** --auth-token, --auth-token-ttl and --bcrypt-cost as given (or their defaults). */
export function parseAuth(authToken: string, authTokenTtl: string, bcryptCost: string): AuthOptions {
  const ttlSeconds = parsePositiveInt(authTokenTtl, 'auth-token-ttl');
  const cost = Number(bcryptCost);
  // etcd (golang.org/x/crypto/bcrypt MinCost..MaxCost) falls back to 10 with a warning; a wrong flag here stops start-up.
  if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > BCRYPT_MAX_COST) {
    throw new ConfigError(`invalid --bcrypt-cost "${bcryptCost}": expected an integer from ${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}`);
  }
  return { token: parseAuthToken(authToken, ttlSeconds * 1000), bcryptCost: cost };
}

/** etcd's decomposeOpts: a type, then key=value options separated by commas, none twice. */
export function parseAuthToken(spec: string, simpleTtlMs: number): TokenOptions {
  const bad = (why: string) => new ConfigError(`invalid --auth-token "${spec}": ${why}`);
  const [kind, ...rest] = spec.split(',');
  const opts = new Map<string, string>();
  for (const pair of rest) {
    const kv = pair.split('=');
    if (kv.length !== 2) throw bad(`"${pair}" is not key=value`);
    if (opts.has(kv[0])) throw bad(`"${kv[0]}" is given twice`);
    opts.set(kv[0], kv[1]);
  }
  if (kind === 'simple') {
    if (opts.size > 0) throw bad('simple tokens take no options');
    return { kind: 'simple', ttlMs: simpleTtlMs };
  }
  if (kind !== 'jwt') throw bad('the type is simple or jwt');
  for (const k of opts.keys()) if (!['sign-method', 'pub-key', 'priv-key', 'ttl'].includes(k)) throw bad(`unknown option "${k}"`);
  const method = opts.get('sign-method') ?? '';
  if (!(JWT_SIGN_METHODS as readonly string[]).includes(method)) throw bad(`sign-method is one of ${JWT_SIGN_METHODS.join(', ')}`);
  const ttl = opts.get('ttl');
  return {
    kind: 'jwt',
    signMethod: method as JwtSignMethod,
    publicKeyFile: opts.get('pub-key') || undefined,
    privateKeyFile: opts.get('priv-key') || undefined,
    // etcd's default JWT lifetime is 5 minutes.
    ttlMs: ttl ? parseDuration(ttl, 'auth-token ttl') : 5 * 60_000,
  };
}
