// What both pages share: the chart of a run (one point per epoch), the throughput meter, the dataset's download
// progress, and reading the form's numbers with a message instead of a failed request.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { WorkerEvent } from 'wasmgrad/worker';

export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export interface Line {
  label: string;
  color: string;
  /** 'right' puts the line on the right-hand axis, in percent. */
  axis: 'left' | 'right';
  dash?: number[];
  format: (v: number) => string;
}

/**
 * A run's chart: one point per epoch for each line (the losses are epoch means, so there is no per-batch sawtooth),
 * the epoch in progress drawn as a point that moves while it runs and settles on its mean. The x axis spans the
 * epochs asked for from the start; the right-hand axis (accuracy, in percent) is zoomed to its data. A legend below
 * gives each line's latest value; before the first run a placeholder says what will appear.
 */
export class EpochChart {
  private plot: uPlot | null = null;
  private data: [number[], ...(number | null)[][]];
  private epochs = 1;
  private readonly legend: HTMLElement;
  private readonly area: HTMLElement;

  constructor(private readonly host: HTMLElement, private readonly lines: Line[], private readonly axes: { left: string; right?: string }) {
    this.data = [[], ...lines.map(() => [])];
    host.classList.add('chart');
    this.area = host.appendChild(document.createElement('div'));
    this.area.className = 'chart-area placeholder';
    this.area.textContent = `The chart fills in as the model trains: ${lines.map((l) => l.label).join(', ')}, one point per epoch.`;
    this.legend = host.appendChild(document.createElement('ul'));
    this.legend.className = 'legend';
    this.legend.innerHTML = lines.map((l) => `<li><span class="swatch" style="border-color:${l.color}${l.dash ? ';border-style:dashed' : ''}"></span>${l.label} <output>—</output></li>`).join('');
    // The chart follows its box's width (phones, window resizes).
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(host);
  }

  private size() {
    return { width: Math.max(200, this.host.clientWidth), height: 240 };
  }

  /** Clears the chart for a run of `epochs` epochs. */
  reset(epochs: number): void {
    this.epochs = epochs;
    this.data = [[], ...this.lines.map(() => [])];
    this.legend.querySelectorAll('output').forEach((o) => (o.textContent = '—'));
    if (!this.plot) {
      this.area.classList.remove('placeholder');
      this.area.textContent = '';
      this.plot = new uPlot(this.options(), this.data, this.area);
    } else {
      this.plot.setScale('x', { min: 0, max: epochs }); // the x range function reads this.epochs
      this.plot.setData(this.data);
    }
  }

  /** Sets line `i`'s value at `epoch` (1-based): the epoch's running mean while it runs, then its final value. */
  set(epoch: number, i: number, value: number): void {
    const [x, ...ys] = this.data;
    while (x.length < epoch) {
      x.push(x.length + 1);
      ys.forEach((y) => y.push(null));
    }
    ys[i]![epoch - 1] = value;
    this.legend.querySelectorAll('output')[i]!.textContent = this.lines[i]!.format(value);
    this.plot?.setData(this.data);
  }

  private options(): uPlot.Options {
    const right = this.lines.some((l) => l.axis === 'right');
    return {
      ...this.size(),
      legend: { show: false },
      scales: {
        x: { time: false, range: () => [0, this.epochs] },
        loss: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        // Zoomed to the data (a whole percent either side), within 0–100.
        pct: { range: (_u, min, max) => (min == null || max == null ? [0, 100] : [Math.max(0, Math.floor(min) - 1), Math.min(100, Math.ceil(max) + 1)]) },
      },
      axes: [
        { label: 'epoch', incrs: [1, 2, 5, 10, 20, 50] },
        { scale: 'loss', label: this.axes.left },
        ...(right ? [{ scale: 'pct', side: 1, label: this.axes.right, grid: { show: false }, values: (_u: uPlot, v: number[]) => v.map((p) => `${p}%`) }] : []),
      ],
      series: [{}, ...this.lines.map((l) => ({ label: l.label, stroke: l.color, width: 2, dash: l.dash, scale: l.axis === 'right' ? 'pct' : 'loss', spanGaps: true, points: { show: true, size: 6 } }))],
    };
  }
}

/** Samples (or characters) a second over the last few seconds, from a running count of samples trained. */
export class Throughput {
  private marks: { t: number; n: number }[] = [];

  constructor(private readonly windowMs = 3000) {}

  reset(): void {
    this.marks = [];
  }

  /** Records `trained` (the run's total so far) now; the rate over the window, or null until there are two marks. */
  add(trained: number): number | null {
    const t = performance.now();
    this.marks.push({ t, n: trained });
    while (this.marks.length > 2 && t - this.marks[1]!.t > this.windowMs) this.marks.shift();
    const first = this.marks[0]!;
    return this.marks.length < 2 || t === first.t ? null : ((trained - first.n) * 1000) / (t - first.t);
  }
}

/** The run's total of samples trained so far, from a batch event and the run's sizes. */
export function trainedSoFar(e: Extract<WorkerEvent, { type: 'batch' }>, trainSize: number, batchSize: number): number {
  return (e.epoch - 1) * trainSize + Math.min(e.batch * batchSize, trainSize);
}

/** Shows a 'loading' event in the <progress> element and the status line. */
export function showLoading(e: Extract<WorkerEvent, { type: 'loading' }>, bar: HTMLProgressElement, status: HTMLElement): void {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  bar.hidden = false;
  if (e.total) {
    bar.max = e.total;
    bar.value = e.loaded;
  } else bar.removeAttribute('value'); // indeterminate
  status.textContent = `Downloading the ${e.what}: ${mb(e.loaded)}${e.total ? ` of ${mb(e.total)}` : ''} MB…`;
}

/**
 * The number in a form's input, checked against its own min, max and step, or the message that says what is wrong
 * (`label` names the field).
 */
export function readNumber(input: HTMLInputElement, label: string): number | string {
  const { min, max, step } = input;
  const whole = step === '' || Number.isInteger(Number(step));
  if (input.validity.valid && input.value !== '') return input.valueAsNumber;
  const steps = whole ? (step && step !== '1' ? `a multiple of ${step} ` : 'a whole number ') : '';
  return `${label} must be ${steps}from ${min} to ${max}${input.value === '' ? '' : `, got ${input.value}`}.`;
}

/** Reads the named inputs (id → label); the values, or the first message. */
export function readForm<K extends string>(fields: Record<K, string>): { values: Record<K, number> } | { error: string } {
  const values = {} as Record<K, number>;
  for (const [id, label] of Object.entries(fields) as [K, string][]) {
    const input = $<HTMLInputElement>(id);
    if (input.disabled) continue;
    const v = readNumber(input, label);
    if (typeof v === 'string') {
      input.focus();
      return { error: v };
    }
    values[id] = v;
  }
  return { values };
}
