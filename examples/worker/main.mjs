// Training in a worker thread: the main thread stays free while the worker trains, and gets progress events, the
// trained model (safetensors bytes) and predictions back. In a browser the same TrainingClient drives a Web Worker.
//   node examples/worker/main.mjs [--epochs 2]
import { Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';
import { fromSafetensors, loadDigits, toFloat } from 'wasmgrad';
import { TrainingClient } from 'wasmgrad/worker';

const { values } = parseArgs({ options: { epochs: { type: 'string', default: '2' } } });

const client = new TrainingClient(new Worker(new URL('./worker.mjs', import.meta.url)));
let batches = 0;
client.onEvent((e) => {
  if (e.type === 'started') console.log(`worker started: ${e.backend.build} build, ${e.trainSize} training digits`);
  if (e.type === 'batch') batches++;
  if (e.type === 'epoch') {
    const m = e.metrics;
    console.log(`epoch ${m.epoch}: training loss ${m.trainLoss.toFixed(4)}, test accuracy ${(m.testAccuracy * 100).toFixed(2)}%`);
  }
});
try {
  // The MLP 784-64-10 (the trainer's options; the second argument is init()'s backend options for the worker).
  const done = await client.train({ model: 'mlp', hidden: [64], dropout: 0, epochs: Number(values.epochs) }, { threads: 1 });
  console.log(`done after ${done.history.length} epochs and ${batches} batch events (stopped early: ${done.stopped})`);
  console.log(`model: ${Object.keys(fromSafetensors(done.model).tensors).length} tensors, ${done.model.length} bytes of safetensors`);

  // Predictions from the trained model, still in the worker: class probabilities, 10 per image. The test split
  // is stored class by class, so every 200th digit samples all of them.
  const { test } = await loadDigits();
  const picks = Array.from({ length: 10 }, (_, i) => i * 200);
  const inputs = new Float32Array(picks.length * 784);
  picks.forEach((at, i) => inputs.set(toFloat(test.images.subarray(at * 784, (at + 1) * 784)), i * 784));
  const probs = await client.predict(inputs, picks.length);
  const predicted = picks.map((_, i) => {
    const row = probs.subarray(i * 10, i * 10 + 10);
    return row.indexOf(Math.max(...row));
  });
  console.log(`predicted: ${predicted.join(' ')}`);
  console.log(`labels:    ${picks.map((at) => test.labels[at]).join(' ')}`);
} finally {
  client.terminate();
}
