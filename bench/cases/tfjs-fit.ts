// How the TensorFlow.js sections (tfjs.ts: the dense model at batch 64 and 256; tfjs-conv.ts: the conv MNIST model)
// time model.fit on the backends 'wasmgrad', 'wasm' and 'cpu'. model.fit is asynchronous, so it is timed as a user
// meets it — wall clock around the awaited call, one epoch over the setup's samples — rather than through the
// harness's synchronous tinybench tasks. Every round fits a fresh model from the setup after a warm-up fit of a few
// samples (whose loss the caller may check); rounds alternate the backends in a rotated order, so a machine that
// gets busier or quieter meanwhile slows them alike, and a backend's figure is its fastest round, as the harness
// keeps each contender's best round: other work on the machine only ever slows a round down.
import { tf } from '../contenders.js';

export const TFJS_BACKENDS = ['wasmgrad', 'wasm', 'cpu'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

/** What one round fits on one backend: a fresh model and its samples; dispose frees all of it. */
export interface FitSetup {
  model: tf.LayersModel;
  x: tf.Tensor;
  y: tf.Tensor;
  dispose(): void;
}

export interface FitPlan {
  batch: number;
  /** Rounds per backend (a backend that takes seconds per epoch, tfjs-cpu, may run fewer). */
  rounds: (backend: TfjsBackend) => number;
  /** Samples of the warm-up fit before each timed one (tfjs compiles and allocates on its first steps). */
  warm: number;
  shuffle: boolean;
  /** Builds a round's model and data; called with the backend already set. */
  setup: (backend: TfjsBackend) => FitSetup | Promise<FitSetup>;
  /** Sees the warm-up fit's loss (the first fit of a fresh model): a section checks it against tfjs-cpu's. */
  onWarm?: (backend: TfjsBackend, loss: number) => void;
  /** Called just before and after each timed fit (a profile resets and reads its counters there). */
  onStart?: (backend: TfjsBackend) => void;
  onEnd?: (backend: TfjsBackend, seconds: number) => void;
}

export interface FitTiming {
  backend: TfjsBackend;
  batch: number;
  samples: number;
  /** The fastest round: samples per second and milliseconds per step (batch). */
  samplesPerS: number;
  msPerStep: number;
  /** Seconds of each round's epoch. */
  roundsS: number[];
}

export async function useBackend(name: TfjsBackend): Promise<void> {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) throw new Error(`bench tfjs: backend '${name}' failed to start`);
}

/** Times one epoch of model.fit per round on each backend (see the file's comment); results in `backends` order. */
export async function timeFits(backends: readonly TfjsBackend[], plan: FitPlan): Promise<FitTiming[]> {
  const secs = new Map(backends.map((b) => [b, [] as number[]]));
  const samples = new Map<TfjsBackend, number>();
  const rounds = Math.max(...backends.map(plan.rounds));
  for (let r = 0; r < rounds; r++) {
    const order = backends.map((_, i) => backends[(i + r) % backends.length]!);
    for (const name of order) {
      if (r >= plan.rounds(name)) continue;
      await useBackend(name);
      const { model, x, y, dispose } = await plan.setup(name);
      try {
        const warm = Math.min(plan.warm, x.shape[0]!);
        const [wx, wy] = [x.slice(0, warm), y.slice(0, warm)];
        const history = await model.fit(wx, wy, { batchSize: plan.batch, epochs: 1, shuffle: false, verbose: 0 });
        tf.dispose([wx, wy]);
        plan.onWarm?.(name, history.history.loss![0] as number);
        plan.onStart?.(name);
        const t0 = performance.now();
        await model.fit(x, y, { batchSize: plan.batch, epochs: 1, shuffle: plan.shuffle, verbose: 0 });
        const seconds = (performance.now() - t0) / 1000;
        plan.onEnd?.(name, seconds);
        secs.get(name)!.push(seconds);
        samples.set(name, x.shape[0]!);
      } finally {
        dispose();
      }
    }
  }
  return backends.map((backend) => {
    const n = samples.get(backend)!;
    const s = Math.min(...secs.get(backend)!);
    return { backend, batch: plan.batch, samples: n, samplesPerS: n / s, msPerStep: (1000 * s) / Math.ceil(n / plan.batch),
      roundsS: secs.get(backend)! };
  });
}

/** Disposes a model with its optimizer (model.dispose() frees only an optimizer it made from a name) and tensors. */
export function disposeFit(model: tf.LayersModel, ...tensors: tf.Tensor[]): void {
  model.optimizer?.dispose();
  model.dispose();
  tf.dispose(tensors);
}
