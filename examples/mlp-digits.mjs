// A multilayer perceptron on the embedded handwritten digits (8,000 to train on, 2,000 to test), written the way
// PyTorch code is: a model, a loss, an optimizer, and a loop over batches.
//   node examples/mlp-digits.mjs [--epochs 3] [--hidden 128] [--lr 0.001] [--threads 1]
import { DataLoader, TensorDataset, init, loadDigits, memory, nn, noGrad, optim, tensor, tidy, toFloat } from 'wasmgrad';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/** Trains 784 → hidden → 10 with Adam; returns each epoch's mean training loss and the final test accuracy. */
export async function trainDigits({ epochs = 3, hidden = 128, lr = 1e-3, batchSize = 64, seed = 0, log = console.log } = {}) {
  const { train, test } = await loadDigits();
  // Pixels become floats in [0, 1]; labels are int32 class indices, as crossEntropy takes them.
  const trainSet = new TensorDataset(
    tensor(toFloat(train.images), { shape: [train.n, 784] }),
    tensor(Int32Array.from(train.labels)),
  );
  const testX = tensor(toFloat(test.images), { shape: [test.n, 784] });
  const testY = tensor(Int32Array.from(test.labels));
  const loader = new DataLoader(trainSet, { batchSize, shuffle: true, seed });
  const model = new nn.Sequential(new nn.Linear(784, hidden), new nn.ReLU(), new nn.Linear(hidden, 10));
  const opt = new optim.Adam(model.parameters(), { lr });
  const history = [];
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      model.train();
      let sum = 0;
      let batches = 0;
      for (const { x, y } of loader) {
        sum += tidy(() => { // every tensor made in here is freed at the end, gradients excepted
          opt.zeroGrad();
          const loss = nn.crossEntropy(model(x), y);
          loss.backward();
          opt.step();
          return loss.item();
        });
        batches++;
      }
      // Evaluation: no graph is recorded, and the tensors are freed by tidy.
      model.eval();
      const accuracy = tidy(() => noGrad(() => model(testX).argMax(-1).equal(testY).float().mean().item()));
      history.push({ epoch, loss: sum / batches, testAccuracy: accuracy });
      log(`epoch ${epoch}: training loss ${(sum / batches).toFixed(4)}, test accuracy ${(accuracy * 100).toFixed(2)}%`);
    }
    return history;
  } finally {
    model.dispose(); // parameters and their gradients
    opt.disposeState(); // Adam's running averages
    trainSet.dispose();
    testX.dispose();
    testY.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: { epochs: { type: 'string', default: '3' }, hidden: { type: 'string', default: '128' },
      lr: { type: 'string', default: '0.001' }, threads: { type: 'string', default: '1' } },
  });
  await init({ threads: values.threads === 'auto' ? 'auto' : Number(values.threads) });
  const before = memory();
  await trainDigits({ epochs: Number(values.epochs), hidden: Number(values.hidden), lr: Number(values.lr) });
  const after = memory();
  console.log(`tensors alive: ${after.tensors} (at the start: ${before.tensors}), bytes: ${after.bytes} (at the start: ${before.bytes})`);
}
