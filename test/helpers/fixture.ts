/**
 * One running server for a suite: started before its tests (or each test), with a gRPC client and
 * the server's identity at hand, stopped and removed after them. A strata that does not exit 0 on
 * SIGTERM fails the suite.
 */
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createClient, type EtcdClient } from './client';
import { readIdentity, type Identity } from './identity';
import { startEtcd, startStrata, type Server, type StrataOptions } from './servers';

export interface FixtureOptions extends StrataOptions {
  /** The real etcd instead of strata, for a suite that checks itself against the reference. */
  etcd?: boolean;
  /** A fresh server for every test instead of one for the enclosing describe block (or file). */
  perTest?: boolean;
}

export interface Running {
  server: Server;
  /** Where gRPC clients connect (host:port or unix:/path). */
  address: string;
  /** The server's client URL (http://host:port or unix:///path). */
  url: string;
  /** Where HTTP requests go, as test/gateway/http.ts takes it: the URL, or the unix socket. */
  http: string | { socketPath: string };
  /** A gRPC client, closed when the server stops. */
  client: EtcdClient;
  /** cluster_id, member_id and raft_term from the server's Status, checked against MemberList. */
  identity: Identity;
}

async function start(opts: FixtureOptions): Promise<Running> {
  const server = opts.etcd ? await startEtcd({ dataDir: opts.dataDir }) : await startStrata(opts);
  const client = createClient(server.address);
  try {
    const { identity } = await readIdentity(client);
    return {
      server,
      address: server.address,
      url: server.url,
      http: server.socketPath ? { socketPath: server.socketPath } : server.url,
      client,
      identity,
    };
  } catch (e) {
    client.close();
    await server.stop();
    server.cleanup();
    throw e;
  }
}

/** Stops and removes the server; returns the exit code of a strata for the caller to check. */
async function stop(r: Running): Promise<number | null> {
  r.client.close();
  const code = await r.server.stop();
  r.server.cleanup();
  return code;
}

function expectCleanExit(r: Running, code: number | null): void {
  if (r.server.kind === 'strata') expect(code, `strata's exit code after SIGTERM; logs:\n${r.server.logs()}`).toBe(0);
}

/**
 * Registers the hooks that start the server before the tests of the enclosing describe block (or
 * file), or before each test with `perTest`, and stop it after. The returned object reads the
 * running server, so use it inside hooks and tests only.
 */
export function serverFixture(opts: FixtureOptions = {}): Running {
  let cur: Running | undefined;
  const [before, after] = opts.perTest ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    cur = await start(opts);
  });
  after(async () => {
    const r = cur;
    cur = undefined;
    if (r) expectCleanExit(r, await stop(r));
  });
  const get = (): Running => {
    if (!cur) throw new Error('the fixture server is not running here (outside a hook or test?)');
    return cur;
  };
  return {
    get server() {
      return get().server;
    },
    get address() {
      return get().address;
    },
    get url() {
      return get().url;
    },
    get http() {
      return get().http;
    },
    get client() {
      return get().client;
    },
    get identity() {
      return get().identity;
    },
  };
}

/** Runs `fn` with a server of its own (inside one test), then always stops and removes it. */
export async function withServer<T>(opts: FixtureOptions, fn: (r: Running) => Promise<T>): Promise<T> {
  const r = await start(opts);
  let out: T;
  try {
    out = await fn(r);
  } catch (e) {
    await stop(r);
    throw e;
  }
  expectCleanExit(r, await stop(r));
  return out;
}
