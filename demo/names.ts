// The names page: trains the character GPT on the embedded names in a Web Worker with a live chart of the training
// and validation losses, and asks the worker for new names as it learns (every few seconds, and after every epoch).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { loadNames } from 'wasmgrad';
import { TrainingClient, type WorkerEvent } from 'wasmgrad/worker';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = new TrainingClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));

// As on the digits page: every core where the page is cross-origin isolated, else one thread, saying why.
const threads = crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 16) : 1;
$('threads-note').hidden = crossOriginIsolated;
const known = loadNames().then((names) => new Set(names));

// ── live chart: training loss per batch, validation loss per epoch (nats per character) ─────────────────────
const series: [number[], (number | null)[], (number | null)[]] = [[], [], []];
const chart = new uPlot({
  width: Math.min(640, $('chart').clientWidth || 600), height: 240,
  scales: { x: { time: false } },
  axes: [{ label: 'epoch' }, { label: 'nats per character' }],
  series: [{}, { label: 'training loss', stroke: '#1f77b4', width: 2, spanGaps: true },
    { label: 'validation loss', stroke: '#d62728', width: 2, spanGaps: true, points: { show: true } }],
}, series, $('chart'));

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
  } catch (e) {
    $('status').textContent = `Error: ${(e as Error).message}`;
  } finally {
    sampling = false;
    if (again) {
      again = false;
      void showNames();
    }
  }
}

function onEvent(e: WorkerEvent): void {
  if (e.type === 'started') {
    $('build').textContent = e.backend.backend === 'wasm' ? `wasm ${e.backend.build}` : 'ref';
    $('threads').textContent = String(e.backend.threads);
    const c = e.config;
    $('status').textContent = `Training a ${c.layers}-layer GPT (${c.heads} heads, width ${c.width}, context ${c.context}) ` +
      `on ${e.trainSize.toLocaleString('en-US')} windows of ${c.context} characters…`;
  } else if (e.type === 'batch') {
    series[0].push(e.epoch - 1 + e.batch / e.batches);
    series[1].push(e.loss);
    series[2].push(null);
    chart.setData(series);
    $('epoch').textContent = `${e.epoch} (${Math.round((100 * e.batch) / e.batches)}%)`;
    $('loss').textContent = e.loss.toFixed(3);
    $('throughput').textContent = `${Math.round(e.samplesPerSecond).toLocaleString('en-US')} chars/s`;
    if (performance.now() - lastSample > 3000) {
      lastSample = performance.now();
      void showNames();
    }
  } else if (e.type === 'epoch') {
    series[0].push(e.metrics.epoch);
    series[1].push(null);
    series[2].push(e.metrics.testLoss);
    chart.setData(series);
    $('val-loss').textContent = e.metrics.testLoss.toFixed(3);
    void showNames();
  } else if (e.type === 'done') {
    $('status').textContent = e.stopped ? 'Stopped.' : 'Done. Press More for other names, or change the start and temperature.';
  } else if (e.type === 'error') {
    $('status').textContent = `Error: ${e.message}`;
  }
}
client.onEvent(onEvent);

$('train').addEventListener('click', async () => {
  series.forEach((s) => (s.length = 0));
  training = true;
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  $<HTMLButtonElement>('more').disabled = false;
  const value = (id: string) => Number($<HTMLInputElement>(id).value);
  try {
    await client.train({ model: 'gpt', layers: value('layers'), width: value('width'), epochs: value('epochs') }, { threads });
  } finally {
    training = false;
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
});
$('stop').addEventListener('click', () => client.stop());
$('more').addEventListener('click', () => void showNames());
$('temperature').addEventListener('input', () => {
  $('temperature-value').textContent = $<HTMLInputElement>('temperature').value;
  if (!training) void showNames();
});
