/** GET /version: the etcd version strata emulates and its cluster version (major.minor.0). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, sendText } from '../rpc/gateway/reply';

/** etcd reports the cluster version as major.minor.0; APISIX requires it to be ≥ 3.4.0. */
export function clusterVersion(version: string): string {
  const m = /^(\d+)\.(\d+)/.exec(version);
  return m ? `${m[1]}.${m[2]}.0` : version;
}

export function serveVersion(version: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') return sendText(res, 405, 'Method Not Allowed', { Allow: 'GET' });
  sendJson(res, 200, { etcdserver: version, etcdcluster: clusterVersion(version) });
}
