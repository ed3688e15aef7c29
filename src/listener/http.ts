/**
 * The HTTP/1.1 side of the port: etcd's JSON gateway under /v3/ (and /v3beta/), /version,
 * /health, /livez, /readyz and /metrics, with the CORS headers etcd's default `--cors=*` adds to every reply.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Gateway } from '../rpc/gateway/gateway';
import { sendText } from '../rpc/gateway/reply';
import { gatewayPath, uncleanRedirect } from '../rpc/gateway/routes';
import { serveHealth, type HealthOptions } from './health';
import type { Metrics } from './metrics';
import { serveProbe, type ProbeOptions } from './probes';
import { serveVersion } from './version';

export interface HttpRoutes {
  gateway: Gateway;
  version: string;
  health: HealthOptions;
  /** /livez and /readyz. */
  probes: ProbeOptions;
  metrics: Metrics;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'POST, GET, OPTIONS, PUT, DELETE',
  'Access-Control-Allow-Headers': 'accept, content-type, authorization',
};

export function httpHandler(r: HttpRoutes): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      res.writeHead(200, { 'Content-Length': 0 });
      return void res.end();
    }
    const moved = uncleanRedirect(req.url ?? '/');
    if (moved !== undefined) {
      res.writeHead(301, { Location: moved, 'Content-Length': 0 });
      return void res.end();
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://strata');
    } catch {
      return sendText(res, 400, 'Bad Request');
    }
    const path = url.pathname;
    if (path === '/version') return serveVersion(r.version, req, res);
    if (path === '/health') return serveHealth(r.health, req, res, url);
    if (path === '/metrics') return r.metrics.serve(req, res);
    if (serveProbe(r.probes, req, res, url)) return;
    if (path === '/v3' || path === '/v3beta') {
      // Go's ServeMux redirects a subtree root without its slash.
      res.writeHead(301, { Location: '/v3/', 'Content-Length': 0 });
      return void res.end();
    }
    if (path.startsWith('/v3/') || path.startsWith('/v3beta/')) return r.gateway.handle(req, res, gatewayPath(path));
    sendText(res, 404, '404 page not found');
  };
}

/** --listen-metrics-urls: /metrics and the health probes only, no gateway, no credentials. */
export function metricsHandler(r: Pick<HttpRoutes, 'health' | 'probes' | 'metrics'>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://strata');
    } catch {
      return sendText(res, 400, 'Bad Request');
    }
    if (url.pathname === '/health') return serveHealth(r.health, req, res, url);
    if (url.pathname === '/metrics') return r.metrics.serve(req, res);
    if (serveProbe(r.probes, req, res, url)) return;
    sendText(res, 404, '404 page not found');
  };
}
