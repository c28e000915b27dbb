// A page as an application would write it: train in the ready-made worker of wasmgrad/worker, report to the page.
import { TrainingClient } from 'wasmgrad/worker';

const client = new TrainingClient();
const events = [];
client.onEvent((e) => events.includes(e.type) || events.push(e.type));
window.result = client.train({ hidden: [16], epochs: 1 }).then((done) => ({ epochs: done.history.length, accuracy: done.history[0].testAccuracy, events }));
