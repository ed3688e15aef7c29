/** The etcd version strata reports, and the cluster version etcd derives from it. */

/** etcd reports and stores the cluster version as major.minor.0; APISIX requires it to be ≥ 3.4.0. */
export function clusterVersion(serverVersion: string): string {
  const m = /^(\d+)\.(\d+)/.exec(serverVersion);
  if (!m) throw new Error(`not a version: ${serverVersion}`);
  return `${m[1]}.${m[2]}.0`;
}
