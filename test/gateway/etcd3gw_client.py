"""Drives strata through Debian's python3-etcd3gw (a real third-party gateway client) and prints
one JSON object of what it saw, for test/gateway/etcd3gw.test.ts to check.
Usage: python3 etcd3gw_client.py HOST PORT API_PATH"""
import json
import sys
import threading

from etcd3gw.client import Etcd3Client

host, port, api_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = Etcd3Client(host=host, port=port, api_path=api_path)
out = {}

out['status_version'] = c.status()['version']
out['members'] = [m['name'] for m in c.members()]

out['put'] = c.put('/gw/a', 'alpha')
c.put('/gw/b', 'beta')
c.put('/gw/c', 'gamma')
out['get'] = [v.decode() for v in c.get('/gw/a')]
out['get_missing'] = c.get('/gw/none')
out['get_meta'] = [(v.decode(), m['key'].decode(), m['version']) for v, m in c.get('/gw/a', metadata=True)]
out['prefix'] = sorted((m['key'].decode(), v.decode()) for v, m in c.get_prefix('/gw/'))
out['create_new'] = c.create('/gw/new', 'n')
out['create_existing'] = c.create('/gw/new', 'n2')
out['replace_ok'] = c.replace('/gw/a', 'alpha', 'ALPHA')
out['replace_stale'] = c.replace('/gw/a', 'alpha', 'nope')
out['delete'] = c.delete('/gw/b')
out['delete_missing'] = c.delete('/gw/b')
out['delete_prefix'] = c.delete_prefix('/gw/')
out['after_delete'] = c.get_prefix('/gw/')

lease = c.lease(ttl=30)
out['lease_id_positive'] = lease.id > 0
c.put('/gw/leased', 'v', lease=lease)
out['lease_ttl'] = lease.ttl()
out['lease_keys'] = [k.decode() for k in lease.keys()]
out['lease_refresh'] = lease.refresh()
out['lease_revoke'] = lease.revoke()
out['after_revoke'] = c.get('/gw/leased')
out['lease_ttl_after_revoke'] = lease.ttl()

# watch: events in order, DELETE typed, then cancel.
events, cancel = c.watch_prefix('/gw/w/')
seen = []
done = threading.Event()


def consume():
    for ev in events:
        seen.append({'type': ev.get('type', 'PUT'), 'key': ev['kv']['key'].decode(),
                     'value': ev['kv'].get('value', b'').decode()})
        if len(seen) == 3:
            done.set()
            return


t = threading.Thread(target=consume, daemon=True)
t.start()
import time
time.sleep(0.5)  # the watch is created before the writes
c.put('/gw/w/1', 'one')
c.put('/gw/w/2', 'two')
c.delete('/gw/w/1')
out['watch_done'] = done.wait(10)
cancel()
out['watch'] = seen
out['watch_once'] = None


def later():
    time.sleep(0.5)
    c.put('/gw/once', 'x')


threading.Thread(target=later, daemon=True).start()
ev = c.watch_once('/gw/once', timeout=10)
out['watch_once'] = {'key': ev['kv']['key'].decode(), 'value': ev['kv']['value'].decode()}

print(json.dumps(out))
