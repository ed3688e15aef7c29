import { test, expect } from 'vitest';
import { startEtcd } from '../helpers/servers';
import { createClient, b, WatchReader } from '../helpers/client';
test('etcd smoke', async () => {
  const e = await startEtcd();
  const c = createClient(e.address);
  console.log(JSON.stringify(await c.kv.Range({ key: b('a') })));
  console.log(JSON.stringify(await c.kv.Put({ key: b('a'), value: b('1') })));
  console.log(JSON.stringify(await c.kv.Txn({ compare: [{ key: b('a'), target: 'MOD', result: 'EQUAL', mod_revision: 0 }], success: [{ request_put: { key: b('a'), value: b('2') } }], failure: [{ request_range: { key: b('a') } }] })));
  const w = new WatchReader(c.watch());
  w.send({ create_request: { key: b('a'), start_revision: 1 } });
  console.log(JSON.stringify(await w.take(2)));
  w.close(); c.close(); await e.stop(); e.cleanup();
});
