/**
 * --writer-election=on on one plain MySQL / MariaDB server: the KV, Txn and lease conformance
 * suites through an instance whose every write is forwarded to the elected writer (another
 * instance on the same database), as the Galera file does on its cluster.
 */
import './mysql-only';
import './forward-only';
import '../conformance/kv.test';
import '../conformance/txn.test';
import '../conformance/lease.test';
