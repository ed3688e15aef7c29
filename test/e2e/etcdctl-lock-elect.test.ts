// `etcdctl lock` and `etcdctl elect` (3.4) against a real etcd and against strata, the same steps
// on both: a lock holder killed (its session lease expires) and the waiter taking the lock, a lock
// running a command, an election with an observer and a leader resigning. Owner keys are
// `<name>/<lease hex>`: the hex is shown as <lease>.
import { describe, expect, test } from 'vitest';
import { b, prefixEnd } from '../helpers/client';
import { CtlProcess } from '../helpers/ctl-process';
import { waitFor } from '../helpers/ports';
import { ETCDCTL_BIN, ETCD_BIN, haveTool } from '../helpers/servers';
import { sidesPerSuite, type Side } from './etcdctl-harness';

const enabled = haveTool(ETCD_BIN, 'etcd') && haveTool(ETCDCTL_BIN, 'etcdctl');

const shown = (text: string): string => text.replace(/\/-?[0-9a-f]{1,16}$/gm, '/<lease>');

async function owners(s: Side, name: string): Promise<number> {
  const r = await s.client.kv.Range({ key: b(`${name}/`), range_end: prefixEnd(`${name}/`), count_only: true });
  return Number(r.count);
}

/** The lock sequence on one side; what it saw, normalised. */
async function lockSequence(s: Side, name: string): Promise<unknown> {
  const a = new CtlProcess(s.server.address, ['lock', '--ttl', '2', name]);
  let b1: CtlProcess | undefined;
  try {
    const held = await a.lines(2, 'the first holder');
    b1 = new CtlProcess(s.server.address, ['lock', name]);
    await waitFor(async () => (await owners(s, name)) === 2, 10_000, 'the second locker queued');
    const waiting = b1.stdout;
    // No unlock: the holder's session lease (TTL 2 s) must expire for the waiter to get the lock.
    await a.kill();
    const next = await b1.lines(2, 'the waiter taking the lock');
    const code = await b1.stop();
    const left = await owners(s, name);
    const withCmd = s.ctl(['lock', name, 'sh', '-c', 'echo "held $ETCD_LOCK_KEY"']);
    return {
      held: held.map(shown),
      waiting,
      next: next.map(shown),
      code,
      left,
      withCmd: { code: withCmd.code, stdout: shown(withCmd.stdout.trim().replace(/ .*\//, ' <name>/')) },
      afterCmd: await owners(s, name),
    };
  } finally {
    await a.kill();
    await b1?.kill();
  }
}

/** The election sequence on one side. */
async function electSequence(s: Side, name: string): Promise<unknown> {
  const observer = new CtlProcess(s.server.address, ['elect', '-l', name]);
  const p1 = new CtlProcess(s.server.address, ['elect', name, 'p1']);
  let p2: CtlProcess | undefined;
  try {
    const first = await p1.lines(2, 'p1 elected');
    p2 = new CtlProcess(s.server.address, ['elect', name, 'p2']);
    await waitFor(async () => (await owners(s, name)) === 2, 10_000, 'p2 campaigning');
    const p2Before = p2.stdout;
    const p1Code = await p1.stop();
    const second = await p2.lines(2, 'p2 elected');
    const observed = await observer.lines(4, 'both leaders observed');
    const p2Code = await p2.stop();
    return {
      first: first.map(shown),
      p2Before,
      p1Code,
      second: second.map(shown),
      observed: observed.map(shown),
      p2Code,
      left: await owners(s, name),
    };
  } finally {
    for (const p of [observer, p1, p2]) await p?.kill();
  }
}

describe.skipIf(!enabled)('etcdctl lock and elect, strata vs etcd', () => {
  const sides = sidesPerSuite();

  test('lock: a holder whose lease expires, the waiter, a command under the lock', async () => {
    const [ref, peer] = await Promise.all([lockSequence(sides.ref, '/ctl-lock/a'), lockSequence(sides.peer, '/ctl-lock/a')]);
    expect(ref).toMatchObject({ held: ['/ctl-lock/a/<lease>', ''], waiting: '', next: ['/ctl-lock/a/<lease>', ''], code: 0, left: 0 });
    expect(peer).toEqual(ref);
  }, 60_000);

  test('elect: an observer, a leader resigning, the next one elected', async () => {
    const [ref, peer] = await Promise.all([electSequence(sides.ref, '/ctl-elect/a'), electSequence(sides.peer, '/ctl-elect/a')]);
    expect(ref).toMatchObject({ first: ['/ctl-elect/a/<lease>', 'p1'], second: ['/ctl-elect/a/<lease>', 'p2'], p2Before: '' });
    expect(peer).toEqual(ref);
  }, 60_000);
});
