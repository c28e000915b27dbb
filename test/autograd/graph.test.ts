// The graph as the seed draws it, its exports, and explain()'s backward table against PyTorch's values.
import { describe, expect, it } from 'vitest';
import {
  explain, graphOf, l2Penalty, matmul, mseLoss, relu, tensor, tidy, toDot, toMermaid, toSvg,
} from '../../src/index.js';
import { seedLinear, seedNetwork } from '../../src/seed.js';
import { BACKENDS, expectNoLeaks, useBackend } from '../helpers/api.js';
import { expectClose, fixtures } from '../helpers/fixtures.js';

describe.each(BACKENDS)('graph and explain on %s', (name) => {
  it("graphOf gives the seed's figure: tensors, parameters, operators and their edges", async () => {
    await useBackend(name);
    const graph = expectNoLeaks(() => tidy(() => graphOf(seedNetwork().J)));
    const label = new Map(graph.nodes.map((n) => [n.id, n.label]));
    const byKind = (kind: string) => graph.nodes.filter((n) => n.kind === kind).map((n) => n.label).sort();
    expect(byKind('tensor')).toEqual(['J', 'L', 'h', 'o', 's', 'x', 'y', 'z']);
    expect(byKind('parameter')).toEqual(['W1', 'W2']);
    expect(byKind('operator')).toEqual(['+', 'l', 'φ', '×', '×', 'ℓ₂'].sort());
    const edges = graph.edges.map((e) => `${label.get(e.from)}→${label.get(e.to)}`).sort();
    expect(edges).toEqual([
      'x→×', 'W1→×', '×→z', 'z→φ', 'φ→h', 'h→×', 'W2→×', '×→o', 'o→l', 'y→l', 'l→L',
      'W1→ℓ₂', 'W2→ℓ₂', 'ℓ₂→s', 'L→+', 's→+', '+→J',
    ].sort());
    expect(graph.nodes.find((n) => n.label === 'W1')!.shape).toEqual([4, 3]);
  });

  it('exports DOT and Mermaid with the legend, and SVG through Graphviz', async () => {
    await useBackend(name);
    const graph = expectNoLeaks(() => tidy(() => graphOf(seedNetwork().J)));
    const dot = toDot(graph, 'seed');
    expect(dot).toMatch(/^digraph "seed" \{/);
    expect(dot).toContain('"W1\\n[4×3]", shape=box, style="rounded,filled", fillcolor="#4a78c2"');
    expect(dot).toContain('label="ℓ₂", shape=circle');
    expect(dot).toContain('subgraph cluster_legend');
    expect(dot.match(/->/g)!.length).toBe(graph.edges.length + 2);
    const mmd = toMermaid(graph);
    expect(mmd).toMatch(/^flowchart LR\n/);
    expect(mmd).toMatch(/\["W2<br\/>\[2×4\]"\]:::parameter/);
    expect(mmd).toContain('classDef operator fill:#cfe8fb');
    const svg = await toSvg(graph, 'seed');
    expect(svg).toMatch(/<svg[\s\S]*<\/svg>/);
    for (const l of ['W1', 'W2', 'ℓ₂', 'φ', 'J']) expect(svg).toContain(`>${l}<`);
  });

  it("explain(J) reproduces the seed table's upstream and global gradients (PyTorch values)", async () => {
    await useBackend(name);
    const c = fixtures.seed_mlp[0]!;
    expectNoLeaks(() => tidy(() => {
      const W1 = tensor(c.W1, { requiresGrad: true, name: 'W1' });
      const W2 = tensor(c.W2, { requiresGrad: true, name: 'W2' });
      const x = tensor(c.x, { name: 'x' });
      const z = matmul(W1, x).named('z');
      const h = relu(z).named('h');
      const o = matmul(W2, h).named('o');
      const L = mseLoss(o, tensor(c.y as number[], { name: 'y' }), { reduction: 'sum', scale: 0.5 }).named('L');
      const s = l2Penalty([W1, W2], c.lambda).named('s');
      const J = L.add(s).named('J');
      const { rows } = explain(J);
      expect(rows.map((r) => r.formula)).toEqual([
        'J = L + s', 'L = l(o, y)  [mseLoss]', 'o = W2·h', 'h = φ(z)  [relu]', 'z = W1·x', 's = λ/2·(‖W1‖² + ‖W2‖²)',
      ]);
      const row = (f: string) => rows.find((r) => r.formula.startsWith(f))!;
      expect(row('J = L + s').upstream.values).toEqual([1]);
      expect(row('J = L + s').inputs.map((i) => i.global!.values)).toEqual([[1], [1]]);
      expectClose(row('o = ').upstream.values!, c.dJ_do, 1e-4, 1e-6, '∂J/∂o');
      expectClose(row('h = ').upstream.values!, c.dJ_dh, 1e-4, 1e-6, '∂J/∂h');
      expectClose(row('z = ').upstream.values!, c.dJ_dz, 1e-4, 1e-6, '∂J/∂z');
      // ∂J/∂W = (data part from the × row) + (λW from the ℓ₂ row), as the seed's table merges them.
      const l2 = row('s = ').inputs;
      const w2 = row('o = ').inputs[0]!.global!.values!.map((v, i) => v + l2[1]!.global!.values![i]!);
      expectClose(w2, c.dJ_dW2, 1e-4, 1e-6, '∂J/∂W2');
      // W1's data part has 12 values: summarised by its norm, ‖∂J/∂W1 − λ·W1‖.
      const dataPart = c.dJ_dW1.flat().map((g, i) => g - c.lambda * c.W1.flat()[i]!);
      expect(row('z = ').inputs[0]!.global!.values).toBeNull();
      expectClose(row('z = ').inputs[0]!.global!.norm, Math.hypot(...dataPart), 1e-4, 1e-6, '‖∂J/∂W1 (data)‖');
      expect(row('z = ').inputs[1]!.global).toBeNull(); // x needs no gradient
      expect(row('h = ').inputs[0]!.local).toBe('[z > 0]');
      expect(W1.grad).toBeNull(); // explain leaves .grad alone
      J.backward(); // the graph is still there
      expectClose(W2.grad!.data(), c.dJ_dW2, 1e-4, 1e-6, '∂J/∂W2 after explain');
      expect(() => explain(J)).toThrow("the graph through op 'add' was already freed");
    }));
  });

  it("explains the seed's worked example as its table does", async () => {
    await useBackend(name);
    expectNoLeaks(() => tidy(() => {
      const { L } = seedLinear();
      const e = explain(L);
      expect(e.rows.map((r) => [r.formula, r.upstream.values![0]])).toEqual([
        ['L = l(ŷ, y)  [mseLoss]', 1], ['ŷ = wx + b', expect.closeTo(-1.9, 6)], ['wx = w·x', expect.closeTo(-1.9, 6)],
      ]);
      expect(e.rows[2]!.inputs[0]).toMatchObject({ name: 'w', local: 'x' });
      expect(e.rows[2]!.inputs[0]!.global!.values![0]).toBeCloseTo(-3.8, 5);
      const text = e.toString();
      expect(text).toContain('∂L/∂ŷ = (ŷ − y)');
      expect(text).toContain('∂L/∂w = -3.8');
      expect(text).toContain('∂L/∂b = -1.9');
    }));
  });
});
