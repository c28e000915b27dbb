// Scenario (c) of the tfjs backend: model.fit of examples/tfjs-conv-mnist.mjs's convnet (conv 3×3 ×8, max pool,
// conv 3×3 ×16 'same', max pool, dropout, dense 64, dropout, softmax; adam, categoricalCrossentropy) on the embedded
// digits, on TensorFlow.js's backends 'wasmgrad' (wasmgrad/tfjs), 'wasm' and 'cpu', in samples/s. model.fit is
// asynchronous and runs whole epochs, so this section times it as a user meets it (an epoch of model.fit, wall
// clock) rather than through the harness's synchronous tinybench tasks. Every backend starts from the same weights;
// before timing, each one's first fit (one batch, seeded dropout) must give tfjs-cpu's loss.
// tfjs-wasm cannot train it: tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter kernel.
// @ts-expect-error: a plain .mjs example, without types
import { buildModel, digitTensors } from '../../examples/tfjs-conv-mnist.mjs';
import { loadDigits } from '../../dist/index.js';
import { tf } from '../contenders.js';
import { assertClose } from '../data.js';

export const TFJS_BACKENDS = ['wasmgrad', 'wasm', 'cpu'] as const;

export interface TfjsConvRow {
  backend: (typeof TFJS_BACKENDS)[number];
  skipped?: string;
  samplesPerS?: number;
  msPerStep?: number;
  /** Samples per timed fit and the number of fits (the best is the figure). */
  samples?: number;
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
  let cpuLoss: number | undefined;
  const rows: TfjsConvRow[] = [];
  // cpu first: its first fit's loss is what the others' must give
  for (const backend of ['cpu', 'wasmgrad', 'wasm'] as const) {
    if (backend === 'wasm' && !tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
      rows.push({ backend, skipped: 'cannot train it: tfjs-backend-wasm has no Conv2DBackpropFilter kernel (a convolution\'s weight gradient)' });
      continue;
    }
    await tf.setBackend(backend);
    const model = buildModel({ seed: SEED });
    tf.tidy(() => model.setWeights(values.map((v, i) => tf.tensor(v, model.getWeights()[i]!.shape))));
    // tfjs-cpu takes about 0.1 s a sample: a few batches of it are enough for its figure.
    const samples = quick ? BATCH : backend === 'cpu' ? 2 * BATCH : 32 * BATCH;
    const rounds = quick || backend === 'cpu' ? 1 : 3;
    const data = digitTensors(train, samples);
    const first = digitTensors(train, BATCH);
    try {
      const loss = (await model.fit(first.x, first.y, { epochs: 1, batchSize: BATCH, shuffle: false })).history.loss[0] as number;
      if (backend === 'cpu') cpuLoss = loss;
      else assertClose(`tfjs-conv first fit loss on ${backend}`, [loss], [cpuLoss!], { rtol: 1e-4 });
      let best = Infinity;
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        await model.fit(data.x, data.y, { epochs: 1, batchSize: BATCH, shuffle: false });
        best = Math.min(best, performance.now() - t0);
      }
      const row = { backend, samplesPerS: samples / (best / 1000), msPerStep: best / (samples / BATCH), samples, rounds };
      rows.push(row);
      log(`  tfjs-conv model.fit on '${backend}': ${row.samplesPerS.toFixed(1)} samples/s (${row.msPerStep.toFixed(1)} ms/step)`);
    } finally {
      model.dispose();
      tf.dispose([data.x, data.y, first.x, first.y]);
    }
  }
  return { batch: BATCH, rows: TFJS_BACKENDS.map((b) => rows.find((r) => r.backend === b)!) };
}
