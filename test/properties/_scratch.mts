import * as wg from '../../src/index.js';
wg.setBackend('ref');
const run = (f: (x: wg.Tensor, h: wg.Tensor, y: wg.Tensor) => wg.Tensor[]) => wg.tidy(() => {
  const x = wg.tensor([1, 2, 3], { requiresGrad: true });
  const h = x.mul(2);
  const y = h.square().sum();
  return f(x, h, y).map((t) => t.array());
});
console.log('intermediate [h, h]:', run((x, h, y) => wg.gradients(y, [h, h])));
console.log('intermediate [h]:   ', run((x, h, y) => wg.gradients(y, [h])));
console.log('leaf [x, x]:        ', run((x, h, y) => wg.gradients(y, [x, x])));
console.log('leaf [x]:           ', run((x, h, y) => wg.gradients(y, [x])));
