// Entry points to backward propagation: Tensor.backward (PyTorch style, accumulating into leaves' .grad), and the
// functional forms grad / grads / valueAndGrad / valueAndGrads (TensorFlow.js and JAX style, returning gradients
// and leaving every .grad untouched). Functional gradients are themselves differentiable when their input
// already requires a gradient, which is how gradients of gradients are taken.
import * as K from '../kernels/index.js';
import { fmt } from '../kernels/shape.js';
import { boolean, checkOptions, describe, isPlainObject } from '../options.js';
import { runBackward, type BackwardOptions } from './backward.js';
import { checkAlive, checkTensor, tensorList } from './op.js';
import { currentScope, isGradEnabled, tidy, withGradMode } from './scope.js';
import { Tensor } from './tensor.js';

const BACKWARD_OPTIONS = { retainGraph: boolean, createGraph: boolean };
const NOT_IN_BACKWARD = { inputs: 'to differentiate with respect to chosen tensors, use gradients(y, xs) or grads(f)' };

/** The upstream gradient to start from: ones for a scalar output, else the caller's tensor (checked). */
function seedFor(y: Tensor, grad: Tensor | undefined, what: string): { seed: Tensor; own: boolean } {
  if (grad === undefined) {
    if (y.size !== 1) {
      throw new Error(`${what}: a gradient can only be implied for a scalar output; this output has shape ` +
        `${fmt(y.shape)}, so pass the upstream gradient (a tensor of that shape)`);
    }
    const buf = y.backend.alloc(y.dtype, 1);
    y.backend.write(buf, [1]);
    const seed = new Tensor(buf, y.shape);
    seed.moveToScope(null);
    return { seed, own: true };
  }
  checkTensor(what, 'the gradient', grad);
  checkAlive(what, [grad]);
  if (fmt(grad.shape) !== fmt(y.shape) || grad.dtype !== y.dtype) {
    throw new Error(`${what}: the gradient ${fmt(grad.shape)} ${grad.dtype} must match the output ${fmt(y.shape)} ${y.dtype}`);
  }
  return { seed: grad, own: false };
}

/**
 * Backward from y: accumulates ∂y/∂leaf into every leaf's .grad. The options may come first when there is no
 * upstream gradient, as PyTorch's keyword arguments read: y.backward({ retainGraph: true }).
 */
export function backward(y: Tensor, grad?: Tensor | BackwardOptions, options?: BackwardOptions): void {
  if (isPlainObject(grad) && options === undefined) [grad, options] = [undefined, grad];
  checkTensor('backward', 'the output', y);
  checkOptions('backward', options, BACKWARD_OPTIONS, NOT_IN_BACKWARD);
  checkAlive('backward', [y]);
  if (!y.requiresGrad) {
    throw new Error('backward: this tensor does not require a gradient: none of the tensors it was computed from ' +
      'has requiresGrad set (or it was computed inside noGrad)');
  }
  const { seed, own } = seedFor(y, grad as Tensor | undefined, 'backward');
  try {
    runBackward(y, seed, options ?? {});
  } finally {
    if (own) seed.dispose();
  }
}

/**
 * ∂y/∂x for each x in xs (like torch.autograd.grad): returned as new tensors, .grad untouched. Gradients that
 * no path reaches come back as zeros.
 */
export function gradients(y: Tensor, xs: readonly Tensor[], grad?: Tensor, options: BackwardOptions = {}): Tensor[] {
  checkTensor('gradients', 'y', y);
  xs = tensorList('gradients', 'xs', xs);
  checkOptions('gradients', options, BACKWARD_OPTIONS);
  checkAlive('gradients', [y, ...xs]);
  const { seed, own } = seedFor(y, grad, 'gradients');
  try {
    const found = y.requiresGrad ? runBackward(y, seed, { ...options, targets: xs }) : xs.map(() => null);
    // Results belong to the caller's scope, like the result of any op.
    return xs.map((x, i) => {
      const g = found[i] ?? zerosOf(x);
      g.moveToScope(currentScope());
      return g;
    });
  } finally {
    if (own) seed.dispose();
  }
}

function zerosOf(x: Tensor): Tensor {
  const z = K.empty(x.backend, x.dtype, x.shape);
  K.fill(z, 0);
  return new Tensor(z.buf, z.shape);
}

/** A function of tensors to a tensor, as grads() and valueAndGrads() differentiate it. */
export type Fn = (...xs: Tensor[]) => Tensor;

/**
 * Runs f on inputs that track gradients. An input that already requires a gradient is used as is and the
 * gradients are recorded (so they can be differentiated again); any other input is replaced by a leaf view.
 */
function traced(f: Fn, xs: readonly Tensor[], dy: Tensor | undefined, what: string): { value: Tensor; grads: Tensor[] } {
  checkAlive(what, xs);
  const higherOrder = isGradEnabled() && xs.some((x) => x.requiresGrad);
  return tidy(() => {
    const inputs = xs.map((x) => (x.requiresGrad ? x : x.detach().requiresGrad_()));
    const value = withGradMode(true, () => f(...inputs), what);
    if (!(value instanceof Tensor)) throw new Error(`${what}: the function must return a Tensor`);
    const grads = gradients(value, inputs, dy, { createGraph: higherOrder });
    return { value, grads };
  });
}

/** grad(f)(x): the gradient of f at x (f returns a scalar, or pass dy). */
export function grad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => Tensor {
  checkFunction('grad', f);
  return (x, dy) => {
    checkTensor('grad', 'the input', x);
    const { value, grads } = traced(f as Fn, [x], dy, 'grad');
    value.dispose();
    return grads[0]!;
  };
}

/** grads(f)(xs): the gradient of f with respect to each of its inputs. */
export function grads(f: Fn): (xs: readonly Tensor[], dy?: Tensor) => Tensor[] {
  checkFunction('grads', f);
  return (xs, dy) => {
    const { value, grads: gs } = traced(f, tensorList('grads', 'xs', xs), dy, 'grads');
    value.dispose();
    return gs;
  };
}

/** valueAndGrad(f)(x): f(x) and its gradient, from one forward pass. */
export function valueAndGrad(f: (x: Tensor) => Tensor): (x: Tensor, dy?: Tensor) => {
  /** f(x). */
  value: Tensor;
  /** The gradient of f at x (times dy when given). */
  grad: Tensor;
} {
  checkFunction('valueAndGrad', f);
  return (x, dy) => {
    checkTensor('valueAndGrad', 'the input', x);
    const { value, grads: gs } = traced(f as Fn, [x], dy, 'valueAndGrad');
    return { value, grad: gs[0]! };
  };
}

/** valueAndGrads(f)(xs): f(...xs) and its gradient with respect to each input. */
export function valueAndGrads(f: Fn): (xs: readonly Tensor[], dy?: Tensor) => {
  /** f(...xs). */
  value: Tensor;
  /** The gradient with respect to each input, in order. */
  grads: Tensor[];
} {
  checkFunction('valueAndGrads', f);
  return (xs, dy) => traced(f, tensorList('valueAndGrads', 'xs', xs), dy, 'valueAndGrads');
}

function checkFunction(api: string, f: unknown): void {
  if (typeof f !== 'function') throw new Error(`${api}: expected a function, got ${describe(f)}`);
}
