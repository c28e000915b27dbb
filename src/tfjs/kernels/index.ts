// Every kernel the 'wasmgrad' TensorFlow.js backend runs natively (on wasmgrad's storage, never copied).
import type { KernelConfig } from '@tensorflow/tfjs-core';
import * as binary from './binary.js';
import { batchMatMulConfig, fusedMatMulConfig } from './BatchMatMul.js';
import { castConfig } from './Cast.js';
import { concatConfig } from './Concat.js';
import { cumsumConfig } from './Cumsum.js';
import { fillConfig, onesLikeConfig, zerosLikeConfig } from './Fill.js';
import { fusedBatchNormConfig } from './FusedBatchNorm.js';
import { gatherNdConfig } from './GatherNd.js';
import { gatherV2Config } from './GatherV2.js';
import { oneHotConfig } from './OneHot.js';
import * as reduce from './reduce.js';
import { padV2Config } from './PadV2.js';
import { packConfig, unpackConfig } from './Pack.js';
import { linSpaceConfig, rangeConfig } from './Range.js';
import { mirrorPadConfig } from './MirrorPad.js';
import { broadcastArgsConfig } from './BroadcastArgs.js';
import { expandDimsConfig, identityConfig, reshapeConfig } from './Reshape.js';
import { reverseConfig } from './Reverse.js';
import { selectConfig } from './Select.js';
import { sliceConfig } from './Slice.js';
import { softmaxConfig } from './Softmax.js';
import { batchToSpaceNDConfig, spaceToBatchNDConfig } from './SpaceToBatchND.js';
import { splitVConfig } from './SplitV.js';
import { stridedSliceConfig } from './StridedSlice.js';
import { tileConfig } from './Tile.js';
import { transposeConfig } from './Transpose.js';
import { avgPoolConfig, avgPoolGradConfig } from './AvgPool.js';
import { conv2DConfig, depthwiseConv2dNativeConfig } from './Conv2D.js';
import { conv2DBackpropFilterConfig, depthwiseConv2dNativeBackpropFilterConfig } from './Conv2DBackpropFilter.js';
import { conv2DBackpropInputConfig, depthwiseConv2dNativeBackpropInputConfig } from './Conv2DBackpropInput.js';
import { fusedConv2DConfig, fusedDepthwiseConv2DConfig } from './FusedConv2D.js';
import { maxPoolConfig, maxPoolGradConfig } from './MaxPool.js';
import * as unary from './unary.js';
import { unsortedSegmentSumConfig } from './UnsortedSegmentSum.js';

export const KERNELS: KernelConfig[] = [
  ...Object.values(binary).filter(isConfig),
  ...Object.values(unary).filter(isConfig),
  ...Object.values(reduce).filter(isConfig),
  batchMatMulConfig, fusedMatMulConfig,
  castConfig, concatConfig, fillConfig, onesLikeConfig, zerosLikeConfig, gatherV2Config, identityConfig, reshapeConfig,
  oneHotConfig, selectConfig, sliceConfig, softmaxConfig, transposeConfig,
  // shapes and indices: slices, stacks, tiles, pads, ranges, segment sums
  expandDimsConfig, packConfig, unpackConfig, padV2Config, rangeConfig, reverseConfig, splitVConfig, stridedSliceConfig,
  tileConfig, unsortedSegmentSumConfig, cumsumConfig, fusedBatchNormConfig, spaceToBatchNDConfig, batchToSpaceNDConfig,
  gatherNdConfig, linSpaceConfig, mirrorPadConfig, broadcastArgsConfig,
  // convolutions and pooling (NHWC, with tfjs's geometry: conv-layout.ts)
  conv2DConfig, conv2DBackpropInputConfig, conv2DBackpropFilterConfig, fusedConv2DConfig,
  depthwiseConv2dNativeConfig, depthwiseConv2dNativeBackpropInputConfig, depthwiseConv2dNativeBackpropFilterConfig,
  fusedDepthwiseConv2DConfig, maxPoolConfig, maxPoolGradConfig, avgPoolConfig, avgPoolGradConfig,
];

function isConfig(x: unknown): x is KernelConfig {
  return typeof x === 'object' && x !== null && 'kernelName' in x && 'kernelFunc' in x;
}
