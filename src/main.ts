#!/usr/bin/env node
/** The strata command: the only file that touches process (argv, env, signals, exit code). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { startApp } from './app';
import { StartAborted } from './ops/connect-wait';
import { versionText } from './ops/version-text';
import { DEFAULTS } from './config';
import { parseCli } from './cli';
import { importCommand } from './cli-import';
import { textDestination } from './ops/text-log';

const PACKAGE_VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The commit the build came from (scripts/build-info.mjs writes it next to the compiled files). */
function gitSha(): string {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, 'build-info.json'), 'utf8')) as { gitSha: string }).gitSha;
  } catch {
    return 'Not provided';
  }
}

const VERSION = versionText({ version: PACKAGE_VERSION, gitSha: gitSha(), etcdVersion: DEFAULTS.emulatedEtcdVersion });

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'import') {
    return importCommand(
      argv.slice(1),
      env,
      (line) => process.stderr.write(`${line}\n`),
      (text) => process.stdout.write(`${text}\n`),
    );
  }
  const parsed = parseCli(argv, env, VERSION);
  if (parsed.kind === 'exit') {
    if (parsed.output) (parsed.code === 0 ? process.stdout : process.stderr).write(parsed.output.replace(/\n?$/, '\n'));
    return parsed.code;
  }
  const config = parsed.config;
  const options = { level: config.logLevel, base: { app: 'strata' } };
  const log = config.ops.logFormat === 'text' ? pino(options, textDestination(process.stdout)) : pino(options);
  // grpc-js logs to stderr on its own; route what matters through pino instead.
  const grpcLog = log.child({ component: 'grpc' });
  grpc.setLogger({ error: (...a: unknown[]) => grpcLog.debug(a.join(' ')), info: () => undefined, debug: () => undefined });
  grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
  // Signals are taken from the start: one during the wait for the database ends start-up cleanly.
  const starting = new AbortController();
  let onSignal = (signal: string) => {
    log.info({ signal }, 'signal received while starting');
    starting.abort();
  };
  const handler = (signal: string) => () => onSignal(signal);
  process.once('SIGTERM', handler('SIGTERM'));
  process.once('SIGINT', handler('SIGINT'));
  let app;
  try {
    app = await startApp(config, log, { signal: starting.signal });
  } catch (e) {
    if (e instanceof StartAborted) return 0;
    process.stderr.write(`error: ${(e as Error).message.split('\n')[0]}\n`);
    return 1;
  }
  const running = app;
  return new Promise<number>((resolve) => {
    onSignal = (signal: string) => {
      log.info({ signal }, 'signal received');
      running.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: e }, 'unclean stop');
          resolve(1);
        },
      );
    };
    // A signal that came while the last start-up step ran.
    if (starting.signal.aborted) onSignal('SIGTERM');
  });
}

if (require.main === module) {
  run(process.argv.slice(2), process.env).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
