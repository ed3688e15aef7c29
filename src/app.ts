/** Wiring and lifecycle: config → dialect → log → store → rpc → listener, and an orderly stop. */
import type { Logger } from 'pino';
import type { Config } from './config';
import { createDialect } from './dialect';
import { describeEndpoint } from './endpoint';
import { startServing, type Serving } from './listener';
import { Log } from './log/log';
import { Store } from './mvcc/store';
import { createRpcAuth } from './rpc/auth/rpc-auth';
import type { RpcContext } from './rpc/context';

export interface App {
  /** Where clients connect, e.g. "127.0.0.1:2379" or "unix:///run/strata.sock". */
  address: string;
  stop(): Promise<void>;
}

/** The raft term every header reports: one member never changes term. */
const RAFT_TERM = 2;
const SHUTDOWN_GRACE_MS = 5000;

export async function startApp(config: Config, log: Logger): Promise<App> {
  const dialect = createDialect(config.endpoint, config.datastore, log.child({ component: 'dialect' }));
  const store = new Store(new Log(dialect, log, { pollIntervalMs: config.datastore.pollIntervalMs }), log, {
    watchProgressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
  });
  try {
    await store.open();
  } catch (e) {
    await dialect.close().catch(() => undefined);
    throw new Error(`cannot open ${describeEndpoint(config.endpoint)}: ${(e as Error).message}`, { cause: e });
  }

  let auth: RpcContext['auth'];
  try {
    // With TLS, --client-cert-auth turns on certificate users (etcd's ClientCertAuthEnabled).
    auth = createRpcAuth(config.auth, store.authTokenSecret, false);
  } catch (e) {
    await store.close();
    throw new Error(`cannot set up --auth-token: ${(e as Error).message}`, { cause: e });
  }

  const ctx: RpcContext = {
    store,
    auth,
    log: log.child({ component: 'rpc' }),
    limits: { maxRequestBytes: config.maxRequestBytes, maxTxnOps: config.maxTxnOps, bounds: config.bounds },
    identity: {
      cluster_id: store.identity.clusterId.toString(),
      member_id: store.identity.memberId.toString(),
      raft_term: RAFT_TERM,
    },
    version: config.emulatedEtcdVersion,
    memberName: config.name,
    clientUrls: [],
    streams: new Set(),
  };
  // One port for gRPC, the JSON gateway, /version, /health and /metrics (src/listener).
  let serving: Serving;
  try {
    serving = await startServing(config.listen, ctx, { probe: () => store.ping() }, log);
  } catch (e) {
    await store.close();
    auth.tokens.stop();
    const where = config.listen.kind === 'unix' ? config.listen.path : `${config.listen.host}:${config.listen.port}`;
    throw new Error(`cannot listen on ${where}: ${(e as Error).message}`, { cause: e });
  }
  const address = serving.address;
  ctx.clientUrls.push(config.listen.kind === 'unix' ? address : `http://${address}`);
  log.info(
    { address, endpoint: describeEndpoint(config.endpoint), version: config.emulatedEtcdVersion, revision: store.revision },
    'strata serving',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log.info({ streams: ctx.streams.size }, 'stopping');
      // New connections stop first; then long-lived streams (gRPC and gateway) end so in-flight calls can finish.
      const drained = serving.drain();
      for (const s of [...ctx.streams]) s.end();
      const timer = setTimeout(() => serving.force(), SHUTDOWN_GRACE_MS);
      await drained;
      clearTimeout(timer);
      await store.close();
      auth.tokens.stop();
      log.info('stopped');
    })());
  return { address, stop };
}
