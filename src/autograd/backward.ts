// Backward propagation, as the seed describes it: start from ∂J/∂J = 1 at the output, visit the operator nodes in
// reverse topological order, multiply each node's upstream gradient by its local derivative (its backward rule),
// and hand the results to its inputs — summing where a tensor feeds several ops (the seed's "+" node hands one
// copy to each input). Leaves that require a gradient accumulate it in .grad across calls until zeroed.
//
// Every gradient in flight is a distinct tensor object owned by this pass and outside every scope; it is
// disposed as soon as it has been handed on, so peak memory stays near one layer's gradients. The pass disposes
// every one on every path, so none is put under the garbage collector's safety net until it becomes a leaf's
// .grad or a result.
import { tracing } from '../compile/trace.js';
import * as K from '../kernels/index.js';
import { fmt, sameShape } from '../kernels/shape.js';
import type { Node } from './node.js';
import { assertFinite } from './op.js';
import { engine, tidy, withGradMode } from './scope.js';
import type { Tensor } from './tensor.js';

/** Options of backward() and Tensor.backward() (PyTorch's retain_graph, create_graph). */
export interface BackwardOptions {
  /** Keep the saved tensors so backward can run through this graph again (default false). */
  retainGraph?: boolean;
  /** Record the backward pass itself, for higher-order gradients (implies retainGraph). */
  createGraph?: boolean;
}

/** What one node did during backward, for explain(). Tensors are only valid during the callback. */
export interface BackwardStep {
  node: Node;
  upstream: Tensor;
  grads: (Tensor | null)[];
}

/**
 * Nodes reachable from root, each before every node that produced one of its inputs. Inputs are explored last
 * to first, so the first input's branch comes first in the result (J = L + s visits the loss before the penalty,
 * in the order the seed's table reads).
 */
export function reverseTopological(root: Node): Node[] {
  const order: Node[] = [];
  const seen = new Set<Node>([root]);
  const stack: [Node, number][] = [[root, root.edges.length - 1]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, i] = top;
    if (i >= 0) {
      top[1]--;
      const next = node.edges[i]?.node;
      if (next && !seen.has(next)) {
        seen.add(next);
        stack.push([next, next.edges.length - 1]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order.reverse();
}

// The engine needs a few ops itself (set by src/ops/index.ts, which imports the engine).
export interface EngineOps {
  add(a: Tensor, b: Tensor): Tensor;
  /** A differentiable copy into fresh storage. */
  copy(a: Tensor): Tensor;
  /** A new tensor object on the same storage (recorded as an identity op when a graph is being built). */
  alias(a: Tensor): Tensor;
}
let ops: EngineOps;
export function setEngineOps(o: EngineOps): void {
  ops = o;
}

export interface BackwardRun extends BackwardOptions {
  /** Shown every node's gradients (explain()); tensors are only valid during the call. */
  onStep?: (step: BackwardStep) => void;
  /**
   * Collect the gradients of these tensors and return them, leaving every leaf's .grad untouched
   * (the functional grad()). Without targets, leaves accumulate into .grad.
   */
  targets?: readonly Tensor[];
}

/**
 * Runs backward from `root` with upstream gradient `seed` (root's shape; the caller keeps ownership of it).
 * Returns the targets' gradients (null where none reached a target), or [] without targets.
 */
export function runBackward(root: Tensor, seed: Tensor, run: BackwardRun = {}): (Tensor | null)[] {
  const { onStep, targets } = run;
  const createGraph = run.createGraph ?? false;
  const retain = run.retainGraph ?? createGraph;
  const found = new Map<Tensor, Tensor>();
  const collect = targets !== undefined || onStep !== undefined;
  const toLeaf = (leaf: Tensor, g: Tensor) => {
    if (!collect) accumulateLeaf(leaf, g, createGraph);
    else if (targets?.includes(leaf)) collectInto(found, leaf, g, createGraph);
    else g.dispose();
  };
  const unique = [...new Set(targets)];
  // A target listed twice gets two tensors (an alias for the second), so the caller may dispose each one.
  const result = () => {
    const given = new Set<Tensor>();
    return (targets ?? []).map((t) => {
      const g = found.get(t);
      if (!g) return null;
      if (given.has(g)) return withGradMode(createGraph, () => ops.alias(g));
      given.add(g);
      return g;
    });
  };
  if (!root.node) {
    toLeaf(root.gradLeaf, withGradMode(createGraph, () => ops.alias(seed)));
    return result();
  }
  const pending = new Map<Node, Tensor>([[root.node, seed]]);
  try {
    for (const node of reverseTopological(root.node)) {
      const upstream = pending.get(node);
      if (!upstream) continue;
      for (const t of unique) {
        if (t.node === node) collectInto(found, t, withGradMode(createGraph, () => ops.alias(upstream)), createGraph);
      }
      if (node.freed) {
        throw new Error(`backward: the graph through op '${node.op}' was already freed by an earlier backward; ` +
          'pass { retainGraph: true } to the first backward() to run it twice');
      }
      const grads = nodeGradients(node, upstream, createGraph);
      // The gradients not handed on yet: disposed if handing one on fails (out of memory while summing).
      const rest = new Set(grads.filter((g) => g !== null));
      try {
        onStep?.({ node, upstream, grads });
        grads.forEach((g, i) => {
          const edge = node.edges[i];
          if (!g) return;
          rest.delete(g);
          if (!edge) g.dispose();
          else if (edge.leaf) toLeaf(edge.leaf, g);
          else {
            const acc = pending.get(edge.node);
            pending.set(edge.node, acc ? sum(acc, g, createGraph) : g);
          }
        });
      } finally {
        for (const g of rest) g.dispose();
      }
      if (!retain) node.freeSaved();
      pending.delete(node);
      if (upstream !== seed) upstream.dispose();
    }
  } catch (e) {
    for (const g of found.values()) g.dispose();
    throw e;
  } finally {
    for (const g of pending.values()) if (g !== seed && !g.isDisposed) g.dispose();
  }
  return result();
}

function collectInto(found: Map<Tensor, Tensor>, target: Tensor, g: Tensor, createGraph: boolean): void {
  const acc = found.get(target);
  found.set(target, acc ? sum(acc, g, createGraph) : g);
}

/** Runs one node's rule; every returned gradient becomes a distinct tensor object outside every scope. */
function nodeGradients(node: Node, upstream: Tensor, createGraph: boolean): (Tensor | null)[] {
  // The ops inside a rule are not checked one by one: a NaN there is reported as this node's backward.
  const checking = engine.checkNumerics;
  engine.checkNumerics = false;
  let grads: (Tensor | null)[];
  try {
    grads = withGradMode(createGraph, () => tidy(() =>
      node.backwardFn(upstream, node.savedTensors, node.inputs, node.edges.map((e) => e !== null))));
  } finally {
    engine.checkNumerics = checking;
  }
  const taken = new Set<Tensor>([upstream, ...node.inputs, ...node.savedTensors]);
  return grads.map((g, i) => {
    if (!g) return null;
    const want = node.inputs[i]!.shape;
    if (!sameShape(g.shape, want)) {
      throw new Error(`backward: op '${node.op}' returned a gradient of shape ${fmt(g.shape)} for its input ${i}, ` +
        `which has shape ${fmt(want)} (a bug in the op's backward rule)`);
    }
    if (engine.checkNumerics) assertFinite(node.op, g, `gradient for input ${i} (backward)`);
    const own = taken.has(g) ? withGradMode(createGraph, () => ops.alias(g)) : g;
    taken.add(own);
    own.unscope();
    return own;
  });
}

/**
 * acc + g; in place when nothing else shares acc's storage and no graph is being recorded. Consumes both; if it
 * fails (out of memory), it still consumes g, and acc stays with its holder.
 */
function sum(acc: Tensor, g: Tensor, createGraph: boolean): Tensor {
  return consuming(g, () => {
    if (!createGraph && acc.ownsStorage()) {
      K.axpy(1, g, acc);
      g.dispose();
      return acc;
    }
    const out = withGradMode(createGraph, () => ops.add(acc, g));
    out.unscope();
    acc.dispose();
    g.dispose();
    return out;
  });
}

/** leaf.grad += g (consumes g, also when it fails: then leaf.grad is as it was). */
function accumulateLeaf(leaf: Tensor, g: Tensor, createGraph: boolean): void {
  if (leaf.isDisposed) {
    g.dispose();
    return;
  }
  consuming(g, () => {
    const old = leaf.grad;
    if (!old) {
      // Take g itself unless it shares storage that a later in-place accumulation could write through.
      leaf.grad = createGraph || g.ownsStorage() ? g : ops.copy(g);
    } else if (createGraph) {
      leaf.grad = withGradMode(true, () => ops.add(old, g));
      old.dispose();
    } else {
      K.axpy(1, g, old);
    }
    const now = leaf.grad!;
    now.moveToScope(null);
    if (now !== g) g.dispose();
    tracing.active?.gradient(leaf, now, now === old);
  });
}

/** Runs fn, which disposes g or hands it on; if fn throws before that, g is disposed, since nothing holds it. */
function consuming<T>(g: Tensor, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!g.isDisposed) g.dispose();
    throw e;
  }
}
