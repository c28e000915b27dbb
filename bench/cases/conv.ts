// conv2d forward, input gradient and weight gradient in GFLOP/s (2·N·OH·OW·O·C·K² / time) at LeNet shapes (the
// digits CNN's two convolutions) and small-ResNet 3×3 shapes, batch 64. wasmgrad: the conv2d op for the forward,
// kernels.convInputGrad / convWeightGrad (what conv2d's backward runs) for the gradients. tfjs, NHWC with filters
// [kh, kw, in, out] (the same values, converted once): tf.conv2d, tf.conv2dTranspose (its Conv2DBackpropInput
// kernel) and the Conv2DBackpropFilter kernel, which tfjs-backend-wasm does not have.
//
// Each pass is also compared with two products on wasmgrad's builds, timed in the pass's own rounds (harness.ts):
// the matmul im2col makes of the whole batch (same m, n, k and transposes: W·cols, Wᵀ·dy, dy·colsᵀ) and a square
// matmul of equal FLOPs. The target: each pass ≥ 70% of the first on the same build.
import { conv2d, kernels, tensor } from '../../dist/index.js';
import { tf, type Contender } from '../contenders.js';
import { convDims, forwardAt, fromFilter, inputGradAt, nhwc, toFilter, toNchw, unflatten, weightGradAt, type ConvDims, type Term } from '../conv64.js';
import { MismatchError, normal, stream } from '../data.js';
import type { Case, Prepared } from '../harness.js';
import { matmulCase, type MatmulShape } from './matmul.js';

export interface ConvShape {
  name: string;
  n: number; c: number; size: number; o: number; k: number; stride: number; padding: number;
}

/**
 * LeNet's two convolutions (the digits CNN: 28² and 14², 5×5) and small-ResNet 3×3 convolutions of 16–64 channels
 * at 28² and 14², including a stride-2 downsampling one.
 */
export function convShapes(quick: boolean): ConvShape[] {
  if (quick) return [{ name: '8→8 3×3 14² b4', n: 4, c: 8, size: 14, o: 8, k: 3, stride: 1, padding: 1 }];
  return [
    { name: 'LeNet conv1 1→16 5×5 28²', n: 64, c: 1, size: 28, o: 16, k: 5, stride: 1, padding: 2 },
    { name: 'LeNet conv2 16→32 5×5 14²', n: 64, c: 16, size: 14, o: 32, k: 5, stride: 1, padding: 2 },
    { name: 'ResNet 16→16 3×3 28²', n: 64, c: 16, size: 28, o: 16, k: 3, stride: 1, padding: 1 },
    { name: 'ResNet 16→32 3×3 /2 28²→14²', n: 64, c: 16, size: 28, o: 32, k: 3, stride: 2, padding: 1 },
    { name: 'ResNet 32→32 3×3 14²', n: 64, c: 32, size: 14, o: 32, k: 3, stride: 1, padding: 1 },
    { name: 'ResNet 64→64 3×3 14²', n: 64, c: 64, size: 14, o: 64, k: 3, stride: 1, padding: 1 },
  ];
}

/** The builds the issue sets the conv targets for. */
const TARGETED = ['wasm-relaxed', 'wasm-simd', 'wasm-simd-threads'];

export type Pass = 'forward' | 'input grad' | 'weight grad';
const PASSES: Pass[] = ['forward', 'input grad', 'weight grad'];

const dimsOf = (s: ConvShape) => convDims(s.n, s.c, s.size, s.o, s.k, s.stride, s.padding);
const flopsOf = (d: ConvDims) => 2 * d.n * d.oh * d.ow * d.o * d.c * d.k * d.k;

/** The product im2col makes of a pass over the whole batch: P = N·OH·OW output positions, K = C·k² taps. */
export function im2colProduct(s: ConvShape, pass: Pass): MatmulShape {
  const d = dimsOf(s);
  const P = d.n * d.oh * d.ow;
  const K = d.c * d.k * d.k;
  const [m, n, k, transA, transB] = pass === 'forward' ? [d.o, P, K, false, false]
    : pass === 'input grad' ? [K, P, d.o, true, false] : [d.o, K, P, false, true];
  return { name: `${m}×${k}·${k}×${n} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`, m, k, n, transA, transB };
}

const caseName = (s: ConvShape, pass: Pass) => `${s.name} ${pass}`;

/** The one-call time limits on the slow contenders: beyond them a call takes seconds, or minutes. */
function tooSlow(c: Contender, pass: Pass, flops: number, quick: boolean): string | undefined {
  if (quick) return undefined;
  if (c.slow && flops > 1e8) return 'skipped: one call takes seconds';
  // tfjs-cpu's Conv2DBackpropFilter reads every element through TensorBuffer.get (≈ 0.005 GFLOP/s).
  if (c.name === 'tfjs-cpu' && pass === 'weight grad' && flops > 1e8) return 'skipped: one call takes minutes';
  return undefined;
}

/** The scalar build sits out the conv section (it is the fallback for engines without SIMD; it keeps the bench short). */
const notTargeted = (c: Contender) => (c.build === 'scalar' ? 'skipped: the conv section measures the SIMD builds' : undefined);

/** Why a tfjs backend cannot run a pass, if it cannot. */
function unsupported(c: Contender, pass: Pass): string | undefined {
  if (c.lib !== 'tfjs' || pass !== 'weight grad') return undefined;
  const backend = c.name.slice('tfjs-'.length);
  return tf.getKernel('Conv2DBackpropFilter', backend) ? undefined : 'not supported (no Conv2DBackpropFilter kernel)';
}

/** Float64 values of a pass at up to 4096 sampled positions of its output (all of them when fewer). */
function expected(s: ConvShape, pass: Pass, x: Float32Array, w: Float32Array, dy: Float32Array) {
  const d = dimsOf(s);
  const shape = pass === 'forward' ? [d.n, d.o, d.oh, d.ow] : pass === 'input grad' ? [d.n, d.c, d.h, d.w] : [d.o, d.c, d.k, d.k];
  const total = shape.reduce((a, b) => a * b, 1);
  const u = stream(total + d.k);
  const at = total <= 4096 ? Array.from({ length: total }, (_, i) => i) : Array.from({ length: 4096 }, () => Math.floor(u() * total));
  const value = (p: number[]): Term => pass === 'forward' ? forwardAt(d, x, w, p[0]!, p[1]!, p[2]!, p[3]!)
    : pass === 'input grad' ? inputGradAt(d, dy, w, p[0]!, p[1]!, p[2]!, p[3]!) : weightGradAt(d, x, dy, p[0]!, p[1]!, p[2]!, p[3]!);
  const terms = at.map((i) => value(unflatten(i, shape)));
  return { shape, at, terms };
}

/** A pass of a shape; `square` is the shape's square product (one case object for its three passes). */
export function convCase(s: ConvShape, pass: Pass, quick: boolean, square: Case = companion(squareProduct(s), quick)): Case {
  const d = dimsOf(s);
  const flops = flopsOf(d);
  const xShape = [d.n, d.c, d.h, d.w];
  const wShape = [d.o, d.c, d.k, d.k];
  const yShape = [d.n, d.o, d.oh, d.ow];
  // Seeded inputs, made when a contender first needs them (the float64 values too).
  let data: { x: Float32Array; w: Float32Array; dy: Float32Array } | null = null;
  const inputs = () => (data ??= {
    x: normal(d.n * d.c * d.h * d.w, 41 + d.c), w: normal(d.o * d.c * d.k * d.k, 42 + d.o, 0.2), dy: normal(d.n * d.o * d.oh * d.ow, 43 + d.oh),
  });
  let want: ReturnType<typeof expected> | null = null;
  const expect = () => {
    const { x, w, dy } = inputs();
    return (want ??= expected(s, pass, x, w, dy));
  };
  /** Compares an output in PyTorch's layout at the sampled positions, within float32 accumulation in any order. */
  const compare = (c: Contender, out: ArrayLike<number>) => {
    const e = expect();
    if (out.length !== e.shape.reduce((a, b) => a * b, 1)) throw new MismatchError(`conv ${caseName(s, pass)} on ${c.name}: ${out.length} values`);
    e.at.forEach((pos, t) => {
      const { sum, abs } = e.terms[t]!;
      const got = out[pos]!;
      if (!(Math.abs(got - sum) <= 1e-5 * abs + 1e-6)) {
        throw new MismatchError(`conv ${caseName(s, pass)} on ${c.name}: element ${pos} [${unflatten(pos, e.shape).join(',')}] is ${got}, ` +
          `expected ${sum} (tolerance ${(1e-5 * abs + 1e-6).toExponential(2)})`);
      }
    });
    return { [pass]: out };
  };
  const product = im2colProduct(s, pass);
  return {
    group: 'conv',
    name: caseName(s, pass),
    expect,
    unit: 'GFLOP/s',
    higherIsBetter: true,
    value: (ms) => flops / (ms * 1e6),
    // The target, ≥ 70% of the same build's matmul GFLOP/s at equal FLOPs, against the product the pass
    // lowers to (what the convolution adds to it: im2col / col2im, packing); the square product of equal FLOPs, near
    // the build's peak, is shown beside it (how much the shape itself costs).
    versus: [
      { label: 'the im2col product', reference: companion(product, quick), min: 0.7, who: TARGETED, summary: `conv2d ${pass}` },
      { label: 'a square product', reference: square },
    ],
    skip: (c) => notTargeted(c) ?? unsupported(c, pass) ?? tooSlow(c, pass, flops, quick),
    prepare: (c): Prepared => {
      const { x, w, dy } = inputs();
      if (c.lib === 'tfjs') {
        const X = tf.tensor4d(nhwc(x, xShape), [d.n, d.h, d.w, d.c]);
        const F = tf.tensor4d(toFilter(w, wShape), [d.k, d.k, d.c, d.o]);
        const DY = tf.tensor4d(nhwc(dy, yShape), [d.n, d.oh, d.ow, d.o]);
        const strides: [number, number] = [d.stride, d.stride];
        const run = (): tf.Tensor => pass === 'forward' ? tf.conv2d(X, F, strides, d.pad)
          : pass === 'input grad' ? tf.conv2dTranspose(DY, F, [d.n, d.h, d.w, d.c], strides, d.pad)
            : tf.engine().runKernel('Conv2DBackpropFilter', { x: X, dy: DY },
              { strides, pad: d.pad, dataFormat: 'NHWC', filterShape: [d.k, d.k, d.c, d.o] } as unknown as tf.NamedAttrMap) as tf.Tensor;
        const back = (a: ArrayLike<number>) => pass === 'forward' ? toNchw(a, yShape) : pass === 'input grad' ? toNchw(a, xShape) : fromFilter(a, wShape);
        return {
          fn: () => tf.tidy(() => void run()),
          check: () => compare(c, back(tf.tidy(() => run().dataSync()))),
          dispose: () => tf.dispose([X, F, DY]),
        };
      }
      const X = tensor(x, { shape: xShape });
      const W = tensor(w, { shape: wShape });
      const DY = tensor(dy, { shape: yShape });
      const g: kernels.ConvGeometry = { stride: [d.stride, d.stride], padding: [[d.pad, d.pad], [d.pad, d.pad]], dilation: [1, 1], groups: 1 };
      const once = (): { data: () => ArrayLike<number>; free: () => void } => {
        if (pass === 'forward') {
          const y = conv2d(X, W, null, { stride: d.stride, padding: d.pad });
          return { data: () => y.data(), free: () => y.dispose() };
        }
        const r = pass === 'input grad' ? kernels.convInputGrad(DY, W, xShape, g) : kernels.convWeightGrad(X, DY, wShape, g);
        return { data: () => r.buf.backend.read(r.buf), free: () => kernels.free(r) };
      };
      return {
        fn: () => once().free(),
        check: () => {
          const r = once();
          try {
            return compare(c, r.data());
          } finally {
            r.free();
          }
        },
        dispose: () => [X, W, DY].forEach((t) => t.dispose()),
      };
    },
  };
}

/** A square matmul with (about) a pass's FLOPs: every pass of a shape has the same FLOPs. */
function squareProduct(s: ConvShape): MatmulShape {
  const side = Math.round(Math.cbrt(flopsOf(dimsOf(s)) / 2));
  return { name: `${side}³ NN`, m: side, k: side, n: side, transA: false, transB: false };
}

/** Only the same build's speed matters for the ratio: the products run on wasmgrad's wasm contenders alone. */
function companion(shape: MatmulShape, quick: boolean): Case {
  return {
    ...matmulCase(shape, quick),
    targets: undefined,
    skip: (c) => notTargeted(c) ?? (c.build ? undefined : 'skipped: the ratio is to the same build'),
  };
}

/** Every pass of every shape (each times its products in its own rounds). */
export function convCases(quick: boolean): Case[] {
  return convShapes(quick).flatMap((s) => {
    const square = companion(squareProduct(s), quick);
    return PASSES.map((pass) => convCase(s, pass, quick, square));
  });
}
