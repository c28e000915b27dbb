// Eager against compiled training steps (compile()) on the relaxed, simd and simd-threads builds: the MLP
// 784-128-10 + SGD at batch 64 and 256, the seed's network (3-4-2, one sample, ReLU, ½‖o − y‖² plus its L2 term,
// SGD), a 2-16-1 tanh regression at batch 8 (SGD), the digits CNN (SGD) and the names GPT (Adam).
// The two modes are timed alternately in the same process, never one section after the other: a ratio of two
// figures taken minutes apart on a shared machine measures the change in load as much as the change in code.
// Per model, every build gets two copies of the model from the same seeds (same weights, same batch) on the same
// backend, one stepped eagerly and one through compile(); rounds visit the builds in a rotated order and run each
// build's two modes back to back (the first of the pair alternating), and the ratio is taken within each round.
// Before timing, three eager and three compiled steps from the same start must give every parameter the same bits.
import {
  compile, crossEntropy, Generator, l2Penalty, matmul, mseLoss, nn, optim, relu, tensor, tidy,
} from '../../dist/index.js';
import type { Tensor } from '../../dist/index.js';
import { buildCnn, CNN_BLOCKS } from '../../dist/train/model.js';
import { buildGpt } from '../../dist/train/gpt.js';
import type { Contender } from '../contenders.js';
import { labels, MismatchError, normal, uniform } from '../data.js';

/** A model and its step on the current backend: `run` trains one batch (eagerly, or through compile()). */
interface Model {
  params: Tensor[];
  step: (x: Tensor, y: Tensor) => Tensor;
  x: Tensor;
  y: Tensor;
  dispose: () => void;
}

interface CompileConfig {
  name: string;
  /** Examples per step, for the table's second figure. */
  batch: number;
  /** The compiled step's speed-up the issue asks for, over eager on the same build (reported, never asserted). */
  min?: number;
  /** Whether the target is for one thread only (the MLP's: ≥ 1.2× eager on one thread). */
  oneThread?: boolean;
  make: () => Model;
}

/** An optimizer's step around a loss (zeroGrad, loss, backward, step; the loss is returned), and its disposal. */
function trainStep(opt: optim.Optimizer<optim.Hyper>, loss: (x: Tensor, y: Tensor) => Tensor, owned: { dispose(): void }[]) {
  return {
    step: (x: Tensor, y: Tensor) => {
      opt.zeroGrad();
      const l = loss(x, y);
      l.backward();
      opt.step();
      return l;
    },
    dispose: () => {
      opt.zeroGrad();
      opt.disposeState();
      for (const o of owned) o.dispose();
    },
  };
}

/** A stack of Linear layers with `act` between them, SGD, on a seeded batch. */
function mlp(sizes: number[], act: () => nn.Module, b: number, loss: 'ce' | 'mse'): Model {
  const g = new Generator(1);
  const layers: nn.Module[] = [];
  sizes.slice(1).forEach((n, i) => {
    layers.push(new nn.Linear(sizes[i]!, n, { generator: g }));
    if (i + 2 < sizes.length) layers.push(act());
  });
  const model = new nn.Sequential(...layers);
  const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
  const out = sizes.at(-1)!;
  const x = tensor(uniform(b * sizes[0]!, 91), { shape: [b, sizes[0]!] });
  const y = loss === 'ce' ? tensor(labels(b, out, 92)) : tensor(normal(b * out, 93), { shape: [b, out] });
  return {
    params: model.parameters(), x, y,
    ...trainStep(opt, (xs, ys) => (loss === 'ce' ? crossEntropy(model(xs), ys) : mseLoss(model(xs), ys)), [model, x, y]),
  };
}

/** The seed's network: z = W1·x, h = relu(z), o = W2·h, J = ½‖o − y‖² + λ/2(‖W1‖² + ‖W2‖²), one sample. */
function seed(): Model {
  const W1 = tensor(normal(12, 94, 0.5), { shape: [4, 3], requiresGrad: true });
  const W2 = tensor(normal(8, 95, 0.5), { shape: [2, 4], requiresGrad: true });
  const opt = new optim.SGD([W1, W2], { lr: 0.1 });
  const x = tensor(normal(3, 96));
  const y = tensor(normal(2, 97));
  return {
    params: [W1, W2], x, y,
    ...trainStep(opt, (xs, ys) => mseLoss(matmul(W2, relu(matmul(W1, xs))), ys, { reduction: 'sum', scale: 0.5 })
      .add(l2Penalty([W1, W2], 0.1)), [W1, W2, x, y]),
  };
}

function cnn(b: number): Model {
  const model = buildCnn({ inputShape: [1, 28, 28], channels: [...CNN_BLOCKS.channels], kernelSize: CNN_BLOCKS.kernelSize,
    hidden: [], outputDim: 10, activation: 'relu', dropout: 0 }, new Generator(2), new Generator(3));
  const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
  const x = tensor(uniform(b * 784, 98), { shape: [b, 1, 28, 28] });
  const y = tensor(labels(b, 10, 99));
  return { params: model.parameters(), x, y, ...trainStep(opt, (xs, ys) => crossEntropy(model(xs), ys), [model, x, y]) };
}

/** The trainer's GPT for the names (vocabulary 28, context 16, 2 blocks of 4 heads, width 64, dropout 0.1) with Adam. */
function gpt(b: number): Model {
  const [vocab, context] = [28, 16];
  const model = buildGpt({ vocabSize: vocab, context, layers: 2, heads: 4, width: 64, dropout: 0.1 }, new Generator(4), new Generator(5));
  const opt = new optim.Adam(model.parameters(), { lr: 2e-3 });
  const x = tensor(labels(b * context, vocab, 100), { shape: [b, context] });
  const y = tensor(labels(b * context, vocab, 101), { shape: [b, context] });
  return {
    params: model.parameters(), x, y,
    ...trainStep(opt, (xs, ys) => crossEntropy(model(xs).reshape([-1, vocab]), ys.reshape([-1])), [model, x, y]),
  };
}

export const compileConfigs = (quick: boolean): CompileConfig[] => [
  { name: 'MLP 784-128-10 b64', batch: 64, min: 1.2, oneThread: true, make: () => mlp([784, 128, 10], () => new nn.ReLU(), 64, 'ce') },
  ...(quick ? [] : [
    { name: 'MLP 784-128-10 b256', batch: 256, make: () => mlp([784, 128, 10], () => new nn.ReLU(), 256, 'ce') },
  ]),
  { name: 'seed network 3-4-2 + L2, one sample', batch: 1, min: 5, make: seed },
  { name: '2-16-1 tanh b8', batch: 8, min: 5, make: () => mlp([2, 16, 1], () => new nn.Tanh(), 8, 'mse') },
  ...(quick ? [] : [
    { name: 'digits CNN b64', batch: 64, make: () => cnn(64) },
    { name: 'names GPT b32 (Adam)', batch: 32, make: () => gpt(32) },
  ]),
];

/** Every parameter's bits after three steps, eager or compiled, from the same start. */
function threeSteps(config: CompileConfig, compiled: boolean): Uint32Array[] {
  const m = config.make();
  const step = compiled ? compile(m.step) : null;
  for (let i = 0; i < 3; i++) tidy(() => void (step ?? m.step)(m.x, m.y));
  const bits = m.params.map((p) => new Uint32Array(Float32Array.from(p.data()).buffer));
  step?.dispose();
  m.dispose();
  return bits;
}

export interface CompileTiming {
  rounds: number;
  /** Time per mode per build per round, ms. */
  roundMs: number;
  /** Steps each mode runs before the first round, ms (also what sizes its groups of calls). */
  warmupMs: number;
}

export interface CompileRow {
  model: string;
  batch: number;
  contender: string;
  /** Threads the backend runs (1 + its workers). */
  threads: number;
  /** Median over rounds of each mode's per-round median step time, ms. */
  eagerMs: number;
  compiledMs: number;
  /** Median over rounds of that round's eager / compiled step time, and every round's. */
  speedup: number;
  speedups: number[];
  eagerRoundsMs: number[];
  compiledRoundsMs: number[];
  /** Steps timed per mode, over all rounds. */
  steps: { eager: number; compiled: number };
  /** The target speed-up, where the issue sets one for this model and thread count. */
  min?: number;
}

export interface CompileResult {
  timing: CompileTiming;
  /** The contenders the section leaves out, and why. */
  left: string[];
  rows: CompileRow[];
}

/** One mode of one build: the timed call (a step in tidy(), as a training loop runs it) and its figures. */
interface Mode { run: () => void; group: number; roundsMs: number[]; steps: number; dispose: () => void }

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};

/**
 * Runs the mode's step for about `ms` in groups of `group` calls (a tiny model's step takes microseconds, close to
 * the clock's own cost, so a group is timed as one) and returns the median time of one call over the groups.
 */
function timeRound(c: Contender, m: Mode, ms: number, what: string): number {
  const before = c.liveTensors();
  const times: number[] = [];
  const end = performance.now() + ms;
  do {
    const t0 = performance.now();
    for (let i = 0; i < m.group; i++) m.run();
    times.push((performance.now() - t0) / m.group);
  } while (performance.now() < end);
  m.steps += times.length * m.group;
  const leaked = c.liveTensors() - before;
  if (leaked !== 0) throw new Error(`compile ${what}: the timed step leaks (${leaked} more live tensors after the round)`);
  return median(times);
}

function mode(config: CompileConfig, compiled: boolean): Mode {
  const m = config.make();
  const step = compiled ? compile(m.step) : m.step;
  return {
    run: () => tidy(() => void step(m.x, m.y)), group: 1, roundsMs: [], steps: 0,
    dispose: () => {
      (step as { dispose?: () => void }).dispose?.();
      m.dispose();
    },
  };
}

/** A group of calls takes at least this long, so that the clock's cost stays below a percent of what it times. */
const GROUP_MS = 0.2;

async function measureModel(config: CompileConfig, builds: Contender[], timing: CompileTiming): Promise<CompileRow[]> {
  const pairs: { c: Contender; eager: Mode; compiled: Mode }[] = [];
  try {
    for (const c of builds) {
      await c.fresh();
      await c.activate();
      const [eager, compiled] = [threeSteps(config, false), threeSteps(config, true)];
      const differs = eager.findIndex((e, i) => e.some((v, j) => v !== compiled[i]![j]));
      if (differs >= 0) throw new MismatchError(`${config.name}, ${c.name}: parameter ${differs} differs between eager and compiled steps`);
      pairs.push({ c, eager: mode(config, false), compiled: mode(config, true) });
    }
    for (const { c, eager, compiled } of pairs) {
      await c.activate();
      for (const m of [eager, compiled]) {
        // The first call traces the compiled step and leaves the gradients (and an optimizer's state) both keep.
        m.run();
        const t0 = performance.now();
        const steps = m.steps;
        timeRound(c, m, timing.warmupMs, `${config.name}, ${c.name}`);
        const perCall = (performance.now() - t0) / (m.steps - steps);
        m.group = Math.max(1, Math.round(GROUP_MS / perCall));
        m.steps = 0;
      }
    }
    for (let r = 0; r < timing.rounds; r++) {
      for (let i = 0; i < pairs.length; i++) {
        const { c, eager, compiled } = pairs[(i + r) % pairs.length]!;
        await c.activate();
        for (const m of r % 2 ? [compiled, eager] : [eager, compiled]) {
          m.roundsMs.push(timeRound(c, m, timing.roundMs, `${config.name}, ${c.name}`));
        }
      }
    }
    return pairs.map(({ c, eager, compiled }) => {
      const speedups = eager.roundsMs.map((e, r) => e / compiled.roundsMs[r]!);
      const threads = (c.backend() as { threads?: number }).threads ?? 1;
      return {
        model: config.name, batch: config.batch, contender: c.name, threads,
        eagerMs: median(eager.roundsMs), compiledMs: median(compiled.roundsMs), speedup: median(speedups), speedups,
        eagerRoundsMs: eager.roundsMs, compiledRoundsMs: compiled.roundsMs, steps: { eager: eager.steps, compiled: compiled.steps },
        min: config.oneThread && threads > 1 ? undefined : config.min,
      };
    });
  } finally {
    for (const { c, eager, compiled } of pairs) {
      await c.activate();
      eager.dispose();
      compiled.dispose();
    }
  }
}

/** The wasm builds the issue asks about: relaxed, simd and the threads contender (not scalar, ref or tfjs). */
const measured = (c: Contender) => c.lib === 'wasmgrad' && c.build !== undefined && c.build !== 'scalar';

/** Every model on every measured build; `log` gets a line per model. */
export async function measureCompile(contenders: Contender[], quick: boolean, timing: CompileTiming,
  log: (line: string) => void): Promise<CompileResult> {
  const builds = contenders.filter(measured);
  const result: CompileResult = { timing, left: contenders.filter((c) => !measured(c)).map((c) => c.name), rows: [] };
  for (const config of compileConfigs(quick)) {
    const rows = await measureModel(config, builds, timing);
    result.rows.push(...rows);
    log(`  compile ${config.name}: ` + rows.map((r) => `${r.contender} ${r.speedup.toFixed(2)}× (eager ${r.eagerMs.toPrecision(3)} ms, ` +
      `compiled ${r.compiledMs.toPrecision(3)} ms)`).join(', '));
  }
  return result;
}
