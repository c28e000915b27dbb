// One seeded training run, written against the library passed in, so the same code runs in Chromium (on the
// sources, through Vite) and in Node (on dist/): the parameters it returns must be bit-identical.
// Plain JavaScript so that Node can import it without a TypeScript loader.

/**
 * @param {typeof import('../../src/index.js')} wg the library (sources or dist)
 * @param {number} steps
 * @returns {Promise<{ build: string, losses: number[], params: number[][] }>}
 */
export async function seededRun(wg, steps) {
  const info = await wg.init({ build: 'simd' });
  const g = new wg.Generator(42);
  const model = new wg.nn.Sequential(
    new wg.nn.Linear(20, 32, { generator: g }), new wg.nn.GELU(), new wg.nn.Dropout(0.1, { generator: g }),
    new wg.nn.Linear(32, 16, { generator: g }), new wg.nn.Tanh(), new wg.nn.Linear(16, 5, { generator: g }),
  );
  const opt = new wg.optim.Adam(model.parameters(), { lr: 0.01, weightDecay: 1e-4 });
  const sched = new wg.optim.CosineAnnealingLR(opt, { tMax: steps });
  const x = wg.keep(wg.randn([64, 20], { generator: g }));
  const y = wg.keep(wg.tensor(Array.from(g.permutation(64), (v) => v % 5), { dtype: 'int32' }));
  const losses = [];
  for (let s = 0; s < steps; s++) {
    losses.push(wg.tidy(() => {
      opt.zeroGrad();
      const loss = wg.nn.crossEntropy(model(x), y, { labelSmoothing: 0.05 });
      loss.backward();
      wg.optim.clipGradNorm(model.parameters(), 1);
      opt.step();
      return loss.item();
    }));
    sched.step();
  }
  const params = model.parameters().map((p) => Array.from(p.data()));
  opt.disposeState();
  model.dispose();
  x.dispose();
  y.dispose();
  return { build: info.build, losses, params };
}
