/** The rpc layer's authentication parts, built from the configuration once the store is open. */
import type { AuthOptions } from '../../config';
import type { RpcAuth } from '../context';
import { JwtTokens, loadJwtKeys } from './jwt-tokens';
import { Passwords } from './passwords';
import { SimpleTokens } from './simple-tokens';
import type { TokenProvider } from './tokens';

/** Hashes at once: leaves libuv's other two (of four) threads to file and DNS work. */
const BCRYPT_CONCURRENCY = 2;
/** Hashes waiting; beyond, Authenticate answers "too many requests". */
const BCRYPT_QUEUE = 256;

/**
 * The JWT keys are read here (a wrong file stops start-up, as in etcd); simple tokens are signed
 * with the database's secret.
 */
export function createRpcAuth(o: AuthOptions, tokenSecret: Buffer, clientCertAuth: boolean): RpcAuth {
  const tokens: TokenProvider =
    o.token.kind === 'jwt' ? new JwtTokens(o.token, loadJwtKeys(o.token)) : new SimpleTokens(tokenSecret, o.token.ttlMs);
  return {
    tokens,
    passwords: new Passwords({ cost: o.bcryptCost, concurrency: BCRYPT_CONCURRENCY, queue: BCRYPT_QUEUE }),
    clientCertAuth,
  };
}
