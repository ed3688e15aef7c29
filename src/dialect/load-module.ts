/**
 * Loads a module when first needed, so that only the database in use loads its dialect and its
 * driver. Ids resolve from this folder: a package name, or a path relative to src/dialect/.
 */
import { createRequire } from 'node:module';

const load = createRequire(__filename);

export function loadModule<T>(id: string): T {
  return load(id) as T;
}

/** The file `loadModule(id)` would load: for a worker thread, which has no such folder to resolve from. */
export function modulePath(id: string): string {
  return load.resolve(id);
}
