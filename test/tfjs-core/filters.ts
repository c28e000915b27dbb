// The include/exclude list for TensorFlow.js's own test suite (tfjs-core's dist/**/*_test.js) on the 'wasmgrad'
// backend. Every spec of every describeWithFlags block runs, except those that need a kernel wasmgrad neither
// runs natively nor lists as a fallback (the runner finds them from the kernels each spec runs on tfjs-backend-cpu,
// and counts them per kernel), and those excluded below, each with its reason. The runner (run.mjs) fails when
// an included spec fails, when a kernel wasmgrad registers natively has no block below, when a block below does
// not dispatch its kernel, and when an exclusion matches nothing.
import type { TestFilter } from '@tensorflow/tfjs-core/dist/jasmine_util.js';

export interface Exclusion {
  /** The describe block, as tfjs-core names it (the spec name up to the test environment). */
  block: string;
  /** A substring of the specs' full names (tfjs's TestFilter `excludes`); absent: the whole block. */
  spec?: string;
  reason: string;
}

/**
 * For each kernel wasmgrad registers natively (src/tfjs/kernels/), tfjs-core's describe blocks that test it: each
 * must run and pass (spec-level exclusions below aside), and dispatch the kernel. Many other blocks run the same
 * kernels (gradients, losses, optimizers, ...) and run too; these are the kernel's own.
 */
export const KERNEL_BLOCKS: Record<string, readonly string[]> = {
  // binary.ts
  Add: ['add'], Sub: ['sub'], Multiply: ['mul'], RealDiv: ['div'], Maximum: ['maximum'], Minimum: ['minimum'],
  Pow: ['pow'], SquaredDifference: ['squaredDifference'], FloorDiv: ['floorDiv', 'div'], Prelu: ['prelu'], AddN: ['addN'],
  Equal: ['equal'], NotEqual: ['notEqual'], Greater: ['greater'], GreaterEqual: ['greaterEqual'], Less: ['less'],
  LessEqual: ['lessEqual'],
  LogicalAnd: ['logicalAnd', 'logicalXor'], LogicalOr: ['logicalOr', 'logicalXor'], LogicalNot: ['logicalNot', 'logicalXor'],
  // unary.ts
  Abs: ['abs'], ClipByValue: ['clipByValue'], Cos: ['cos'], Exp: ['exp'], Floor: ['floor'], LeakyRelu: ['leakyrelu'], Log: ['log'],
  Neg: ['neg'], Reciprocal: ['reciprocal'], Relu: ['relu'], Relu6: ['relu6'], Rsqrt: ['rsqrt'], Sigmoid: ['sigmoid'],
  Sign: ['sign'], Sin: ['sin'], Softplus: ['softplus'], Sqrt: ['sqrt'], Square: ['square'], Step: ['step kernel'],
  Tanh: ['tanh'], Elu: ['elu'], EluGrad: ['elu'], Ceil: ['ceil'], Selu: ['selu'], IsNan: ['isNaN'], IsInf: ['isInf'],
  IsFinite: ['isFinite'], Cosh: ['cosh'], Sinh: ['sinh'], Log1p: ['log1p'], Round: ['round'], Expm1: ['expm1'],
  // reduce.ts
  ArgMax: ['argmax'], ArgMin: ['argmin'], Max: ['max'], Mean: ['mean'], Min: ['min'], Sum: ['sum'], All: ['all'],
  Any: ['any'],
  // one kernel each
  BatchMatMul: ['matmul', 'matmulBatch', 'dot'],
  _FusedMatMul: ['fused matmul'],
  Cast: ['tensor'], // tfjs-core tests cast (tensor.asType, tf.cast) in tensor_test
  Concat: ['concat1d', 'concat2d', 'concat3d'],
  Fill: ['fill'], OnesLike: ['onesLike'], ZerosLike: ['zerosLike'],
  GatherV2: ['gather'],
  Identity: ['clone'],
  OneHot: ['oneHot'],
  Reshape: ['tensor'], // tensor.reshape and tf.reshape are tested in tensor_test
  Select: ['where'],
  Slice: ['slice1d', 'slice2d', 'slice3d', 'slice4d', 'slice '],
  Softmax: ['softmax'],
  Transpose: ['transpose'],
  // shapes and indices
  ExpandDims: ['expandDims'],
  Pack: ['stack'], Unpack: ['unstack'],
  PadV2: ['pad 1d', 'pad 2d', 'pad 3d', 'pad 4d', 'pad'],
  Range: ['range'],
  Reverse: ['reverse1d', 'reverse2d', 'reverse3d', 'reverse4d', 'reverse'],
  SplitV: ['split'],
  StridedSlice: ['stridedSlice'],
  Tile: ['tile'],
  UnsortedSegmentSum: ['unsortedSegmentSum', 'gather'],
  Cumsum: ['cumsum'],
  GatherNd: ['gatherND'],
  LinSpace: ['linspace'],
  MirrorPad: ['mirrorPad'],
  BroadcastArgs: ['broadcastArgs'],
  FusedBatchNorm: ['batchNorm2D', 'batchNorm3D', 'batchNorm4D'],
  SpaceToBatchND: ['spaceToBatchND', 'batchToSpaceND X spaceToBatchND'],
  BatchToSpaceND: ['batchToSpaceND', 'batchToSpaceND X spaceToBatchND'],
  // convolutions and pooling (tfconv): the forward kernels, and the gradient kernels the blocks' gradient specs call
  Conv2D: ['conv2d', 'conv1d', 'separableConv2d'],
  Conv2DBackpropInput: ['conv2dTranspose', 'conv2d'],
  Conv2DBackpropFilter: ['conv2d', 'conv1d'],
  FusedConv2D: ['fused conv2d'],
  DepthwiseConv2dNative: ['depthwiseConv2D'],
  DepthwiseConv2dNativeBackpropInput: ['depthwiseConv2d gradients'],
  DepthwiseConv2dNativeBackpropFilter: ['depthwiseConv2d gradients'],
  FusedDepthwiseConv2D: ['fused depthwiseConv2D'],
  MaxPool: ['maxPool', 'pool'],
  MaxPoolGrad: ['maxPoolBackprop', 'poolBackprop'],
  AvgPool: ['avgPool', 'pool'],
  AvgPoolGrad: ['avgPool'],
};

export const EXCLUDES: readonly Exclusion[] = [
  { block: 'conv2dTranspose', spec: 'input=8x8x8,output=4x4x8,f=8,s=1,inDepth=8,p=same vec4',
    reason: 'asks for outputShape [1,4,4,8] from an [1,8,8,8] input, which no stride-1 "same" convolution of ' +
      '[1,4,4,8] produces; tfjs-backend-cpu computes some values anyway, wasmgrad refuses with an error naming ' +
      'Conv2DBackpropInput (test/bad-input/tfjs-conv.test.ts)' },
];

/** A list of exclusions as tfjs's setupTestFilters takes it: the blocks with exclusions first, then every other block. */
export function testFilters(envName: string, list: readonly Exclusion[]): TestFilter[] {
  const byBlock = new Map<string, string[]>();
  for (const e of list) {
    const prefix = `${e.block} ${envName} `;
    byBlock.set(e.block, [...byBlock.get(e.block) ?? [], e.spec ?? prefix]);
  }
  return [...[...byBlock].map(([block, excludes]) => ({ startsWith: `${block} ${envName} `, excludes })),
    { include: ` ${envName} ` }];
}
