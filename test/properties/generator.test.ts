// The graph generator itself: every op kind comes up, shapes are what the library computes, and a printed
// counterexample (toCode) is a program that rebuilds the same graph.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../src/index.js';
import { build, graphArb, makeGraph, STEP_KINDS, toCode } from './graphs.js';
import { SEED } from './config.js';

describe('random graphs', () => {
  afterAll(() => wg.setBackend('ref'));

  const graphs = fc.sample(graphArb, { numRuns: 400, seed: SEED + 3 });

  it('use every op the generator knows, with 1–4 inputs and a scalar loss', () => {
    wg.setBackend('ref');
    const ops = new Set<string>();
    for (const g of graphs) {
      const inputs = g.nodes.filter((n) => n.op === 'input').length;
      expect(inputs).toBeGreaterThanOrEqual(1);
      expect(inputs).toBeLessThanOrEqual(4);
      expect(g.shapes[g.loss]).toEqual([]);
      for (const n of g.nodes) ops.add(n.op === 'unary' || n.op === 'binary' || n.op === 'reduce' ? `${n.op} ${n.fn}` : n.op);
      wg.tidy(() => build(g)); // throws if a shape differs from the generator's
    }
    for (const op of ['unary neg', 'unary abs', 'unary square', 'unary relu', 'unary leakyRelu', 'unary sigmoid', 'unary tanh',
      'unary gelu', 'unary softplus', 'unary exp', 'unary log', 'unary sqrt', 'binary add', 'binary sub', 'binary mul',
      'binary div', 'binary maximum', 'binary minimum', 'scalar', 'softmax', 'logSoftmax', 'reduce sum', 'reduce mean',
      'reduce max', 'reshape', 'permute', 'transpose', 'broadcastTo', 'slice', 'concat', 'matmul', 'compare', 'where',
      'gather']) {
      expect(ops, op).toContain(op);
    }
  });

  it('shrinks toward the simplest graph: a recipe of zeros is one input and one neg', () => {
    const g = makeGraph({ inputs: [{ rank: 0, dims: [1, 1, 1, 1], related: 0 }], steps: [{ kind: 0, a: 0, b: 0, p: [0, 0, 0, 0, 0, 0, 0, 0] }], seed: 0 });
    expect(g.nodes.map((n) => n.op)).toEqual(['input', 'unary', 'const', 'binary', 'reduce']);
    expect(STEP_KINDS[0]).toBe('elementwise');
  });

  it('prints graphs as programs that rebuild them', () => {
    wg.setBackend('ref');
    for (const g of graphs.slice(0, 60)) {
      const fromCode = wg.tidy(() => new Function('wg', `${toCode(g)}\nreturn loss.item();`)(wg) as number);
      const built = wg.tidy(() => build(g).loss.item());
      expect(fromCode).toBe(built);
    }
  });
});
