/** The solo lease seen from outside a server (src/log/solo.ts): its gauge, and taking it by reading. */
import { get } from '../gateway/http';
import { b, type EtcdClient } from './client';
import type { Server } from './servers';

export { SOLO_TTL_MS } from '../../src/log/solo';

export async function soloHeld(server: Server): Promise<boolean> {
  const text = (await get(server.url, '/metrics')).text;
  return /^strata_solo_lease_held 1$/m.test(text);
}

/** Reads `key` linearizably through `c` until `server` reports the lease held. */
export async function takeSoloLease(server: Server, c: EtcdClient, key: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await c.kv.Range({ key: b(key) });
    if (await soloHeld(server)) return;
    if (Date.now() > deadline) throw new Error(`no solo lease within 10 s; logs:\n${server.logs()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
