// Long-run check: trains the digits MLP step after step and reports live tensors, buffers, bytes, peak bytes
// and the wasm heap extent every `every` steps. All of them must stay flat after the first report.
// `npm run soak` runs 100,000 steps (`-- --steps N --every M --threads T` to change); CI runs 2,000 in
// test/soak.test.ts, on one thread and on two.
import { init, keep, loadDigits, memory, nn, optim, resetPeak, tensor, tidy, toFloat, type MemoryInfo } from '../src/index.js';

export interface SoakReport { step: number; loss: number; memory: MemoryInfo }

export async function soak(steps: number, every: number, report: (r: SoakReport) => void = () => {},
  threads = 1): Promise<SoakReport[]> {
  await init(threads > 1 ? { threads } : { build: 'simd' });
  const { train } = await loadDigits();
  const x = keep(tensor(toFloat(train.images), { shape: [train.n, 784] }));
  const y = keep(tensor(Int32Array.from(train.labels)));
  const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Dropout(0.1), new nn.Linear(128, 10));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const sched = new optim.CosineAnnealingLR(opt, { tMax: steps });
  const batches = Math.floor(train.n / 64);
  const reports: SoakReport[] = [];
  try {
    for (let step = 1; step <= steps; step++) {
      const b = step % batches;
      const loss = tidy(() => {
        const idx = tensor(Int32Array.from({ length: 64 }, (_, i) => b * 64 + i));
        opt.zeroGrad();
        const l = nn.crossEntropy(model(x.gather(idx)), y.gather(idx));
        l.backward();
        opt.step();
        return l.item();
      });
      sched.step();
      if (step % every === 0) {
        const r = { step, loss, memory: memory() };
        reports.push(r);
        report(r);
        resetPeak();
      }
    }
  } finally {
    opt.disposeState();
    model.dispose();
    x.dispose();
    y.dispose();
  }
  return reports;
}

/** The first report's memory figures differ from another's: the names of those that moved. */
export function drift(reports: SoakReport[]): string[] {
  const keys: (keyof MemoryInfo)[] = ['tensors', 'buffers', 'bytes', 'peakBytes', 'heapBytes'];
  const first = reports[0]!.memory;
  return keys.filter((k) => reports.some((r) => r.memory[k] !== first[k]));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : fallback;
  };
  const steps = arg('--steps', 100_000);
  const every = arg('--every', 10_000);
  const threads = arg('--threads', 1);
  const started = performance.now();
  console.log('step       loss   tensors  buffers      bytes  peakBytes  heapBytes');
  const reports = await soak(steps, every, ({ step, loss, memory: m }) => console.log(
    `${String(step).padStart(7)} ${loss.toFixed(4).padStart(9)} ${String(m.tensors).padStart(9)} ${String(m.buffers).padStart(8)} ` +
    `${String(m.bytes).padStart(10)} ${String(m.peakBytes).padStart(10)} ${String(m.heapBytes).padStart(10)}`), threads);
  const moved = drift(reports);
  console.log(`${steps} steps in ${((performance.now() - started) / 1000).toFixed(1)} s: ` +
    (moved.length ? `NOT flat: ${moved.join(', ')} changed` : 'memory flat'));
  process.exitCode = moved.length ? 1 : 0;
}
