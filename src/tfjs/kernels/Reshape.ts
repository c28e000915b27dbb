// Reshape, Identity and ExpandDims share their input's storage: a new shape over the same dataId, one more reference.
import { ExpandDims, Identity, Reshape, util, type TensorInfo } from '@tensorflow/tfjs-core';
import { kernel, type KernelArgs } from './util.js';

/** The same data under another shape: the backend counts one more reference to it. */
export function share(x: TensorInfo, shape: number[], { backend }: Pick<KernelArgs, 'backend'>): TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

export const reshapeConfig = kernel(Reshape, (args) => {
  const x = args.inputs.x!;
  const shape = util.inferFromImplicitShape([...(args.attrs.shape as number[])], util.sizeFromShape(x.shape));
  if (util.sizeFromShape(shape) !== util.sizeFromShape(x.shape)) {
    throw new Error(`Reshape: cannot reshape [${x.shape.join(',')}] (${util.sizeFromShape(x.shape)} elements) to [${shape.join(',')}]`);
  }
  return share(x, shape, args);
});

export const identityConfig = kernel(Identity, (args) => share(args.inputs.x!, args.inputs.x!.shape, args));

/** A new axis of size 1 at dim (negative: counted from the end of the new shape). */
export const expandDimsConfig = kernel(ExpandDims, (args) => {
  const x = args.inputs.input!;
  const rank = x.shape.length;
  const dim = args.attrs.dim as number;
  util.assert(dim >= -(rank + 1) && dim <= rank, () => `Axis must be in the interval [${-(rank + 1)}, ${rank}]`);
  const at = dim < 0 ? rank + dim + 1 : dim;
  return share(x, [...x.shape.slice(0, at), 1, ...x.shape.slice(at)], args);
});
