// A ready-made training worker that answers the requests of protocol.ts. In browsers `new TrainingClient()` starts
// it (written so that bundlers build it as a worker entry); from node:worker_threads, `new Worker(trainWorkerUrl())`.
// No top-level await: bundlers build workers as classic scripts by default (Vite's worker.format 'iife').
import { isNode, nodeModule } from '../platform.js';
import type { Port, WorkerRequest } from './protocol.js';
import { serveTraining } from './serve.js';

interface Listener { on?(event: 'message', f: (m: WorkerRequest) => void): void; addEventListener?(type: 'message', f: (e: MessageEvent<WorkerRequest>) => void): void }

function listen(port: Port & Listener): void {
  const handle = serveTraining(port);
  if (port.on) port.on('message', (m) => void handle(m));
  else port.addEventListener!('message', (e) => void handle(e.data));
}

// Node's parentPort queues the messages that arrive before its listener is attached.
if (isNode()) void nodeModule<typeof import('node:worker_threads')>('node:worker_threads').then((m) => listen(m.parentPort as unknown as Port & Listener));
else listen(globalThis as unknown as Port & Listener);
