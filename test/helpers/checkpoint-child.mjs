// A training process for the checkpoint fault test: resumes from its checkpoint if there is one, then trains
// step by step, saving a checkpoint after every step and printing "saved <step>". The parent kills it with
// SIGKILL at random moments. Plain JavaScript on dist/ so it starts fast.
import { existsSync } from 'node:fs';
import { Generator, init, loadCheckpoint, nn, optim, randn, saveCheckpoint, tensor, tidy } from '../../dist/index.js';

const [path, totalArg] = process.argv.slice(2);
const total = Number(totalArg);
await init({ build: 'simd' });
const g = new Generator(1);
// 64-512-10 with Adam: a checkpoint of about 0.9 MB, so a kill often lands in the middle of writing one
const model = new nn.Sequential(new nn.Linear(64, 512, { generator: g }), new nn.ReLU(), new nn.Linear(512, 10, { generator: g }));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
const data = new Generator(2);
const generators = { data };
let step = existsSync(path) ? (await loadCheckpoint(path, { model, optimizer: opt, generators })).step : 0;
while (step < total) {
  tidy(() => {
    const x = randn([32, 64], { generator: data });
    const y = tensor(Array.from({ length: 32 }, () => Math.floor(data.next() * 10)), { dtype: 'int32' });
    opt.zeroGrad();
    nn.crossEntropy(model(x), y).backward();
    opt.step();
  });
  step++;
  await saveCheckpoint(path, { model, optimizer: opt, step, generators });
  process.stdout.write(`saved ${step}\n`);
}
