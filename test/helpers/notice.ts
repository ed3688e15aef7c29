/**
 * What the tests tell the person running them: why a suite or a backend was skipped, and figures a
 * test measured but does not assert. Through `console`, because vitest files console output under
 * the test that printed it.
 */

/** A suite, backend or step that did not run here, and why. */
export function skipped(what: string, why: string): void {
  console.warn(`SKIPPED ${what}: ${why}`);
}

/** A figure or trace worth seeing in the test output. */
export function note(text: string): void {
  console.log(text);
}
