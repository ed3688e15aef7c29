/**
 * Counters and histograms for the request path, rendered in Prometheus' text format at scrape
 * time. prom-client hashes a child's labels on every inc/observe; here a child is a bound object
 * whose inc/observe touch numbers only, and label text is built once when the child is made.
 */

function escape(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(names: readonly string[], values: readonly string[]): string {
  return names.map((n, i) => `${n}="${escape(values[i] ?? '')}"`).join(',');
}

function num(v: number): string {
  return Number.isFinite(v) ? String(v) : v > 0 ? '+Inf' : v < 0 ? '-Inf' : 'NaN';
}

interface Family {
  render(): string;
}

export interface CounterChild {
  inc(n?: number): void;
}

export class FastCounter implements Family {
  private readonly children: Array<{ labels: string; value: number }> = [];

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly labelNames: readonly string[] = [],
  ) {}

  /** A child for these label values (in labelNames order); make it once and keep it. */
  child(...values: string[]): CounterChild {
    const c = { labels: labelText(this.labelNames, values), value: 0 };
    this.children.push(c);
    return {
      inc: (n = 1) => {
        c.value += n;
      },
    };
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const c of this.children) out += `${this.name}${c.labels ? `{${c.labels}}` : ''} ${num(c.value)}\n`;
    return out;
  }
}

export interface HistogramChild {
  observe(v: number): void;
}

export class FastHistogram implements Family {
  private readonly children: Array<{ labels: string; counts: Float64Array; sum: number; count: number }> = [];

  constructor(
    private readonly name: string,
    private readonly help: string,
    private readonly buckets: readonly number[],
    private readonly labelNames: readonly string[] = [],
  ) {}

  child(...values: string[]): HistogramChild {
    const c = { labels: labelText(this.labelNames, values), counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
    this.children.push(c);
    const bounds = this.buckets;
    return {
      observe: (v: number) => {
        c.sum += v;
        c.count++;
        for (let i = 0; i < bounds.length; i++) {
          if (v <= bounds[i]) {
            c.counts[i]++;
            return;
          }
        }
      },
    };
  }

  render(): string {
    const n = this.name;
    let out = `# HELP ${n} ${this.help}\n# TYPE ${n} histogram\n`;
    for (const c of this.children) {
      const sep = c.labels ? `,${c.labels}` : '';
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += c.counts[i];
        out += `${n}_bucket{le="${num(this.buckets[i])}"${sep}} ${acc}\n`;
      }
      out += `${n}_bucket{le="+Inf"${sep}} ${c.count}\n`;
      out += `${n}_sum${c.labels ? `{${c.labels}}` : ''} ${num(c.sum)}\n`;
      out += `${n}_count${c.labels ? `{${c.labels}}` : ''} ${c.count}\n`;
    }
    return out;
  }
}

/** The families served after the registry's own metrics. */
export class FastMetrics {
  private readonly families: Family[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): FastCounter {
    const f = new FastCounter(name, help, labelNames);
    this.families.push(f);
    return f;
  }

  histogram(name: string, help: string, buckets: readonly number[], labelNames: readonly string[] = []): FastHistogram {
    const f = new FastHistogram(name, help, buckets, labelNames);
    this.families.push(f);
    return f;
  }

  text(): string {
    return this.families.map((f) => f.render()).join('');
  }
}
