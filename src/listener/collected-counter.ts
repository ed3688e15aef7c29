/** A Prometheus counter whose value is read from elsewhere when scraped (a running total kept by its owner). */
import { Counter, type Registry } from 'prom-client';

export function collectedCounter(registers: Registry[], name: string, help: string, read: () => number): Counter {
  return new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
