// The worker side: trains a digits model (the MLP or the CNN) or the character GPT on the embedded names on request
// and posts progress back, so the page stays responsive; predicts digits, or samples text as the GPT learns.
// Runs in a Web Worker or a Node worker thread (see train-worker.ts), or anywhere with a message port.
import { init, backendInfo } from '../backend/registry.js';
import { noGrad, tidy } from '../autograd/scope.js';
import { fromValues } from '../creation.js';
import { softmax } from '../ops/softmax.js';
import { loadDigits, DIGITS_URL } from '../data/digits.js';
import { loadNames, NAMES_URL } from '../data/names.js';
import { CharTokenizer } from '../data/text.js';
import { readBytes } from '../platform.js';
import { Generator } from '../random.js';
import { digitsData } from '../train/data.js';
import type { GPT } from '../train/gpt.js';
import { textData } from '../train/text-data.js';
import '../ops/index.js'; // Tensor methods and the backward engine's ops
import { defaultsFor, Trainer } from '../train/trainer.js';
import type { Port, WorkerEvent, WorkerRequest } from './protocol.js';

/**
 * The worker side of wasmgrad/worker: answers WorkerRequests by training (the digits MLP or CNN, or the character
 * GPT on the names), predicting and sampling, and posts WorkerEvents to `port` (a Web Worker's `self`, or
 * `parentPort` from node:worker_threads). Returns the handler to call with each request message; a request that
 * fails is answered with an 'error' event.
 */
export function serveTraining(port: Port): (request: WorkerRequest) => Promise<void> {
  let trainer: Trainer | null = null;
  let stopRequested = false;
  let busy = false;
  const post = (e: WorkerEvent) => port.postMessage(e);
  /** Each dataset's bytes, downloaded once per worker. */
  const downloads = new Map<string, Promise<Uint8Array>>();

  /** A dataset's gzipped bytes: fetched with 'loading' events (read from disk for file: URLs), once. */
  function download(what: 'digits' | 'names', url: URL): Promise<Uint8Array> {
    let bytes = downloads.get(what);
    if (!bytes) {
      bytes = url.protocol === 'file:' ? readBytes(url, what) : fetchWithProgress(url, (loaded, total) => post({ type: 'loading', what, loaded, total }), what);
      downloads.set(what, bytes);
      bytes.catch(() => downloads.delete(what)); // a failed download is tried again by the next run
    }
    return bytes;
  }

  async function train(req: Extract<WorkerRequest, { type: 'train' }>): Promise<void> {
    if (busy) throw new Error('train: a training run is already in progress');
    busy = true;
    stopRequested = false;
    try {
      await init({ backend: req.backend, build: req.build, threads: req.threads });
      // The chosen model's defaults, then the settings given (all checked by the Trainer).
      const config = { ...defaultsFor(req.config?.model ?? 'mlp'), ...req.config };
      // The previous run's model stays (for predict) unless the new run can start: a bad config changes nothing.
      const data = config.model === 'gpt'
        ? textData(await loadNames(await download('names', NAMES_URL())), { context: config.context, name: 'names' })
        : await digitsData(await loadDigits(await download('digits', DIGITS_URL())));
      let next: Trainer;
      try {
        next = new Trainer(config, data);
      } catch (e) {
        data.train.dispose();
        data.test.dispose();
        throw e;
      }
      if (trainer) {
        trainer.dispose();
        trainer.data.train.dispose();
        trainer.data.test.dispose();
      }
      trainer = next;
      post({ type: 'started', backend: backendInfo(), config, trainSize: trainer.data.train.length, testSize: trainer.data.test.length });
      while (trainer.epoch < config.epochs && !stopRequested) {
        const epoch = trainer.epoch + 1;
        let last = 0;
        const m = await trainer.trainEpoch({
          shouldStop: () => stopRequested,
          onBatch: (batch, batches, loss, accuracy, samplesPerSecond) => {
            const now = performance.now();
            if (now - last < 100 && batch < batches) return; // at most ~10 progress messages a second
            last = now;
            post({ type: 'batch', epoch, batch, batches, loss, accuracy, samplesPerSecond });
          },
        });
        if (m) post({ type: 'epoch', metrics: m });
      }
      post({ type: 'done', history: trainer.history, stopped: stopRequested, model: trainer.modelBytes() });
    } finally {
      busy = false;
    }
  }

  function predict(req: Extract<WorkerRequest, { type: 'predict' }>): void {
    if (!trainer) throw new Error('predict: no model yet; train first');
    if (trainer.config.model === 'gpt') throw new Error('predict: the model is a character GPT, which writes text: use sample');
    const model = trainer.model;
    const probabilities = tidy(() => noGrad(() => {
      model.eval();
      const out = softmax(model(fromValues(req.inputs, [req.n, ...trainer!.inputShape])), -1);
      model.train();
      return Float32Array.from(out.data());
    }));
    post({ type: 'prediction', id: req.id, probabilities });
  }

  /** Text from the GPT being trained (between two of its batches) or just trained. */
  function sample(req: Extract<WorkerRequest, { type: 'sample' }>): void {
    if (!trainer || trainer.config.model !== 'gpt') throw new Error("sample: no character model yet; train one with model: 'gpt' first");
    const tokenizer = new CharTokenizer(trainer.data.info.classes);
    const start = tokenizer.encode(`\n${req.prompt}`, 'sample: the prompt');
    const ids = (trainer.model as GPT).generate(start, req.maxTokens, { temperature: req.temperature, generator: new Generator(req.seed) });
    post({ type: 'sample', id: req.id, text: req.prompt + tokenizer.decode(ids.subarray(start.length)) });
  }

  return async (req) => {
    try {
      if (req.type === 'train') await train(req);
      else if (req.type === 'stop') stopRequested = true;
      else if (req.type === 'predict') predict(req);
      else if (req.type === 'sample') sample(req);
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
    }
  };
}

/** The bytes at `url`, calling onProgress(bytes so far, total or null) as they arrive. */
async function fetchWithProgress(url: URL, onProgress: (loaded: number, total: number | null) => void, what: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`${what}: could not fetch ${url}: HTTP ${res.status}`);
  // Content-Length counts the bytes sent: with Content-Encoding the body read here is longer, so no total then.
  const total = res.headers.get('content-encoding') ? null : Number(res.headers.get('content-length')) || null;
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress(0, total);
  for (const reader = res.body.getReader(); ;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress(loaded, total);
  }
  const bytes = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return bytes;
}
