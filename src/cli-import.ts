/**
 * `strata import`: its flags (commander, STRATA_* fallbacks as for the server) and the run. The
 * store is opened as the server opens it; the source's history is written in one transaction.
 */
import { Command, CommanderError, Option } from 'commander';
import pino from 'pino';
import { ConfigError, DEFAULTS, parseConfig } from './config';
import { createDialect } from './dialect';
import { describeEndpoint } from './endpoint';
import { runImport, type ImportFrom } from './import/run';

interface ImportFlags {
  endpoint?: string;
  datastoreEndpoint?: string;
  fromSnapshot?: string;
  fromEtcd?: string;
  fromKine?: string;
  force?: boolean;
  etcdToken?: string;
}

function program(): Command {
  return new Command('strata import')
    .description('Fill an empty strata store with the history of an etcd snapshot, a live etcd or a kine database, keeping its revisions.')
    .addOption(new Option('--endpoint <uri>', `strata's storage endpoint (default "${DEFAULTS.endpoint}")`).env('STRATA_ENDPOINT'))
    .addOption(new Option('--datastore-endpoint <uri>', 'alias of --endpoint (k3s wording)').env('STRATA_DATASTORE_ENDPOINT'))
    .addOption(new Option('--from-snapshot <file>', "an `etcdctl snapshot save` file, or a data dir's member/snap/db"))
    .addOption(new Option('--from-etcd <url>', 'a live etcd client URL (http://host:port); its snapshot is read'))
    .addOption(new Option('--from-kine <endpoint>', "a kine database (kine's endpoint string); its table is read, never changed"))
    .addOption(
      new Option('--etcd-token <token>', 'auth token for --from-etcd when the source has auth on (root)').env('STRATA_IMPORT_ETCD_TOKEN'),
    )
    .addOption(new Option('--force', 'replace the keys and leases of a store that is not empty'))
    .helpOption('-h, --help')
    .showSuggestionAfterError(false)
    .allowExcessArguments(false)
    .exitOverride();
}

/** Runs `strata import`; `say` prints a line for the operator, `print` the help. Returns the exit code. */
export async function importCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  say: (line: string) => void,
  print: (text: string) => void = say,
): Promise<number> {
  const p = program();
  let out = '';
  p.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
  const saved = process.env;
  try {
    process.env = env;
    p.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) {
        print(out.trim());
        return 0;
      }
      say(out.trim() || e.message);
      return 2;
    }
    throw e;
  } finally {
    process.env = saved;
  }
  const f = p.opts<ImportFlags>();
  const sources = [f.fromSnapshot, f.fromEtcd, f.fromKine].filter((x) => x !== undefined);
  if (sources.length !== 1) {
    say('error: give exactly one of --from-snapshot, --from-etcd, --from-kine');
    return 2;
  }
  let config;
  try {
    // kine's database is adopted in place unless another store is named.
    config = parseConfig({ endpoint: f.endpoint ?? f.datastoreEndpoint ?? f.fromKine });
  } catch (e) {
    if (e instanceof ConfigError) {
      say(`error: ${e.message}`);
      return 2;
    }
    throw e;
  }
  const from: ImportFrom = f.fromSnapshot
    ? { kind: 'snapshot', file: f.fromSnapshot }
    : f.fromEtcd
      ? { kind: 'etcd', url: f.fromEtcd, token: f.etcdToken }
      : { kind: 'kine', endpoint: f.fromKine! };
  const log = pino({ level: 'warn', base: { app: 'strata' } });
  const dialect = createDialect(config.endpoint, config.datastore, log);
  try {
    const r = await runImport(dialect, from, { force: f.force === true, say, log });
    say(
      `imported ${r.rows} rows and ${r.leases} leases into ${describeEndpoint(config.endpoint)}: revision ${r.revision}, compact revision ${r.compactRevision}`,
    );
    return 0;
  } catch (e) {
    say(`error: ${(e as Error).message}`);
    return 1;
  } finally {
    await dialect.close().catch(() => undefined);
  }
}
