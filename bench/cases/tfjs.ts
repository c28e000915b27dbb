// The 'wasmgrad' TensorFlow.js backend (wasmgrad/tfjs) against tfjs's own 'wasm' and 'cpu' backends, the same tfjs
// code on each: (b) model.fit of the tf.sequential dense 784-128-10 (categorical cross-entropy, adam, accuracy) in
// samples/s at batch 64 and 256 (timed by tfjs-fit.ts, as the conv section's fit is), and tf.matMul with transposes
// (BatchMatMul) in GFLOP/s. Before timing, every backend's predictions and products are checked against
// tfjs-backend-cpu's. The profile splits a wasmgrad fit into tfjs's own work (engine, tape, gradients,
// layers, callbacks), our kernel functions' JavaScript (validation, plans, tfjs glue) and the wasm kernel calls.
import { tf } from '../contenders.js';
import { loadDigits, toFloat } from '../../dist/index.js';
import { observeBackend } from '../../dist/backend/observe.js';
import { KERNELS } from '../../dist/tfjs/kernels/index.js';
import type { WasmgradBackend } from '../../dist/tfjs/index.js';
// @ts-expect-error: a plain .mjs example, without types
import { denseModel } from '../../examples/tfjs-dense-fit.mjs';
import { MismatchError } from '../data.js';
import { disposeFit, TFJS_BACKENDS, timeFits, useBackend as use, type FitPlan, type FitTiming, type TfjsBackend as Name } from './tfjs-fit.js';

export type TfjsFitRow = FitTiming;
export interface TfjsMatmulRow { backend: Name; name: string; gflops: number; ms: number }
export interface TfjsProfileRow {
  batch: number; stepMs: number;
  /** Shares of a fit's time: tfjs's own work, our kernel functions' JavaScript, wasm kernel calls. */
  tfjs: number; kernelJs: number; wasm: number;
}
export interface TfjsResult { fit: TfjsFitRow[]; matmul: TfjsMatmulRow[]; profile: TfjsProfileRow[]; rounds: number }

interface Shape { name: string; m: number; k: number; n: number; transA: boolean; transB: boolean }
const SHAPES: Shape[] = [
  { name: '256³ A·B', m: 256, k: 256, n: 256, transA: false, transB: false },
  { name: '256³ Aᵀ·B', m: 256, k: 256, n: 256, transA: true, transB: false },
  { name: '256³ A·Bᵀ', m: 256, k: 256, n: 256, transA: false, transB: true },
  { name: 'b256 dW1 = Xᵀ·dZ [784×256]·[256×128]', m: 784, k: 256, n: 128, transA: true, transB: false },
  { name: 'b256 dX = dZ·W1ᵀ [256×128]·[128×784]', m: 256, k: 128, n: 784, transA: false, transB: true },
];

/** Max |a − b| over max |b|: float32 products and fits in another summation order agree to ~1e-6 of the scale. */
function check(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-4): void {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]!));
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  }
  if (!(worst <= tol * scale)) throw new MismatchError(`${what}: max difference ${worst} > ${tol} × ${scale}`);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** model.fit of a fresh seeded dense model over n digits at `batch`, after a warm-up fit of two batches. */
function densePlan(images: Float32Array, labels: Int32Array, n: number, batch: number, rounds: FitPlan['rounds']): FitPlan {
  return {
    batch, rounds, warm: 2 * batch, shuffle: true,
    setup: () => {
      const x = tf.tensor2d(images.subarray(0, n * 784), [n, 784]);
      const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels.subarray(0, n), 'int32'), 10).toFloat());
      const model = denseModel();
      return { model, x, y, dispose: () => disposeFit(model, x, y) };
    },
  };
}

/** GFLOP/s of tf.matMul for one shape: calls repeated for at least `ms`, the median per call over `rounds`. */
function matmulRate(s: Shape, ms: number): { gflops: number; ms: number } {
  const a = tf.randomUniform(s.transA ? [s.k, s.m] : [s.m, s.k], -1, 1, 'float32', 1);
  const b = tf.randomUniform(s.transB ? [s.n, s.k] : [s.k, s.n], -1, 1, 'float32', 2);
  const times: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < ms || times.length < 3) {
    const t = performance.now();
    tf.matMul(a, b, s.transA, s.transB).dispose();
    times.push(performance.now() - t);
  }
  tf.dispose([a, b]);
  const per = median(times);
  return { gflops: (2 * s.m * s.n * s.k) / (per * 1e6), ms: per };
}

/** The profile of a wasmgrad fit epoch (the fastest round's): time in the kernel functions and in the wasm backend's calls. */
async function profile(images: Float32Array, labels: Int32Array, n: number, batch: number, rounds: number): Promise<TfjsProfileRow> {
  await use('wasmgrad');
  const backend = tf.backend() as unknown as WasmgradBackend;
  let kernelMs = 0;
  let wasmMs = 0;
  const restore: (() => void)[] = [];
  for (const { kernelName } of KERNELS) {
    const config = tf.getKernel(kernelName, 'wasmgrad') as { kernelFunc: (...a: unknown[]) => unknown };
    const inner = config.kernelFunc;
    config.kernelFunc = (...a: unknown[]) => {
      const t = performance.now();
      try {
        return inner(...a);
      } finally {
        kernelMs += performance.now() - t;
      }
    };
    restore.push(() => { config.kernelFunc = inner; });
  }
  let depth = 0; // a backend method that calls another is timed once, outermost
  const detach = observeBackend(backend.wasm, (_method, _args, run) => {
    if (depth > 0) return run();
    depth++;
    const t = performance.now();
    try {
      return run();
    } finally {
      depth--;
      wasmMs += performance.now() - t;
    }
  });
  try {
    // The split of the fastest of `rounds` epochs: other work on the machine only ever slows a round down.
    let best = { seconds: Infinity, kernelMs: 0, wasmMs: 0 };
    const [t] = await timeFits(['wasmgrad'], {
      ...densePlan(images, labels, n, batch, () => rounds),
      onStart: () => {
        kernelMs = 0; // the warm-up does not count
        wasmMs = 0;
      },
      onEnd: (_, seconds) => {
        if (seconds < best.seconds) best = { seconds, kernelMs, wasmMs };
      },
    });
    const totalMs = best.seconds * 1000;
    const [k, w] = [best.kernelMs, best.wasmMs];
    return { batch, stepMs: t!.msPerStep, tfjs: (totalMs - k) / totalMs, kernelJs: (k - w) / totalMs, wasm: w / totalMs };
  } finally {
    detach();
    for (const r of restore) r();
  }
}

export async function measureTfjs(quick: boolean, log: (line: string) => void): Promise<TfjsResult> {
  await import('../../dist/tfjs/index.js'); // registers the 'wasmgrad' tfjs backend
  const { train } = await loadDigits();
  const images = toFloat(train.images);
  const labels = Int32Array.from(train.labels);
  const n = quick ? 256 : 2048;
  const rounds = quick ? 1 : 5;
  const batches = [64, 256];

  // Checked first: the seeded model's predictions and every product agree with tfjs-backend-cpu's.
  const outputs: Partial<Record<Name, { predict: Float32Array; products: Float32Array[] }>> = {};
  for (const name of ['cpu', 'wasmgrad', 'wasm'] as const) {
    await use(name);
    const model = denseModel();
    const predict = tf.tidy(() => (model.predict(tf.tensor2d(images.subarray(0, 64 * 784), [64, 784])) as tf.Tensor).dataSync() as Float32Array);
    model.optimizer.dispose();
    model.dispose();
    const products = SHAPES.map((s) => tf.tidy(() => tf.matMul(
      tf.randomUniform(s.transA ? [s.k, s.m] : [s.m, s.k], -1, 1, 'float32', 1),
      tf.randomUniform(s.transB ? [s.n, s.k] : [s.k, s.n], -1, 1, 'float32', 2), s.transA, s.transB).dataSync() as Float32Array));
    outputs[name] = { predict, products };
    if (name !== 'cpu') {
      check(`tfjs ${name}: predictions`, predict, outputs.cpu!.predict);
      SHAPES.forEach((s, i) => check(`tfjs ${name}: matMul ${s.name}`, products[i]!, outputs.cpu!.products[i]!));
    }
  }

  const fit: TfjsFitRow[] = [];
  for (const batch of batches) {
    // 'cpu': one round, an epoch takes seconds there
    const rows = await timeFits(TFJS_BACKENDS, densePlan(images, labels, n, batch, (b) => (b === 'cpu' ? 1 : rounds)));
    for (const row of rows) log(`  tfjs fit b${batch} on '${row.backend}': ${row.samplesPerS.toFixed(0)} samples/s`);
    fit.push(...rows);
  }

  const matmul: TfjsMatmulRow[] = [];
  for (const s of SHAPES) {
    for (const name of TFJS_BACKENDS) {
      await use(name);
      const rates = Array.from({ length: rounds }, () => matmulRate(s, quick ? 20 : 150));
      const best = rates.reduce((a, b) => (b.gflops > a.gflops ? b : a));
      matmul.push({ backend: name, name: s.name, ...best });
    }
    log(`  tfjs matMul ${s.name}: ${TFJS_BACKENDS.map((b) => `${b} ${matmul.find((r) => r.name === s.name && r.backend === b)!.gflops.toFixed(2)}`).join(', ')} GFLOP/s`);
  }

  const prof: TfjsProfileRow[] = [];
  for (const batch of batches) prof.push(await profile(images, labels, n, batch, rounds));
  await use('wasmgrad');
  return { fit, matmul, profile: prof, rounds };
}

const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

export function tfjsSection(r: TfjsResult): string[] {
  const fitRows = [64, 256].map((batch) => {
    const get = (b: Name) => r.fit.find((f) => f.batch === batch && f.backend === b)!;
    const ours = get('wasmgrad');
    return [`b${batch}`, ...TFJS_BACKENDS.map((b) => get(b).samplesPerS.toFixed(0)),
      `${(ours.samplesPerS / get('wasm').samplesPerS).toFixed(2)}× / ${(ours.samplesPerS / get('cpu').samplesPerS).toFixed(1)}×`];
  });
  const shapes = [...new Set(r.matmul.map((m) => m.name))];
  const mmRows = shapes.map((name) => [name, ...TFJS_BACKENDS.map((b) => r.matmul.find((m) => m.name === name && m.backend === b)!.gflops.toFixed(2))]);
  const profRows = r.profile.map((p) => [`b${p.batch}`, p.stepMs.toFixed(2), pct(p.tfjs), pct(p.kernelJs), pct(p.wasm)]);
  const b64 = r.fit.filter((f) => f.batch === 64);
  const ratio = b64.find((f) => f.backend === 'wasmgrad')!.samplesPerS / b64.find((f) => f.backend === 'wasm')!.samplesPerS;
  return ['', "## TensorFlow.js backends: the same tfjs code on 'wasmgrad' (wasmgrad/tfjs), 'wasm' and 'cpu'", '',
    'model.fit of tf.sequential dense 784-128-10 (categorical cross-entropy, adam, accuracy metric), samples/s:', '',
    `| batch | ${TFJS_BACKENDS.map((b) => `'${b}'`).join(' | ')} | wasmgrad vs wasm / vs cpu |`, '| --- | --- | --- | --- | --- |',
    ...fitRows.map((row) => `| ${row.join(' | ')} |`), '',
    `Target (b) ≥ 3× tfjs-wasm at batch 64: ${ratio.toFixed(2)}× ${ratio >= 3 ? '✓' : '✗'}. One epoch of ${r.fit[0]!.samples} ` +
    `digits after a warm-up fit of two batches, each round a fresh seeded model; the fastest of ${r.rounds} round(s) ('cpu': one).`, '',
    'tf.matMul (BatchMatMul) with transposes, GFLOP/s:', '',
    `| product | ${TFJS_BACKENDS.map((b) => `'${b}'`).join(' | ')} |`, '| --- | --- | --- | --- |',
    ...mmRows.map((row) => `| ${row.join(' | ')} |`), '',
    "Where a 'wasmgrad' fit step's time goes (the fastest of the rounds' epochs, timed inside the kernel functions and around every wasm backend call):", '',
    '| batch | ms/step | tfjs (engine, tape, gradients, layers) | our kernel functions\' JS | wasm kernels |', '| --- | --- | --- | --- | --- |',
    ...profRows.map((row) => `| ${row.join(' | ')} |`)];
}
