// Reference matrix multiply: the test oracle for the wasm kernel and the pure-TypeScript baseline.
// Clarity first: one row of C at a time, accumulated in a Float64Array (bias included) and stored once, so the
// result is the float64 product rounded once to the output type, for float32 and float64 arrays alike.
import type { MatmulPlan, TypedArray } from '../types.js';

/**
 * c[i] = op(a[i])·op(b[i]) (+ bias) for i < plan.batch, row-major. op(A) is [m,k] (a holds [k,m] when transA),
 * op(B) is [k,n] (b holds [n,k] when transB); c is dense, batch·m·n. plan.strideA / plan.strideB step between
 * batch items, in elements (0 broadcasts one matrix). bias (n elements) is added to every row; plan.bias is
 * ignored (the caller passes the array).
 */
export function matmul(a: TypedArray, b: TypedArray, c: TypedArray, bias: TypedArray | null, plan: MatmulPlan): void {
  const { m, n, k, transA, transB, batch, strideA, strideB } = plan;
  // Element strides: op(A)[i][p] = a[aOff + i·aRow + p·aDepth], op(B)[p][j] = b[bOff + p·bDepth + j·bCol].
  const aRow = transA ? 1 : k;
  const aDepth = transA ? m : 1;
  const bDepth = transB ? 1 : n;
  const bCol = transB ? k : 1;
  const row = new Float64Array(n);

  for (let t = 0; t < batch; t++) {
    const aOff = t * strideA;
    const bOff = t * strideB;
    const cOff = t * m * n;
    for (let i = 0; i < m; i++) {
      // i-p-j order: the inner loop walks a row of op(B) and the accumulator row together.
      for (let j = 0; j < n; j++) row[j] = 0;
      for (let p = 0; p < k; p++) {
        const aip = a[aOff + i * aRow + p * aDepth];
        const bp = bOff + p * bDepth;
        for (let j = 0; j < n; j++) row[j] += aip * b[bp + j * bCol];
      }
      const ci = cOff + i * n;
      for (let j = 0; j < n; j++) c[ci + j] = bias ? row[j] + bias[j] : row[j];
    }
  }
}
