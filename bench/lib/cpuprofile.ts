/**
 * Reads a V8 .cpuprofile (from `node --cpu-prof`) and summarises where the time went: self time and
 * total (inclusive) time per function, and self time per component (strata's files, grpc-js,
 * protobufjs, better-sqlite3, Node internals, GC).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionRow {
  name: string;
  where: string;
  component: string;
  selfMs: number;
  totalMs: number;
  /** Self time as % of the busy (non-idle) time. */
  selfPct: number;
  totalPct: number;
}

export interface Summary {
  wallMs: number;
  busyMs: number;
  idleMs: number;
  functions: FunctionRow[];
  /** strata's own functions by inclusive time: which request paths the time is spent under. */
  strataTotals: FunctionRow[];
  components: { component: string; selfMs: number; pct: number }[];
}

/** Shortens a script URL to something readable: dist/mvcc/store.js, @grpc/grpc-js/build/src/x.js, node:internal/... */
export function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const d = u.lastIndexOf('/dist/');
  if (d >= 0) return u.slice(d + 1);
  return u;
}

export function componentOf(frame: CallFrame): string {
  const n = frame.functionName;
  if (n === '(idle)') return '(idle)';
  if (n === '(garbage collector)') return 'GC';
  if (n === '(program)') return '(program: native, not attributed)';
  const u = shortUrl(frame.url);
  // protobufjs compiles each message type's coder with new Function: no script URL, telltale names.
  if (!u && /\$(encode|decode|fromObject|toObject|verify)$/.test(n)) return 'protobufjs (generated coders)';
  if (!u) return 'native (V8 builtins, C++)';
  if (u.startsWith('dist/')) {
    const parts = u.split('/');
    return `strata ${parts.slice(1).join('/')}`;
  }
  if (u.startsWith('@grpc/grpc-js')) return 'grpc-js';
  if (u.startsWith('@grpc/proto-loader') || u.startsWith('protobufjs') || u.startsWith('@protobufjs')) return 'protobufjs';
  if (u.startsWith('better-sqlite3')) return 'better-sqlite3 (JS side)';
  if (u.startsWith('pino') || u.startsWith('thread-stream') || u.startsWith('sonic-boom')) return 'pino';
  if (u.startsWith('node:')) return 'Node internals (' + (u.split('/')[1] ?? u) + ')';
  const nmTop = u.split('/')[0];
  return nmTop.startsWith('@') ? u.split('/').slice(0, 2).join('/') : nmTop;
}

export function summarise(profile: CpuProfile, top = 25): Summary {
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const keyOf = (f: CallFrame) => `${f.functionName || '(anonymous)'}\u0000${shortUrl(f.url)}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const frames = new Map<string, CallFrame>();
  let idle = 0;
  let all = 0;

  // Inclusive time: each node's subtree time, counted once per function per stack (recursion).
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    all += us;
    if (n.callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    const k = keyOf(n.callFrame);
    frames.set(k, n.callFrame);
    self.set(k, (self.get(k) ?? 0) + us);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parentOf.get(cur)) {
      const node = byId.get(cur);
      if (!node || node.callFrame.functionName === '(root)') break;
      const ck = keyOf(node.callFrame);
      if (seen.has(ck)) continue;
      seen.add(ck);
      frames.set(ck, node.callFrame);
      total.set(ck, (total.get(ck) ?? 0) + us);
    }
  }
  const busy = all - idle;
  const pct = (us: number) => (busy > 0 ? (100 * us) / busy : 0);
  const row = (k: string): FunctionRow => {
    const f = frames.get(k)!;
    const us = self.get(k) ?? 0;
    return {
      name: f.functionName || '(anonymous)',
      where: f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '',
      component: componentOf(f),
      selfMs: us / 1000,
      totalMs: (total.get(k) ?? us) / 1000,
      selfPct: pct(us),
      totalPct: pct(total.get(k) ?? us),
    };
  };
  const functions = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k]) => row(k));
  const strataTotals = [...total.entries()]
    .filter(([k]) => componentOf(frames.get(k)!).startsWith('strata '))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k]) => row(k));
  const comp = new Map<string, number>();
  for (const [k, us] of self) {
    const c = componentOf(frames.get(k)!);
    comp.set(c, (comp.get(c) ?? 0) + us);
  }
  const components = [...comp.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([component, us]) => ({ component, selfMs: us / 1000, pct: pct(us) }));
  return { wallMs: all / 1000, busyMs: busy / 1000, idleMs: idle / 1000, functions, strataTotals, components };
}

export function readProfile(file: string): CpuProfile {
  return JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
}

export function renderSummary(title: string, s: Summary, topComponents = 12): string {
  const out: string[] = [];
  out.push(`#### ${title}`, '');
  out.push(`Sampled ${(s.wallMs / 1000).toFixed(1)} s, busy (not idle) ${(s.busyMs / 1000).toFixed(1)} s.`, '');
  out.push('| component | self ms | % of busy |', '|---|---|---|');
  for (const c of s.components.slice(0, topComponents)) out.push(`| ${c.component} | ${c.selfMs.toFixed(0)} | ${c.pct.toFixed(1)} |`);
  out.push('');
  out.push('| function | where | self % | total % |', '|---|---|---|---|');
  for (const f of s.functions) out.push(`| ${f.name} | ${f.where || f.component} | ${f.selfPct.toFixed(1)} | ${f.totalPct.toFixed(1)} |`);
  out.push('');
  out.push("strata's functions by total (inclusive) time:", '');
  out.push('| function | where | total % | self % |', '|---|---|---|---|');
  for (const f of s.strataTotals.slice(0, 15)) out.push(`| ${f.name} | ${f.where} | ${f.totalPct.toFixed(1)} | ${f.selfPct.toFixed(1)} |`);
  out.push('');
  return out.join('\n');
}
