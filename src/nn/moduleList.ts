// ModuleList: holds modules, named '0', '1', … as in PyTorch, so their parameters read 'layers.0.linear1.weight'
// when the list is a module's `layers`. It has no forward of its own: the owner calls its modules.
import type { Tensor } from '../autograd/tensor.js';
import { describe } from '../options.js';
import { Module } from './module.js';

/**
 * A list of modules named '0', '1', … (PyTorch's nn.ModuleList), so their parameters read 'layers.0.weight'. It has
 * no forward: the owner calls its modules.
 */
export class ModuleList extends Module {
  constructor(modules: Iterable<Module> = []) {
    super();
    if (modules === null || typeof (modules as Iterable<Module>)[Symbol.iterator] !== 'function') {
      throw new Error(`ModuleList: modules must be an array of Modules, got ${describe(modules)}`);
    }
    for (const m of modules) this.append(m);
  }

  /** The number of modules. */
  override get length(): number {
    return this.namedChildren().length;
  }

  /** Adds a module at the end, named by its index. */
  append(m: Module): this {
    if (!(m instanceof Module)) throw new Error(`ModuleList: item ${this.length} must be a Module, got ${describe(m)}`);
    (this as unknown as Record<string, Module>)[String(this.length)] = m;
    return this;
  }

  /** The module at index i (negative counts from the end); throws when there is none. */
  at(i: number): Module {
    const m = (this as unknown as Record<string, Module>)[String(i < 0 ? this.length + i : i)];
    if (!m) throw new Error(`ModuleList: no module at index ${i} (it has ${this.length})`);
    return m;
  }

  /** The modules in order. */
  *[Symbol.iterator](): Iterator<Module> {
    for (const [, m] of this.namedChildren()) yield m;
  }

  forward(..._inputs: unknown[]): Tensor {
    throw new Error('ModuleList: it has no forward; call its modules in turn (for (const m of list) x = m(x))');
  }
}
