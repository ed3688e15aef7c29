// A real third-party client of the JSON gateway: Debian's python3-etcd3gw (for /usr/bin/python3,
// not any other python on PATH) drives put/get/prefix/txn/delete/lease/watch against strata.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { serverFixture } from '../helpers/fixture';
import { haveTool } from '../helpers/servers';

const PYTHON = '/usr/bin/python3';
const ETCD3GW = '/usr/lib/python3/dist-packages/etcd3gw';
const enabled =
  haveTool(PYTHON, 'python3', 'apt-get install -y python3') && haveTool(ETCD3GW, 'python3-etcd3gw', 'apt-get install -y python3-etcd3gw');

describe.skipIf(!enabled)('python3-etcd3gw against strata', () => {
  // A fresh server per run: the script lists whole prefixes.
  const s = serverFixture({ perTest: true });

  for (const apiPath of ['/v3/', '/v3beta/']) {
    it(`every call works through ${apiPath}`, () => {
      const [host, port] = s.address.split(':');
      const r = spawnSync(PYTHON, [path.join(__dirname, 'etcd3gw_client.py'), host, port, apiPath], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out).toEqual({
        status_version: '3.5.21',
        members: ['strata'],
        put: true,
        get: ['alpha'],
        get_missing: [],
        get_meta: [['alpha', '/gw/a', '1']],
        prefix: [
          ['/gw/a', 'alpha'],
          ['/gw/b', 'beta'],
          ['/gw/c', 'gamma'],
        ],
        create_new: true,
        create_existing: false,
        replace_ok: true,
        replace_stale: false,
        delete: true,
        delete_missing: false,
        delete_prefix: true,
        after_delete: [],
        lease_id_positive: true,
        lease_ttl: expect.any(Number),
        lease_keys: ['/gw/leased'],
        lease_refresh: 30,
        lease_revoke: true,
        after_revoke: [],
        lease_ttl_after_revoke: -1,
        watch_done: true,
        watch: [
          { type: 'PUT', key: '/gw/w/1', value: 'one' },
          { type: 'PUT', key: '/gw/w/2', value: 'two' },
          { type: 'DELETE', key: '/gw/w/1', value: '' },
        ],
        watch_once: { key: '/gw/once', value: 'x' },
      });
      expect(out.lease_ttl).toBeGreaterThanOrEqual(29);
    }, 90_000);
  }
});
