/** The writer election's readings in /metrics: forwarded writes, fallbacks, unknown outcomes, and whether this instance is the writer. */
import { Gauge, type Registry } from 'prom-client';
import { collectedCounter } from './collected-counter';

interface ForwardReadings {
  forwarded: number;
  fallbacks: number;
  unknown: number;
  writer: boolean;
}

export function forwardMetrics(registry: Registry, read: () => ForwardReadings): void {
  const registers = [registry];
  const counter = (name: string, help: string, pick: (r: ForwardReadings) => number) =>
    collectedCounter(registers, name, help, () => pick(read()));
  counter('strata_forwarded_writes_total', 'Writes forwarded to the elected writer and answered by it', (r) => r.forwarded);
  counter(
    'strata_forward_fallbacks_total',
    'Writes committed here although another instance held the writer lease (it could not be reached, or was not the writer)',
    (r) => r.fallbacks,
  );
  counter(
    'strata_forward_unknown_total',
    'Forwarded writes whose connection was lost before the answer (the client was told "request timed out")',
    (r) => r.unknown,
  );
  new Gauge({
    name: 'strata_writer_lease_held',
    help: 'Whether this instance holds the writer lease (1) or not (0)',
    registers,
    collect() {
      this.set(read().writer ? 1 : 0);
    },
  });
}
