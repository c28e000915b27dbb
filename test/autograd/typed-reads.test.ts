// Typed reads (issue 17): a tensor's type carries its dtype (Tensor<'float32'>, …) where creation functions and ops
// know it, so data() is typed as that dtype's array and `t.data().reduce(…)` compiles without a cast; a tensor of
// unknown dtype (plain Tensor, what modules return) reads as a given dtype with data('float32'), which checks it.
// The types are checked by expectTypeOf here (tsc runs over test/ in `npm test`), and by compiling a consumer's
// program against the published declarations in test/package/package.test.ts (Node only; this file also runs in
// Chromium).
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
});
