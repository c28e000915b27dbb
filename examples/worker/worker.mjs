// The worker side: a node:worker_threads worker that trains on request (the embedded digits, or the names for the
// character GPT) and posts its progress back. serveTraining does the work; this file only connects it to the port.
// (wasmgrad/worker also ships this as a ready-made script: trainWorkerUrl().)
import { parentPort } from 'node:worker_threads';
import { serveTraining } from 'wasmgrad/worker';

const handle = serveTraining(parentPort);
parentPort.on('message', (request) => void handle(request));
