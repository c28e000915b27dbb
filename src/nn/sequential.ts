// Sequential: runs its modules in order; they are named '0', '1', … as in PyTorch, so parameters read
// '0.weight', '2.bias'.
import type { Tensor } from '../autograd/tensor.js';
import { describe } from '../options.js';
import { Module } from './module.js';

/**
 * Runs its modules in order, each on the previous one's output (PyTorch's nn.Sequential); they are named '0', '1', …,
 * so parameters read '0.weight'.
 */
export class Sequential extends Module {
  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) {
        throw new Error(`Sequential: argument ${i} must be a Module, got ${describe(m)}` +
          (Array.isArray(m) ? '; pass the modules as separate arguments, new Sequential(a, b, …)' : ''));
      }
      (this as unknown as Record<string, Module>)[String(i)] = m;
    });
  }

  /** The number of modules. */
  override get length(): number {
    return this.namedChildren().length;
  }

  /** The module at index i (negative counts from the end); throws when there is none. */
  at(i: number): Module {
    const m = (this as unknown as Record<string, Module>)[String(i < 0 ? this.length + i : i)];
    if (!m) throw new Error(`Sequential: no module at index ${i} (it has ${this.length})`);
    return m;
  }

  forward(x: Tensor): Tensor {
    let out = x;
    for (const [, m] of this.namedChildren()) out = m(out);
    return out;
  }
}
