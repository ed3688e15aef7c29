/** `strata --version`, in the shape of etcd's (`etcd Version`, `Git SHA`, `Go Version`, `Go OS/Arch`). */

interface BuildInfo {
  version: string;
  gitSha: string;
  /** The etcd version strata reports to clients by default. */
  etcdVersion: string;
}

export function versionText(b: BuildInfo): string {
  const api = b.etcdVersion.split('.').slice(0, 2).join('.');
  return [
    `strata Version: ${b.version}`,
    `Git SHA: ${b.gitSha}`,
    `etcd API Version: ${api} (reports etcd ${b.etcdVersion}; --emulated-etcd-version)`,
    `Node Version: ${process.version}`,
    `Node OS/Arch: ${process.platform}/${process.arch}`,
  ].join('\n');
}
