/**
 * The one switch that runs the suites with an etcd mode against the real etcd instead of strata:
 * STRATA_TEST_AGAINST=etcd. That is how the suites themselves are checked (everything they assert
 * must hold for the reference too). The conformance suite then runs against etcd instead of strata
 * on each backend; the differential and etcdctl suites compare etcd with a second etcd; the
 * lifecycle suite runs its restart and crash tests on etcd. Other suites test strata only and do not
 * read it.
 */

export type Against = 'strata' | 'etcd';

/** Variables that meant the same before this switch; setting one now is a mistake, not a no-op. */
const RETIRED = ['STRATA_TEST_TARGET', 'DIFF_PEER', 'E2E_PEER'];

function read(env: NodeJS.ProcessEnv): Against {
  for (const name of RETIRED) {
    if (env[name] !== undefined) throw new Error(`${name} is no longer read; use STRATA_TEST_AGAINST=etcd`);
  }
  const v = env.STRATA_TEST_AGAINST;
  if (v === undefined || v === '' || v === 'strata') return 'strata';
  if (v === 'etcd') return 'etcd';
  throw new Error(`STRATA_TEST_AGAINST must be "etcd" or "strata", got ${JSON.stringify(v)}`);
}

/** What the suites run against: 'strata' (default) or 'etcd'. */
export const AGAINST: Against = read(process.env);
