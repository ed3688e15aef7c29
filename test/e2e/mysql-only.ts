/** Imported first by a suite file: every suite the file imports after it runs on the plain MySQL / MariaDB backend alone. */
import { forceBackends } from '../helpers/targets';

forceBackends(['mysql']);
