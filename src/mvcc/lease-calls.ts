/**
 * etcd's Lease calls on the store: each checks the space guard where etcd's quota applies, then
 * asks the lessor, which runs the permission check inside its job (under the fence).
 */
import type { AuthGuard } from './auth/auth-guard';
import { NO_CREDENTIALS, type Credentials } from './auth/types';
import type { Lessor } from './lessor';
import { COST_LEASE_GRANT, type SpaceGuard } from './space-guard';
import type {
  LeaseGrantResponse,
  LeaseKeepAliveResponse,
  LeaseLeasesResponse,
  LeaseRevokeResponse,
  LeaseTimeToLiveResponse,
} from './types';

export class LeaseCalls {
  constructor(
    private readonly lessor: Lessor,
    private readonly guard: AuthGuard,
    private readonly space: SpaceGuard,
  ) {}

  grant(id: bigint, ttl: number, who: Credentials = NO_CREDENTIALS): Promise<LeaseGrantResponse> {
    const refused = this.space.check(COST_LEASE_GRANT);
    if (refused) return refused;
    return this.lessor.grant(id, ttl, () => this.guard.requireUser(who));
  }

  revoke(id: bigint, who: Credentials = NO_CREDENTIALS): Promise<LeaseRevokeResponse> {
    const refused = this.space.refusedIfCorrupt();
    if (refused) return refused;
    return this.lessor.revoke(id, () => this.guard.checkLeaseKeys(who, id, 'write'));
  }

  keepAlive(id: bigint, who: Credentials = NO_CREDENTIALS): Promise<LeaseKeepAliveResponse> {
    return this.lessor.keepAlive(id, () => this.guard.checkLeaseKeys(who, id, 'write'));
  }

  /** Only a request for the keys needs to be able to read them. */
  timeToLive(id: bigint, withKeys: boolean, who: Credentials = NO_CREDENTIALS): Promise<LeaseTimeToLiveResponse> {
    return this.lessor.timeToLive(id, withKeys, () =>
      withKeys ? this.guard.checkLeaseKeys(who, id, 'read') : this.guard.requireUser(who),
    );
  }

  leases(who: Credentials = NO_CREDENTIALS): Promise<LeaseLeasesResponse> {
    return this.lessor.leases(() => this.guard.checkAllLeaseKeys(who));
  }
}
