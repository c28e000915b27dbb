// A training loop that forgets tidy(), for the leak tests: an MLP 784-128-10 step at batch 64 (forward, loss,
// backward, SGD) whose four forward tensors per step are never disposed. Prints one JSON line with memory()
// samples. Plain JavaScript on dist/ so it starts fast.
//   node --expose-gc leak-child.mjs <steps> <mode>
//   mode 'gc':    awaits the event loop after every step and calls gc() every 50 steps
//   mode 'await': awaits the event loop after every step; the engine collects when it decides to
//   mode 'sync':  no await and no gc() until the loop is over (what the safety net cannot reach)
// gc() is called in every mode before the loop (the baseline) and after it (what the net gives back in the end).
import { init, keep, memory, nn, optim, rand, tensor, tidy } from '../../dist/index.js';

const [stepsArg, mode] = process.argv.slice(2);
const steps = Number(stepsArg);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
/** A full collection, then turns of the event loop so that finalizers run. */
async function collect() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await tick();
  }
}

await init({ build: 'simd' });
const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
const opt = new optim.SGD(model.parameters(), { lr: 0.05 });
const x = tidy(() => keep(rand([64, 784], { seed: 1 })));
const y = tensor(Int32Array.from({ length: 64 }, (_, i) => i % 10));
const sample = (step) => ({ step, ...memory() });

// One step with tidy() first: the memory a step needs, and the baseline it should come back to.
tidy(() => {
  opt.zeroGrad();
  nn.crossEntropy(model(x), y).backward();
  opt.step();
});
await collect();
const baseline = sample(0);
const samples = [];
let peakHeapBytes = baseline.heapBytes;
for (let step = 1; step <= steps; step++) {
  opt.zeroGrad();
  nn.crossEntropy(model(x), y).backward(); // the logits, the loss and two activations are never disposed
  opt.step();
  if (mode !== 'sync') await tick();
  if (mode === 'gc' && step % 50 === 0) await collect();
  peakHeapBytes = Math.max(peakHeapBytes, memory().heapBytes);
  if (step % 250 === 0) samples.push(sample(step));
}
const end = sample(steps);
await collect();
process.stdout.write(`${JSON.stringify({ baseline, samples, end, afterCollect: sample(steps), peakHeapBytes })}\n`);
