/**
 * strata on its own three-node Galera cluster with --writer-election=on: the conformance suite
 * through an instance whose every write is forwarded to the elected writer on another node, then
 * the probes with three instances on three nodes under load (reads and compares after an
 * acknowledgement never stale, CAS exact, every instance's share ≥ 20%) and faults with the
 * elected writer as the victim (helpers/galera.ts starts the cluster; galera-probes.ts).
 */
import './galera-only';
import './forward-only';
import '../conformance/kv.test';
import '../conformance/txn.test';
import '../conformance/watch.test';
import '../conformance/lease.test';
import '../conformance/compaction.test';
import { galeraProbes } from './galera-probes';

galeraProbes('galera forwarding probes', { args: ['--writer-election', 'on'], forwarding: true });
