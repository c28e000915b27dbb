// The demo's Web Worker: the library's training service, answering the page's requests.
import { serveTraining } from 'wasmgrad/worker';

const handle = serveTraining(self as unknown as Parameters<typeof serveTraining>[0]);
self.addEventListener('message', (e: MessageEvent) => void handle(e.data));
