/** Command-line flags (commander) with STRATA_* environment fallbacks, turned into a Config. */
import { Command, CommanderError, Option } from 'commander';
import { ConfigError, DEFAULTS, parseConfig, type Config, type RawOptions } from './config';
import { opsFlags } from './ops/ops-flags';

type CliResult = { kind: 'run'; config: Config } | { kind: 'exit'; code: number; output: string };

/** The flags: every raw option, plus the k3s-style alias of --endpoint. */
type Flags = RawOptions & { datastoreEndpoint?: string };

function opt(flags: string, description: string, env: string, def?: string): Option {
  const o = new Option(flags, description).env(env);
  return def === undefined ? o : o.default(def);
}

function buildProgram(version: string): Command {
  const program = buildBaseProgram(version);
  // Operations: compaction, quota, logging, start-up wait (src/ops).
  for (const o of opsFlags()) program.addOption(o);
  return program;
}

function buildBaseProgram(version: string): Command {
  return (
    new Command('strata')
      .description('An etcd v3 API server that keeps its data in SQL (SQLite, PostgreSQL, MySQL).')
      .version(version, '-v, --version')
      .addOption(
        opt(
          '--listen-client-urls <urls>',
          `comma-separated client URLs: https://host:port (TLS), http://host:port, host:port, unix://path, unixs://path (default "${DEFAULTS.listenClientUrls}")`,
          'STRATA_LISTEN_CLIENT_URLS',
        ),
      )
      .addOption(opt('--listen-address <urls>', 'older name of --listen-client-urls', 'STRATA_LISTEN_ADDRESS'))
      .addOption(
        opt(
          '--advertise-client-urls <urls>',
          'client URLs MemberList reports (default: the listen URLs, an unspecified host replaced by this host name)',
          'STRATA_ADVERTISE_CLIENT_URLS',
        ),
      )
      .addOption(
        opt(
          '--initial-advertise-peer-urls <urls>',
          `peer URLs MemberList reports; strata has no peer traffic (default "${DEFAULTS.initialAdvertisePeerUrls}")`,
          'STRATA_INITIAL_ADVERTISE_PEER_URLS',
        ),
      )
      .addOption(
        opt('--listen-metrics-urls <urls>', 'extra plaintext URLs serving only /metrics and /health', 'STRATA_LISTEN_METRICS_URLS'),
      )
      // Client TLS, with etcd's flags.
      .addOption(opt('--cert-file <path>', "the server's TLS certificate (PEM, chain allowed)", 'STRATA_CERT_FILE'))
      .addOption(opt('--key-file <path>', "the server's TLS key", 'STRATA_KEY_FILE'))
      .addOption(opt('--server-cert-file <path>', 'alias of --cert-file (kine wording)', 'STRATA_SERVER_CERT_FILE'))
      .addOption(opt('--server-key-file <path>', 'alias of --key-file (kine wording)', 'STRATA_SERVER_KEY_FILE'))
      .addOption(
        opt('--trusted-ca-file <path>', 'CA bundle for client certificates; given, clients must present one', 'STRATA_TRUSTED_CA_FILE'),
      )
      .addOption(
        new Option('--client-cert-auth [bool]', "require client certificates; with auth enabled a certificate's CN is the user")
          .env('STRATA_CLIENT_CERT_AUTH')
          .preset('true'),
      )
      .addOption(opt('--client-crl-file <path>', 'certificate revocation list for client certificates (PEM)', 'STRATA_CLIENT_CRL_FILE'))
      .addOption(
        opt('--cipher-suites <list>', "comma-separated TLS 1.2 cipher suites, Go's names (default: node's)", 'STRATA_CIPHER_SUITES'),
      )
      .addOption(opt('--tls-min-version <version>', 'TLS1.2 or TLS1.3 (default TLS1.2)', 'STRATA_TLS_MIN_VERSION'))
      .addOption(opt('--endpoint <uri>', `storage endpoint (default "${DEFAULTS.endpoint}")`, 'STRATA_ENDPOINT'))
      .addOption(opt('--datastore-endpoint <uri>', 'alias of --endpoint (k3s wording)', 'STRATA_DATASTORE_ENDPOINT'))
      .addOption(opt('--log-level <level>', 'trace, debug, info, warn, error, fatal or silent', 'STRATA_LOG_LEVEL', DEFAULTS.logLevel))
      .addOption(
        opt(
          '--emulated-etcd-version <version>',
          'etcd version to report to clients',
          'STRATA_EMULATED_ETCD_VERSION',
          DEFAULTS.emulatedEtcdVersion,
        ),
      )
      .addOption(
        opt(
          '--watch-progress-notify-interval <duration>',
          'interval of watch progress notifications',
          'STRATA_WATCH_PROGRESS_NOTIFY_INTERVAL',
          DEFAULTS.watchProgressNotifyInterval,
        ),
      )
      .addOption(
        opt(
          '--max-request-bytes <bytes>',
          'largest request accepted (etcd: 1.5 MiB)',
          'STRATA_MAX_REQUEST_BYTES',
          DEFAULTS.maxRequestBytes,
        ),
      )
      .addOption(opt('--max-txn-ops <n>', 'most operations in one txn', 'STRATA_MAX_TXN_OPS', DEFAULTS.maxTxnOps))
      .addOption(opt('--name <name>', 'member name reported by MemberList', 'STRATA_NAME', DEFAULTS.name))
      .addOption(
        new Option('--ca-file <path>', 'not taken (ambiguous): see --datastore-cafile and --trusted-ca-file')
          .env('STRATA_CA_FILE')
          .hideHelp(),
      )
      .addOption(opt('--datastore-cafile <path>', 'CA bundle to verify the database server (PostgreSQL, MySQL)', 'STRATA_DATASTORE_CAFILE'))
      .addOption(opt('--datastore-certfile <path>', 'client certificate for the database server', 'STRATA_DATASTORE_CERTFILE'))
      .addOption(opt('--datastore-keyfile <path>', 'client key for the database server', 'STRATA_DATASTORE_KEYFILE'))
      .addOption(new Option('--skip-verify', "do not verify the database server's certificate").env('STRATA_SKIP_VERIFY'))
      .addOption(
        opt(
          '--datastore-max-open-connections <n>',
          'database connections per strata process',
          'STRATA_DATASTORE_MAX_OPEN_CONNECTIONS',
          DEFAULTS.datastoreMaxOpenConnections,
        ),
      )
      .addOption(
        opt(
          '--datastore-connection-max-idle-time <duration>',
          'close a database connection idle this long',
          'STRATA_DATASTORE_CONNECTION_MAX_IDLE_TIME',
          DEFAULTS.datastoreConnectionMaxIdleTime,
        ),
      )
      .addOption(
        opt(
          '--poll-interval <duration>',
          "how often to look for other instances' writes (MySQL, SQLite; PostgreSQL is notified)",
          'STRATA_POLL_INTERVAL',
          DEFAULTS.pollInterval,
        ),
      )
      .addOption(
        opt(
          '--writer-election <mode>',
          'on: one instance, elected through the database, commits the writes of all (MySQL family); off; auto: on for Galera',
          'STRATA_WRITER_ELECTION',
          DEFAULTS.writerElection,
        ),
      )
      .addOption(
        opt(
          '--solo-reads <on|off>',
          'a lone instance answers linearizable reads from memory under a lease in the database (PostgreSQL, MySQL; default on there)',
          'STRATA_SOLO_READS',
        ),
      )
      .addOption(
        opt(
          '--solo-reads-quiet-period <duration>',
          'how long an instance must have seen no other instance write before it takes the solo lease',
          'STRATA_SOLO_READS_QUIET_PERIOD',
          DEFAULTS.soloReadsQuietPeriod,
        ),
      )
      .addOption(
        new Option(
          '--datastore-pipelined-commits',
          'send the next write batch while the one ahead is in flight (PostgreSQL, MySQL; off: it did not pay in the benchmark)',
        ).env('STRATA_DATASTORE_PIPELINED_COMMITS'),
      )
      // Authentication, with etcd's flags.
      .addOption(
        opt(
          '--auth-token <spec>',
          'simple, or jwt,pub-key=<file>,priv-key=<file>,sign-method=<RS256|ES256|…>[,ttl=<duration>]',
          'STRATA_AUTH_TOKEN',
          DEFAULTS.authToken,
        ),
      )
      .addOption(
        opt('--auth-token-ttl <seconds>', 'lifetime of a simple token after its last use', 'STRATA_AUTH_TOKEN_TTL', DEFAULTS.authTokenTtl),
      )
      .addOption(opt('--bcrypt-cost <n>', 'bcrypt cost of password hashes (4 to 31)', 'STRATA_BCRYPT_COST', DEFAULTS.bcryptCost))
      // Resource bounds (docs/compatibility.md); 0 means no bound.
      .addOption(
        opt(
          '--max-concurrent-streams <n>',
          'HTTP/2 streams per client connection',
          'STRATA_MAX_CONCURRENT_STREAMS',
          DEFAULTS.maxConcurrentStreams,
        ),
      )
      .addOption(opt('--max-streams <n>', 'watch and keepalive streams open in all', 'STRATA_MAX_STREAMS', DEFAULTS.maxStreams))
      .addOption(
        opt('--max-watches-per-stream <n>', 'watchers on one watch stream', 'STRATA_MAX_WATCHES_PER_STREAM', DEFAULTS.maxWatchesPerStream),
      )
      .addOption(
        opt(
          '--gateway-read-timeout <duration>',
          "time for a gateway request's body (a stream's first message) to arrive",
          'STRATA_GATEWAY_READ_TIMEOUT',
          DEFAULTS.gatewayReadTimeout,
        ),
      )
      .addOption(
        opt(
          '--grpc-keepalive-interval <duration>',
          'ping a gRPC connection idle this long',
          'STRATA_GRPC_KEEPALIVE_INTERVAL',
          DEFAULTS.grpcKeepaliveInterval,
        ),
      )
      .addOption(
        opt(
          '--grpc-keepalive-timeout <duration>',
          'close a gRPC connection whose ping is not answered within this',
          'STRATA_GRPC_KEEPALIVE_TIMEOUT',
          DEFAULTS.grpcKeepaliveTimeout,
        ),
      )
      .helpOption('-h, --help')
      .addHelpText('after', '\nTo fill an empty store from etcd or kine first: strata import --help')
      .showSuggestionAfterError(false)
      .allowExcessArguments(false)
      .exitOverride()
  );
}

/** Parses argv (without node and script) and the environment; never exits the process itself. */
export function parseCli(argv: string[], env: NodeJS.ProcessEnv, version: string): CliResult {
  const program = buildProgram(version);
  let out = '';
  let err = '';
  program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  const saved = process.env;
  try {
    // commander reads Option.env() from process.env; give it the environment we were handed.
    process.env = env;
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return { kind: 'exit', code: 0, output: out };
      return { kind: 'exit', code: 2, output: firstLine(err || e.message) };
    }
    throw e;
  } finally {
    process.env = saved;
  }
  const { datastoreEndpoint, ...flags } = program.opts<Flags>();
  const raw: RawOptions = { ...flags, endpoint: flags.endpoint ?? datastoreEndpoint };
  try {
    return { kind: 'run', config: parseConfig(raw) };
  } catch (e) {
    if (e instanceof ConfigError) return { kind: 'exit', code: 2, output: `error: ${e.message}` };
    throw e;
  }
}

function firstLine(s: string): string {
  return s.trim().split('\n')[0];
}
