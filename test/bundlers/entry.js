// A page script as an application would write it: train a tiny model with the package, report to the page.
import { init, nn, optim, tensor, tidy, backendInfo } from 'wasmgrad';

window.result = (async () => {
  await init();
  const model = new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Linear(8, 2));
  const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
  const x = tensor([[0, 0], [0, 1], [1, 0], [1, 1]]);
  const y = tensor([0, 1, 1, 0], { dtype: 'int32' });
  let loss = 0;
  for (let i = 0; i < 300; i++) {
    loss = tidy(() => {
      opt.zeroGrad();
      const l = nn.crossEntropy(model(x), y);
      l.backward();
      opt.step();
      return l.item();
    });
  }
  return { loss, build: backendInfo().build };
})();
