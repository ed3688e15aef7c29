#!/usr/bin/env node
/** The strata command: the only file that touches process (argv, env, signals, exit code). */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { startApp } from './app';
import { parseCli } from './cli';
import { importCommand } from './cli-import';

const VERSION = (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (argv[0] === 'import') return importCommand(argv.slice(1), env, (line) => process.stderr.write(`${line}\n`));
  const parsed = parseCli(argv, env, VERSION);
  if (parsed.kind === 'exit') {
    if (parsed.output) (parsed.code === 0 ? process.stdout : process.stderr).write(parsed.output.replace(/\n?$/, '\n'));
    return parsed.code;
  }
  const config = parsed.config;
  const log = pino({ level: config.logLevel, base: { app: 'strata' } });
  // grpc-js logs to stderr on its own; route what matters through pino instead.
  const grpcLog = log.child({ component: 'grpc' });
  grpc.setLogger({ error: (...a: unknown[]) => grpcLog.debug(a.join(' ')), info: () => undefined, debug: () => undefined });
  grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
  let app;
  try {
    app = await startApp(config, log);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message.split('\n')[0]}\n`);
    return 1;
  }
  const running = app;
  return new Promise<number>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'signal received');
      running.stop().then(
        () => resolve(0),
        (e: unknown) => {
          log.error({ err: e }, 'unclean stop');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
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
