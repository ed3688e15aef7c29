/**
 * The hosts of an endpoint that names several, for either server driver: one pool, on the host new
 * connections go to; the others watched in the background. At open the hosts are tried in the
 * endpoint's order and the first that passes the check (it answers, and takes writes where the
 * endpoint asks) takes the pool. A host that fails is left: its pool is ended, new connections go
 * to the first live host in order, and it is checked again every second until it answers. The pool
 * stays where it is while its host is live; a recovered earlier host is not switched back to, so
 * connections are not moved under load for nothing.
 */
import type { Logger } from 'pino';
import { hostLabel, type HostPort } from '../endpoint';

/** One host as /metrics shows it: `host` is host:port only. */
export interface HostHealth {
  host: string;
  up: boolean;
  /** New connections go to this host. */
  active: boolean;
}

export interface HostDriver<P> {
  /** Connects to the host and checks it may take strata's connections; rejects if not. */
  check(h: HostPort): Promise<void>;
  createPool(h: HostPort): P;
  endPool(pool: P): Promise<void>;
}

/** How often hosts are checked while the endpoint names several. */
const CHECK_MS = 1000;

interface HostState<P> {
  readonly at: HostPort;
  readonly label: string;
  up: boolean;
  checking: boolean;
  pool: P | undefined;
}

export class HostSet<P> {
  private readonly states: Array<HostState<P>>;
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private failing: Promise<void> | undefined;
  private closed = false;

  constructor(
    hosts: readonly HostPort[],
    private readonly driver: HostDriver<P>,
    private readonly log: Logger,
  ) {
    this.states = hosts.map((at) => ({ at, label: hostLabel(at), up: false, checking: false, pool: undefined }));
  }

  /**
   * Picks the first host in order that passes `first` (the open-time check, which may also create
   * the database); rejects with the last host's failure when none does.
   */
  async open(first: (h: HostPort) => Promise<void>): Promise<void> {
    let last: unknown;
    for (const [i, s] of this.states.entries()) {
      try {
        await first(s.at);
        s.up = true;
        this.switchTo(i);
        break;
      } catch (e) {
        last = e;
        if (this.states.length > 1)
          this.log.warn({ host: s.label, error: (e as Error).message }, 'database host unavailable; trying the next');
      }
    }
    if (!this.states.some((s) => s.up)) throw last;
    if (this.states.length > 1) {
      // The hosts after the chosen one have not been asked yet.
      this.checkAll();
      this.timer = setInterval(() => this.checkAll(), CHECK_MS);
      this.timer.unref();
    }
  }

  /** The pool of the host new connections go to. */
  get pool(): P {
    const p = this.states[this.active].pool;
    if (p === undefined) throw new Error('database pool used before open');
    return p;
  }

  /** The host new connections go to. */
  get current(): HostPort {
    return this.states[this.active].at;
  }

  /** Every pool still open (the active one and any being drained are ended on close). */
  pools(): P[] {
    return this.states.flatMap((s) => (s.pool === undefined ? [] : [s.pool]));
  }

  /**
   * Each host's state, for an endpoint naming several; a single host is never checked in the
   * background (etcd_server_has_leader already says whether it answers), so it reports nothing.
   */
  health(): HostHealth[] {
    if (this.states.length < 2) return [];
    return this.states.map((s, i) => ({ host: s.label, up: s.up, active: i === this.active }));
  }

  /**
   * A connection to the active host failed: checks that host now rather than at the next tick, and
   * moves to the next live host if it is gone. One check at a time; a single endpoint host has
   * nowhere to go, so nothing is checked.
   */
  failed(): Promise<void> {
    if (this.states.length < 2 || this.closed) return Promise.resolve();
    this.failing ??= this.checkHost(this.active).finally(() => (this.failing = undefined));
    return this.failing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.all(this.pools().map((p) => this.driver.endPool(p).catch(() => undefined)));
    for (const s of this.states) s.pool = undefined;
  }

  private checkAll(): void {
    for (const i of this.states.keys()) void this.checkHost(i);
  }

  private async checkHost(i: number): Promise<void> {
    const s = this.states[i];
    if (s.checking || this.closed) return;
    s.checking = true;
    try {
      await this.driver.check(s.at);
      if (!s.up) this.log.info({ host: s.label }, 'database host is back');
      s.up = true;
    } catch (e) {
      if (s.up) this.log.warn({ host: s.label, error: (e as Error).message }, 'database host failed; left until it answers again');
      s.up = false;
    } finally {
      s.checking = false;
    }
    if (this.closed) return;
    if (!this.states[this.active].up) {
      const next = this.states.findIndex((x) => x.up);
      if (next >= 0) this.switchTo(next);
    }
    if (!s.up && i !== this.active && s.pool !== undefined) this.drop(s);
  }

  private switchTo(i: number): void {
    const s = this.states[i];
    s.pool ??= this.driver.createPool(s.at);
    const old = this.states[this.active];
    this.active = i;
    if (old === s || old.pool === undefined) return;
    this.log.warn({ from: old.label, to: s.label }, 'new database connections go to another host');
    if (!old.up) this.drop(old);
  }

  /** Ends a failed host's pool: its connections are broken; a fresh pool is made if it is used again. */
  private drop(s: HostState<P>): void {
    const p = s.pool;
    s.pool = undefined;
    if (p !== undefined) void this.driver.endPool(p).catch(() => undefined);
  }
}

/**
 * What both server drivers share over their hosts: the host set built at open (each tried host
 * first gets its database created when missing, then the check), the pool of the active host, and
 * lost connections reported so the active host is checked at once.
 */
export abstract class HostedDriver<P extends { end(): Promise<void> }> {
  private hosts: HostSet<P> | undefined;

  protected constructor(
    private readonly endpointHosts: readonly HostPort[],
    protected readonly log: Logger,
    private readonly isLost: (e: unknown) => boolean,
  ) {}

  protected abstract check(h: HostPort): Promise<void>;
  protected abstract createPool(h: HostPort): P;
  protected abstract ensureDatabase(h: HostPort): Promise<void>;

  protected async openHosts(): Promise<void> {
    const hosts = new HostSet<P>(
      this.endpointHosts,
      { check: (h) => this.check(h), createPool: (h) => this.createPool(h), endPool: (p) => p.end() },
      this.log,
    );
    this.hosts = hosts;
    await hosts.open(async (h) => {
      await this.ensureDatabase(h);
      await this.check(h);
    });
  }

  /** The pool of the host new connections go to. */
  get pool(): P {
    if (!this.hosts) throw new Error('database pool used before open');
    return this.hosts.pool;
  }

  /** The host new connections go to. */
  protected get currentHost(): HostPort {
    return this.hosts?.current ?? this.endpointHosts[0];
  }

  hostHealth(): HostHealth[] {
    return this.hosts?.health() ?? [];
  }

  protected async closeHosts(): Promise<void> {
    await this.hosts?.close();
  }

  /** A lost connection may mean a lost host: the active one is checked at once. Returns `e`. */
  protected noted(e: unknown): unknown {
    if (this.isLost(e)) void this.hosts?.failed();
    return e;
  }
}
