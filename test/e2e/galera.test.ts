/**
 * strata on a three-node MariaDB Galera cluster started by this file (helpers/galera.ts): the
 * conformance suite through one instance on node 0, and the multi-instance suite with three
 * instances, one on each node; then the probes under load and faults (galera-probe.ts) and the
 * rules a mysql:// endpoint takes on a Galera node (galera-rules.ts). One cluster for the whole
 * file: starting three nodes takes ~15 s.
 */
import './galera-only';
import '../conformance/kv.test';
import '../conformance/txn.test';
import '../conformance/watch.test';
import '../conformance/lease.test';
import '../conformance/compaction.test';
import '../conformance/count.test';
import '../conformance/limits.test';
import '../conformance/oracle.test';
import '../conformance/watch-slow-consumer.test';
import './multi-instance.test';
import './galera-probe';
import './galera-rules';
