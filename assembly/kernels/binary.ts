// Elementwise binary ops and `where` over 4-d broadcast plans (strides in elements, 0 = broadcast).
// The op switch sits outside the loops: each `case` inlines rowOp with a constant op, and the optimizer folds the
// per-element switch away, so every op gets its own tight loop. Fast SIMD rows when the innermost strides are
// (1,1), (1,0) or (0,1); a strided scalar loop otherwise and for tails.
import { ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM, EQUAL, GREATER, GREATER_EQUAL, LESS, LESS_EQUAL } from './codes';

// @ts-ignore: decorator
@inline function opS(op: i32, a: f32, b: f32): f32 {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
    case POW: return <f32>Math.pow(<f64>a, <f64>b); // in f64 and rounded once: JS Math.pow semantics
    case MAXIMUM: return max<f32>(a, b); // f32.max: NaN-propagating, max(−0, +0) = +0 (as Math.max)
    case MINIMUM: return min<f32>(a, b);
    case EQUAL: return a == b ? 1.0 : 0.0;
    case GREATER: return a > b ? 1.0 : 0.0;
    case GREATER_EQUAL: return a >= b ? 1.0 : 0.0;
    case LESS: return a < b ? 1.0 : 0.0;
    default: return a <= b ? 1.0 : 0.0; // LESS_EQUAL
  }
}

// @ts-ignore: decorator
@inline function opV(op: i32, a: v128, b: v128): v128 {
  const one = f32x4.splat(1.0);
  switch (op) {
    case ADD: return f32x4.add(a, b);
    case SUB: return f32x4.sub(a, b);
    case MUL: return f32x4.mul(a, b);
    case DIV: return f32x4.div(a, b);
    case MAXIMUM: return f32x4.max(a, b);
    case MINIMUM: return f32x4.min(a, b);
    case EQUAL: return v128.and(f32x4.eq(a, b), one);
    case GREATER: return v128.and(f32x4.gt(a, b), one);
    case GREATER_EQUAL: return v128.and(f32x4.ge(a, b), one);
    case LESS: return v128.and(f32x4.lt(a, b), one);
    default: return v128.and(f32x4.le(a, b), one); // LESS_EQUAL (POW never takes the SIMD path)
  }
}

/** One output row of n elements: out[k] = a[k·sa] op b[k·sb]. */
// @ts-ignore: decorator
@inline function rowOp(op: i32, a: usize, b: usize, out: usize, n: i32, sa: i32, sb: i32): void {
  let k = 0;
  if (ASC_FEATURE_SIMD && op != POW) {
    if (sa == 1 && sb == 1) {
      for (; k + 8 <= n; k += 8) {
        const o = <usize>k << 2;
        v128.store(out + o, opV(op, v128.load(a + o), v128.load(b + o)));
        v128.store(out + o, opV(op, v128.load(a + o, 16), v128.load(b + o, 16)), 16);
      }
      for (; k + 4 <= n; k += 4) {
        const o = <usize>k << 2;
        v128.store(out + o, opV(op, v128.load(a + o), v128.load(b + o)));
      }
    } else if (sa == 1 && sb == 0) {
      const vb = v128.load32_splat(b);
      for (; k + 8 <= n; k += 8) {
        const o = <usize>k << 2;
        v128.store(out + o, opV(op, v128.load(a + o), vb));
        v128.store(out + o, opV(op, v128.load(a + o, 16), vb), 16);
      }
      for (; k + 4 <= n; k += 4) {
        const o = <usize>k << 2;
        v128.store(out + o, opV(op, v128.load(a + o), vb));
      }
    } else if (sa == 0 && sb == 1) {
      const va = v128.load32_splat(a);
      for (; k + 8 <= n; k += 8) {
        const o = <usize>k << 2;
        v128.store(out + o, opV(op, va, v128.load(b + o)));
        v128.store(out + o, opV(op, va, v128.load(b + o, 16)), 16);
      }
      for (; k + 4 <= n; k += 4) {
        const o = <usize>k << 2;
        v128.store(out + o, opV(op, va, v128.load(b + o)));
      }
    }
  }
  const da = <usize>(<isize>sa << 2); // negative strides wrap around: usize arithmetic is modular
  const db = <usize>(<isize>sb << 2);
  let pa = a + <usize>k * da;
  let pb = b + <usize>k * db;
  for (; k < n; k++) {
    store<f32>(out + (<usize>k << 2), opS(op, load<f32>(pa), load<f32>(pb)));
    pa += da;
    pb += db;
  }
}

// @ts-ignore: decorator
@inline function loopOp(op: i32, a: usize, b: usize, out: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  a0: i32, a1: i32, a2: i32, a3: i32, b0: i32, b1: i32, b2: i32, b3: i32): void {
  const rowBytes = <usize>n3 << 2;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        const pa = a + (<usize>(i0 * a0 + i1 * a1 + i2 * a2) << 2);
        const pb = b + (<usize>(i0 * b0 + i1 * b1 + i2 * b2) << 2);
        rowOp(op, pa, pb, out, n3, a3, b3);
        out += rowBytes;
      }
    }
  }
}

/**
 * out[i] = a[Σ i_d·a_d] op b[Σ i_d·b_d] for i over dense [n0,n1,n2,n3] (f32; strides in elements, 0 broadcasts);
 * op: ADD SUB MUL DIV POW MAXIMUM MINIMUM (NaN-propagating) EQUAL GREATER GREATER_EQUAL LESS LESS_EQUAL (1.0/0.0).
 */
export function binary_f32(op: i32, a: usize, b: usize, out: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  a0: i32, a1: i32, a2: i32, a3: i32, b0: i32, b1: i32, b2: i32, b3: i32): void {
  switch (op) {
    case ADD: loopOp(ADD, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case SUB: loopOp(SUB, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case MUL: loopOp(MUL, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case DIV: loopOp(DIV, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case POW: loopOp(POW, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case MAXIMUM: loopOp(MAXIMUM, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case MINIMUM: loopOp(MINIMUM, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case EQUAL: loopOp(EQUAL, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case GREATER: loopOp(GREATER, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case GREATER_EQUAL: loopOp(GREATER_EQUAL, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case LESS: loopOp(LESS, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
    case LESS_EQUAL: loopOp(LESS_EQUAL, a, b, out, n0, n1, n2, n3, a0, a1, a2, a3, b0, b1, b2, b3); break;
  }
}

/** Loads 4 lanes from p (stride 1) or splats *p (stride 0). */
// @ts-ignore: decorator
@inline function lanes(p: usize, stride: i32): v128 {
  return stride != 0 ? v128.load(p) : v128.load32_splat(p);
}

/**
 * out[i] = cond[Σ i_d·c_d] != 0 ? a[Σ i_d·a_d] : b[Σ i_d·b_d] over dense [n0,n1,n2,n3] (all f32, strides in
 * elements; NaN cond counts as true).
 */
export function where_f32(cond: usize, a: usize, b: usize, out: usize, n0: i32, n1: i32, n2: i32, n3: i32,
  c0: i32, c1: i32, c2: i32, c3: i32, a0: i32, a1: i32, a2: i32, a3: i32, b0: i32, b1: i32, b2: i32, b3: i32): void {
  const dc = <usize>(<isize>c3 << 2);
  const da = <usize>(<isize>a3 << 2);
  const db = <usize>(<isize>b3 << 2);
  const simd = ASC_FEATURE_SIMD && <u32>c3 <= 1 && <u32>a3 <= 1 && <u32>b3 <= 1;
  for (let i0 = 0; i0 < n0; i0++) {
    for (let i1 = 0; i1 < n1; i1++) {
      for (let i2 = 0; i2 < n2; i2++) {
        let pc = cond + (<usize>(i0 * c0 + i1 * c1 + i2 * c2) << 2);
        let pa = a + (<usize>(i0 * a0 + i1 * a1 + i2 * a2) << 2);
        let pb = b + (<usize>(i0 * b0 + i1 * b1 + i2 * b2) << 2);
        let k = 0;
        if (ASC_FEATURE_SIMD) {
          if (simd) {
            const zero = f32x4.splat(0.0);
            for (; k + 4 <= n3; k += 4) {
              const mask = f32x4.ne(lanes(pc, c3), zero);
              v128.store(out, v128.bitselect(lanes(pa, a3), lanes(pb, b3), mask));
              pc += dc << 2;
              pa += da << 2;
              pb += db << 2;
              out += 16;
            }
          }
        }
        for (; k < n3; k++) {
          store<f32>(out, load<f32>(pc) != 0 ? load<f32>(pa) : load<f32>(pb));
          pc += dc;
          pa += da;
          pb += db;
          out += 4;
        }
      }
    }
  }
}
