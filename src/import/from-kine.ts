import type { ImportSource } from '../log/importer';

export function kineSource(endpoint: string): Promise<ImportSource & { close(): Promise<void> }> {
  return Promise.reject(new Error(`--from-kine ${endpoint}: not supported yet`));
}
