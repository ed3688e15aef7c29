/** Summarises .cpuprofile files (from `node --cpu-prof`): node bench/.build/cpuprofile-summary.js <file>... [--top N] */
import * as path from 'node:path';
import { readProfile, renderSummary, summarise } from './lib/cpuprofile';

const args = process.argv.slice(2);
let top = 25;
const files: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else files.push(args[i]);
}
if (files.length === 0 || !Number.isFinite(top)) {
  process.stderr.write('usage: node bench/.build/cpuprofile-summary.js <file.cpuprofile>... [--top N]\n');
  process.exit(2);
}
for (const f of files) process.stdout.write(`${renderSummary(path.basename(f), summarise(readProfile(f), top))}\n`);
