// explain(J): backward propagation step by step, as the seed's table shows it — for every operator node in the
// order backward visits it, the upstream gradient ∂J/∂out, the local derivative of the op for each input, and
// the resulting global gradient ∂J/∂input ("upstream × local = global"). It runs its own backward pass over a
// retained graph and leaves every .grad untouched, so it can be called before or instead of J.backward().
import { fmt } from '../kernels/shape.js';
import { runBackward } from './backward.js';
import { opSymbol, tensorLabel } from './graph.js';
import type { Node } from './node.js';
import { checkAlive, checkTensor } from './op.js';
import { Tensor } from './tensor.js';

/** A value as the table shows it: all numbers when small, else its shape and norm. */
export interface ValueSummary {
  /** The value's shape. */
  shape: readonly number[];
  /** Every number, row-major, when the value is small; else null. */
  values: number[] | null;
  /** Its Euclidean (Frobenius) norm. */
  norm: number;
}

/** One input of an explained node. */
export interface ExplainInput {
  /** The input's name. */
  name: string;
  /** The local derivative ∂output/∂input, as a formula. */
  local: string;
  /** ∂J/∂input; null where the input needs no gradient (data, labels). */
  global: ValueSummary | null;
}

/**
 * One row of the backward table: a node of the graph, its upstream gradient and each input's local and global
 * gradient (upstream × local = global).
 */
export interface ExplainRow {
  /** Position in backward order, from 1 (the node nearest the root). */
  step: number;
  /** The op's name as in the API ('matmul', 'relu', …). */
  op: string;
  /** The op's symbol as the graph shows it ('×', 'ϕ', '+', …). */
  symbol: string;
  /** The node as an equation, e.g. "o = W2·h". */
  formula: string;
  /** The node's output tensor's name. */
  output: string;
  /** ∂J/∂output: the gradient arriving from above. */
  upstream: ValueSummary;
  /** Each input with its local derivative (a formula) and its global gradient ∂J/∂input. */
  inputs: ExplainInput[];
}

/** What explain() returns: the backward table of a scalar's graph, node by node. */
export interface Explanation {
  /** The name of the scalar explained (J). */
  root: string;
  /** One row per operator, in backward order. */
  rows: ExplainRow[];
  /** The table as text. */
  toString(): string;
}

const MAX_VALUES = 8;

function summarize(t: Tensor): ValueSummary {
  const data = Array.from(t.data());
  return {
    shape: t.shape,
    values: data.length <= MAX_VALUES ? data : null,
    norm: Math.sqrt(data.reduce((a, x) => a + x * x, 0)),
  };
}

export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const r = Number(x.toPrecision(6));
  return String(r);
}

export function formatValue(v: ValueSummary): string {
  if (v.values) return v.shape.length === 0 ? formatNumber(v.values[0]!) : `[${v.values.map(formatNumber).join(', ')}]`;
  return `${fmt(v.shape)} ‖·‖=${formatNumber(v.norm)}`;
}

function formula(node: Node, out: string, ins: string[]): string {
  const [a, b] = ins;
  switch (node.op) {
    case 'matmul': return `${out} = ${a}·${b}`;
    case 'linear': return `${out} = ${a}·${b}ᵀ${ins[2] ? ` + ${ins[2]}` : ''}`;
    case 'mul': return `${out} = ${a}·${b}`;
    case 'add': return `${out} = ${a} + ${b}`;
    case 'sub': return `${out} = ${a} − ${b}`;
    case 'div': return `${out} = ${a} / ${b}`;
    case 'l2Penalty': return `${out} = λ/2·(${ins.map((n) => `‖${n}‖²`).join(' + ')})`;
    default: {
      const sym = opSymbol(node.op);
      return sym === node.op ? `${out} = ${node.op}(${ins.join(', ')})` : `${out} = ${sym}(${ins.join(', ')})  [${node.op}]`;
    }
  }
}

/** Explains the backward pass from the scalar J (which must still have its graph). */
export function explain(J: Tensor): Explanation {
  checkTensor('explain', 'J', J);
  checkAlive('explain', [J]);
  if (J.size !== 1) throw new Error(`explain: J must be a scalar objective, got shape ${fmt(J.shape)}`);
  if (!J.node) throw new Error('explain: J has no graph (it is a leaf, or was computed without gradients)');
  const root = tensorLabel(J);
  const rows: ExplainRow[] = [];
  const buf = J.backend.alloc(J.dtype, 1);
  J.backend.write(buf, [1]);
  const seed = new Tensor(buf, J.shape);
  seed.moveToScope(null);
  try {
    runBackward(J, seed, {
      retainGraph: true,
      onStep: ({ node, upstream, grads }) => {
        const out = tensorLabel(node.output);
        const names = node.inputs.map((t, i) => (node.edges[i]?.node ? tensorLabel(node.edges[i]!.node!.output) : tensorLabel(t)));
        const locals = node.local?.(names, out) ?? names.map(() => `∂${out}/∂·`);
        rows.push({
          step: rows.length + 1,
          op: node.op,
          symbol: opSymbol(node.op),
          formula: formula(node, out, names),
          output: out,
          upstream: summarize(upstream),
          inputs: names.map((name, i) => ({
            name,
            local: locals[i] ?? '',
            global: grads[i] && node.edges[i] ? summarize(grads[i]!) : null,
          })),
        });
      },
    });
  } finally {
    seed.dispose();
  }
  return { root, rows, toString: () => renderTable(root, rows) };
}

function renderTable(root: string, rows: ExplainRow[]): string {
  const header = ['step', 'node', 'upstream', 'local', 'global'];
  const body = rows.map((r) => {
    const live = r.inputs.filter((i) => i.global);
    return [
      String(r.step),
      r.formula,
      `∂${root}/∂${r.output} = ${formatValue(r.upstream)}`,
      live.map((i) => `∂${r.output}/∂${i.name} = ${i.local}`).join('; '),
      live.map((i) => `∂${root}/∂${i.name} = ${formatValue(i.global!)}`).join('; '),
    ];
  });
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((row) => row[c]!.length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell.padEnd(widths[c]!)).join(' │ ').trimEnd();
  return [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...body.map(line)].join('\n');
}
