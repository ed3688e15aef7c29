// Packaging, checked statically (there is no Docker engine on these machines): docker-compose
// validates and resolves docker-compose.yml; the APISIX config it mounts points at strata; the
// Dockerfile is multi-stage on node:22, runs as a non-root user and health-checks /health.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Msg } from '../helpers/client';
import { haveTool, ROOT } from '../helpers/servers';

const COMPOSE = '/usr/bin/docker-compose';
const PYTHON = '/usr/bin/python3';

/** YAML → JSON through python3-yaml (a dependency of Debian's docker-compose). */
function yamlToJson(text: string): Msg {
  const r = spawnSync(PYTHON, ['-c', 'import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))'], {
    input: text,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe.skipIf(!haveTool(COMPOSE, 'docker-compose', 'apt-get install -y docker-compose'))('packaging (static checks)', () => {
  const compose = (env: NodeJS.ProcessEnv) =>
    spawnSync(COMPOSE, ['-f', path.join(ROOT, 'docker-compose.yml'), 'config'], { cwd: ROOT, encoding: 'utf8', env });

  it('docker-compose config accepts the compose file: PostgreSQL, strata, APISIX', () => {
    const r = compose({ ...process.env, APISIX_ADMIN_KEY: 'k-of-the-test' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const cfg = yamlToJson(r.stdout);
    expect(Object.keys(cfg.services).sort()).toEqual(['apisix', 'postgres', 'strata']);
    const strata = cfg.services.strata;
    expect(strata.build.context).toBe(ROOT);
    expect(strata.environment.STRATA_ENDPOINT).toBe('postgres://postgres:postgres@postgres:5432/strata?sslmode=disable');
    expect(strata.environment.STRATA_LISTEN_ADDRESS).toBe('0.0.0.0:2379');
    expect(strata.depends_on.postgres.condition).toBe('service_healthy');
    const apisix = cfg.services.apisix;
    expect(apisix.image).toMatch(/^apache\/apisix:/);
    expect(apisix.depends_on.strata.condition).toBe('service_healthy');
    const mount = apisix.volumes.find((v: string) => v.endsWith(':/usr/local/apisix/conf/config.yaml:ro'));
    expect(mount).toBeDefined();
    const hostFile = mount.split(':')[0];
    expect(existsSync(hostFile)).toBe(true);
    const apisixCfg = yamlToJson(readFileSync(hostFile, 'utf8'));
    expect(apisixCfg.deployment.etcd.host).toEqual(['http://strata:2379']);
    expect(apisixCfg.deployment.etcd.prefix).toBe('/apisix');
    expect(cfg.services.postgres.environment.POSTGRES_DB).toBe('strata');
    // Any start order: every service comes back unless stopped on purpose; no obsolete version key.
    for (const name of ['postgres', 'strata', 'apisix']) expect(cfg.services[name].restart, name).toBe('unless-stopped');
    expect(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')).not.toMatch(/^version:/m);
    // APISIX's admin key is the user's own, never a published default.
    expect(apisix.environment.APISIX_ADMIN_KEY).toBe('k-of-the-test');
    expect(apisixCfg.deployment.admin.admin_key[0].key).toBe('${{APISIX_ADMIN_KEY}}');
    expect(apisixCfg.deployment.admin.allow_admin).not.toContain('0.0.0.0/0');
  });

  it('docker-compose refuses to run without an APISIX admin key', () => {
    const env = { ...process.env };
    delete env.APISIX_ADMIN_KEY;
    const r = compose(env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/APISIX_ADMIN_KEY/);
  });

  it('installs from the lockfile: the Dockerfile and .ci/run use npm ci, and npm ci accepts the lockfile', () => {
    expect(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')).toMatch(/^RUN npm ci\b/m);
    expect(readFileSync(path.join(ROOT, '.ci/run'), 'utf8')).toMatch(/^npm ci\b/m);
    const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
  });

  it('the Dockerfile: multi-stage on node:22, non-root, HEALTHCHECK on /health, runs dist/main.js', () => {
    const text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const froms = text.match(/^FROM\s+\S+/gm) ?? [];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const f of froms) expect(f).toMatch(/^FROM\s+node:22/);
    expect(text).toMatch(/^USER\s+node\s*$/m);
    expect(text).toMatch(/^HEALTHCHECK[\s\S]*127\.0\.0\.1:2379\/health/m);
    expect(text).toMatch(/^ENTRYPOINT \["node", "dist\/main\.js"\]/m);
    expect(text).toMatch(/COPY --from=build \/src\/proto \.\/proto/);
  });

  it('the image’s listen address and the compose endpoint parse as strata reads them from the environment', async () => {
    const { parseCli } = (await import(path.join(ROOT, 'dist/cli.js'))) as typeof import('../../src/cli');
    const parsed = parseCli(
      [],
      { STRATA_LISTEN_ADDRESS: '0.0.0.0:2379', STRATA_ENDPOINT: 'postgres://postgres:postgres@postgres:5432/strata?sslmode=disable' },
      '0',
    );
    expect(parsed.kind).toBe('run');
    if (parsed.kind !== 'run') return;
    expect(parsed.config.listen.map((u) => u.at)).toEqual([{ kind: 'tcp', host: '0.0.0.0', port: 2379 }]);
    expect(parsed.config.endpoint.kind).toBe('postgres');
  });
});
