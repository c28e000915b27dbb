// The demo page: trains in a Web Worker with a live chart, lets you draw a digit for the model to read, and
// shows the model's computational graph and the seed's worked example explained by the library.
import { explain, graphOf, init, mseLoss, nn, optim, relu, tensor, tidy, toSvg, zeros, type Graph, type GraphNode, type Tensor } from 'wasmgrad';
import { TrainingClient, type WorkerEvent } from 'wasmgrad/worker';
import { $, EpochChart, readForm, showLoading, Throughput, trainedSoFar } from './shared.js';

// The library's ready-made training worker, built by Vite as a worker entry of its own.
const client = new TrainingClient();

// Worker threads share memory, which browsers give only to cross-origin-isolated pages (COOP + COEP headers):
// there, train on every core (init takes at most 16 threads); elsewhere on one thread, and say why.
const threads = crossOriginIsolated ? Math.min(navigator.hardwareConcurrency || 1, 16) : 1;
$('threads-note').hidden = crossOriginIsolated;

// ── live chart and progress ───────────────────────────────────────────────────────────────────────────────
const chart = new EpochChart($('chart'), [
  { label: 'training loss', color: '#1f77b4', axis: 'left', format: (v) => v.toFixed(4) },
  { label: 'test loss', color: '#ff7f0e', axis: 'left', dash: [6, 4], format: (v) => v.toFixed(4) },
  { label: 'test accuracy', color: '#d62728', axis: 'right', format: (v) => `${v.toFixed(2)}%` },
], { left: 'loss (cross-entropy)', right: 'test accuracy' });
const throughput = new Throughput();
let run = { trainSize: 0, batchSize: 1 };

/** Why a drawing gets no prediction, or null when the model can read it. */
let noPrediction: string | null = 'No prediction yet: the model is not trained. Press Train (section 1), then draw a digit.';
function setNoPrediction(why: string | null): void {
  noPrediction = why;
  $('predict-note').hidden = why === null;
  if (why) {
    $('predict-note').textContent = why;
    $('prediction').textContent = '—';
    $('bars').innerHTML = '';
  }
}

function onEvent(e: WorkerEvent): void {
  if (e.type === 'loading') showLoading(e, $('download'), $('status'));
  else if (e.type === 'started') {
    $('download').hidden = true;
    const cnn = e.config.model === 'cnn';
    void showGraph(cnn ? 'cnn' : e.config.hidden[0]!);
    run = { trainSize: e.trainSize, batchSize: e.config.batchSize };
    $('build').textContent = e.backend.backend === 'wasm' ? `wasm ${e.backend.build}` : 'ref';
    $('threads').textContent = String(e.backend.threads);
    $('status').textContent = `Training ${cnn ? 'the CNN' : `the ${[784, ...e.config.hidden, 10].join('-')} MLP`} on ${e.trainSize.toLocaleString('en-US')} digits…`;
  } else if (e.type === 'batch') {
    chart.set(e.epoch, 0, e.loss);
    $('epoch').textContent = `${e.epoch} (${Math.round((100 * e.batch) / e.batches)}%)`;
    $('loss').textContent = e.loss.toFixed(4);
    const rate = throughput.add(trainedSoFar(e, run.trainSize, run.batchSize));
    if (rate !== null) $('throughput').textContent = `${Math.round(rate).toLocaleString('en-US')} samples/s`;
  } else if (e.type === 'epoch') {
    const m = e.metrics;
    chart.set(m.epoch, 0, m.trainLoss);
    chart.set(m.epoch, 1, m.testLoss);
    chart.set(m.epoch, 2, 100 * m.testAccuracy!);
    $('accuracy').textContent = `${(100 * m.testAccuracy!).toFixed(2)}%`;
    setNoPrediction(null);
    void predictDrawing();
  } else if (e.type === 'done') {
    $('status').textContent = e.stopped ? `Stopped after ${e.history.length} of the epochs asked for.` : 'Done. Draw a digit in section 2 for the model to read.';
    if (e.stopped && e.history.length === 0) setNoPrediction('No prediction: training was stopped before its first epoch ended. Press Train to train the model.');
  } else if (e.type === 'error') {
    $('status').textContent = `Error: ${e.message}`;
  }
}
client.onEvent(onEvent);

// The hidden units are the MLP's; the CNN trains with its own defaults.
const modelChoice = $<HTMLSelectElement>('model');
modelChoice.addEventListener('change', () => ($<HTMLInputElement>('hidden').disabled = modelChoice.value === 'cnn'));

$('train-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void train();
});

/** Checks the form, then trains; every failure is said in the status line (never an unhandled rejection). */
async function train(): Promise<void> {
  const form = readForm({ hidden: 'hidden units', epochs: 'epochs' });
  if ('error' in form) {
    $('status').textContent = form.error;
    return;
  }
  const { hidden, epochs } = form.values;
  chart.reset(epochs);
  throughput.reset();
  setNoPrediction('No prediction yet: the model is training, and reads digits once its first epoch ends.');
  $<HTMLButtonElement>('train').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  try {
    await client.train(modelChoice.value === 'cnn' ? { model: 'cnn', epochs } : { model: 'mlp', hidden: [hidden], epochs, dropout: 0.2 }, { threads });
  } catch (e) {
    $('status').textContent = `Error: ${(e as Error).message}`;
    $('download').hidden = true;
    if (noPrediction) setNoPrediction('No prediction: training failed (the message is in section 1).');
  } finally {
    $<HTMLButtonElement>('train').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
}
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
  if (!noPrediction) {
    $('prediction').textContent = '—';
    $('bars').innerHTML = '';
  }
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
  if (!input || noPrediction) return; // the note says why
  try {
    const p = await client.predict(input);
    const best = p.indexOf(Math.max(...p));
    $('prediction').textContent = String(best);
    $('bars').innerHTML = Array.from(p, (v, k) => `<div class="bar"><span>${k}</span><div style="width:${(v * 10).toFixed(2)}rem"></div>${(100 * v).toFixed(1)}%</div>`).join('');
  } catch (e) {
    setNoPrediction(`No prediction: ${(e as Error).message}`);
  }
}

// ── the graph, drawn on this page ─────────────────────────────────────────────────────────────────────────
/** What each named tensor of the pictures is, for its tooltip. */
const ROLES: Record<string, string> = {
  x: 'the input: one image of 28×28 pixels', y: 'the label (the digit it shows)', z: 'the first layer\'s output, before the activation',
  h: 'the hidden layer: φ(z), φ = ReLU', o: 'the logits: one score per digit', L: 'the loss: cross-entropy of the logits against the label',
  W1: 'the first layer\'s weights', b1: 'the first layer\'s bias', W2: 'the second layer\'s weights', b2: 'the second layer\'s bias',
};

/**
 * The graph as the page draws it: each linear layer's one operator (x·Wᵀ + b) drawn as its matrix product (×) and
 * its bias addition (+), so the bias does not look multiplied; the loss's box says which loss.
 */
function forPicture(graph: Graph): Graph {
  const nodes = graph.nodes.map((n) => ({ ...n }));
  let edges = [...graph.edges];
  for (const n of nodes.filter((m) => m.op === 'linear')) {
    const inputs = edges.filter((e) => e.to === n.id).map((e) => e.from);
    Object.assign(n, { label: '×', op: 'matmul' });
    if (inputs.length < 3) continue; // no bias
    const plus = `${n.id}+`;
    nodes.push({ id: plus, kind: 'operator', label: '+', op: 'add' });
    edges = edges.filter((e) => !(e.to === n.id && e.from === inputs[2])).map((e) => (e.from === n.id ? { ...e, from: plus } : e));
    edges.push({ from: n.id, to: plus }, { from: inputs[2]!, to: plus });
  }
  // The loss named in its box (its operator's circle shows the seed's symbol, l).
  for (const loss of nodes.filter((m) => m.op === 'crossEntropy')) {
    const out = nodes.find((m) => m.id === edges.find((e) => e.from === loss.id)!.to)!;
    out.label = `${out.label} = cross-entropy`;
  }
  return { nodes, edges };
}

/** A node's tooltip: a tensor's name, shape and role; an operator's API name with what goes in and out. */
function tooltip(n: GraphNode, graph: Graph): string {
  const byId = new Map(graph.nodes.map((m) => [m.id, m]));
  if (n.kind !== 'operator') {
    const name = n.label.replace(/^\d+\.(weight|bias)$/, (_m, what: string) => `layer ${n.label.split('.')[0]} ${what}`);
    const role = ROLES[n.label.split(' ')[0]!];
    return `${n.kind} ${name}, ${n.shape?.length ? `shape [${n.shape.join('×')}]` : 'a scalar'}${role ? `: ${role}` : ''}`;
  }
  const ins = graph.edges.filter((e) => e.to === n.id).map((e) => byId.get(e.from)!);
  const outs = graph.edges.filter((e) => e.from === n.id).map((e) => byId.get(e.to)!);
  const name = (m: GraphNode) => (m.kind === 'operator' ? `(${m.op})` : m.label);
  return `${n.op}(${ins.map(name).join(', ')}) → ${outs.map(name).join(', ')}`;
}

/** The SVG at its natural size (12 px text), scrolling inside its box where the box is narrower; real names as tooltips. */
async function render(graph: Graph, title: string): Promise<void> {
  const picture = forPicture(graph);
  $('graph').innerHTML = await toSvg(picture, title);
  const svg = $('graph').querySelector('svg')!;
  // Graphviz's points as pixels: its 12 pt text at 12 px.
  for (const side of ['width', 'height'] as const) svg.style[side] = `${parseFloat(svg.getAttribute(side)!)}px`;
  const byId = new Map(picture.nodes.map((n) => [n.id, n]));
  for (const g of svg.querySelectorAll('g.node')) {
    const node = byId.get(g.querySelector('title')!.textContent!);
    if (!node) continue; // the legend
    const text = tooltip(node, picture);
    g.querySelector('title')!.textContent = text;
    g.querySelector('a')?.setAttributeNS('http://www.w3.org/1999/xlink', 'title', text);
  }
}

/** The graph of one forward pass of the model being trained (same layers, placeholder values). */
async function showGraph(model: number | 'cnn'): Promise<void> {
  await init();
  const graph = tidy(() => (model === 'cnn' ? cnnGraph() : mlpGraph(model)));
  await render(graph, model === 'cnn' ? 'CNN' : 'MLP');
}

function mlpGraph(hidden: number): Graph {
  const first = new nn.Linear(784, hidden), second = new nn.Linear(hidden, 10);
  [first.weight.name, first.bias!.name, second.weight.name, second.bias!.name] = ['W1', 'b1', 'W2', 'b2'];
  const z = first(zeros([1, 784]).named('x')).named('z');
  const o = second(relu(z).named('h')).named('o');
  const g = graphOf(nn.crossEntropy(o, tensor([0], { dtype: 'int32', name: 'y' })).named('L'));
  first.dispose();
  second.dispose();
  return g;
}

/** The CNN: two blocks conv → batch norm → φ → max pool, then the linear layer. */
function cnnGraph(): Graph {
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
}

// ── the seed's worked example: forward values, the backward table, one update ─────────────────────────────────
const LR = 0.1;

async function showTheory(): Promise<void> {
  await init();
  const num = (v: number) => String(Number(v.toPrecision(6)));
  const html = tidy(() => {
    // ŷ = w·x + b and L = ½(ŷ − y)², as seedLinear() builds it, keeping every intermediate tensor for its value.
    const w = tensor(0.5, { requiresGrad: true, name: 'w' }), b = tensor(0.1, { requiresGrad: true, name: 'b' });
    const x = tensor(2, { name: 'x' }), y = tensor(3, { name: 'y' });
    const forward = () => {
      const wx = w.mul(x).named('wx');
      const yhat = wx.add(b).named('ŷ');
      return { wx, yhat, L: mseLoss(yhat, y, { reduction: 'sum', scale: 0.5 }).named('L') };
    };
    const f = forward();
    const value: Record<string, number> = { wx: f.wx.item(), ŷ: f.yhat.item(), L: f.L.item() };
    const fmt = (v: { values: number[] | null }) => (v.values ? v.values.map(num).join(', ') : '…');
    const rows = explain(f.L).rows;
    const table = `<table><tr><th>step</th><th>node</th><th>forward value</th><th>upstream</th><th>local</th><th>global</th></tr>${rows.map((r) => {
      const live = r.inputs.filter((i) => i.global);
      return `<tr><td>${r.step}</td><td>${r.formula}</td><td>${r.output} = ${num(value[r.output]!)}</td><td>∂L/∂${r.output} = ${fmt(r.upstream)}</td>` +
        `<td>${live.map((i) => `∂${r.output}/∂${i.name} = ${i.local}`).join('<br>')}</td>` +
        `<td>${live.map((i) => `∂L/∂${i.name} = ${fmt(i.global!)}`).join('<br>')}</td></tr>`;
    }).join('')}</table>`;
    // One step of gradient descent by the library's SGD: p ← p − η·∂L/∂p.
    const before = { w: w.item(), b: b.item() };
    f.L.backward();
    const grad = { w: w.grad!.item(), b: b.grad!.item() };
    new optim.SGD([w, b], { lr: LR }).step();
    const after = forward().L.item();
    const update = `<table><tr><th>parameter</th><th>update p ← p − η·∂L/∂p, η = ${LR}</th></tr>` +
      `<tr><td>w</td><td>${num(before.w)} − ${LR} × (${num(grad.w)}) = ${num(w.item())}</td></tr>` +
      `<tr><td>b</td><td>${num(before.b)} − ${LR} × (${num(grad.b)}) = ${num(b.item())}</td></tr>` +
      `<tr><td>L</td><td>${num(value.L!)} before the step, ${num(after)} after it</td></tr></table>`;
    return { table, update };
  });
  $('explain').innerHTML = html.table;
  $('update').innerHTML = html.update;
}

void showGraph(Number($<HTMLInputElement>('hidden').value)).catch((e: Error) => ($('graph').textContent = `Error: ${e.message}`));
void showTheory().catch((e: Error) => ($('explain').textContent = `Error: ${e.message}`));
