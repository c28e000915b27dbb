// broadcastPlan: the plan of an elementwise kernel (output shape, collapsed dims, each operand's strides). Its
// shortcut for one-shape operands and single elements must give exactly the plan of the general rules
// (broadcastShapes, broadcastStrides, collapse), and the general rules' errors.
import { describe, expect, it } from 'vitest';
import { broadcastPlan, broadcastShapes, broadcastStrides, collapse, sameShape } from '../../src/kernels/shape.js';

/** The plan by the general rules alone. */
function general(shapes: number[][]) {
  const shape = broadcastShapes('op', ...shapes);
  return { shape, ...collapse(shape, shapes.map((s) => broadcastStrides(s, shape))) };
}

const CASES: number[][][] = [
  [[64, 10], [64, 10]], [[2, 3, 4], [2, 3, 4]], [[7], [7]], [[64, 10], []], [[], [64, 10]], [[64, 10], [1]],
  [[64, 10], [1, 1]], [[1], [5]], [[3], [1, 1]], [[1, 1], [3]], [[1, 5], [5]], [[64, 10], [10]], [[64, 1], [64, 10]],
  [[1, 64, 10], [64, 10]], [[64, 10], [1, 64, 10]], [[3, 1], [1, 3]], [[1], [1]], [[], []], [[1, 1], []],
  [[0], [0]], [[0, 3], [1]], [[2, 0], []], [[4, 1, 5], [4, 3, 5]], [[2, 3], [2, 3], []], [[6], [], [1]],
  [[2, 3], [1], [2, 3]], [[1, 1, 1], [2, 3], [3]],
];

describe('broadcastPlan', () => {
  it('gives the plan of the general broadcasting rules, shortcut cases included', () => {
    for (const shapes of CASES) expect(broadcastPlan('op', shapes), JSON.stringify(shapes)).toEqual(general(shapes));
  });

  it('walks one-shape operands and single elements flat: one dim, strides 1 and 0', () => {
    expect(broadcastPlan('add', [[8, 16, 32], [8, 16, 32]])).toEqual({ shape: [8, 16, 32], dims: [4096], strides: [[1], [1]] });
    expect(broadcastPlan('mul', [[1, 1], [64, 10]])).toEqual({ shape: [64, 10], dims: [640], strides: [[0], [1]] });
  });

  it('throws the general rules\' error for shapes that do not broadcast', () => {
    expect(() => broadcastPlan('add', [[2, 3], [4]])).toThrow('add: shapes [2,3] and [4] are not broadcastable');
    expect(() => broadcastPlan('where', [[2], [3], []])).toThrow('where: shapes [2] and [3] and [] are not broadcastable');
  });

  it('sameShape compares dim by dim', () => {
    expect(sameShape([2, 3], [2, 3])).toBe(true);
    expect(sameShape([2, 3], [3, 2])).toBe(false);
    expect(sameShape([6], [6, 1])).toBe(false);
    expect(sameShape([], [])).toBe(true);
  });
});
