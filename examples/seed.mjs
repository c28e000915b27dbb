// "The seed": the short article wasmgrad started from (forward and backward propagation on a computational graph,
// illustrated with a two-layer network and one worked example). This program replays both with the library.
//   node examples/seed.mjs
//
// 1. The worked example: fit one point with a line. ŷ = w·x + b with x = 2, y = 3, starting from w = 0.5, b = 0.1,
//    loss L = ½(ŷ − y)², one step of gradient descent with learning rate η = 0.1. The article computes by hand
//    ŷ = 1.1, L = 1.805, ∂L/∂ŷ = −1.9, ∂L/∂w = −3.8, ∂L/∂b = −1.9, and the update w → 0.88, b → 0.29.
// 2. The two-layer network z = W1·x, h = φ(z), o = W2·h, L = l(o, y), s = λ/2(‖W1‖² + ‖W2‖²), J = L + s, and its
//    backward table: each row is "upstream gradient × local gradient = global gradient".
import { explain, init, l2Penalty, matmul, memory, mseLoss, optim, tensor } from 'wasmgrad';
import { pathToFileURL } from 'node:url';

/** A float32 value as the article writes it (float32 cannot hold 0.88 exactly: 0.8799999952…). */
const show = (v) => String(Number(v.toPrecision(6)));

/** The worked example: forward, backward and one SGD step. Returns the numbers and prints each step. */
export function workedExample({ x: x0 = 2, y: y0 = 3, w: w0 = 0.5, b: b0 = 0.1, lr = 0.1 } = {}) {
  const w = tensor(w0, { requiresGrad: true, name: 'w' });
  const b = tensor(b0, { requiresGrad: true, name: 'b' });
  const x = tensor(x0, { name: 'x' });
  const y = tensor(y0, { name: 'y' });
  const opt = new optim.SGD([w, b], { lr });
  try {
    // Forward: the graph is recorded as the ops run.
    const wx = w.mul(x).named('wx');
    const yhat = wx.add(b).named('ŷ');
    const L = mseLoss(yhat, y, { reduction: 'sum', scale: 0.5 }).named('L'); // ½(ŷ − y)²
    console.log('Forward');
    console.log(`  ŷ = w·x + b = ${w0} × ${x0} + ${b0} = ${show(yhat.item())}`);
    console.log(`  L = ½(ŷ − y)² = ½(${show(yhat.item())} − ${y0})² = ${show(L.item())}`);

    // Backward: explain() prints the table the article draws; backward() fills w.grad and b.grad.
    console.log('\nBackward (upstream × local = global)');
    console.log(explain(L).toString());
    L.backward();
    const result = { yhat: yhat.item(), L: L.item(), dLdw: w.grad.item(), dLdb: b.grad.item() };
    console.log(`  ∂L/∂w = ${show(result.dLdw)}   ∂L/∂b = ${show(result.dLdb)}`);

    // Update: p ← p − η·∂L/∂p, in place.
    opt.step();
    result.w = w.item();
    result.b = b.item();
    console.log('\nUpdate (learning rate η = ' + lr + ')');
    console.log(`  w = ${w0} − ${lr} × (${show(result.dLdw)}) = ${show(result.w)}`);
    console.log(`  b = ${b0} − ${lr} × (${show(result.dLdb)}) = ${show(result.b)}`);
    for (const t of [wx, yhat, L]) t.dispose();
    return result;
  } finally {
    for (const t of [w, b, x, y]) t.dispose(); // also frees w.grad and b.grad
  }
}

/** The article's two-layer network with the L2 term (φ = ReLU, l = ½‖o − y‖², λ = 0.1), and its backward table. */
export function twoLayerNetwork() {
  const W1 = tensor([[0.1, -0.2], [0.3, 0.4]], { requiresGrad: true, name: 'W1' });
  const W2 = tensor([[0.5, -0.6]], { requiresGrad: true, name: 'W2' });
  const x = tensor([1, 2], { name: 'x' });
  const y = tensor([1], { name: 'y' });
  const made = [];
  const keep = (t, name) => (made.push(t), t.named(name));
  try {
    const z = keep(matmul(W1, x), 'z');
    const h = keep(z.relu(), 'h');
    const o = keep(matmul(W2, h), 'o');
    const L = keep(mseLoss(o, y, { reduction: 'sum', scale: 0.5 }), 'L');
    const s = keep(l2Penalty([W1, W2], 0.1), 's'); // the "ℓ₂" node: λ/2 (‖W1‖² + ‖W2‖²)
    const J = keep(L.add(s), 'J');
    console.log('\nThe two-layer network: z = W1·x, h = ReLU(z), o = W2·h, L = ½(o − y)², s = λ/2(‖W1‖² + ‖W2‖²), J = L + s');
    console.log(explain(J).toString());
    J.backward();
    // Row ② of the article's table by hand: ∂J/∂W2 = ∂J/∂o · hᵀ, plus λ·W2 from the ℓ₂ node.
    const dJdo = o.item() - 1; // l = ½(o − y)²: ∂L/∂o = o − y; ∂J/∂L = 1
    const hv = h.data();
    const byHand = [0, 1].map((j) => dJdo * hv[j] + 0.1 * W2.data()[j]);
    const autograd = [...W2.grad.data()];
    console.log(`  ∂J/∂W2 by hand (∂J/∂o·hᵀ + λW2): [${byHand.map(show).join(', ')}]   by backward(): [${autograd.map(show).join(', ')}]`);
    return { byHand, autograd };
  } finally {
    for (const t of [...made, W1, W2, x, y]) t.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await init();
  const before = memory().tensors;
  workedExample();
  twoLayerNetwork();
  console.log(`\ntensors alive: ${memory().tensors} (at the start: ${before})`);
}
