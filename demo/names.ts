// The names page: trains the character GPT on the embedded names in a Web Worker with a live chart of the training
// and validation losses, and asks the worker for new names as it learns (every few seconds, and after every epoch).
import { loadNames } from 'wasmgrad';
import { TrainingClient, type WorkerEvent } from 'wasmgrad/worker';
import { $, EpochChart, readForm, showLoading, Throughput, trainedSoFar } from './shared.js';

const client = new TrainingClient();

// As on the digits page: every core where the page is cross-origin isolated, else one thread, saying why.
const threads = crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 16) : 1;
$('threads-note').hidden = crossOriginIsolated;
const known = loadNames().then((names) => new Set(names));

// ── live chart: training and validation loss per epoch (nats per character) ───────────────────────────────────
const chart = new EpochChart($('chart'), [
  { label: 'training loss', color: '#1f77b4', axis: 'left', format: (v) => v.toFixed(3) },
  { label: 'validation loss', color: '#d62728', axis: 'left', dash: [6, 4], format: (v) => v.toFixed(3) },
], { left: 'nats per character' });
const throughput = new Throughput();
let run = { trainSize: 0, batchSize: 1, context: 1 };

let training = false;
let lastSample = 0;
let seed = 1;
let sampling = false;
/** A refresh asked for while one was running (a new start or temperature): run once more after it. */
let again = false;

/**
 * 24 new names from the model as it is now, each drawn from the start of a line (and the prompt) up to its end:
 * the worker answers the requests together, between two training batches.
 */
async function showNames(): Promise<void> {
  if (sampling) {
    again = true;
    return;
  }
  sampling = true;
  try {
    const prompt = $<HTMLInputElement>('prompt').value.toLowerCase();
    const temperature = Number($<HTMLInputElement>('temperature').value);
    // 16 characters hold the longest name (15 letters) and its end; a name still going then is cut there.
    const texts = await Promise.all(Array.from({ length: 24 }, () => client.sample(prompt, { maxTokens: 16, temperature, seed: seed++ })));
    const names = texts.map((t) => t.split('\n')[0]!);
    const seen = await known;
    $('names').innerHTML = names.map((n) => `<li${seen.has(n) ? ' class="known"' : ''}>${n || '(empty)'}</li>`).join('');
    $('names-note').hidden = true;
  } catch (e) {
    $('names-note').hidden = false;
    $('names-note').textContent = `No names: ${(e as Error).message}`;
  } finally {
    sampling = false;
    if (again) {
      again = false;
      void showNames();
    }
  }
}

function onEvent(e: WorkerEvent): void {
  if (e.type === 'loading') showLoading(e, $('download'), $('status'));
  else if (e.type === 'started') {
    $('download').hidden = true;
    run = { trainSize: e.trainSize, batchSize: e.config.batchSize, context: e.config.context };
    $('build').textContent = e.backend.backend === 'wasm' ? `wasm ${e.backend.build}` : 'ref';
    $('threads').textContent = String(e.backend.threads);
    const c = e.config;
    $('status').textContent = `Training a ${c.layers}-layer GPT (${c.heads} heads, width ${c.width}, context ${c.context}) ` +
      `on ${e.trainSize.toLocaleString('en-US')} windows of ${c.context} characters…`;
  } else if (e.type === 'batch') {
    chart.set(e.epoch, 0, e.loss);
    $('epoch').textContent = `${e.epoch} (${Math.round((100 * e.batch) / e.batches)}%)`;
    $('loss').textContent = e.loss.toFixed(3);
    // Each window of the context's characters predicts every one of them.
    const rate = throughput.add(trainedSoFar(e, run.trainSize, run.batchSize) * run.context);
    if (rate !== null) $('throughput').textContent = `${Math.round(rate).toLocaleString('en-US')} chars/s`;
    if (performance.now() - lastSample > 3000) {
      lastSample = performance.now();
      void showNames();
    }
  } else if (e.type === 'epoch') {
    chart.set(e.metrics.epoch, 0, e.metrics.trainLoss);
    chart.set(e.metrics.epoch, 1, e.metrics.testLoss);
    $('val-loss').textContent = e.metrics.testLoss.toFixed(3);
    void showNames();
  } else if (e.type === 'done') {
    $('status').textContent = e.stopped ? 'Stopped.' : 'Done. Press More for other names, or change the start and temperature.';
  } else if (e.type === 'error') {
    $('status').textContent = `Error: ${e.message}`;
  }
}
client.onEvent(onEvent);

$('train-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void train();
});

/** Checks the form, then trains; every failure is said in the status line (never an unhandled rejection). */
async function train(): Promise<void> {
  const form = readForm({ layers: 'layers', width: 'width', epochs: 'epochs' });
  if ('error' in form) {
    $('status').textContent = form.error;
    return;
  }
  const { layers, width, epochs } = form.values;
  chart.reset(epochs);
  throughput.reset();
  training = true;
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  $<HTMLButtonElement>('more').disabled = false;
  try {
    await client.train({ model: 'gpt', layers, width, epochs }, { threads });
  } catch (e) {
    $('status').textContent = `Error: ${(e as Error).message}`;
    $('download').hidden = true;
  } finally {
    training = false;
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}
$('stop').addEventListener('click', () => client.stop());
$('more').addEventListener('click', () => void showNames());
$('temperature').addEventListener('input', () => {
  $('temperature-value').textContent = $<HTMLInputElement>('temperature').value;
  if (!training) void showNames();
});
