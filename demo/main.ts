// The demo page: trains in a Web Worker with a live chart, lets you draw a digit for the model to read, and
// shows the model's computational graph and the seed's worked example explained by the library.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { explain, graphOf, init, nn, relu, seedLinear, tensor, tidy, toSvg, zeros, type Tensor } from 'wasmgrad';
import { TrainingClient, type WorkerEvent } from 'wasmgrad/worker';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const client = new TrainingClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));

// Worker threads share memory, which browsers give only to cross-origin-isolated pages (COOP + COEP headers):
// there, train on every core (init takes at most 16 threads); elsewhere on one thread, and say why.
const threads = crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 16) : 1;
$('threads-note').hidden = crossOriginIsolated;

// ── live chart ────────────────────────────────────────────────────────────────────────────────────────────
const series: [number[], (number | null)[], (number | null)[]] = [[], [], []];
const chart = new uPlot({
  width: Math.min(640, $('chart').clientWidth || 600), height: 240,
  scales: { x: { time: false }, acc: { range: [0, 1] } },
  axes: [{ label: 'epoch' }, { label: 'training loss' }, { side: 1, scale: 'acc', label: 'test accuracy', grid: { show: false } }],
  series: [{}, { label: 'training loss', stroke: '#1f77b4', width: 2, spanGaps: true },
    { label: 'test accuracy', stroke: '#d62728', width: 2, scale: 'acc', spanGaps: true, points: { show: true } }],
}, series, $('chart'));

let trained = false;
function onEvent(e: WorkerEvent): void {
  if (e.type === 'started') {
    const cnn = e.config.model === 'cnn';
    void (cnn ? showCnnGraph() : showGraph(e.config.hidden[0]!));
    $('build').textContent = e.backend.backend === 'wasm' ? `wasm ${e.backend.build}` : 'ref';
    $('threads').textContent = String(e.backend.threads);
    $('status').textContent = `Training ${cnn ? 'the CNN' : `the ${[784, ...e.config.hidden, 10].join('-')} MLP`} on ${e.trainSize} digits…`;
  } else if (e.type === 'batch') {
    series[0].push(e.epoch - 1 + e.batch / e.batches);
    series[1].push(e.loss);
    series[2].push(null);
    chart.setData(series);
    $('epoch').textContent = `${e.epoch} (${Math.round((100 * e.batch) / e.batches)}%)`;
    $('loss').textContent = e.loss.toFixed(4);
    $('throughput').textContent = `${Math.round(e.samplesPerSecond).toLocaleString('en-US')} samples/s`;
  } else if (e.type === 'epoch') {
    series[0].push(e.metrics.epoch);
    series[1].push(null);
    series[2].push(e.metrics.testAccuracy);
    chart.setData(series);
    $('accuracy').textContent = `${(100 * e.metrics.testAccuracy!).toFixed(2)}%`;
    trained = true;
    void predictDrawing();
  } else if (e.type === 'done') {
    $('status').textContent = e.stopped ? 'Stopped.' : 'Done. Draw a digit on the right.';
  } else if (e.type === 'error') {
    $('status').textContent = `Error: ${e.message}`;
  }
}
client.onEvent(onEvent);

// The hidden units are the MLP's; the CNN trains with its own defaults.
const modelChoice = $<HTMLSelectElement>('model');
modelChoice.addEventListener('change', () => ($<HTMLInputElement>('hidden').disabled = modelChoice.value === 'cnn'));

$('train').addEventListener('click', async () => {
  series.forEach((s) => (s.length = 0));
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  const epochs = Number($<HTMLInputElement>('epochs').value);
  try {
    await client.train(modelChoice.value === 'cnn' ? { model: 'cnn', epochs }
      : { model: 'mlp', hidden: [Number($<HTMLInputElement>('hidden').value)], epochs, dropout: 0.2 }, { threads });
  } finally {
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
});
$('stop').addEventListener('click', () => client.stop());

// ── drawing ───────────────────────────────────────────────────────────────────────────────────────────────
const canvas = $<HTMLCanvasElement>('canvas');
const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
let drawing = false;
let last: [number, number] | null = null;
const pos = (e: PointerEvent): [number, number] => {
  const r = canvas.getBoundingClientRect();
  return [((e.clientX - r.left) * canvas.width) / r.width, ((e.clientY - r.top) * canvas.height) / r.height];
};
canvas.addEventListener('pointerdown', (e) => {
  drawing = true;
  last = pos(e);
  canvas.setPointerCapture(e.pointerId);
});
canvas.addEventListener('pointermove', (e) => {
  if (!drawing || !last) return;
  const p = pos(e);
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = 20;
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(...last);
  ctx.lineTo(...p);
  ctx.stroke();
  last = p;
});
canvas.addEventListener('pointerup', () => {
  drawing = false;
  void predictDrawing();
});
$('clear').addEventListener('click', () => {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  $('prediction').textContent = '—';
  $('bars').innerHTML = '';
});

/** The drawing as MNIST prepares its digits: the ink scaled into a 20×20 box, centred by mass in 28×28. */
function toMnist(): Float32Array | null {
  const { data, width, height } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    if (data[(y * width + x) * 4 + 3]! > 0) [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1, h = y1 - y0 + 1, s = 20 / Math.max(w, h);
  const small = new OffscreenCanvas(28, 28).getContext('2d', { willReadFrequently: true })!;
  const place = (dx: number, dy: number) => {
    small.fillStyle = '#000';
    small.fillRect(0, 0, 28, 28);
    small.drawImage(canvas, x0, y0, w, h, 14 - (w * s) / 2 + dx, 14 - (h * s) / 2 + dy, w * s, h * s);
    return small.getImageData(0, 0, 28, 28).data;
  };
  let px = place(0, 0);
  let m = 0, cx = 0, cy = 0;
  for (let i = 0; i < 784; i++) {
    const v = px[i * 4]!;
    m += v;
    cx += v * (i % 28);
    cy += v * Math.floor(i / 28);
  }
  px = place(Math.round(13.5 - cx / m), Math.round(13.5 - cy / m));
  return Float32Array.from({ length: 784 }, (_, i) => px[i * 4]! / 255);
}

async function predictDrawing(): Promise<void> {
  const input = toMnist();
  if (!input || !trained) return;
  const p = await client.predict(input);
  const best = p.indexOf(Math.max(...p));
  $('prediction').textContent = String(best);
  $('bars').innerHTML = Array.from(p, (v, k) => `<div class="bar"><span>${k}</span><div style="width:${(v * 12).toFixed(2)}rem"></div>${(100 * v).toFixed(1)}%</div>`).join('');
}

// ── the graph and the seed's table, computed on this page ─────────────────────────────────────────────────
/** The graph of one forward pass of the model being trained (same layers, placeholder values). */
async function showGraph(hidden: number): Promise<void> {
  await init();
  const graph = tidy(() => {
    const first = new nn.Linear(784, hidden), second = new nn.Linear(hidden, 10);
    [first.weight.name, first.bias!.name, second.weight.name, second.bias!.name] = ['W1', 'b1', 'W2', 'b2'];
    const z = first(zeros([1, 784]).named('x')).named('z');
    const o = second(relu(z).named('h')).named('o');
    const g = graphOf(nn.crossEntropy(o, tensor([0], { dtype: 'int32', name: 'y' })).named('L'));
    first.dispose();
    second.dispose();
    return g;
  });
  $('graph').innerHTML = await toSvg(graph, 'MLP');
}

/** The same for the CNN: two blocks conv → batch norm → φ → max pool, then the linear layer. */
async function showCnnGraph(): Promise<void> {
  await init();
  const graph = tidy(() => {
    const layers = [
      new nn.Conv2d(1, 16, 5, { padding: 'same', bias: false }), new nn.BatchNorm2d(16), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Conv2d(16, 32, 5, { padding: 'same', bias: false }), new nn.BatchNorm2d(32), new nn.ReLU(), new nn.MaxPool2d(2),
      new nn.Flatten(), new nn.Linear(32 * 7 * 7, 10)];
    const model = new nn.Sequential(...layers);
    for (const [name, p] of model.namedParameters()) p.name = name;
    let h: Tensor = zeros([1, 1, 28, 28]).named('x');
    layers.forEach((layer, i) => (h = layer(h).named(i === layers.length - 1 ? 'o' : `h${i + 1}`)));
    const g = graphOf(nn.crossEntropy(h, tensor([0], { dtype: 'int32', name: 'y' })).named('L'));
    model.dispose();
    return g;
  });
  $('graph').innerHTML = await toSvg(graph, 'CNN');
}

async function showTheory(): Promise<void> {
  await showGraph(Number($<HTMLInputElement>('hidden').value));
  const rows = tidy(() => explain(seedLinear().L).rows);
  const fmt = (v: { values: number[] | null }) => (v.values ? v.values.map((x) => Number(x.toPrecision(6))).join(', ') : '…');
  $('explain').innerHTML = `<table><tr><th>step</th><th>node</th><th>upstream</th><th>local</th><th>global</th></tr>${rows.map((r) => {
    const live = r.inputs.filter((i) => i.global);
    return `<tr><td>${r.step}</td><td>${r.formula}</td><td>∂L/∂${r.output} = ${fmt(r.upstream)}</td>` +
      `<td>${live.map((i) => `∂${r.output}/∂${i.name} = ${i.local}`).join('<br>')}</td>` +
      `<td>${live.map((i) => `∂L/∂${i.name} = ${fmt(i.global!)}`).join('<br>')}</td></tr>`;
  }).join('')}</table>`;
}
void showTheory();
