// Typed reads (issue 17): a tensor's type carries its dtype (Tensor<'float32'>, …) where creation functions and ops
// know it, so data() is typed as that dtype's array and `t.data().reduce(…)` compiles without a cast; a tensor of
// unknown dtype (plain Tensor, what modules return) reads as a given dtype with data('float32'), which checks it.
// The types are checked twice: by expectTypeOf here (tsc runs over test/ in `npm test`), and by compiling a
// consumer's program against the published declarations (dist/*.d.ts) through the package name, in the test itself.
import { mkdtempSync, rmSync, symlinkSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { arange, nn, ones, rand, randn, tensor, tidy, zeros, zerosLike, type Tensor } from '../../src/index.js';
import { expectNoLeaks } from '../helpers/api.js';

describe('typed reads', () => {
  it('data() is typed by the dtype that creation functions and ops give', () => {
    expectNoLeaks(() => tidy(() => {
      const x = tensor([[1, -2], [3, 4]]);
      expectTypeOf(x).toEqualTypeOf<Tensor<'float32'>>();
      expectTypeOf(x.data()).toEqualTypeOf<Float32Array>();
      expectTypeOf(x.relu().matmul(x).sum().data()).toEqualTypeOf<Float32Array>();
      expectTypeOf(x.argMax(1).data()).toEqualTypeOf<Int32Array>();
      expectTypeOf(x.int().data()).toEqualTypeOf<Int32Array>();
      expectTypeOf(x.cast('float64')).toEqualTypeOf<Tensor<'float64'>>();
      expectTypeOf(tensor([1, 2], { dtype: 'int32' }).data()).toEqualTypeOf<Int32Array>();
      expectTypeOf(tensor(new Int32Array([1])).data()).toEqualTypeOf<Int32Array>();
      expectTypeOf(tensor(new Float64Array([1])).data()).toEqualTypeOf<Float64Array>();
      expectTypeOf(zeros([2], { dtype: 'int32' }).data()).toEqualTypeOf<Int32Array>();
      expectTypeOf(ones([2]).data()).toEqualTypeOf<Float32Array>();
      expectTypeOf(arange(3, undefined, 1, { dtype: 'int32' })).toEqualTypeOf<Tensor<'int32'>>();
      expectTypeOf(randn([2], { seed: 1 }).data()).toEqualTypeOf<Float32Array>();
      expectTypeOf(zerosLike(x.int())).toEqualTypeOf<Tensor<'int32'>>();
      expectTypeOf(x.topK(1).indices).toEqualTypeOf<Tensor<'int32'>>();
      expectTypeOf(x.equal(x)).toEqualTypeOf<Tensor<'float32'>>();

      // and the runtime agrees with the types
      expect(x.data()).toBeInstanceOf(Float32Array);
      expect(x.argMax(1).data()).toBeInstanceOf(Int32Array);
      expect(tensor(new Int32Array([1])).data()).toBeInstanceOf(Int32Array);
      expect(rand([2], { seed: 1 }).data()).toBeInstanceOf(Float32Array);
      // the reason for it: a union of typed arrays has no callable reduce
      expect(x.abs().data().reduce((a, b) => a + b, 0)).toBe(10);
      expect(x.argMax(1).data().reduce((a, b) => a + b, 0)).toBe(1);
    }));
  });

  it("a tensor of unknown dtype reads as a given dtype with data(dtype), checked at runtime", () => {
    expectNoLeaks(() => tidy(() => {
      const model = new nn.Linear(2, 3);
      const y: Tensor = model(tensor([[1, 2]]));
      expectTypeOf(y.data()).toEqualTypeOf<Float32Array | Float64Array | Int32Array>();
      expectTypeOf(y.data('float32')).toEqualTypeOf<Float32Array>();
      expect(y.data('float32')).toEqual(y.data());
      expect(() => y.data('int32')).toThrow('data: tensor [1,3] is float32, not int32; convert it with .cast(\'int32\') to read it as int32');
      expect(() => y.data('Float32' as never)).toThrow("data: dtype must be 'float32', 'float64' or 'int32', got the string 'Float32'; did you mean 'float32'?");
      // @ts-expect-error: a float32 tensor's type refuses another dtype
      expect(() => tensor([1]).data('int32')).toThrow('is float32, not int32');
      model.dispose();
    }));
  });

  it("a consumer's program compiles against the published declarations", () => {
    const dir = mkdtempSync(join(tmpdir(), 'wasmgrad-types-'));
    try {
      mkdirSync(join(dir, 'node_modules'));
      symlinkSync(join(import.meta.dirname, '../..'), join(dir, 'node_modules/wasmgrad'), 'dir');
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      writeFileSync(join(dir, 'main.ts'), `
import { nn, tensor, zeros, type Tensor } from 'wasmgrad';
const x = tensor([1, 2, 3]);
export const total: number = x.data().reduce((a, b) => a + b, 0);
export const doubled: Float32Array = x.relu().mul(2).data();
export const labels: Int32Array = tensor([0, 1], { dtype: 'int32' }).data();
export const argmax: number = x.argMax().data().reduce((a, b) => Math.max(a, b), 0);
export const counts: Int32Array = zeros([2], { dtype: 'int32' }).data();
const y: Tensor = new nn.Linear(3, 1)(x.reshape([1, 3]));
export const read: number = y.data('float32').reduce((a, b) => a + b, 0);
// @ts-expect-error: the dtype of a plain Tensor is not known, so neither is its array type
export const unknown: Float32Array = y.data();
`);
      const program = ts.createProgram([join(dir, 'main.ts')], {
        strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext, types: [], skipLibCheck: true,
      });
      const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
