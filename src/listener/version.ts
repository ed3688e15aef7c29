/** GET /version: the etcd version strata emulates and its cluster version (major.minor.0). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { clusterVersion } from '../etcd-version';
import { sendJson, sendText } from '../rpc/gateway/reply';

export function serveVersion(version: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET') return sendText(res, 405, 'Method Not Allowed', { Allow: 'GET' });
  sendJson(res, 200, { etcdserver: version, etcdcluster: clusterVersion(version) });
}
