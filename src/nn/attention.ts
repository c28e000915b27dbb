// MultiheadAttention: PyTorch's nn.MultiheadAttention on the fused scaledDotProductAttention op. Parameters by
// PyTorch's names and layouts, so state dicts cross over: in_proj_weight [3E, E] (rows [q; k; v]) and in_proj_bias
// [3E], or with kdim / vdim other than E, q_proj_weight [E, E], k_proj_weight [E, kdim], v_proj_weight [E, vdim]
// (and in_proj_bias); out_proj a Linear(E, E). PyTorch's init: xavier-uniform projection weights, zero biases,
// out_proj.weight as any Linear's.
//
// forward(query, key, value, options): queries [N, L, E] with batchFirst, else [L, N, E], or unbatched [L, E];
// keys and values [N, S, kdim / vdim] likewise. Each of the numHeads heads attends with its E / numHeads features,
// scaled by 1/√(E / numHeads); the heads' outputs are joined and projected by out_proj. Options as PyTorch's:
// attnMask ([L, S] or [N·numHeads, L, S]) and keyPaddingMask ([N, S]) are added when float and, when int32, mask out
// where nonzero (PyTorch's boolean masks here: true is NOT allowed to attend, the opposite of
// scaledDotProductAttention's mask); isCausal attends only to keys j ≤ i, with or without attnMask (both apply).
// The output alone is returned: the fused kernel never forms the attention weights (needWeights: false).
import { checkTensor } from '../autograd/op.js';
import { Tensor } from '../autograd/tensor.js';
import { full, zeros } from '../creation.js';
import { fmt, sameShape } from '../kernels/shape.js';
import { add } from '../ops/add.js';
import { cast } from '../ops/cast.js';
import { linear } from '../ops/linear.js';
import { packedSelfAttention } from '../ops/packedSelfAttention.js';
import { permute } from '../ops/permute.js';
import { reshape } from '../ops/reshape.js';
import { scaledDotProductAttention } from '../ops/scaledDotProductAttention.js';
import { slice } from '../ops/slice.js';
import { where } from '../ops/where.js';
import { boolean, checkOptions, checkValue, instanceOf, integer, type Check } from '../options.js';
import { globalGenerator, Generator } from '../random.js';
import { xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module, parameter } from './module.js';

/** Options of MultiheadAttention (PyTorch's constructor arguments, in camelCase). */
export interface MultiheadAttentionOptions {
  /** Biases of the input and output projections (default true). */
  bias?: boolean;
  /** Inputs are [batch, sequence, features] (default false: [sequence, batch, features], as PyTorch). */
  batchFirst?: boolean;
  /** Features of the keys (default embedDim). */
  kdim?: number;
  /** Features of the values (default embedDim). */
  vdim?: number;
  /** The generator for the initial weights (default: the global one). */
  generator?: Generator;
}

/** Options of a MultiheadAttention call, after query, key and value. */
export interface MultiheadAttentionForwardOptions {
  /** [L, S] or [N·numHeads, L, S]: float, added to the scores; int32, masks out where nonzero (PyTorch's bool). */
  attnMask?: Tensor | null;
  /** [N, S] (or [S] unbatched): float, added; int32, masks out the keys where nonzero (padding). */
  keyPaddingMask?: Tensor | null;
  /** Attend only to keys j ≤ i (default false). */
  isCausal?: boolean;
  /** Only false: the attention weights are never formed. */
  needWeights?: false;
}

/** The projections of a multi-head attention: in PyTorch's layout, as tensors (a module's parameters, or any). */
export interface MultiheadAttentionWeights {
  /** [3E, E], rows [q; k; v]; or null with separate q/k/v weights. */
  inProjWeight: Tensor | null;
  qProjWeight?: Tensor | null;
  kProjWeight?: Tensor | null;
  vProjWeight?: Tensor | null;
  inProjBias: Tensor | null;
  outProjWeight: Tensor;
  outProjBias: Tensor | null;
}

const API = 'MultiheadAttention';
const TENSOR_OR_NULL: Check = { what: 'a Tensor or null', ok: (v) => v === null || v instanceof Tensor };
const FORWARD_OPTIONS = {
  attnMask: TENSOR_OR_NULL, keyPaddingMask: TENSOR_OR_NULL, isCausal: boolean,
  needWeights: { what: 'false (the attention weights are never formed)', ok: (v: unknown) => v === false },
};
const FORWARD_UNSUPPORTED = {
  averageAttnWeights: 'the attention weights are never formed (needWeights is false)',
};

/**
 * Multi-head attention, PyTorch's nn.MultiheadAttention: `mha(query, key, value, options?)` projects the inputs,
 * attends per head with scaledDotProductAttention, and returns the output projection alone (no attention weights).
 * Inputs are [L, N, E] ([N, L, E] with batchFirst) or unbatched [L, E]. Parameters have PyTorch's names, so state
 * dicts cross over.
 */
export class MultiheadAttention extends Module {
  /** [3·embedDim, embedDim], rows [q; k; v] (when kdim = vdim = embedDim; else null). */
  in_proj_weight: Tensor | null = null;
  /** [embedDim, embedDim], when kdim or vdim differs from embedDim; else null. */
  q_proj_weight: Tensor | null = null;
  /** [embedDim, kdim], when kdim or vdim differs from embedDim; else null. */
  k_proj_weight: Tensor | null = null;
  /** [embedDim, vdim], when kdim or vdim differs from embedDim; else null. */
  v_proj_weight: Tensor | null = null;
  /** [3·embedDim], or null without bias. */
  in_proj_bias: Tensor | null;
  /** The output projection, embedDim → embedDim. */
  out_proj: Linear;
  /** embedDim / numHeads, the features per head. */
  readonly headDim: number;
  /** Whether inputs are [batch, sequence, features]. */
  readonly batchFirst: boolean;
  /** Features of the keys. */
  readonly kdim: number;
  /** Features of the values. */
  readonly vdim: number;

  /**
   * @param embedDim Features of the queries and the output, E.
   * @param numHeads Heads; must divide embedDim (an error otherwise).
   */
  constructor(readonly embedDim: number, readonly numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    checkValue(API, 'embedDim', embedDim, integer({ ge: 1 }));
    checkValue(API, 'numHeads', numHeads, integer({ ge: 1 }));
    checkOptions(API, options, {
      bias: boolean, batchFirst: boolean, kdim: integer({ ge: 1 }), vdim: integer({ ge: 1 }),
      generator: instanceOf(Generator),
    }, {
      dropout: 'dropout of the attention weights is not supported: the fused kernel never forms them',
      addBiasKv: 'extra key/value biases are not supported', addZeroAttn: 'a zero attention slot is not supported',
      device: 'parameters live on the current backend (see setBackend)',
      dtype: 'parameters are float32 on the backend they are made on',
    });
    if (embedDim % numHeads !== 0) {
      throw new Error(`${API}: embedDim ${embedDim} is not divisible by numHeads ${numHeads} (each head gets ` +
        'embedDim / numHeads features); choose a number of heads that divides it');
    }
    this.headDim = embedDim / numHeads;
    this.batchFirst = options.batchFirst ?? false;
    this.kdim = options.kdim ?? embedDim;
    this.vdim = options.vdim ?? embedDim;
    const generator = options.generator ?? globalGenerator;
    const weight = (rows: number, cols: number, name: string) =>
      parameter(xavierUniform(zeros([rows, cols]), { generator }), name);
    if (this.kdim === embedDim && this.vdim === embedDim) {
      this.in_proj_weight = weight(3 * embedDim, embedDim, 'in_proj_weight');
    } else {
      this.q_proj_weight = weight(embedDim, embedDim, 'q_proj_weight');
      this.k_proj_weight = weight(embedDim, this.kdim, 'k_proj_weight');
      this.v_proj_weight = weight(embedDim, this.vdim, 'v_proj_weight');
    }
    const bias = options.bias ?? true;
    this.in_proj_bias = bias ? parameter(zeros([3 * embedDim]), 'in_proj_bias') : null;
    this.out_proj = new Linear(embedDim, embedDim, { bias, generator });
    if (this.out_proj.bias) this.out_proj.bias.backend.write(this.out_proj.bias.buf, new Float32Array(embedDim));
  }

  forward(query: Tensor, key: Tensor, value: Tensor, options: MultiheadAttentionForwardOptions = {}): Tensor {
    return multiheadAttention(query, key, value, {
      inProjWeight: this.in_proj_weight, qProjWeight: this.q_proj_weight, kProjWeight: this.k_proj_weight,
      vProjWeight: this.v_proj_weight, inProjBias: this.in_proj_bias,
      outProjWeight: this.out_proj.weight, outProjBias: this.out_proj.bias,
    }, { numHeads: this.numHeads, batchFirst: this.batchFirst }, options);
  }

  protected override extraRepr(): string {
    const extra = [
      this.kdim !== this.embedDim ? `kdim=${this.kdim}` : '', this.vdim !== this.embedDim ? `vdim=${this.vdim}` : '',
      this.batchFirst ? 'batchFirst=true' : '', this.in_proj_bias ? '' : 'bias=false',
    ].filter(Boolean);
    return [`embedDim=${this.embedDim}`, `numHeads=${this.numHeads}`, ...extra].join(', ');
  }
}

// A module is callable with its forward's arguments.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface MultiheadAttention {
  (query: Tensor, key: Tensor, value: Tensor, options?: MultiheadAttentionForwardOptions): Tensor;
}

/**
 * Multi-head attention with the given projections (PyTorch's F.multi_head_attention_forward without dropout):
 * what MultiheadAttention.forward runs, for any tensors of one dtype (float64 on the ref backend too).
 */
export function multiheadAttention(query: Tensor, key: Tensor, value: Tensor, w: MultiheadAttentionWeights,
  layout: { numHeads: number; batchFirst: boolean }, options: MultiheadAttentionForwardOptions = {}): Tensor {
  checkTensor(API, 'query', query);
  checkTensor(API, 'key', key);
  checkTensor(API, 'value', value);
  checkOptions(`${API}.forward`, options, FORWARD_OPTIONS, FORWARD_UNSUPPORTED);
  const { numHeads, batchFirst } = layout;
  const E = w.outProjWeight.shape[0]!;
  const kdim = w.kProjWeight?.shape[1] ?? E, vdim = w.vProjWeight?.shape[1] ?? E;
  // Built only for a message: this runs on every forward.
  const shapes = () => `query ${fmt(query.shape)}, key ${fmt(key.shape)}, value ${fmt(value.shape)}`;
  const batched = query.rank === 3;
  const layoutName = batchFirst ? '[batch, sequence, features]' : '[sequence, batch, features]';
  if (!(query.rank === 2 || query.rank === 3) || key.rank !== query.rank || value.rank !== query.rank) {
    throw new Error(`${API}: query, key and value must all be 3-D (${layoutName}) or all 2-D (unbatched ` +
      `[sequence, features]), got ${shapes()}`);
  }
  for (const [name, t, dim] of [['query', query, E], ['key', key, kdim], ['value', value, vdim]] as const) {
    if (t.shape[t.rank - 1] !== dim) {
      throw new Error(`${API}: ${name} must have ${dim} features (its last dim), got ${shapes()}`);
    }
  }
  // As [N, length, features]: the batch first.
  const toBatchFirst = (t: Tensor) => (!batched ? reshape(t, [1, ...t.shape]) : batchFirst ? t : permute(t, [1, 0, 2]));
  const [q0, k0, v0] = [query, key, value].map(toBatchFirst) as [Tensor, Tensor, Tensor];
  const [N, L] = q0.shape as [number, number];
  const S = k0.shape[1]!;
  if (k0.shape[0] !== N || v0.shape[0] !== N || v0.shape[1] !== S) {
    throw new Error(`${API}: key and value must have the query's batch and the same length, got ${shapes()}` +
      (batched ? ` (${batchFirst ? 'batchFirst: ' : ''}${layoutName})` : ''));
  }
  const mask = combinedMask(options, N, numHeads, L, S, batched, query);
  const d = E / numHeads;
  if (w.inProjWeight && query === key && key === value && !mask) {
    // Self-attention without a mask: q, k and v straight out of one product (see packedSelfAttention).
    const out = packedSelfAttention(linear(q0, w.inProjWeight, w.inProjBias), numHeads, { causal: options.isCausal ?? false });
    const joined = batched && !batchFirst ? permute(out, [1, 0, 2]) : reshape(out, [...query.shape.slice(0, -1), E]);
    return linear(joined, w.outProjWeight, w.outProjBias);
  }
  const heads = (t: Tensor, length: number) => permute(reshape(t, [N, length, numHeads, d]), [0, 2, 1, 3]);
  let q: Tensor, k: Tensor, v: Tensor;
  const b = (i: number) => (w.inProjBias ? slice(w.inProjBias, [i * E], [E]) : null);
  if (w.inProjWeight && query === key && key === value) {
    // Self-attention with a mask: one product for q, k and v, split by a single copy into [3, N, heads, L, head dim].
    const qkv = permute(reshape(linear(q0, w.inProjWeight, w.inProjBias), [N, L, 3, numHeads, d]), [2, 0, 3, 1, 4]);
    [q, k, v] = [0, 1, 2].map((i) =>
      reshape(slice(qkv, [i, 0, 0, 0, 0], [1, N, numHeads, L, d]), [N, numHeads, L, d])) as [Tensor, Tensor, Tensor];
  } else {
    const weightOf = (i: number, separate: Tensor | null | undefined) =>
      separate ?? slice(w.inProjWeight!, [i * E, 0], [E, E]);
    q = heads(linear(q0, weightOf(0, w.qProjWeight), b(0)), L);
    k = heads(linear(k0, weightOf(1, w.kProjWeight), b(1)), S);
    v = heads(linear(v0, weightOf(2, w.vProjWeight), b(2)), S);
  }
  const attended = scaledDotProductAttention(q, k, v, { mask, causal: options.isCausal ?? false });
  // [N, heads, L, head dim] → the query's layout with the heads' features joined.
  const order = batched && !batchFirst ? [2, 0, 1, 3] : [0, 2, 1, 3];
  const joined = reshape(permute(attended, order), [...query.shape.slice(0, -1), E]);
  return linear(joined, w.outProjWeight, w.outProjBias);
}

/**
 * attnMask and keyPaddingMask as one mask broadcast to the scores [N, heads, L, S], or null: a lone float mask as
 * it is, int32 masks (nonzero masks out) as additive masks of 0 and −∞, two masks added.
 */
function combinedMask(o: MultiheadAttentionForwardOptions, N: number, H: number, L: number, S: number, batched: boolean,
  like: Tensor): Tensor | null {
  const { attnMask = null, keyPaddingMask = null } = o;
  for (const [name, m] of [['attnMask', attnMask], ['keyPaddingMask', keyPaddingMask]] as const) {
    if (m && m.backend !== like.backend) {
      throw new Error(`${API}: ${name} lives on another backend (${m.backend.name}) than the query ` +
        `(${like.backend.name}); make it on the query's backend`);
    }
  }
  const place = { dtype: like.dtype, backend: like.backend };
  // An int32 mask as −∞ where nonzero and 0 elsewhere, in the query's dtype: a where on the backend, no host read.
  const additive = (m: Tensor) => {
    if (m.dtype !== 'int32') return m;
    const temps = [cast(m, like.dtype), full([], -Infinity, place), full([], 0, place)] as const;
    try {
      return where(...temps);
    } finally {
      temps.forEach((t) => t.dispose());
    }
  };
  let attn: Tensor | null = null;
  if (attnMask) {
    const ok = sameShape(attnMask.shape, [L, S]) || sameShape(attnMask.shape, [N * H, L, S]);
    if (!ok) {
      throw new Error(`${API}: attnMask must be [L, S] = ${fmt([L, S])} or [batch·numHeads, L, S] = ` +
        `${fmt([N * H, L, S])}, got ${fmt(attnMask.shape)}`);
    }
    attn = attnMask.rank === 3 ? reshape(additive(attnMask), [N, H, L, S]) : additive(attnMask);
  }
  let padding: Tensor | null = null;
  if (keyPaddingMask) {
    const want = batched ? [N, S] : [S];
    if (!sameShape(keyPaddingMask.shape, want)) {
      throw new Error(`${API}: keyPaddingMask must be ${batched ? '[batch, S]' : '[S]'} = ${fmt(want)}, ` +
        `got ${fmt(keyPaddingMask.shape)}`);
    }
    padding = reshape(additive(keyPaddingMask), [N, 1, 1, S]);
  }
  if (attn && padding) return add(attn, padding);
  return attn ?? padding;
}
