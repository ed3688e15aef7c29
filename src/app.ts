/** Wiring and lifecycle: config → dialect → log → store → rpc → listener, and an orderly stop. */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Config } from './config';
import { createDialect } from './dialect';
import { describeEndpoint } from './endpoint';
import { defaultAdvertiseUrls } from './listen-urls';
import { startServing, type BoundUrl, type Serving } from './listener';
import { Metrics } from './listener/metrics';
import { StartAborted, withConnectWait } from './ops/connect-wait';
import { Log } from './log/log';
import { Store } from './mvcc/store';
import { createRpcAuth } from './rpc/auth/rpc-auth';
import type { RpcContext } from './rpc/context';
import { Forwarding, forwardAddress } from './rpc/forward/forwarding';
import { forwardMetrics } from './listener/forward-metrics';
import { electsWriter } from './writer-election-config';

interface App {
  /** Where clients connect, e.g. "127.0.0.1:2379" or "unix:///run/strata.sock". */
  address: string;
  /** Every client listener, as bound. */
  bound: BoundUrl[];
  /** What MemberList reports. */
  clientUrls: string[];
  metricsAddresses: string[];
  stop(): Promise<void>;
}

/** The raft term every header reports: one member never changes term. */
const RAFT_TERM = 2;
const SHUTDOWN_GRACE_MS = 5000;

export interface StartOptions {
  /** Aborted by SIGTERM/SIGINT: a start-up still waiting for the database ends (StartAborted). */
  signal?: AbortSignal;
}

/** Opens the store, waiting for the database (a fresh dialect per attempt: a failed open leaves nothing behind). */
async function openStore(config: Config, log: Logger, metrics: Metrics, o: StartOptions): Promise<Store> {
  const attempt = async (): Promise<Store> => {
    const dialect = createDialect(config.endpoint, config.datastore, log.child({ component: 'dialect' }));
    const store = new Store(
      new Log(dialect, log, {
        pollIntervalMs: config.datastore.pollIntervalMs,
        pipelinedCommits: config.datastore.pipelinedCommits ?? false,
        solo: { on: config.soloReads.on, quietMs: config.soloReads.quietMs, writerElection: config.writerElection === 'on' },
        quotaBytes: config.ops.quotaBackendBytes,
        observer: metrics.sql,
        slowSqlMs: config.ops.slowSqlMs,
      }),
      log,
      {
        watchProgressNotifyIntervalMs: config.watchProgressNotifyIntervalMs,
        autoCompaction: config.ops.autoCompaction.mode === 'off' ? undefined : config.ops.autoCompaction,
      },
    );
    try {
      await store.open();
      return store;
    } catch (e) {
      await store.close().catch(() => undefined);
      await dialect.close().catch(() => undefined);
      throw Object.assign(e as object, { retryable: dialect.isUnreachable(e) || dialect.isTransient(e) });
    }
  };
  try {
    return await withConnectWait(attempt, {
      timeoutMs: config.ops.datastoreConnectTimeoutMs,
      signal: o.signal,
      log: log.child({ component: 'start' }),
      retryable: (e) => (e as { retryable?: boolean }).retryable === true,
    });
  } catch (e) {
    if (e instanceof StartAborted) throw e;
    throw new Error(`cannot open ${describeEndpoint(config.endpoint)}: ${(e as Error).message}`, { cause: e });
  }
}

export async function startApp(config: Config, log: Logger, o: StartOptions = {}): Promise<App> {
  // Created before the log, which reports every SQL call to it.
  const metrics = new Metrics();
  const store = await openStore(config, log, metrics, o);

  metrics.attach({
    revision: () => store.revision,
    compactRevision: () => Math.max(0, store.index.compactRevision),
    keys: () => store.index.keyCount,
    dbSize: () => store.maintenance.dbSize(),
    quota: () => store.maintenance.quota(),
    probe: () => store.maintenance.ping(),
    recoveries: () => store.maintenance.opsStats().recoveries,
    streams: () => [...ctx.streams],
    watch: () => store.maintenance.opsStats().watch,
    autoCompactions: () => store.autoCompactions,
    pool: () => store.maintenance.opsStats().pool,
    hosts: () => store.maintenance.opsStats().hosts,
    alarms: () => store.maintenance.activeAlarms().map((a) => a.alarm),
    watchLag: () => store.maintenance.watchLag(),
    soloLeaseHeld: () => store.maintenance.soloLeaseHeld(),
    version: config.emulatedEtcdVersion,
  });

  let auth: RpcContext['auth'];
  try {
    // --client-cert-auth turns on certificate users (etcd's ClientCertAuthEnabled); a trusted CA alone only checks them.
    auth = createRpcAuth(config.auth, store.authTokenSecret, config.tls?.clientCertAuth ?? false);
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
    peerUrls: config.peerUrls,
    streams: new Set(),
    slowRequestMs: config.ops.slowRequestMs,
  };
  // One instance elected through the database commits every instance's writes (src/rpc/forward).
  const forwarding = electsWriter(config.writerElection, store.engine)
    ? new Forwarding(store, log.child({ component: 'forward' }))
    : undefined;
  if (forwarding) {
    ctx.writerService = forwarding.service;
    forwardMetrics(metrics.registry, () => forwarding.readings());
  }
  // Each client URL serves gRPC, the JSON gateway, /version, /health and /metrics (src/listener).
  let serving: Serving;
  try {
    serving = await startServing(
      ctx,
      {
        probe: () => store.maintenance.ping(),
        alarms: () => store.maintenance.activeAlarms().map((a) => a.alarm),
        metrics,
        listen: config.listen,
        metricsListen: config.metricsListen,
        tls: config.tls,
      },
      log,
    );
  } catch (e) {
    await store.close();
    auth.tokens.stop();
    throw e;
  }
  const address = serving.address;
  if (config.advertiseClientUrls) ctx.clientUrls.push(...config.advertiseClientUrls);
  else {
    const derived = defaultAdvertiseUrls(
      serving.bound.map((b) => b.url),
      hostname(),
    );
    if (derived.replaced)
      log.warn({ advertised: derived.urls }, 'listening on every interface without --advertise-client-urls: advertising this host name');
    ctx.clientUrls.push(...derived.urls);
  }
  // auto asks for election only where it helps: without an address to forward to, it stays off.
  const writerAddress = forwarding && forwardAddress(ctx.clientUrls);
  if (forwarding && !writerAddress && config.writerElection === 'auto') {
    log.warn('--writer-election=auto: no plaintext (http://) advertised client URL to forward to; every instance commits its own writes');
  } else if (forwarding) {
    try {
      if (!writerAddress)
        throw new Error('--writer-election needs a plaintext (http://) advertised client URL for the other instances to forward to');
      await forwarding.start(writerAddress);
    } catch (e) {
      await forwarding.stop().catch(() => undefined);
      serving.force();
      await serving.drain();
      await store.close();
      auth.tokens.stop();
      throw e;
    }
  }
  log.info(
    {
      urls: serving.bound.map((b) => b.url),
      metrics: serving.metricsAddresses,
      advertised: ctx.clientUrls,
      writerElection: Boolean(writerAddress),
      endpoint: describeEndpoint(config.endpoint),
      version: config.emulatedEtcdVersion,
      revision: store.revision,
    },
    'strata serving',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      log.info({ streams: ctx.streams.size }, 'stopping');
      // The lease goes first, so the others commit their writes themselves (or elect another) at once.
      await forwarding?.stop();
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
  return { address, bound: serving.bound, clientUrls: ctx.clientUrls, metricsAddresses: serving.metricsAddresses, stop };
}
