// Fuzzing state loading. Real files — checkpoints of every optimizer with a schedule and generators, a trainer's
// checkpoint taken mid-epoch, and a model's safetensors — are damaged and loaded into live objects that hold a
// different state. The damage: cut short, bytes appended, 1–3 bits flipped in the header or the data; or 1–3
// bits flipped in the header and the checksum recomputed ("re-sealed"), as if a tool had edited the file — which
// reaches the validation of every part (model, optimizer, schedule, generators, a trainer's progress) behind the
// checksum, and its all-or-nothing staging. Every case must end one of two ways:
//   loaded    the objects now hold exactly the saved state, bit for bit; except that a re-sealed edit may load
//             whatever valid state it describes, and a model file, which may come without a checksum (PyTorch
//             writes none), may load if the damage removed its checksum: both counted apart;
//   refused   a plain Error with one of our prefixes (never a TypeError, RangeError or SyntaxError from the
//             engine), and the objects hold exactly the state they had before;
// and in both, memory (tensors and bytes, on the current backend and the ref backend) is back where it was.
// Shared by state-loading.test.ts (a few hundred seeded cases in `npm test`) and scripts/fuzz.ts (thousands).
import {
  checkpointFromBytes, checkpointToBytes, fromSafetensors, Generator, memory, nn, optim, refBackend, tensor,
  TensorDataset, tidy, toSafetensors, type Tensor,
} from '../../src/index.js';
import { crc32Update } from '../../src/io/crc32.js';
import { DEFAULTS, Trainer, type TrainConfig, type TrainData } from '../../src/train/trainer.js';
import { mulberry32 } from '../helpers/random.js';

/** One kind of file and the live objects it is loaded into. */
export interface LoadTarget {
  name: string;
  /** The undamaged file. */
  bytes: Uint8Array;
  /** The state the file holds, as snapshot() shows it. */
  saved: Uint8Array;
  /** Whether a file of this kind may lack a checksum (model files: PyTorch writes none). */
  checksumOptional: boolean;
  /** Loads a file into the live objects. */
  load(bytes: Uint8Array): void;
  /** The live objects' whole state, serialised: equal bytes mean an equal state, bit for bit. */
  snapshot(): Uint8Array;
  /** Puts the live objects back into their initial state (different from `saved`). */
  reset(): void;
  dispose(): void;
}

/** Our errors start with the API that raised them. */
const OURS = /^(safetensors|loadCheckpoint|loadStateDict|resume): /;

export type Outcome = 'loaded' | 'loaded a re-sealed edit' | 'loaded without a checksum' | 'refused';

export interface CaseResult { outcome: Outcome; damage: string; message?: string }

// Where toSafetensors puts the checksum: 8 hex digits right after this, at the start of the header.
const PREFIX = new TextEncoder().encode('{"__metadata__":{"wasmgrad_crc32":"');
const DIGITS = 8 + PREFIX.length;

/** Recomputes the checksum of damaged bytes, if the damage left it in its place; returns whether it did. */
function reseal(bytes: Uint8Array): boolean {
  if (!PREFIX.every((b, i) => bytes[8 + i] === b)) return false;
  bytes.fill(0x30, DIGITS, DIGITS + 8); // '0'
  bytes.set(new TextEncoder().encode(crc32Update(0, bytes).toString(16).padStart(8, '0')), DIGITS);
  return true;
}

/** A damaged copy of `bytes` (see the top of this file), what was done, and whether it was re-sealed. */
export function damage(bytes: Uint8Array, rand: () => number): { damaged: Uint8Array; what: string; resealed: boolean } {
  const pick = (n: number) => Math.floor(rand() * n);
  const headerEnd = 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const kind = rand();
  if (kind < 0.15) {
    const length = pick(bytes.length);
    return { damaged: bytes.slice(0, length), what: `cut to ${length} of ${bytes.length} bytes`, resealed: false };
  }
  if (kind < 0.2) {
    const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
    const out = new Uint8Array(bytes.length + extra.length);
    out.set(bytes);
    out.set(extra, bytes.length);
    return { damaged: out, what: `${extra.length} bytes appended`, resealed: false };
  }
  const out = bytes.slice();
  const resealing = kind >= 0.6;
  const inHeader = resealing || rand() < 0.5;
  const [from, to] = inHeader ? [0, headerEnd] : [headerEnd, bytes.length];
  const flips: string[] = [];
  for (let n = 1 + pick(3); n > 0; n--) {
    const at = from + pick(to - from);
    const bit = pick(8);
    out[at]! ^= 1 << bit;
    flips.push(`${at}.${bit}`);
  }
  const resealed = resealing && reseal(out);
  return {
    damaged: out, resealed,
    what: `bits flipped in the ${inHeader ? 'header' : 'data'} at ${flips.join(', ')} (byte.bit)${resealed ? ', checksum recomputed' : ''}`,
  };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

function usage(): number[] {
  const m = memory();
  const r = memory(refBackend());
  return [m.tensors, m.buffers, m.bytes, r.tensors, r.bytes];
}

/** Damages target's file with the generator seeded by `seed`, loads it, and checks the properties above. */
export function runCase(target: LoadTarget, seed: number): CaseResult {
  const { damaged, what, resealed } = damage(target.bytes, mulberry32(seed));
  const where = `${target.name}, seed ${seed}, ${what}`;
  const before = target.snapshot();
  const used = usage();
  let error: unknown = null;
  try {
    target.load(damaged);
  } catch (e) {
    error = e;
  }
  const after = target.snapshot();
  if (usage().join() !== used.join()) throw new Error(`${where}: memory went from [${used}] to [${usage()}] (tensors, buffers, bytes; ref tensors, bytes)`);
  if (error === null) {
    const exact = sameBytes(after, target.saved);
    target.reset();
    if (exact) return { outcome: 'loaded', damage: what };
    if (resealed) return { outcome: 'loaded a re-sealed edit', damage: what };
    if (target.checksumOptional && !fromSafetensors(damaged).verified) return { outcome: 'loaded without a checksum', damage: what };
    throw new Error(`${where}: the damaged file loaded, and the objects do not hold the saved state`);
  }
  const e = error as Error;
  if (!(e instanceof Error) || e.constructor !== Error) throw new Error(`${where}: threw ${e?.constructor?.name ?? typeof e}: ${e?.message ?? e}`);
  if (!OURS.test(e.message)) throw new Error(`${where}: an error that is not ours: ${e.message}`);
  if (!sameBytes(after, before)) throw new Error(`${where}: refused ("${e.message}"), but the objects changed`);
  return { outcome: 'refused', damage: what, message: e.message };
}

// ---- the targets ---------------------------------------------------------------------------------------------

const mlp = (seed: number) => new nn.Sequential(
  new nn.Linear(4, 6, { generator: new Generator(seed) }), new nn.Tanh(), new nn.Linear(6, 3, { generator: new Generator(seed + 1) }),
);

type Scheduler = optim.LRScheduler | optim.ReduceLROnPlateau;

const KINDS: [string, (m: nn.Module) => optim.Optimizer<{ lr: number }>, (o: optim.Optimizer<{ lr: number }>) => Scheduler][] = [
  ['SGD + StepLR', (m) => new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true }), (o) => new optim.StepLR(o, { stepSize: 2, gamma: 0.5 })],
  ['Adam + CosineAnnealingLR', (m) => new optim.Adam(m.parameters(), { lr: 0.01 }), (o) => new optim.CosineAnnealingLR(o, { tMax: 10 })],
  ['AdamW + OneCycleLR', (m) => new optim.AdamW(m.parameters(), { lr: 0.01 }), (o) => new optim.OneCycleLR(o, { maxLr: 0.05, totalSteps: 20 })],
  ['RMSprop + ExponentialLR', (m) => new optim.RMSprop(m.parameters(), { lr: 0.01, momentum: 0.5, centered: true }),
    (o) => new optim.ExponentialLR(o, { gamma: 0.9 })],
  ['Adagrad + ReduceLROnPlateau', (m) => new optim.Adagrad(m.parameters(), { lr: 0.1, initialAccumulatorValue: 0.1 }),
    (o) => new optim.ReduceLROnPlateau(o, { patience: 0 })],
  ['SGD in two groups + LinearLR', (m) => {
    const [w1, b1, w2, b2] = m.parameters() as [Tensor, Tensor, Tensor, Tensor];
    return new optim.SGD([{ params: [w1, b1], lr: 0.05 }, { params: [w2, b2], momentum: 0.5 }], { lr: 0.1 });
  }, (o) => new optim.LinearLR(o, { startFactor: 0.5, endFactor: 1, totalIters: 4 })],
];

interface Run { model: nn.Sequential; opt: optim.Optimizer<{ lr: number }>; sched: Scheduler; gen: Generator }

function train(r: Run, steps: number): void {
  const x = [[0.5, -1, 2, 0], [1, 0.25, -0.5, 1], [-1.5, 2, 0, -1], [0, 1, 1, 0.5], [2, -2, 0.5, 0]];
  for (let s = 0; s < steps; s++) {
    r.gen.uniform(3);
    const loss = tidy(() => {
      r.opt.zeroGrad();
      const L = nn.crossEntropy(r.model(tensor(x)), [0, 1, 2, 1, 0]);
      L.backward();
      r.opt.step();
      return L.item();
    });
    if (r.sched instanceof optim.ReduceLROnPlateau) r.sched.step(loss);
    else r.sched.step();
  }
}

function checkpointTarget([name, makeOpt, makeSched]: (typeof KINDS)[number]): LoadTarget {
  const make = (seed: number, steps: number): Run => {
    const model = mlp(seed);
    const opt = makeOpt(model);
    const r = { model, opt, sched: makeSched(opt), gen: new Generator(seed) };
    train(r, steps);
    return r;
  };
  const objects = (r: Run) => ({ model: r.model, optimizer: r.opt, scheduler: r.sched, generators: { g: r.gen } });
  const snapshot = (r: Run) => checkpointToBytes(objects(r));
  const source = make(1, 3);
  const bytes = checkpointToBytes({ ...objects(source), step: 3, extra: { note: name } });
  const saved = snapshot(source);
  const live = make(7, 1);
  const initial = checkpointToBytes(objects(live));
  for (const r of [source]) {
    r.opt.disposeState();
    r.model.dispose();
  }
  return {
    name: `${name} checkpoint`, bytes, saved, checksumOptional: false,
    load: (b) => void checkpointFromBytes(b, objects(live)),
    snapshot: () => snapshot(live),
    reset: () => void checkpointFromBytes(initial, objects(live)),
    dispose: () => {
      live.opt.disposeState();
      live.model.dispose();
    },
  };
}

function modelFileTarget(): LoadTarget {
  const snapshot = (m: nn.Module) => toSafetensors(m.stateDict());
  const source = mlp(1);
  const bytes = toSafetensors(source.stateDict(), { format: 'pt' });
  const saved = snapshot(source);
  source.dispose();
  const live = mlp(7);
  const initial = snapshot(live);
  const load = (b: Uint8Array) => void live.loadStateDict(fromSafetensors(b).tensors as unknown as nn.StateValues);
  return {
    name: 'model safetensors', bytes, saved, checksumOptional: true, load,
    snapshot: () => snapshot(live), reset: () => load(initial), dispose: () => live.dispose(),
  };
}

/** 48 rows of 4 features in 3 classes, split 40 / 8. */
function trainData(): TrainData {
  const rand = mulberry32(5);
  const rows = (n: number) => {
    const x = Array.from({ length: n }, () => [rand(), rand(), rand(), rand()]);
    return new TensorDataset(tensor(x), tensor(x.map((r) => (r[0]! + r[1]! > 1 ? 1 : r[2]! > 0.5 ? 2 : 0)), { dtype: 'int32' }));
  };
  return {
    info: { kind: 'csv', task: 'classification', inputDim: 4, outputDim: 3, classes: ['a', 'b', 'c'] },
    train: rows(40), test: rows(8),
  };
}

async function trainerTarget(): Promise<LoadTarget> {
  const data = trainData();
  const config: TrainConfig = { ...DEFAULTS, hidden: [6], dropout: 0.2, epochs: 5, batchSize: 8, optimizer: 'adam', schedule: 'onecycle', lr: 0.05 };
  const source = new Trainer(config, data);
  await source.trainEpoch();
  await source.trainEpoch({ shouldStop: () => true }); // stops after one batch: mid-epoch
  const bytes = source.checkpointBytes();
  source.dispose();
  const live = new Trainer(config, data);
  await live.trainEpoch({ shouldStop: () => true });
  const initial = live.checkpointBytes();
  return {
    name: 'trainer checkpoint', bytes, saved: bytes, checksumOptional: false,
    load: (b) => live.restore(b),
    snapshot: () => live.checkpointBytes(),
    reset: () => live.restore(initial),
    dispose: () => {
      live.dispose();
      data.train.dispose();
      data.test.dispose();
    },
  };
}

/** Every target, built on the current backend. Dispose them when done. */
export async function makeTargets(): Promise<LoadTarget[]> {
  return [...KINDS.map(checkpointTarget), modelFileTarget(), await trainerTarget()];
}

/** Outcome counts, and the most frequent refusal messages (numbers and names replaced by #). */
export class Tally {
  readonly outcomes = new Map<string, number>();
  readonly messages = new Map<string, number>();

  add(target: LoadTarget, r: CaseResult): void {
    const key = `${target.name}: ${r.outcome}`;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    if (r.message) {
      const m = r.message.replace(/'[^']*'/g, "'#'").replace(/\d+(\.\d+)?(e[-+]?\d+)?/g, '#').slice(0, 110);
      this.messages.set(m, (this.messages.get(m) ?? 0) + 1);
    }
  }

  count(outcome: Outcome): number {
    return [...this.outcomes].filter(([k]) => k.endsWith(`: ${outcome}`)).reduce((a, [, n]) => a + n, 0);
  }

  report(top = 12): string {
    const lines = [...this.outcomes].sort().map(([k, n]) => `  ${k}: ${n}`);
    const msgs = [...this.messages].sort((a, b) => b[1] - a[1]).slice(0, top).map(([m, n]) => `  ${String(n).padStart(6)}  ${m}`);
    return `${lines.join('\n')}\n most frequent refusals:\n${msgs.join('\n')}`;
  }
}
