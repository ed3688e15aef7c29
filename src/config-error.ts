/** A configuration mistake: reported as one line, exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
