// The computational graph as data, drawn the way the seed draws it: tensors are white boxes (x, z, h, o, L, s,
// J, y), trainable parameters blue boxes (W1, W2), operators light-blue circles (× matmul, φ activation,
// ℓ₂ regulariser, + sum, l loss). Exported as DOT, Mermaid, or SVG rendered by Graphviz compiled to WebAssembly.
import { describe } from '../options.js';
import type { Node } from './node.js';
import { Tensor } from './tensor.js';

/**
 * What a graph node is, as the seed draws them: a tensor (white box), a trainable parameter (blue box) or an operator
 * (circle).
 */
export type GraphNodeKind = 'tensor' | 'parameter' | 'operator';

/** A node of graphOf()'s graph. */
export interface GraphNode {
  /** Unique within the graph. */
  id: string;
  /** Tensor, parameter or operator. */
  kind: GraphNodeKind;
  /** What the figure shows: a tensor's name (or t<id>), or an operator's symbol. */
  label: string;
  /** Tensor shape (tensors and parameters). */
  shape?: readonly number[];
  /** Operator name as in the API ('matmul', 'relu', …). */
  op?: string;
  /** The operator's attributes (axes, options), when it has any. */
  attrs?: Readonly<Record<string, unknown>>;
}

/** An edge of graphOf()'s graph, in the direction data flows. */
export interface GraphEdge {
  /** The id of the node the data comes from. */
  from: string;
  /** The id of the node it goes to. */
  to: string;
}

/** A computational graph as data (graphOf): draw it with toDot, toMermaid or toSvg. */
export interface Graph {
  /** Tensors, parameters and operators. */
  nodes: GraphNode[];
  /** Data flow between them. */
  edges: GraphEdge[];
}

const ACTIVATIONS = new Set(['relu', 'leakyRelu', 'sigmoid', 'tanh', 'gelu', 'softplus']);
const LOSSES = new Set(['mseLoss', 'crossEntropy', 'bceWithLogits', 'huberLoss']);

/** The seed's symbol for an operator. */
export function opSymbol(op: string): string {
  if (op === 'matmul' || op === 'linear' || op === 'mul') return '×';
  if (op === 'add') return '+';
  if (op === 'sub') return '−';
  if (op === 'l2Penalty') return 'ℓ₂';
  if (ACTIVATIONS.has(op)) return 'φ';
  if (LOSSES.has(op)) return 'l';
  return op;
}

function checkGraph(api: string, graph: unknown): void {
  if (!Array.isArray((graph as Graph | null)?.nodes) || !Array.isArray((graph as Graph).edges)) {
    throw new Error(`${api}: expected a graph from graphOf(tensor), got ${describe(graph)}`);
  }
}

export function tensorLabel(t: Tensor): string {
  return t.name ?? `t${t.id}`;
}

/** The graph that produced `root`, walking back from its node (or just `root` for a leaf). */
export function graphOf(root: Tensor): Graph {
  if (!(root instanceof Tensor)) throw new Error(`graphOf: expected a Tensor, got ${describe(root)}`);
  const nodes = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const addTensor = (t: Tensor, kind: 'tensor' | 'parameter') => {
    const id = `t${t.id}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind, label: tensorLabel(t), shape: t.shape });
    return id;
  };
  if (!root.node) {
    addTensor(root, root.requiresGrad ? 'parameter' : 'tensor');
    return { nodes: [...nodes.values()], edges };
  }
  const seen = new Set<Node>();
  const visit = (node: Node) => {
    if (seen.has(node)) return;
    seen.add(node);
    const id = `op${node.id}`;
    nodes.set(id, { id, kind: 'operator', label: opSymbol(node.op), op: node.op, attrs: node.attrs });
    edges.push({ from: id, to: addTensor(node.output, 'tensor') });
    node.inputs.forEach((input, i) => {
      const edge = node.edges[i];
      if (edge?.node) {
        visit(edge.node);
        edges.push({ from: `t${edge.node.output.id}`, to: id });
      } else {
        edges.push({ from: addTensor(edge?.leaf ?? input, edge?.leaf ? 'parameter' : 'tensor'), to: id });
      }
    });
  };
  visit(root.node);
  return { nodes: [...nodes.values()], edges };
}

const STYLE: Record<GraphNodeKind, string> = {
  tensor: 'shape=box, style="rounded,filled", fillcolor="#ffffff", color="#333333"',
  parameter: 'shape=box, style="rounded,filled", fillcolor="#4a78c2", fontcolor="#ffffff", color="#2c4f8c"',
  operator: 'shape=circle, style=filled, fillcolor="#cfe8fb", color="#5b9bd5", fixedsize=true, width=0.5',
};

const shapeText = (s?: readonly number[]) => (s && s.length ? `[${s.join('×')}]` : 'scalar');
const quote = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Graphviz DOT, left to right as data flows, with the seed's legend. */
export function toDot(graph: Graph, title = 'computational graph'): string {
  checkGraph('toDot', graph);
  const lines = [`digraph ${quote(title)} {`, '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=12];',
    '  edge [color="#555555", arrowsize=0.7];'];
  for (const n of graph.nodes) {
    const label = n.kind === 'operator' ? n.label : `${n.label}\n${shapeText(n.shape)}`;
    lines.push(`  ${quote(n.id)} [label=${quote(label)}, ${STYLE[n.kind]}${n.op ? `, tooltip=${quote(n.op)}` : ''}];`);
  }
  for (const e of graph.edges) lines.push(`  ${quote(e.from)} -> ${quote(e.to)};`);
  lines.push('  subgraph cluster_legend {', '    label="legend"; fontsize=10; color="#bbbbbb";',
    `    legend_tensor [label="tensor", ${STYLE.tensor}];`,
    `    legend_param [label="parameter", ${STYLE.parameter}];`,
    `    legend_op [label="op", ${STYLE.operator}];`,
    '    legend_tensor -> legend_param -> legend_op [style=invis];', '  }', '}');
  return lines.join('\n') + '\n';
}

/** Mermaid flowchart with the same three classes of node. */
export function toMermaid(graph: Graph): string {
  checkGraph('toMermaid', graph);
  const text = (s: string) => s.replace(/"/g, '#quot;');
  const lines = ['flowchart LR'];
  for (const n of graph.nodes) {
    const label = n.kind === 'operator' ? n.label : `${n.label}<br/>${shapeText(n.shape)}`;
    lines.push(n.kind === 'operator' ? `  ${n.id}(("${text(label)}")):::operator` : `  ${n.id}["${text(label)}"]:::${n.kind}`);
  }
  for (const e of graph.edges) lines.push(`  ${e.from} --> ${e.to}`);
  lines.push('  classDef tensor fill:#ffffff,stroke:#333333,color:#000000;',
    '  classDef parameter fill:#4a78c2,stroke:#2c4f8c,color:#ffffff;',
    '  classDef operator fill:#cfe8fb,stroke:#5b9bd5,color:#000000;');
  return lines.join('\n') + '\n';
}

/** SVG rendered from the DOT by Graphviz (compiled to WebAssembly, @viz-js/viz), loaded on first use. */
export async function toSvg(graph: Graph, title?: string): Promise<string> {
  checkGraph('toSvg', graph);
  const { instance } = await import('@viz-js/viz');
  const viz = await instance();
  return viz.renderString(toDot(graph, title), { format: 'svg' });
}
