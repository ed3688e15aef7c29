/** Imported after a backend's `-only` module: the conformance suites the file imports next run through a forwarding instance. */
import { conformanceThroughForwarder } from '../helpers/targets';

conformanceThroughForwarder();
