// Random computational graphs for property tests, and the three properties checked on them. Shared by the test
// files next to this one (a few hundred cases in `npm test`) and by scripts/fuzz.ts (10,000 and more).
//
//   A  agreement — the graph evaluated on the ref backend and on every wasm build gives the value and the
//      gradients of the float64 evaluation (ref backend), within float32 error bounds derived per graph below;
//   B  tidy — tidy(() => graph + backward) leaves memory().tensors, .buffers and .bytes as they were;
//   C  backward never changes a forward value — every tensor's bits are the same before and after backward().
//
// A graph is plain data (`Graph`): a list of nodes, each an input, a constant, or one public-API op applied to
// earlier nodes, ending with `loss = out.mul(v).sum()`. `graphArb` draws a *recipe* of small numbers (how many
// inputs, which op kinds, which operands, which axes) and `makeGraph` interprets it shape-aware, so every recipe
// gives a valid graph and fast-check shrinks a failing graph by shrinking its recipe (fewer steps, option 0 =
// the simplest choice). `toCode` prints a graph as a wasmgrad program, which is how counterexamples are shown.
import fc from 'fast-check';
import {
  concat, createWasmBackend, gather as gatherOp, gradients, matmul, memory, refBackend, setBackend, supportedBuilds,
  tensor, tidy, where, type Backend, type BuildName, type Tensor, type TypedArray,
} from '../../src/index.js';
import { mulberry32 } from '../helpers/random.js';

// ---- graphs as data ------------------------------------------------------------------------------------------

export type UnaryFn = 'neg' | 'abs' | 'square' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'gelu' | 'softplus' |
  'exp' | 'log' | 'sqrt';
export type BinaryFn = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum';
export type CompareFn = 'greater' | 'less' | 'greaterEqual' | 'lessEqual';

/** One node. Operands are indices of earlier nodes; axes are kept as passed to the API (possibly negative). */
export type Node =
  | { op: 'input'; shape: number[]; values: number[] }
  | { op: 'const'; shape: number[]; values: number[]; dtype: 'float' | 'int32' }
  | { op: 'unary'; fn: UnaryFn; x: number; alpha: number | null }
  | { op: 'scalar'; fn: 'add' | 'mul'; x: number; c: number }
  | { op: 'binary'; fn: BinaryFn; a: number; b: number }
  | { op: 'softmax' | 'logSoftmax'; x: number; axis: number | null }
  | { op: 'reduce'; fn: 'sum' | 'mean' | 'max'; x: number; axes: number | number[] | null; keepdims: boolean }
  | { op: 'reshape'; x: number; shape: number[] }
  | { op: 'permute'; x: number; perm: number[] }
  | { op: 'transpose'; x: number; dims: [number, number] | null }
  | { op: 'broadcastTo'; x: number; shape: number[]; expand: boolean }
  | { op: 'slice'; x: number; begin: number[]; size: number[] | null }
  | { op: 'concat'; xs: number[]; axis: number }
  | { op: 'matmul'; a: number; b: number; transA: boolean; transB: boolean }
  | { op: 'compare'; fn: CompareFn; a: number; b: number | null; c: number }
  | { op: 'where'; cond: number; a: number; b: number | null; c: number }
  | { op: 'gather'; x: number; idx: number; axis: number };

export interface Graph {
  nodes: Node[];
  /** The shape of every node, as the generator worked it out (checked against the library's on every run). */
  shapes: number[][];
  /** The scalar loss: always the last node. */
  loss: number;
}

/** Nodes whose values are floats and carry gradients (inputs and op results, not constants or masks). */
export function isDifferentiable(n: Node): boolean {
  return n.op !== 'const' && n.op !== 'compare';
}

// ---- small shape helpers -------------------------------------------------------------------------------------

export const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

/** numpy broadcasting of any number of shapes, or null when they do not broadcast. */
export function broadcastShapes(...shapes: (readonly number[])[]): number[] | null {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const e = s[s.length - rank + i] ?? 1;
      if (e === 1) continue;
      if (d !== 1 && d !== e) return null;
      d = e;
    }
    out.push(d);
  }
  return out;
}

/** For each element of `outShape`, the index of the element of `inShape` broadcast onto it. */
export function broadcastMap(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    strides[rank - inShape.length + i] = inShape[i] === 1 ? 0 : s;
    s *= inShape[i]!;
  }
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += idx[d]! * strides[d]!;
    map[k] = off;
    for (let d = rank - 1; d >= 0 && ++idx[d]! === outShape[d]; d--) idx[d] = 0;
  }
  return map;
}

function reduceAxes(n: Extract<Node, { op: 'reduce' }>, rank: number): number[] {
  if (n.axes === null) return Array.from({ length: rank }, (_, i) => i);
  return (typeof n.axes === 'number' ? [n.axes] : n.axes).map((a) => norm(a, rank));
}

/** m, n, k, batch of a matmul, and whether each operand has batch dims of its own (as src/kernels does). */
function matmulDims(sa: readonly number[], sb: readonly number[], transA: boolean, transB: boolean) {
  const aMat = sa.length === 1 ? (transA ? [sa[0]!, 1] : [1, sa[0]!]) : sa;
  const bMat = sb.length === 1 ? (transB ? [1, sb[0]!] : [sb[0]!, 1]) : sb;
  const [ar, ac] = aMat.slice(-2) as [number, number];
  const [br, bc] = bMat.slice(-2) as [number, number];
  const [m, k] = transA ? [ac, ar] : [ar, ac];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  const aBatch = aMat.slice(0, -2);
  const bBatch = bMat.slice(0, -2);
  const ok = k === kb && (aBatch.length === 0 || bBatch.length === 0 || same(aBatch, bBatch));
  const batchShape = aBatch.length ? aBatch : bBatch;
  const out = [...batchShape, ...(sa.length === 1 ? [] : [m]), ...(sb.length === 1 ? [] : [n])];
  return { ok, m, n, k, batch: sizeOf(batchShape), aBatched: aBatch.length > 0, bBatched: bBatch.length > 0, out };
}

function primeFactors(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; n > 1; p++) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  return out;
}

// ---- the generator -------------------------------------------------------------------------------------------

/** Largest tensor the generator makes (elements), and the largest rank (above 4 the wasm plans loop over dims). */
const MAX_SIZE = 1024;
const MAX_RANK = 6;

export const STEP_KINDS = ['elementwise', 'smooth', 'scalar', 'binary', 'expLog', 'div', 'reduce', 'softmax', 'reshape',
  'permute', 'broadcastTo', 'slice', 'concat', 'matmul', 'where', 'gather'] as const;

export interface InputRecipe { rank: number; dims: number[]; related: number }
export interface StepRecipe { kind: number; a: number; b: number; p: number[] }
export interface Recipe { inputs: InputRecipe[]; steps: StepRecipe[]; seed: number }

/** Reads choices from a step's numbers (0 = the simplest option), then from a seeded stream once they run out. */
class Chooser {
  private i = 0;
  private readonly rand: () => number;
  constructor(private readonly p: readonly number[], seed: number) {
    this.rand = mulberry32(seed);
  }
  int(n: number): number {
    const v = this.i < this.p.length ? this.p[this.i++]! : Math.floor(this.rand() * 2 ** 30);
    return n <= 1 ? 0 : v % n;
  }
  bool(): boolean {
    return this.int(2) === 1;
  }
  /** −axis − rank now and then: the API takes negative axes too. */
  axis(rank: number): number {
    const a = this.int(rank);
    return this.int(3) === 2 ? a - rank : a;
  }
}

class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly shapes: number[][] = [];
  /** |value| ≤ bound, worst case: growth ops squash their operand with tanh first, so every value stays finite. */
  readonly bounds: number[] = [];

  constructor(private readonly rand: () => number) {}

  private push(node: Node, shape: number[], bound: number): number {
    this.nodes.push(node);
    this.shapes.push(shape);
    this.bounds.push(bound);
    return this.nodes.length - 1;
  }

  private values(n: number, lo: number, hi: number): number[] {
    return Array.from({ length: n }, () => Math.fround(lo + (hi - lo) * this.rand()));
  }

  /** Differentiable nodes that `ok` accepts, oldest first. */
  operands(ok: (i: number) => boolean = () => true): number[] {
    return this.nodes.map((_, i) => i).filter((i) => isDifferentiable(this.nodes[i]!) && ok(i));
  }

  /** An operand chosen by `choice` (0 = the newest), or null when none passes `ok`. */
  pick(choice: number, ok?: (i: number) => boolean): number | null {
    const c = this.operands(ok);
    return c.length ? c[c.length - 1 - (choice % c.length)]! : null;
  }

  input(shape: number[]): number {
    return this.push({ op: 'input', shape, values: this.values(sizeOf(shape), -2, 2) }, shape, 2);
  }

  constFloat(shape: number[]): number {
    return this.push({ op: 'const', shape, values: this.values(sizeOf(shape), -1, 1), dtype: 'float' }, shape, 1);
  }

  indices(shape: number[], limit: number): number {
    const values = Array.from({ length: sizeOf(shape) }, () => Math.floor(this.rand() * limit));
    return this.push({ op: 'const', shape, values, dtype: 'int32' }, shape, limit);
  }

  unary(fn: UnaryFn, x: number, alpha: number | null = null): number {
    const B = this.bounds[x]!;
    const bound = {
      neg: B, abs: B, relu: B, leakyRelu: B, square: B * B, sigmoid: 1, tanh: 1, gelu: B, softplus: B + 2 / (alpha ?? 1),
      exp: Math.exp(B), log: Math.max(Math.LN2, Math.log(B)), sqrt: Math.sqrt(B),
    }[fn];
    return this.push({ op: 'unary', fn, x, alpha }, this.shapes[x]!, bound);
  }

  /** x itself, or tanh(x) when |x| could exceed `limit`. */
  tame(x: number, limit: number): number {
    return this.bounds[x]! > limit ? this.unary('tanh', x) : x;
  }

  scalar(fn: 'add' | 'mul', x: number, c: number): number {
    const B = this.bounds[x]!;
    return this.push({ op: 'scalar', fn, x, c }, this.shapes[x]!, fn === 'add' ? B + Math.abs(c) : B * Math.abs(c));
  }

  binary(fn: BinaryFn, a: number, b: number): number {
    const [Ba, Bb] = [this.bounds[a]!, this.bounds[b]!];
    // div's denominators are always 1.5 + s² ≥ 1.5 (see the div step).
    const bound = { add: Ba + Bb, sub: Ba + Bb, mul: Ba * Bb, div: Ba / 1.5, maximum: Math.max(Ba, Bb), minimum: Math.max(Ba, Bb) }[fn];
    return this.push({ op: 'binary', fn, a, b }, broadcastShapes(this.shapes[a]!, this.shapes[b]!)!, bound);
  }

  reshape(x: number, shape: number[]): number {
    const known = shape.filter((d) => d !== -1);
    const out = shape.map((d) => (d === -1 ? sizeOf(this.shapes[x]!) / sizeOf(known) : d));
    return this.push({ op: 'reshape', x, shape }, out, this.bounds[x]!);
  }

  slice(x: number, begin: number[], size: number[] | null): number {
    const out = this.shapes[x]!.map((d, i) => (size === null || size[i] === -1 ? d - begin[i]! : size[i]!));
    return this.push({ op: 'slice', x, begin, size }, out, this.bounds[x]!);
  }

  broadcastTo(x: number, shape: number[], expand: boolean): number {
    return this.push({ op: 'broadcastTo', x, shape, expand }, shape, this.bounds[x]!);
  }

  concat(xs: number[], axis: number): number {
    const shape = [...this.shapes[xs[0]!]!];
    const a = norm(axis, shape.length);
    shape[a] = xs.reduce((s, i) => s + this.shapes[i]![a]!, 0);
    return this.push({ op: 'concat', xs, axis }, shape, Math.max(...xs.map((i) => this.bounds[i]!)));
  }

  /**
   * A tensor of exactly `shape` made from node x's values: flattened, repeated (concat or broadcastTo) if it is
   * too small, sliced to size and reshaped. How operands of the right shape are built when no node fits.
   */
  fit(x: number, shape: number[], ch: Chooser): number {
    if (same(this.shapes[x]!, shape)) return x;
    const N = sizeOf(shape);
    let s = sizeOf(this.shapes[x]!);
    let flat = this.shapes[x]!.length === 1 ? x : this.reshape(x, [s]);
    if (s < N) {
      const reps = Math.ceil(N / s);
      if (reps <= 3 && ch.bool()) flat = this.concat(new Array<number>(reps).fill(flat), 0);
      else flat = this.reshape(this.broadcastTo(this.reshape(flat, [1, s]), [reps, s], ch.bool()), [reps * s]);
      s *= reps;
    }
    if (s > N) flat = this.slice(flat, [ch.int(s - N + 1)], [N]);
    return shape.length === 1 ? flat : this.reshape(flat, shape);
  }

  /** A shape that broadcasts against `shape` (some dims 1, some leading dims dropped or added). */
  broadcastVariant(shape: readonly number[], ch: Chooser): number[] {
    const drop = ch.int(shape.length + 1);
    const out = shape.slice(drop).map((d) => (ch.int(3) === 0 ? 1 : d));
    if (ch.int(4) === 0 && out.length < 4) out.unshift(1 + ch.int(3));
    return broadcastShapes(shape, out) && sizeOf(broadcastShapes(shape, out)!) <= MAX_SIZE ? out : shape.slice(drop);
  }

  /** An operand that broadcasts against `shape`: another node that fits, x itself, or one built with fit(). */
  partner(shape: readonly number[], x: number, choice: number, ch: Chooser): number {
    const fits = (i: number) => {
      const s = broadcastShapes(shape, this.shapes[i]!);
      return s !== null && sizeOf(s) <= MAX_SIZE && s.length <= MAX_RANK;
    };
    const cands = this.operands((i) => i !== x && fits(i));
    const k = choice % (cands.length + 2);
    if (k < cands.length) return cands[cands.length - 1 - k]!;
    if (k === cands.length && x >= 0 && fits(x)) return x;
    return this.fit(this.pick(ch.int(8))!, this.broadcastVariant(shape, ch), ch);
  }

  /** An operand of rank ≥ 1 (made by fit() from the chosen node if that one is a scalar). */
  pickRanked(choice: number, ch: Chooser): number {
    const x = this.pick(choice)!;
    return this.shapes[x]!.length >= 1 ? x : this.fit(x, [1 + ch.int(5)], ch);
  }

  /** Interprets one step of a recipe; returns the node that holds its result. */
  step(kind: (typeof STEP_KINDS)[number], choiceA: number, choiceB: number, ch: Chooser): number {
    switch (kind) {
      case 'elementwise': {
        const fn = (['neg', 'abs', 'relu', 'leakyRelu', 'square'] as const)[ch.int(5)]!;
        const x = this.pick(choiceA)!;
        if (fn === 'square') return this.unary('square', this.tame(x, 10));
        return this.unary(fn, x, fn === 'leakyRelu' ? [null, 0.1, 0.2][ch.int(3)]! : null);
      }
      case 'smooth': {
        const fn = (['sigmoid', 'tanh', 'gelu', 'softplus'] as const)[ch.int(4)]!;
        return this.unary(fn, this.pick(choiceA)!, fn === 'softplus' ? [null, 2, 0.5][ch.int(3)]! : null);
      }
      case 'scalar': {
        const fn = ch.bool() ? 'mul' : 'add';
        const c = Math.fround((ch.int(2001) - 1000) / 500);
        return this.scalar(fn, this.tame(this.pick(choiceA)!, 1000), c);
      }
      case 'expLog': {
        const fn = (['exp', 'log', 'sqrt'] as const)[ch.int(3)]!;
        const x = this.pick(choiceA)!;
        if (fn === 'exp') return this.unary('exp', this.tame(x, 3));
        // log and sqrt of 0.5 + x², away from 0.
        return this.unary(fn, this.scalar('add', this.unary('square', this.tame(x, 10)), 0.5));
      }
      case 'binary': {
        const fn = (['add', 'sub', 'mul', 'maximum', 'minimum'] as const)[ch.int(5)]!;
        let a = this.pick(choiceA)!;
        let b = this.partner(this.shapes[a]!, a, choiceB, ch);
        if (fn === 'mul' && this.bounds[a]! * this.bounds[b]! > 100) [a, b] = [this.tame(a, 10), this.tame(b, 10)];
        return this.binary(fn, a, b);
      }
      case 'div': {
        // a / (1.5 + b²): the denominator stays ≥ 1.5.
        const a = this.pick(choiceA)!;
        const b = this.tame(this.partner(this.shapes[a]!, a, choiceB, ch), 10);
        return this.binary('div', a, this.scalar('add', this.unary('square', b), 1.5));
      }
      case 'reduce': {
        const fn = (['sum', 'mean', 'max'] as const)[ch.int(3)]!;
        let x = this.pick(choiceA)!;
        const shape = this.shapes[x]!;
        const r = shape.length;
        const mode = r === 0 ? 0 : ch.int(3);
        let axes: number | number[] | null = null;
        if (mode === 1) axes = ch.axis(r);
        if (mode === 2) {
          const bits = ch.int(2 ** r);
          const list = shape.map((_, i) => i).filter((i) => bits & (1 << i));
          axes = list.map((a) => (ch.int(3) === 2 ? a - r : a));
        }
        const keepdims = ch.bool();
        const reduced = reduceAxes({ op: 'reduce', fn, x, axes, keepdims }, r);
        const n = sizeOf(reduced.map((a) => shape[a]!));
        if (fn === 'sum' && n * this.bounds[x]! > 1e4) x = this.tame(x, 1);
        const out = keepdims ? shape.map((d, i) => (reduced.includes(i) ? 1 : d)) : shape.filter((_, i) => !reduced.includes(i));
        return this.push({ op: 'reduce', fn, x, axes, keepdims }, out, fn === 'sum' ? n * this.bounds[x]! : this.bounds[x]!);
      }
      case 'softmax': {
        const log = ch.bool();
        let x = this.pickRanked(choiceA, ch);
        // Now and then over one long row (the kernels' vector loops and tails need rows longer than 8).
        if (ch.int(4) === 0 && sizeOf(this.shapes[x]!) > 8) x = this.reshape(x, ch.bool() ? [-1] : [1, -1]);
        const r = this.shapes[x]!.length;
        const axis = ch.int(4) === 0 ? null : ch.axis(r);
        const n = this.shapes[x]![norm(axis ?? -1, r)]!;
        return this.push({ op: log ? 'logSoftmax' : 'softmax', x, axis }, this.shapes[x]!,
          log ? 2 * this.bounds[x]! + Math.log(n) : 1);
      }
      case 'reshape': {
        const x = this.pick(choiceA)!;
        const size = sizeOf(this.shapes[x]!);
        let rank = ch.int(5);
        if (size > 1 && rank === 0) rank = 1;
        const shape = new Array<number>(rank).fill(1);
        for (const p of primeFactors(size)) shape[ch.int(rank)]! *= p;
        if (rank > 0 && ch.int(3) === 0) shape[ch.int(rank)] = -1;
        return this.reshape(x, shape);
      }
      case 'permute': {
        let x = this.pick(choiceA, (i) => this.shapes[i]!.length >= 2);
        if (x === null) x = this.fit(this.pick(choiceA)!, [1 + ch.int(4), 1 + ch.int(4)], ch);
        const shape = this.shapes[x]!;
        const r = shape.length;
        const mode = ch.int(3);
        if (mode === 0) {
          const perm = shape.map((_, i) => i);
          for (let i = r - 1; i > 0; i--) {
            const j = ch.int(i + 1);
            [perm[i], perm[j]] = [perm[j]!, perm[i]!];
          }
          return this.push({ op: 'permute', x, perm }, perm.map((p) => shape[p]!), this.bounds[x]!);
        }
        const dims: [number, number] | null = mode === 1 ? null : [ch.axis(r), ch.axis(r)];
        const [d0, d1] = dims ? [norm(dims[0], r), norm(dims[1], r)] : [r - 2, r - 1];
        const out = shape.map((d, i) => (i === d0 ? shape[d1]! : i === d1 ? shape[d0]! : d));
        return this.push({ op: 'transpose', x, dims }, out, this.bounds[x]!);
      }
      case 'broadcastTo': {
        const x = this.pick(choiceA)!;
        const shape = this.shapes[x]!;
        const lead = Array.from({ length: Math.min(ch.int(3), MAX_RANK - shape.length) }, () => 1 + ch.int(4));
        let target = [...lead, ...shape.map((d) => (d === 1 ? 1 + ch.int(4) : d))];
        if (sizeOf(target) > MAX_SIZE) target = [...shape];
        return this.broadcastTo(x, target, ch.bool());
      }
      case 'slice': {
        const x = this.pickRanked(choiceA, ch);
        const shape = this.shapes[x]!;
        const begin = shape.map((d) => ch.int(d));
        const mode = ch.int(3);
        const size = mode === 0 ? null : shape.map((d, i) => (mode === 1 && ch.bool() ? -1 : 1 + ch.int(d - begin[i]!)));
        return this.slice(x, begin, size);
      }
      case 'concat': {
        const x = this.pickRanked(choiceA, ch);
        const shape = this.shapes[x]!;
        const r = shape.length;
        const axis = ch.axis(r);
        const a = norm(axis, r);
        const fits = (i: number) => {
          const s = this.shapes[i]!;
          return s.length === r && s.every((d, j) => j === a || d === shape[j]);
        };
        const pieces = [x];
        const count = 1 + ch.int(2);
        for (let p = 0; p < count; p++) {
          const cands = this.operands(fits);
          const k = ch.int(cands.length + 1);
          const piece = k < cands.length ? cands[cands.length - 1 - k]!
            : this.fit(this.pick(choiceB + p)!, shape.map((d, j) => (j === a ? 1 + ch.int(4) : d)), ch);
          const total = pieces.reduce((s, i) => s + sizeOf(this.shapes[i]!), sizeOf(this.shapes[piece]!));
          if (total > MAX_SIZE) break;
          pieces.splice(ch.int(pieces.length + 1), 0, piece);
        }
        return this.concat(pieces, axis);
      }
      case 'matmul': {
        if (ch.int(4) === 0) return this.wideMatmul(choiceA, choiceB, ch);
        let a = this.pickRanked(choiceA, ch);
        const sa = this.shapes[a]!;
        const transA = ch.int(3) === 2;
        const aMat = sa.length === 1 ? (transA ? [sa[0]!, 1] : [1, sa[0]!]) : sa;
        const k = transA ? aMat[aMat.length - 2]! : aMat[aMat.length - 1]!;
        const aBatch = aMat.slice(0, -2);
        const transB = ch.bool();
        const n = 1 + ch.int(5);
        const form = ch.int(4);
        const mat = transB ? [n, k] : [k, n];
        let want: number[];
        if (form === 0) want = [k];
        else if (form === 1) want = mat;
        else if (aBatch.length) want = [...aBatch, ...mat];
        else want = [...Array.from({ length: 1 + ch.int(2) }, () => 1 + ch.int(3)), ...mat];
        // An existing node that fits (any n), else one built to fit.
        const fits = (i: number) => {
          const s = this.shapes[i]!;
          if (s.length !== want.length) return false;
          if (want.length === 1) return s[0] === k;
          const kAt = s.length - (transB ? 1 : 2);
          return s[kAt] === k && same(s.slice(0, -2), want.slice(0, -2));
        };
        let b = ch.int(3) === 0 ? null : this.pick(choiceB, fits);
        const dims = (bb: number) => matmulDims(sa, this.shapes[bb]!, transA, transB);
        if (b === null || sizeOf(dims(b).out) > MAX_SIZE) b = this.fit(this.pick(choiceB)!, want, ch);
        if (sizeOf(dims(b).out) > MAX_SIZE) b = this.fit(b, want.length === 1 ? want : want.map((d, i) => (i < want.length - 2 ? d : d === n ? 1 : d)), ch);
        const d = dims(b);
        if (!d.ok || sizeOf(d.out) > MAX_SIZE) return this.unary('neg', a); // cannot happen; keeps the step total
        if (d.k * this.bounds[a]! * this.bounds[b]! > 100) [a, b] = [this.tame(a, 1), this.tame(b, 1)];
        return this.push({ op: 'matmul', a, b, transA, transB }, d.out, d.k * this.bounds[a]! * this.bounds[b]!);
      }
      case 'where': {
        const x = this.pick(choiceA)!;
        const fn = (['greater', 'less', 'greaterEqual', 'lessEqual'] as const)[ch.int(4)]!;
        const withConst = ch.bool();
        const y = withConst ? null : this.partner(this.shapes[x]!, x, choiceB, ch);
        const c = Math.fround((ch.int(201) - 100) / 100);
        const maskShape = y === null ? this.shapes[x]! : broadcastShapes(this.shapes[x]!, this.shapes[y]!)!;
        const cond = this.push({ op: 'compare', fn, a: x, b: y, c }, maskShape, 1);
        const a = this.partner(maskShape, -1, choiceA + choiceB, ch);
        let b: number | null = ch.int(3) === 0 ? null : this.partner(broadcastShapes(maskShape, this.shapes[a]!)!, -1, choiceB, ch);
        let out = broadcastShapes(maskShape, this.shapes[a]!, b === null ? [] : this.shapes[b]!)!;
        if (sizeOf(out) > MAX_SIZE || out.length > MAX_RANK) {
          b = null;
          out = broadcastShapes(maskShape, this.shapes[a]!)!;
        }
        const bound = Math.max(this.bounds[a]!, b === null ? Math.abs(c) : this.bounds[b]!);
        return this.push({ op: 'where', cond, a, b, c }, out, bound);
      }
      case 'gather': {
        const x = this.pickRanked(choiceA, ch);
        const shape = this.shapes[x]!;
        const r = shape.length;
        const axis = ch.axis(r);
        const a = norm(axis, r);
        const form = ch.int(4);
        let idxShape = form === 1 ? [1 + ch.int(4), 1 + ch.int(4)] : form === 2 ? [] : [1 + ch.int(5)];
        const outOf = (s: number[]) => [...shape.slice(0, a), ...s, ...shape.slice(a + 1)];
        if (sizeOf(outOf(idxShape)) > MAX_SIZE || outOf(idxShape).length > MAX_RANK) idxShape = [1];
        const idx = this.indices(idxShape, shape[a]!);
        return this.push({ op: 'gather', x, idx, axis }, outOf(idxShape), this.bounds[x]!);
      }
    }
  }

  /**
   * A matmul of larger operands built to fit (m, n up to 33, k up to 300), so the wasm kernel's blocked path, its
   * micro-kernel tails and its depth blocking (KC = 256) run too, not only the skinny path of small shapes.
   */
  wideMatmul(choiceA: number, choiceB: number, ch: Chooser): number {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 16, 17, 24, 31, 33];
    const dim = (extra: number[] = []) => [...sizes, ...extra][ch.int(sizes.length + extra.length)]!;
    let [m, k, n] = [dim(), dim([64, 100, 257, 300]), dim()];
    while (m * k > 4096 || k * n > 4096 || m * n > MAX_SIZE) {
      if (k >= m && k >= n) k = Math.ceil(k / 2);
      else if (m >= n) m = Math.ceil(m / 2);
      else n = Math.ceil(n / 2);
    }
    const [transA, transB] = [ch.bool(), ch.bool()];
    const batch = ch.int(4) === 0 && 2 * m * k <= 4096 && 2 * m * n <= MAX_SIZE ? [2] : [];
    let a = this.fit(this.pick(choiceA)!, [...batch, ...(transA ? [k, m] : [m, k])], ch);
    let b = this.fit(this.pick(choiceB)!, transB ? [n, k] : [k, n], ch);
    if (k * this.bounds[a]! * this.bounds[b]! > 100) [a, b] = [this.tame(a, 1), this.tame(b, 1)];
    return this.push({ op: 'matmul', a, b, transA, transB }, [...batch, m, n], k * this.bounds[a]! * this.bounds[b]!);
  }

  finish(out: number): Graph {
    const v = this.constFloat(this.shapes[out]!);
    const m = this.binary('mul', out, v);
    const loss = this.push({ op: 'reduce', fn: 'sum', x: m, axes: null, keepdims: false }, [], 0);
    return withToString({ nodes: this.nodes, shapes: this.shapes, loss });
  }
}

function withToString(g: Graph): Graph {
  Object.defineProperty(g, fc.toStringMethod, { value: () => toCode(g), enumerable: false });
  return g;
}

/** The graph a recipe describes (total: every recipe gives a valid graph). */
export function makeGraph(recipe: Recipe): Graph {
  const rand = mulberry32(recipe.seed);
  const gb = new GraphBuilder(rand);
  const shapes: number[][] = [];
  for (const inp of recipe.inputs) {
    const prev = shapes[shapes.length - 1];
    let shape = inp.dims.slice(0, inp.rank);
    if (prev && inp.related === 3) shape = [...prev];
    else if (prev && inp.related >= 1) {
      // Broadcast-compatible with the previous input, e.g. [3,1,4] and [2,1]: aligned from the right, a dim is
      // free where the other is 1 (or missing), and otherwise equal or 1.
      shape = shape.map((d, i) => {
        const o = prev[prev.length - shape.length + i];
        if (o === undefined || o === 1) return d;
        return d % 2 === 0 ? 1 : o;
      });
      if (sizeOf(broadcastShapes(prev, shape)!) > MAX_SIZE) shape = [...prev];
    }
    shapes.push(shape);
    gb.input(shape);
  }
  let last = gb.nodes.length - 1;
  recipe.steps.forEach((s, i) => {
    const ch = new Chooser(s.p, (recipe.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    last = gb.step(STEP_KINDS[s.kind % STEP_KINDS.length]!, s.a, s.b, ch);
  });
  return gb.finish(last);
}

const inputRecipeArb: fc.Arbitrary<InputRecipe> = fc.record({
  rank: fc.nat({ max: 4 }),
  dims: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 4 }),
  related: fc.nat({ max: 3 }),
});
const stepRecipeArb: fc.Arbitrary<StepRecipe> = fc.record({
  kind: fc.nat({ max: STEP_KINDS.length - 1 }),
  a: fc.nat({ max: 15 }),
  b: fc.nat({ max: 15 }),
  p: fc.array(fc.nat({ max: 1 << 20 }), { minLength: 8, maxLength: 8 }),
});

export const recipeArb: fc.Arbitrary<Recipe> = fc.record({
  inputs: fc.array(inputRecipeArb, { minLength: 1, maxLength: 4 }),
  steps: fc.array(stepRecipeArb, { minLength: 1, maxLength: 8 }),
  seed: fc.nat(),
});

/** Random small computational graphs (1–4 inputs, 1–8 op steps, a scalar loss). */
export const graphArb: fc.Arbitrary<Graph> = recipeArb.map(makeGraph);

// ---- printing ------------------------------------------------------------------------------------------------

const num = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
const list = (xs: readonly number[]) => `[${xs.map(num).join(', ')}]`;

/** The graph as a wasmgrad program (import * as wg from 'wasmgrad'), for counterexamples and bug reports. */
export function toCode(g: Graph): string {
  const name = (i: number) => (i === g.loss ? 'loss' : `t${i}`);
  const lines = g.nodes.map((n, i) => {
    const t = name(i);
    const shape = `  // ${fmt(g.shapes[i]!)}`;
    switch (n.op) {
      case 'input': return `const ${t} = wg.tensor(${list(n.values)}, { shape: ${fmt(n.shape)}, requiresGrad: true });${shape}`;
      case 'const': return `const ${t} = wg.tensor(${list(n.values)}, { shape: ${fmt(n.shape)}${n.dtype === 'int32' ? ", dtype: 'int32'" : ''} });${shape}`;
      case 'unary': return `const ${t} = ${name(n.x)}.${n.fn}(${n.alpha ?? ''});${shape}`;
      case 'scalar': return `const ${t} = ${name(n.x)}.${n.fn}(${num(n.c)});${shape}`;
      case 'binary': return `const ${t} = ${name(n.a)}.${n.fn}(${name(n.b)});${shape}`;
      case 'softmax': case 'logSoftmax': return `const ${t} = ${name(n.x)}.${n.op}(${n.axis ?? ''});${shape}`;
      case 'reduce': {
        const axes = n.axes === null ? 'undefined' : typeof n.axes === 'number' ? String(n.axes) : list(n.axes);
        return `const ${t} = ${name(n.x)}.${n.fn}(${n.axes === null && !n.keepdims ? '' : `${axes}, ${n.keepdims}`});${shape}`;
      }
      case 'reshape': return `const ${t} = ${name(n.x)}.reshape(${list(n.shape)});${shape}`;
      case 'permute': return `const ${t} = ${name(n.x)}.permute(${list(n.perm)});${shape}`;
      case 'transpose': return `const ${t} = ${name(n.x)}.transpose(${n.dims ? n.dims.join(', ') : ''});${shape}`;
      case 'broadcastTo': return `const ${t} = ${name(n.x)}.${n.expand ? 'expand' : 'broadcastTo'}(${list(n.shape)});${shape}`;
      case 'slice': return `const ${t} = ${name(n.x)}.slice(${list(n.begin)}${n.size ? `, ${list(n.size)}` : ''});${shape}`;
      case 'concat': return `const ${t} = wg.concat([${n.xs.map(name).join(', ')}], ${n.axis});${shape}`;
      case 'matmul': return `const ${t} = wg.matmul(${name(n.a)}, ${name(n.b)}, { transA: ${n.transA}, transB: ${n.transB} });${shape}`;
      case 'compare': return `const ${t} = ${name(n.a)}.${n.fn}(${n.b === null ? num(n.c) : name(n.b)});${shape}`;
      case 'where': return `const ${t} = wg.where(${name(n.cond)}, ${name(n.a)}, ${n.b === null ? num(n.c) : name(n.b)});${shape}`;
      case 'gather': return `const ${t} = ${name(n.x)}.gather(${name(n.idx)}, ${n.axis});${shape}`;
    }
  });
  return lines.join('\n');
}

// ---- evaluation ----------------------------------------------------------------------------------------------

export interface Built {
  /** One tensor per node (reshape to the same shape returns its input: then two entries share one tensor). */
  tensors: Tensor[];
  /** The input tensors (requiresGrad), in node order. */
  inputs: Tensor[];
  loss: Tensor;
}

/** The input tensors of g on the current backend. */
export function makeInputs(g: Graph, dtype: 'float32' | 'float64' = 'float32'): Tensor[] {
  return g.nodes.flatMap((n) => (n.op === 'input' ? [tensor(n.values, { shape: n.shape, dtype, requiresGrad: true })] : []));
}

/** Builds g with the public API on the current backend (inputs are made unless given). */
export function build(g: Graph, dtype: 'float32' | 'float64' = 'float32', inputs?: Tensor[]): Built {
  const ins = inputs ?? makeInputs(g, dtype);
  const ts: Tensor[] = [];
  let nextInput = 0;
  const T = (i: number) => ts[i]!;
  g.nodes.forEach((n, i) => {
    let t: Tensor;
    switch (n.op) {
      case 'input': t = ins[nextInput++]!; break;
      case 'const': t = tensor(n.values, { shape: n.shape, dtype: n.dtype === 'int32' ? 'int32' : dtype }); break;
      case 'unary': {
        const x = T(n.x);
        t = n.fn === 'leakyRelu' ? x.leakyRelu(n.alpha ?? undefined) : n.fn === 'softplus' ? x.softplus(n.alpha ?? undefined) : x[n.fn]();
        break;
      }
      case 'scalar': t = T(n.x)[n.fn](n.c); break;
      case 'binary': t = T(n.a)[n.fn](T(n.b)); break;
      case 'softmax': case 'logSoftmax': t = T(n.x)[n.op](n.axis ?? undefined); break;
      case 'reduce': t = n.axes === null && !n.keepdims ? T(n.x)[n.fn]() : T(n.x)[n.fn](n.axes ?? undefined, n.keepdims); break;
      case 'reshape': t = T(n.x).reshape(n.shape); break;
      case 'permute': t = T(n.x).permute(n.perm); break;
      case 'transpose': t = n.dims ? T(n.x).transpose(n.dims[0], n.dims[1]) : T(n.x).transpose(); break;
      case 'broadcastTo': t = n.expand ? T(n.x).expand(n.shape) : T(n.x).broadcastTo(n.shape); break;
      case 'slice': t = n.size ? T(n.x).slice(n.begin, n.size) : T(n.x).slice(n.begin); break;
      case 'concat': t = concat(n.xs.map(T), n.axis); break;
      case 'matmul': t = matmul(T(n.a), T(n.b), { transA: n.transA, transB: n.transB }); break;
      case 'compare': t = T(n.a)[n.fn](n.b === null ? n.c : T(n.b)); break;
      case 'where': t = where(T(n.cond), T(n.a), n.b === null ? n.c : T(n.b)); break;
      case 'gather': t = gatherOp(T(n.x), T(n.idx), n.axis); break;
    }
    if (!same(t.shape, g.shapes[i]!)) {
      throw new Error(`node t${i} (${n.op}): the library gives shape ${fmt(t.shape)}, the generator expected ${fmt(g.shapes[i]!)}`);
    }
    ts.push(t);
  });
  return { tensors: ts, inputs: ins, loss: ts[g.loss]! };
}

// ---- backends ------------------------------------------------------------------------------------------------

export interface Target { label: string; backend: Backend | 'ref' }

/** The ref backend and one wasm backend per build this engine loads (supportedBuilds(), plus 'debug'). */
export async function loadTargets(builds: BuildName[] = [...supportedBuilds(), 'debug']): Promise<Target[]> {
  const targets: Target[] = [{ label: 'ref', backend: 'ref' }];
  for (const build of builds) targets.push({ label: `wasm-${build}`, backend: await createWasmBackend({ build }) });
  return targets;
}

function use(target: Target): void {
  setBackend(target.backend);
}

// ---- float32 error bounds ------------------------------------------------------------------------------------
//
// Property A compares every float32 evaluation (ref and each wasm build) with the float64 evaluation of the same
// graph on the ref backend, which stands for the exact result (its own error, ~1e-16 relative, is far below what
// is checked). The allowed difference is an error bound derived for this graph from the float64 values, by
// first-order forward and backward error analysis with one number per tensor (max over its elements):
//
//   u = 2⁻²⁴, the unit roundoff of float32: one rounding changes a value v by at most u·|v| (plus 2⁻¹⁴⁹ in the
//   subnormal range, covered by TINY). Inputs, v and constants are float32 numbers, so they start exact.
//
//   Forward, for y = f(x₁, …): E_y = Σᵢ Lᵢ·E_xᵢ + R_y, where Lᵢ = ‖∂y/∂xᵢ‖∞ (max row sum of |Jacobian|, from the
//   float64 values: e.g. max eˣ = max y for exp, 2·max|x| for square, k·max|b| for a matmul with inner size k,
//   n for a sum of n terms, max 2s(1−s) ≤ ½ for softmax, max 2(1−s) ≤ 2 for logSoftmax) and R_y is the rounding
//   of the kernel itself: 0 for exact ops (neg, abs, relu, copies, max), u·|y| for one correctly rounded op,
//   4u·|y| for exp/sigmoid/tanh (≤ 2 ulp, measured in assembly/kernels/math.ts), (n−1)·u·Σ|terms| for a
//   sum of n terms in any order (Higham's γ bound, which also covers FMA and pairwise orders), and for softmax
//   u·|y|·(|x−max| + n + 4): the subtraction inside exp moves its argument by u·|x−max|, exp adds 2 ulp, the
//   sum n·u, the division u. So exp-based ops loosen the bound in proportion to their outputs (eˣ) and their
//   arguments' range, and long chains multiply the Lipschitz factors: nothing is widened by hand.
//
//   Backward, for each input xᵢ of y = f(…): the gradient gᵢ = Jᵢᵀ·g_y is off by
//     ‖Jᵢᵀ‖∞·D_y               (the upstream error; ‖Jᵀ‖∞ = max column sum, e.g. the number of broadcast copies),
//   + ‖δJᵢ‖·G_y                (Jᵢ evaluated at float32 forward values that are off by E: |f''|·E_x, or for rules
//                               that read the output, as exp and sigmoid do, |∂f'/∂y|·E_y; G_y = max|true ∂L/∂y|),
//   + rounding of the rule       (c·u·‖Jᵢᵀ‖∞·G_y for its c roundings, (n−1)·u·Σ|terms| for sums over n copies),
//   and a tensor used m times sums m contributions: one more (m−1)·u·Σ magnitudes.
//
// Second-order terms (E·E, products of two roundings) are dropped: each is below u² relative, and SAFETY = 2
// covers them many times over. Where the bound is 0 (copies of exact values), equality is required.
//
// Kinks: relu, leakyRelu, abs, maximum/minimum and max select a side by comparing values; where() does too,
// through a comparison mask. A float32 run may pick the other side than float64 only when the compared values
// are within their error bounds of a tie. Each run's side patterns are compared with float64's: a difference
// within the bounds makes that run's gradients (and, for where masks, its values) incomparable, so they are
// skipped and counted; a difference farther from the tie than the bounds allow is a failure.

const u = 2 ** -24;
const TINY = 2 ** -140;
export const SAFETY = 2;

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const minAbs = (a: ArrayLike<number>) => {
  let m = Infinity;
  for (let i = 0; i < a.length; i++) m = Math.min(m, Math.abs(a[i]!));
  return m;
};
const maxOf = (a: ArrayLike<number>, f: (v: number) => number) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, f(a[i]!));
  return m;
};
/** Rounding error of k roundings of a value of magnitude mag. */
const round = (mag: number, k: number) => k * (u * mag + TINY);
/** Worst rounding error of a sum of n terms whose magnitudes add up to mag. */
const sumRound = (n: number, mag: number) => (n > 1 ? round(mag, n - 1) : 0);

export interface Bounds {
  /** Bound on |float32 value − exact value|, per node (max over elements). */
  E: number[];
  /** Bound on |float32 ∂loss/∂node − exact|, per node. */
  D: number[];
}

/** The error bounds of g's float32 evaluation, from its float64 values and float64 gradients (per node). */
export function errorBounds(g: Graph, vals: (Float64Array | null)[], grads: (Float64Array | null)[]): Bounds {
  const N = g.nodes.length;
  const E = new Array<number>(N).fill(0);
  const D = new Array<number>(N).fill(0);
  const V = vals.map((v) => (v ? maxAbs(v) : 0));
  const G = grads.map((d) => (d ? maxAbs(d) : 0));
  const back: (((Dy: number) => void) | null)[] = new Array(N).fill(null);
  const dSum = new Array<number>(N).fill(0);
  const dMag = new Array<number>(N).fill(0);
  const dCount = new Array<number>(N).fill(0);
  const contrib = (i: number, err: number, mag: number) => {
    dSum[i]! += err;
    dMag[i]! += mag;
    dCount[i]!++;
  };
  const copies = (i: number, y: number) => sizeOf(g.shapes[y]!) / sizeOf(g.shapes[i]!);

  g.nodes.forEach((n, i) => {
    const Vy = V[i]!;
    const Gy = G[i]!;
    const y = vals[i]!;
    switch (n.op) {
      case 'input': case 'const': case 'compare': break;
      case 'unary': {
        const x = vals[n.x]!;
        const Ex = E[n.x]!;
        const alpha = n.alpha ?? (n.fn === 'leakyRelu' ? 0.01 : 1);
        // L = max|f'|; R = forward rounding; jx, jy: |∂f'/∂x| or |∂f'/∂y| for the rule's Jacobian error; rb: roundings
        // of the backward rule (relative to max(L, 1)·G_y).
        let L = 1, R = 0, jx = 0, jy = 0, rb = 0;
        switch (n.fn) {
          case 'neg': case 'abs': case 'relu': break;
          case 'leakyRelu': R = round(Vy, 2); rb = 2; break;
          case 'square': L = 2 * V[n.x]!; R = round(Vy, 1); jx = 2; rb = 2; break;
          case 'exp': L = Vy; R = round(Vy, 4); jy = 1; rb = 2; break;
          case 'log': { const m = minAbs(x); L = 1 / m; R = round(Vy, 2); jx = 1 / (m * m); rb = 2; break; }
          case 'sqrt': { const m = minAbs(y); L = 1 / (2 * m); R = round(Vy, 2); jy = 1 / (2 * m * m); rb = 3; break; }
          case 'sigmoid': L = maxOf(y, (s) => s * (1 - s)); R = round(Vy, 4); jy = 1; rb = 4; break;
          case 'tanh': L = maxOf(y, (t) => 1 - t * t); R = round(Vy, 4); jy = 2; rb = 4; break;
          case 'gelu': L = 1.13; R = round(Vy, 2); jx = 0.8; rb = 2; break; // max|Φ+xφ| = 1.129, max|φ(2−x²)| = 0.798
          case 'softplus': L = 1; R = round(Vy, 2); jx = alpha / 4; rb = 4; break; // f' = σ(βx), f'' ≤ β/4
        }
        E[i] = L * Ex + R;
        const Ey = E[i]!;
        back[i] = (Dy) => contrib(n.x, L * Dy + (jx * Ex + jy * Ey) * Gy + round(Math.max(L, 1) * Gy, rb), L * Gy);
        break;
      }
      case 'scalar': {
        const c = Math.abs(n.fn === 'mul' ? n.c : 1);
        E[i] = c * E[n.x]! + round(Vy, 1);
        back[i] = (Dy) => contrib(n.x, c * Dy + (n.fn === 'mul' ? round(c * Gy, 1) : 0), c * Gy);
        break;
      }
      case 'binary': {
        const [a, b] = [n.a, n.b];
        const [Ea, Eb, Va, Vb] = [E[a]!, E[b]!, V[a]!, V[b]!];
        const [na, nb] = [copies(a, i), copies(b, i)];
        // Each input gets sumTo(g·∂y/∂x) over its nx broadcast copies: lip = max|∂y/∂x|, jac = error of ∂y/∂x
        // from forward errors, `roundings` = roundings of the rule before the sum.
        const onto = (x: number, nx: number, lip: number, jac: number, roundings: number) => (Dy: number) =>
          contrib(x, nx * (lip * Dy + jac * Gy) + sumRound(nx + roundings, nx * lip * Gy), nx * lip * Gy);
        switch (n.fn) {
          case 'add': case 'sub': {
            E[i] = Ea + Eb + round(Vy, 1);
            const fa = onto(a, na, 1, 0, 0);
            const fb = onto(b, nb, 1, 0, 0);
            back[i] = (Dy) => { fa(Dy); fb(Dy); };
            break;
          }
          case 'mul': {
            E[i] = Vb * Ea + Va * Eb + round(Vy, 1);
            const fa = onto(a, na, Vb, Eb, 1);
            const fb = onto(b, nb, Va, Ea, 1);
            back[i] = (Dy) => { fa(Dy); fb(Dy); };
            break;
          }
          case 'div': {
            // ∂/∂a = 1/b (rule: g/b); ∂/∂b = −a/b² (rule: −(g/b)·y, reads the output).
            const m = minAbs(vals[b]!);
            E[i] = Ea / m + (Va / (m * m)) * Eb + round(Vy, 1);
            const fa = onto(a, na, 1 / m, Eb / (m * m), 1);
            const fb = onto(b, nb, Vy / m, E[i]! / m + (Vy * Eb) / (m * m), 2);
            back[i] = (Dy) => { fa(Dy); fb(Dy); };
            break;
          }
          case 'maximum': case 'minimum': {
            E[i] = Math.max(Ea, Eb);
            const fa = onto(a, na, 1, 0, 0);
            const fb = onto(b, nb, 1, 0, 0);
            back[i] = (Dy) => { fa(Dy); fb(Dy); };
            break;
          }
        }
        break;
      }
      case 'softmax': {
        const xs = g.shapes[n.x]!;
        const len = xs[norm(n.axis ?? -1, xs.length)]!;
        const lip = maxOf(y, (s) => 2 * s * (1 - s));
        E[i] = lip * E[n.x]! + u * Vy * (2 * V[n.x]! + len + 4) + TINY;
        back[i] = (Dy) => contrib(n.x, lip * Dy + (3 + len) * E[i]! * Gy + round(Gy, len + 6), lip * Gy);
        break;
      }
      case 'logSoftmax': {
        const xs = g.shapes[n.x]!;
        const len = xs[norm(n.axis ?? -1, xs.length)]!;
        const lipF = maxOf(y, (l) => 2 * (1 - Math.exp(l)));
        const lipB = maxOf(y, (l) => 1 - Math.exp(l) + (len - 1) * Math.exp(l));
        E[i] = lipF * E[n.x]! + u * (4 * V[n.x]! + 2 * Vy + len + 8) + TINY;
        back[i] = (Dy) => contrib(n.x, lipB * Dy + len * (E[i]! + 4 * u) * Gy + round(Gy, len * (len + 4)), lipB * Gy);
        break;
      }
      case 'reduce': {
        const cnt = copies(i, n.x); // elements per reduced group
        const Ex = E[n.x]!;
        const Vx = V[n.x]!;
        if (n.fn === 'sum') {
          E[i] = cnt * Ex + sumRound(cnt, cnt * Vx);
          back[i] = (Dy) => contrib(n.x, Dy, Gy);
        } else if (n.fn === 'mean') {
          E[i] = Ex + sumRound(cnt, cnt * Vx) / cnt + round(Vy, 1);
          back[i] = (Dy) => contrib(n.x, Dy / cnt + round(Gy / cnt, 1), Gy / cnt);
        } else {
          E[i] = Ex;
          back[i] = (Dy) => contrib(n.x, Dy + round(Gy, 2), Gy);
        }
        break;
      }
      case 'reshape': case 'permute': case 'transpose': case 'slice':
        E[i] = E[n.x]!;
        back[i] = (Dy) => contrib(n.x, Dy, Gy);
        break;
      case 'broadcastTo': {
        const c = copies(n.x, i);
        E[i] = E[n.x]!;
        back[i] = (Dy) => contrib(n.x, c * Dy + sumRound(c, c * Gy), c * Gy);
        break;
      }
      case 'concat':
        E[i] = Math.max(...n.xs.map((x) => E[x]!));
        back[i] = (Dy) => n.xs.forEach((x) => contrib(x, Dy, Gy));
        break;
      case 'gather': {
        const idx = (g.nodes[n.idx] as Extract<Node, { op: 'const' }>).values;
        const counts = new Map<number, number>();
        for (const v of idx) counts.set(v, (counts.get(v) ?? 0) + 1);
        const c = Math.max(...counts.values());
        E[i] = E[n.x]!;
        back[i] = (Dy) => contrib(n.x, c * Dy + sumRound(c, c * Gy), c * Gy);
        break;
      }
      case 'matmul': {
        const d = matmulDims(g.shapes[n.a]!, g.shapes[n.b]!, n.transA, n.transB);
        const [Ea, Eb, Va, Vb] = [E[n.a]!, E[n.b]!, V[n.a]!, V[n.b]!];
        E[i] = d.k * (Vb * Ea + Va * Eb) + sumRound(d.k + 1, d.k * Va * Vb);
        const ta = d.n * (d.aBatched ? 1 : d.batch); // terms summed into one element of dA
        const tb = d.m * (d.bBatched ? 1 : d.batch);
        back[i] = (Dy) => {
          contrib(n.a, ta * (Vb * Dy + Eb * Gy) + sumRound(ta + 2, ta * Vb * Gy), ta * Vb * Gy);
          contrib(n.b, tb * (Va * Dy + Ea * Gy) + sumRound(tb + 2, tb * Va * Gy), tb * Va * Gy);
        };
        break;
      }
      case 'where': {
        E[i] = Math.max(E[n.a]!, n.b === null ? 0 : E[n.b]!);
        back[i] = (Dy) => {
          for (const x of n.b === null ? [n.a] : [n.a, n.b]) {
            const c = copies(x, i);
            contrib(x, c * Dy + sumRound(c, c * Gy), c * Gy);
          }
        };
        break;
      }
    }
  });
  for (let i = N - 1; i >= 0; i--) {
    if (!isDifferentiable(g.nodes[i]!)) continue;
    D[i] = i === g.loss ? 0 : dSum[i]! + sumRound(dCount[i]!, dMag[i]!);
    back[i]?.(D[i]!);
  }
  return { E, D };
}

// ---- evaluating on one backend -------------------------------------------------------------------------------

export interface Evaluation {
  /** Every node's values (as float64 numbers). */
  vals: Float64Array[];
  /** ∂loss/∂node for the nodes asked for (the inputs, or every differentiable node), null elsewhere. */
  grads: (Float64Array | null)[];
}

const toF64 = (a: TypedArray) => Float64Array.from(a);

/**
 * Builds g on a target (or on the ref backend in float64) inside tidy, reads every node's values and the
 * gradients of the loss with respect to the inputs (`all`: with respect to every differentiable node).
 */
export function evaluate(g: Graph, target: Target | 'float64', all = false): Evaluation {
  if (target === 'float64') setBackend('ref');
  else use(target);
  return tidy(() => {
    const b = build(g, target === 'float64' ? 'float64' : 'float32');
    const vals = b.tensors.map((t) => toF64(t.data()));
    const grads: (Float64Array | null)[] = new Array(g.nodes.length).fill(null);
    // Ask for each tensor once: a reshape to the same shape returns its input, so two nodes may share a tensor.
    const wanted = g.nodes.map((n, i) => i).filter((i) => (all ? isDifferentiable(g.nodes[i]!) : g.nodes[i]!.op === 'input'));
    const unique = [...new Set(wanted.map((i) => b.tensors[i]!))];
    const gs = gradients(b.loss, unique).map((t) => toF64(t.data()));
    for (const i of wanted) grads[i] = gs[unique.indexOf(b.tensors[i]!)]!;
    return { vals, grads };
  });
}

// ---- kinks ---------------------------------------------------------------------------------------------------

interface Sides {
  /** 'grad': the side decides a gradient (relu, abs, max…); 'value': a where() mask. */
  kind: 'grad' | 'value';
  /** The side taken at each position. */
  side: Int8Array;
  /** Distance of the compared values from a tie, and the operands whose errors could close it. */
  gap: Float64Array;
  operands: number[];
}

/** The sides every kink of g takes in one evaluation. */
function sidesOf(g: Graph, vals: Float64Array[]): Map<number, Sides> {
  const out = new Map<number, Sides>();
  g.nodes.forEach((n, i) => {
    const shape = g.shapes[i]!;
    if (n.op === 'unary' && (n.fn === 'relu' || n.fn === 'leakyRelu' || n.fn === 'abs')) {
      const x = vals[n.x]!;
      out.set(i, { kind: 'grad', side: Int8Array.from(x, Math.sign), gap: x.map(Math.abs), operands: [n.x] });
    } else if (n.op === 'binary' && (n.fn === 'maximum' || n.fn === 'minimum')) {
      const [ma, mb] = [broadcastMap(g.shapes[n.a]!, shape), broadcastMap(g.shapes[n.b]!, shape)];
      const [a, b] = [vals[n.a]!, vals[n.b]!];
      const d = Float64Array.from(ma, (ia, k) => a[ia]! - b[mb[k]!]!);
      out.set(i, { kind: 'grad', side: Int8Array.from(d, Math.sign), gap: d.map(Math.abs), operands: [n.a, n.b] });
    } else if (n.op === 'reduce' && n.fn === 'max') {
      const xs = g.shapes[n.x]!;
      const axes = reduceAxes(n, xs.length);
      const kept = xs.map((d, j) => (axes.includes(j) ? 1 : d));
      const map = broadcastMap(kept, xs);
      const [x, y] = [vals[n.x]!, vals[i]!];
      const d = Float64Array.from(map, (iy, k) => y[iy]! - x[k]!);
      out.set(i, { kind: 'grad', side: Int8Array.from(d, (v) => (v === 0 ? 1 : 0)), gap: d, operands: [n.x, n.x] });
    } else if (n.op === 'compare') {
      const a = vals[n.a]!;
      const ma = broadcastMap(g.shapes[n.a]!, shape);
      const mb = n.b === null ? null : broadcastMap(g.shapes[n.b]!, shape);
      const b = n.b === null ? null : vals[n.b]!;
      const d = Float64Array.from(ma, (ia, k) => Math.abs(a[ia]! - (b ? b[mb![k]!]! : n.c)));
      out.set(i, { kind: 'value', side: Int8Array.from(vals[i]!), gap: d, operands: n.b === null ? [n.a] : [n.a, n.b] });
    }
  });
  return out;
}

/**
 * Whether a float32 run took the float64 run's side at every kink: 'same', 'near-tie' (some side differs, within
 * the error bounds of a tie: its gradients, or for a where mask its values too, cannot be compared), or a failure
 * message when a side differs far from any tie.
 */
function compareSides(g: Graph, s32: Map<number, Sides>, s64: Map<number, Sides>, E: number[]):
  { grads: boolean; values: boolean; failure: string | null } {
  let grads = true;
  for (const [i, ref] of s64) {
    const got = s32.get(i)!;
    const allowed = SAFETY * ref.operands.reduce((s, j) => s + E[j]!, 0);
    for (let k = 0; k < ref.side.length; k++) {
      if (got.side[k] === ref.side[k]) continue;
      if (ref.gap[k]! > allowed) {
        return {
          grads: false, values: false,
          failure: `node t${i} (${describe(g.nodes[i]!)}) took another side than float64 at element ${k}, ` +
            `${ref.gap[k]} away from a tie (the operands' error bound allows ${allowed})`,
        };
      }
      if (ref.kind === 'value') return { grads: false, values: false, failure: null };
      grads = false;
    }
  }
  return { grads, values: true, failure: null };
}

function describe(n: Node): string {
  switch (n.op) {
    case 'unary': case 'binary': case 'reduce': case 'compare': return `${n.op} ${n.fn}`;
    case 'scalar': return `scalar ${n.fn} ${n.c}`;
    default: return n.op;
  }
}

// ---- property A: ref and every wasm build agree with float64 ------------------------------------------------

export interface Stats {
  graphs: number;
  /** Runs (graph × backend) whose gradients, or values and gradients, sat at a near-tie of a kink. */
  skippedGrads: number;
  skippedValues: number;
  comparisons: number;
  /** The largest observed error / allowed error, and where. */
  worst: { ratio: number; what: string };
  /** How many comparisons used ≤ 0.1 %, 1 %, 10 %, 100 % of their bound. */
  used: [number, number, number, number];
  /** Nodes generated per op. */
  ops: Map<string, number>;
  /** Time per property (ms). */
  ms: { A: number; B: number; C: number };
}

export function newStats(): Stats {
  return {
    graphs: 0, skippedGrads: 0, skippedValues: 0, comparisons: 0, worst: { ratio: 0, what: '' }, used: [0, 0, 0, 0],
    ops: new Map(), ms: { A: 0, B: 0, C: 0 },
  };
}

export class PropertyFailure extends Error {
  override name = 'PropertyFailure';
}

function maxDiff(a: Float64Array, b: Float64Array): { diff: number; at: number } {
  let diff = 0;
  let at = -1;
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    if (!(d <= diff)) {
      diff = d;
      at = k;
      if (Number.isNaN(d)) break;
    }
  }
  return { diff, at };
}

function record(stats: Stats | undefined, diff: number, bound: number, what: string): void {
  if (!stats) return;
  stats.comparisons++;
  const r = bound > 0 ? diff / bound : diff > 0 ? Infinity : 0;
  if (r > stats.worst.ratio) stats.worst = { ratio: r, what };
  stats.used[r <= 1e-3 ? 0 : r <= 1e-2 ? 1 : r <= 0.1 ? 2 : 3]++;
}

/**
 * Property A: on every target, every node's value and the gradient of the loss with respect to every input lie
 * within SAFETY × the float32 error bound of the float64 evaluation; ref and each wasm build therefore agree
 * with each other within twice that, which is checked too. Throws a PropertyFailure naming the node, the op and
 * the backend.
 */
export function checkAgreement(g: Graph, targets: readonly Target[], stats?: Stats): void {
  const started = performance.now();
  const exact = evaluate(g, 'float64', true);
  const { E, D } = errorBounds(g, exact.vals, exact.grads);
  const s64 = sidesOf(g, exact.vals);
  const inputs = g.nodes.map((_, i) => i).filter((i) => g.nodes[i]!.op === 'input');
  const comparable: { label: string; ev: Evaluation; grads: boolean }[] = [];
  const fail = (msg: string) => {
    throw new PropertyFailure(`${msg}\n\n${toCode(g)}`);
  };
  for (const target of targets) {
    const ev = evaluate(g, target);
    const sides = compareSides(g, sidesOf(g, ev.vals), s64, E);
    if (sides.failure) fail(`${target.label}: ${sides.failure}`);
    if (!sides.values) {
      if (stats) stats.skippedValues++;
      continue;
    }
    if (!sides.grads && stats) stats.skippedGrads++;
    g.nodes.forEach((n, i) => {
      if (n.op === 'compare' || (n.op === 'const' && n.dtype === 'int32')) return;
      const { diff, at } = maxDiff(ev.vals[i]!, exact.vals[i]!);
      const bound = SAFETY * E[i]!;
      record(stats, diff, bound, `${target.label} value of t${i} (${describe(n)})`);
      if (!(diff <= bound)) {
        fail(`${target.label}: the value of node t${i} (${describe(n)}) differs from float64 by ${diff} at element ${at} ` +
          `(${ev.vals[i]![at]} vs ${exact.vals[i]![at]}); the float32 error bound is ${bound}`);
      }
    });
    if (sides.grads) {
      for (const i of inputs) {
        const { diff, at } = maxDiff(ev.grads[i]!, exact.grads[i]!);
        const bound = SAFETY * D[i]!;
        record(stats, diff, bound, `${target.label} gradient of input t${i}`);
        if (!(diff <= bound)) {
          fail(`${target.label}: the gradient with respect to input t${i} differs from float64 by ${diff} at element ${at} ` +
            `(${ev.grads[i]![at]} vs ${exact.grads[i]![at]}); the float32 error bound is ${bound}\n` +
            diagnose(g, target, exact, { E, D }));
        }
      }
    }
    comparable.push({ label: target.label, ev, grads: sides.grads });
  }
  // Pairwise: ref against each wasm build (implied by the above within 2×; checked so a report names both).
  const ref = comparable.find((c) => c.label === 'ref');
  for (const c of comparable) {
    if (!ref || c === ref) continue;
    const dl = Math.abs(c.ev.vals[g.loss]![0]! - ref.ev.vals[g.loss]![0]!);
    if (!(dl <= 2 * SAFETY * E[g.loss]!)) fail(`ref and ${c.label} disagree on the loss by ${dl}`);
    if (!c.grads || !ref.grads) continue;
    for (const i of inputs) {
      const { diff } = maxDiff(c.ev.grads[i]!, ref.ev.grads[i]!);
      if (!(diff <= 2 * SAFETY * D[i]!)) fail(`ref and ${c.label} disagree on the gradient of input t${i} by ${diff}`);
    }
  }
  if (stats) {
    stats.graphs++;
    for (const n of g.nodes) {
      const key = n.op === 'scalar' ? `scalar ${n.fn}` : describe(n);
      stats.ops.set(key, (stats.ops.get(key) ?? 0) + 1);
    }
    stats.ms.A += performance.now() - started;
  }
}

/**
 * Where a disagreement starts: every node's value and gradient error on `target` against its bound. Backward
 * runs from the loss to the inputs, so the op whose backward rule is wrong is the last node (highest number)
 * whose own gradient is within bounds while an operand's is not.
 */
export function diagnose(g: Graph, target: Target, exact?: Evaluation, bounds?: Bounds): string {
  try {
    const ex = exact ?? evaluate(g, 'float64', true);
    const { E, D } = bounds ?? errorBounds(g, ex.vals, ex.grads);
    const ev = evaluate(g, target, true);
    const rows = g.nodes.map((n, i) => {
      if (!isDifferentiable(n)) return `  t${i} ${describe(n)}`;
      const v = maxDiff(ev.vals[i]!, ex.vals[i]!).diff;
      const d = maxDiff(ev.grads[i]!, ex.grads[i]!).diff;
      const flag = (x: number, b: number) => (x <= SAFETY * b ? '' : '  <-- exceeds');
      return `  t${i} ${describe(n).padEnd(22)} value err ${v.toExponential(2)} / bound ${(SAFETY * E[i]!).toExponential(2)}${flag(v, E[i]!)}` +
        `   grad err ${d.toExponential(2)} / bound ${(SAFETY * D[i]!).toExponential(2)}${flag(d, D[i]!)}`;
    });
    return `per node on ${target.label} (against float64):\n${rows.join('\n')}`;
  } catch (e) {
    return `(diagnosis failed: ${(e as Error).message})`;
  }
}

// ---- property B: tidy frees everything -----------------------------------------------------------------------

function counts() {
  const m = memory();
  return { tensors: m.tensors, buffers: m.buffers, bytes: m.bytes, refBytes: memory(refBackend()).bytes };
}

function sameCounts(before: ReturnType<typeof counts>, after: ReturnType<typeof counts>, what: string, g: Graph): void {
  if (JSON.stringify(before) !== JSON.stringify(after)) {
    throw new PropertyFailure(`${what}: memory ${JSON.stringify(before)} became ${JSON.stringify(after)}\n\n${toCode(g)}`);
  }
}

/**
 * Property B: tidy(() => graph + backward) leaves memory().tensors, .buffers and .bytes as they were (and the
 * ref backend's bytes, when another backend is current); so does tidy(() => graph + gradients()) on inputs
 * made outside it, which then free everything when disposed.
 */
export function checkTidy(g: Graph, target: Target, stats?: Stats): void {
  const started = performance.now();
  use(target);
  const before = counts();
  tidy(() => {
    const b = build(g);
    b.loss.backward();
    for (const x of b.inputs) x.grad?.data();
  });
  sameCounts(before, counts(), `${target.label}: tidy(build + backward())`, g);
  const inputs = makeInputs(g);
  const mid = counts();
  tidy(() => {
    const b = build(g, 'float32', inputs);
    for (const d of gradients(b.loss, inputs)) d.data();
  });
  sameCounts(mid, counts(), `${target.label}: tidy(build + gradients()) on inputs made outside it`, g);
  for (const x of inputs) x.dispose();
  sameCounts(before, counts(), `${target.label}: after disposing the inputs`, g);
  if (stats) stats.ms.B += performance.now() - started;
}

// ---- property C: backward leaves forward values alone --------------------------------------------------------

const bits = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Property C: every node's data is bit for bit the same after loss.backward() as before it. */
export function checkBackwardKeepsValues(g: Graph, target: Target, stats?: Stats): void {
  const started = performance.now();
  use(target);
  tidy(() => {
    const b = build(g);
    const before = b.tensors.map((t) => t.data());
    b.loss.backward();
    b.tensors.forEach((t, i) => {
      const now = t.data();
      const [was, is] = [bits(before[i]!), bits(now)];
      const k = is.findIndex((v, j) => v !== was[j]);
      if (k >= 0) {
        const el = Math.floor(k / now.BYTES_PER_ELEMENT);
        throw new PropertyFailure(`${target.label}: backward() changed node t${i} (${describe(g.nodes[i]!)}) at element ${el}: ` +
          `${before[i]![el]} became ${now[el]}\n\n${toCode(g)}`);
      }
    });
  });
  if (stats) stats.ms.C += performance.now() - started;
}

/** A, then B and C on every target: what scripts/fuzz.ts runs per graph. */
export function checkAll(g: Graph, targets: readonly Target[], stats?: Stats): void {
  checkAgreement(g, targets, stats);
  for (const t of targets) {
    checkTidy(g, t, stats);
    checkBackwardKeepsValues(g, t, stats);
  }
}
