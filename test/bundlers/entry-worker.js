// A page script as an application would write it: train in wasmgrad/worker's ready-made worker, report to the page.
import { TrainingClient } from 'wasmgrad/worker';

window.result = new TrainingClient().train({ hidden: [16], epochs: 1 }).then((done) => ({ loss: done.history[0].trainLoss, accuracy: done.history[0].testAccuracy }));
