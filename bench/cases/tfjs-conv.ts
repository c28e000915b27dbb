// Scenario (c) of the tfjs backend: model.fit of examples/tfjs-conv-mnist.mjs's convnet (conv 3×3 ×8, max pool,
// conv 3×3 ×16 'same', max pool, dropout, dense 64, dropout, softmax; adam, categoricalCrossentropy) on the embedded
// digits, on TensorFlow.js's backends 'wasmgrad' (wasmgrad/tfjs), 'wasm' and 'cpu', in samples/s, timed by
// tfjs-fit.ts as the dense model's fit is. Every round starts from the same weights; its warm-up fit (the first of a
// fresh model: one batch, seeded dropout) must give tfjs-cpu's loss.
// tfjs-wasm cannot train it: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel.
// @ts-expect-error: a plain .mjs example, without types
import { buildModel, digitTensors } from '../../examples/tfjs-conv-mnist.mjs';
import { loadDigits } from '../../dist/index.js';
import { tf } from '../contenders.js';
import { assertClose } from '../data.js';
import { disposeFit, TFJS_BACKENDS, timeFits, type FitTiming, type TfjsBackend } from './tfjs-fit.js';

export interface TfjsConvRow extends Partial<FitTiming> {
  backend: TfjsBackend;
  skipped?: string;
  /** Rounds timed (the figure is the fastest). */
  rounds?: number;
}

export interface TfjsConvResult { batch: number; rows: TfjsConvRow[] }

const BATCH = 64;
const SEED = 7;

export async function measureTfjsConv(quick: boolean, log: (line: string) => void): Promise<TfjsConvResult> {
  const { train } = await loadDigits();
  await tf.setBackend('cpu');
  const start: tf.Tensor[] = buildModel({ seed: SEED }).getWeights().map((w: tf.Tensor) => tf.keep(w.clone()));
  const values = start.map((w) => w.dataSync().slice());
  tf.dispose(start);
  const skipped: TfjsConvRow[] = [];
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    skipped.push({ backend: 'wasm', skipped: 'cannot train it: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (a convolution\'s weight gradient)' });
  }
  // cpu first: round 0 runs the backends in this order, and its warm-up loss is what the others' must give.
  const backends = (['cpu', 'wasmgrad', 'wasm'] as const).filter((b) => !skipped.some((r) => r.backend === b));
  // tfjs-cpu takes about 0.1 s a sample: two batches in one round are enough for its figure.
  const rounds = (b: TfjsBackend) => (quick || b === 'cpu' ? 1 : 3);
  let cpuLoss: number | undefined;
  const timed = await timeFits(backends, {
    batch: BATCH, rounds, warm: BATCH, shuffle: false,
    setup: (backend) => {
      const model = buildModel({ seed: SEED });
      tf.tidy(() => model.setWeights(values.map((v, i) => tf.tensor(v, model.getWeights()[i]!.shape))));
      const { x, y } = digitTensors(train, quick ? BATCH : backend === 'cpu' ? 2 * BATCH : 32 * BATCH);
      return { model, x, y, dispose: () => disposeFit(model, x, y) };
    },
    onWarm: (backend, loss) => {
      if (backend === 'cpu') cpuLoss = loss;
      else assertClose(`tfjs-conv first fit loss on ${backend}`, [loss], [cpuLoss!], { rtol: 1e-4 });
    },
  });
  const rows: TfjsConvRow[] = [...skipped, ...timed.map((t) => ({ ...t, rounds: rounds(t.backend) }))];
  for (const t of timed) {
    log(`  tfjs-conv model.fit on '${t.backend}': ${t.samplesPerS.toFixed(1)} samples/s (${t.msPerStep.toFixed(1)} ms/step)`);
  }
  return { batch: BATCH, rows: TFJS_BACKENDS.map((b) => rows.find((r) => r.backend === b)!) };
}
