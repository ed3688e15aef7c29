/** The Galera probes with every instance committing its own writes through the fence (run by galera.test.ts). */
import { galeraProbes } from './galera-probes';

galeraProbes('galera probes', { args: ['--writer-election', 'off'], forwarding: false });
