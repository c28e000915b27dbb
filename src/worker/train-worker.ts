// A ready-made training worker: `new Worker(new URL('wasmgrad/worker/train-worker.js', …), { type: 'module' })`
// in a browser, or `new Worker(url)` from node:worker_threads. It answers the requests of protocol.ts.
import { isNode, nodeModule } from '../platform.js';
import type { Port, WorkerRequest } from './protocol.js';
import { serveTraining } from './serve.js';

interface Listener { on?(event: 'message', f: (m: WorkerRequest) => void): void; addEventListener?(type: 'message', f: (e: MessageEvent<WorkerRequest>) => void): void }

const port = (isNode() ? (await nodeModule<typeof import('node:worker_threads')>('node:worker_threads')).parentPort : globalThis) as unknown as Port & Listener;
const handle = serveTraining(port);
if (port.on) port.on('message', (m) => void handle(m));
else port.addEventListener!('message', (e) => void handle(e.data));
