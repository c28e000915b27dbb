// ONNX nodes of the transformer layers: Embedding (Gather), LayerNorm (LayerNormalization, opset 17), RMSNorm
// (decomposed: ONNX has no RMSNormalization before opset 23), MultiheadAttention as self-attention (query = key =
// value, the only way it runs inside a model), TransformerEncoderLayer, and the CLI's GPT with its causal blocks.
import { Embedding } from '../../nn/embedding.js';
import { MultiheadAttention } from '../../nn/attention.js';
import { LayerNorm, RMSNorm } from '../../nn/normalization.js';
import { TransformerEncoderLayer } from '../../nn/transformer.js';
import { Block, GPT } from '../../train/gpt.js';
import { join, layerName, showShape } from '../common.js';
import { entry, OnnxGraph, type Value } from './graph.js';
import { geluNodes, linearNodes, unary } from './mlp.js';

function layerNormNodes(g: OnnxGraph, m: LayerNorm, x: Value, path: string): Value {
  g.probe(m, x, path); // checks the trailing dims
  const shape = m.normalizedShape;
  const size = shape.reduce((a, b) => a * b, 1);
  const scale = m.weight ? g.param(join(path, 'weight'), m.weight) : g.floats(new Float32Array(size).fill(1), shape, path);
  const inputs = [x.name, scale, ...(m.bias ? [g.param(join(path, 'bias'), m.bias)] : [])];
  return OnnxGraph.with(x, g.op('LayerNormalization', inputs, { axis: -shape.length, epsilon: { float: m.eps } }, path));
}

/** x / √(mean(x²) + eps) · weight over the trailing normalizedShape; eps null is float32's machine epsilon, 2⁻²³. */
function rmsNormNodes(g: OnnxGraph, m: RMSNorm, x: Value, path: string): Value {
  g.probe(m, x, path);
  const axes = m.normalizedShape.map((_, i) => i - m.normalizedShape.length);
  const square = g.op('Mul', [x.name, x.name], {}, path);
  // ReduceMean takes its axes as an attribute up to opset 17, as an input from 18 on.
  const meanSquare = g.opset < 18
    ? g.op('ReduceMean', [square], { axes, keepdims: 1 }, path)
    : g.op('ReduceMean', [square, g.ints(axes, undefined, path)], { keepdims: 1 }, path);
  const eps = g.floats([m.eps ?? 2 ** -23], [], path);
  const rms = g.op('Sqrt', [g.op('Add', [meanSquare, eps], {}, path)], {}, path);
  const normed = g.op('Div', [x.name, rms], {}, path);
  return OnnxGraph.with(x, m.weight ? g.op('Mul', [normed, g.param(join(path, 'weight'), m.weight)], {}, path) : normed);
}

function embeddingNodes(g: OnnxGraph, m: Embedding, ids: Value, path: string): Value {
  const shape = g.probe(m, ids, path);
  return { name: g.op('Gather', [g.param(join(path, 'weight'), m.weight), ids.name], { axis: 0 }, path), dtype: 'float32', shape };
}

/**
 * Self-attention as wasmgrad's multiheadAttention computes it: one projection to q, k and v, split into heads,
 * softmax(q·kᵀ / √d (+ the causal mask)) · v, the heads joined and projected by out_proj. Reshapes copy the batch
 * and sequence dims (0), so the batch stays dynamic.
 */
function attentionNodes(g: OnnxGraph, m: MultiheadAttention, x: Value, path: string, causal: boolean): Value {
  if (!m.in_proj_weight) {
    throw new Error(`toOnnx: ${layerName(m, path)} has separate key and value sizes (kdim, vdim), so it cannot ` +
      'attend to its own input, the only way the exporter calls it');
  }
  const E = m.embedDim, H = m.numHeads, d = m.headDim;
  if (x.shape.length !== 3 || x.shape[2] !== E) {
    throw new Error(`toOnnx: ${layerName(m, path)} takes ${m.batchFirst ? '[batch, sequence' : '[sequence, batch'}, ` +
      `${E}] inputs, got ${showShape(x.shape)} (the shapes follow from inputShape, the shape of one sample)`);
  }
  const L = x.shape[m.batchFirst ? 1 : 0]!;
  const swap01 = (name: string) => g.op('Transpose', [name], { perm: [1, 0, 2] }, path);
  const input = m.batchFirst ? x.name : swap01(x.name); // [N, L, E]
  const projected = linearNodes(g, { ...x, name: input }, m.in_proj_weight, m.in_proj_bias,
    { weight: join(path, 'in_proj_weight'), bias: join(path, 'in_proj_bias') }, path);
  const qkv = g.op('Transpose', [g.op('Reshape', [projected.name, g.ints([0, 0, 3, H, d], undefined, path)], {}, path)],
    { perm: [2, 0, 3, 1, 4] }, path); // [3, N, H, L, d]
  const [q, k, v] = [0, 1, 2].map((i) => g.op('Gather', [qkv, g.ints([i], [], path)], { axis: 0 }, path)) as [string, string, string];
  const kT = g.op('Transpose', [k], { perm: [0, 1, 3, 2] }, path);
  let scores = g.op('Mul', [g.op('MatMul', [q, kT], {}, path), g.floats([1 / Math.sqrt(d)], [], path)], {}, path);
  if (causal) {
    if (typeof L !== 'number') throw new Error(`toOnnx: ${layerName(m, path)} needs a fixed sequence length for its causal mask`);
    const mask = new Float32Array(L * L);
    for (let i = 0; i < L; i++) mask.fill(-Infinity, i * L + i + 1, (i + 1) * L); // key j > query i is masked out
    scores = g.op('Add', [scores, g.floats(mask, [L, L], path)], {}, path);
  }
  const attended = g.op('MatMul', [g.op('Softmax', [scores], { axis: -1 }, path), v], {}, path); // [N, H, L, d]
  const joined = g.op('Reshape', [g.op('Transpose', [attended], { perm: [0, 2, 1, 3] }, path), g.ints([0, 0, E], undefined, path)], {}, path);
  const back = m.batchFirst ? joined : swap01(joined);
  return linearNodes(g, { ...x, name: back }, m.out_proj.weight, m.out_proj.bias,
    { weight: join(path, 'out_proj.weight'), bias: join(path, 'out_proj.bias') }, join(path, 'out_proj'));
}

const add = (g: OnnxGraph, a: Value, b: Value, path: string): Value => OnnxGraph.with(a, g.op('Add', [a.name, b.name], {}, path));

/** PyTorch's TransformerEncoderLayer in eval mode (no masks): post-norm by default, pre-norm with normFirst. */
function encoderLayerNodes(g: OnnxGraph, m: TransformerEncoderLayer, x: Value, path: string): Value {
  const sub = (name: 'linear1' | 'linear2' | 'norm1' | 'norm2', v: Value) => g.emit(m[name], v, join(path, name));
  const selfAttention = (v: Value) => attentionNodes(g, m.self_attn, v, join(path, 'self_attn'), false);
  const feedForward = (v: Value) => {
    const hidden = sub('linear1', v);
    return sub('linear2', m.activation === 'gelu' ? geluNodes(g, hidden, path) : unary(g, 'Relu', hidden, path));
  };
  if (m.normFirst) {
    const h = add(g, x, selfAttention(sub('norm1', x)), path);
    return add(g, h, feedForward(sub('norm2', h)), path);
  }
  const h = sub('norm1', add(g, x, selfAttention(x), path));
  return sub('norm2', add(g, h, feedForward(h), path));
}

/** The GPT's pre-LN block: x + attn(ln1(x)) with the causal mask, then x + fc2(gelu(fc1(ln2(x)))). */
function blockNodes(g: OnnxGraph, m: Block, x: Value, path: string): Value {
  const sub = (name: 'ln1' | 'ln2' | 'fc1' | 'fc2', v: Value) => g.emit(m[name], v, join(path, name));
  const a = add(g, x, attentionNodes(g, m.attn, sub('ln1', x), join(path, 'attn'), true), path);
  return add(g, a, sub('fc2', geluNodes(g, sub('fc1', sub('ln2', a)), path)), path);
}

/** Token ids [batch, time] → logits [batch, time, vocabulary]; the positions 0 … time − 1 are a constant. */
function gptNodes(g: OnnxGraph, m: GPT, ids: Value, path: string): Value {
  const time = ids.shape[1];
  if (ids.shape.length !== 2 || typeof time !== 'number' || time > m.config.context) {
    throw new Error(`toOnnx: ${layerName(m, path)} reads [batch, time] token ids with time at most its context ` +
      `${m.config.context}, got ${showShape(ids.shape)}; give inputShape [time]`);
  }
  const tokens = g.emit(m.tok, ids, join(path, 'tok'));
  const positions = { name: g.ints(Array.from({ length: time }, (_, i) => i), [time], path), dtype: 'int64', shape: [time] } as const;
  let x = add(g, tokens, g.emit(m.pos, { ...positions, shape: [...positions.shape] }, join(path, 'pos')), path);
  m.blocks.forEach((block, i) => { x = g.emit(block, x, join(path, `blocks.${i}`)); });
  return g.emit(m.head, g.emit(m.ln, x, join(path, 'ln')), join(path, 'head'));
}

/** The table entries of the transformer layers and the CLI's GPT. */
export const TRANSFORMER_LAYERS = [
  entry(Embedding, embeddingNodes),
  entry(LayerNorm, layerNormNodes),
  entry(RMSNorm, rmsNormNodes),
  entry(MultiheadAttention, (g, m, x, path) => attentionNodes(g, m, x, path, false)),
  entry(TransformerEncoderLayer, encoderLayerNodes),
  entry(Block, blockNodes),
  entry(GPT, gptNodes),
];
