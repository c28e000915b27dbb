// A Node is one operator of the computational graph, recorded when an op runs on inputs that require a
// gradient: which op, where each input's gradient goes (another node, or a leaf tensor's .grad), the tensors its
// backward rule needs (saved), and the rule itself. Nodes are reference counted — by the tensors they produced
// and by the nodes downstream of them — so a graph nobody can reach any more gives its saved memory back even if
// backward never runs.
import { Tensor } from './tensor.js';

/** Where an input's gradient goes: the node that produced the input, or the leaf tensor itself. */
export type Edge = { node: Node; leaf?: undefined } | { leaf: Tensor; node?: undefined };

/** The local derivative of an op, for explain(): a formula (e.g. "hᵀ", "φ′(z)") per input. */
export type LocalFormula = (inputNames: string[], outName: string) => string[];

/**
 * A backward rule: the upstream gradient, the saved tensors, the input tensor objects (for their shapes only:
 * they may have been disposed since) and which inputs need a gradient in; one gradient (or null) per input out.
 * Rules skip the work for inputs that need none (a first layer's input, labels).
 */
export type BackwardFn = (g: Tensor, saved: readonly Tensor[], inputs: readonly Tensor[], needs: readonly boolean[])
  => (Tensor | null)[];

let nextNodeId = 1;

export class Node {
  readonly id = nextNodeId++;
  /** Holders: tensors whose .node is this, and downstream nodes with an edge here. */
  private refs = 0;
  private saved: Tensor[] = [];
  /** Set once backward has passed this node without retainGraph (its saved tensors are gone). */
  freed = false;

  constructor(
    readonly op: string,
    /** One entry per input; null where the input needs no gradient. */
    readonly edges: (Edge | null)[],
    /** The input and output tensor objects, kept for their names and shapes (they may be disposed since). */
    readonly inputs: readonly Tensor[],
    readonly output: Tensor,
    readonly backwardFn: BackwardFn,
    readonly attrs: Readonly<Record<string, unknown>>,
    readonly local?: LocalFormula,
  ) {
    for (const e of edges) e?.node?.retain();
  }

  retain(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.freeSaved();
    for (const e of this.edges) e?.node?.release();
  }

  get savedTensors(): readonly Tensor[] {
    return this.saved;
  }

  /**
   * Takes the saved tensors: handles made by savedHandle(…, false), which only this node holds, so they are put
   * under the garbage collector's safety net together, for a graph dropped without backward.
   */
  setSaved(saved: Tensor[]): void {
    this.saved = saved;
    Tensor.watchTogether(this, saved);
  }

  /** Gives back the memory of the saved tensors (after backward, or when the graph becomes unreachable). */
  freeSaved(): void {
    if (this.saved.length > 0) Tensor.unwatchTogether(this);
    for (const t of this.saved) t.dispose();
    this.saved = [];
    this.freed = true;
  }
}
