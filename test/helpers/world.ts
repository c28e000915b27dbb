// The objects the bad-input catalogues break things around: a model, its optimizer, an input and a leaf that
// requires a gradient. After each bad call, stillUsable() shows that the same objects keep working.
import { expect } from 'vitest';
import { keep, nn, tensor, tidy, type optim, type Tensor } from '../../src/index.js';

export interface World {
  /** A [2,3] input; its rows are labelled 0 and 1. */
  x: Tensor;
  /** A leaf [0.5, −1, 2] named 'w' that requires a gradient. */
  w: Tensor;
  /** Linear(3,4) → ReLU → Linear(4,2). */
  model: nn.Sequential;
  opt: optim.Optimizer<optim.Hyper>;
}

export function makeWorld(optimizer: (params: Tensor[]) => optim.Optimizer<optim.Hyper>): World {
  const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
  return {
    x: keep(tensor([[1, 2, 3], [4, 5, 6]])),
    w: keep(tensor([0.5, -1, 2], { requiresGrad: true, name: 'w' })),
    model,
    opt: optimizer(model.parameters()),
  };
}

export function disposeWorld(world: World): void {
  world.opt.disposeState();
  world.model.dispose();
  world.x.dispose();
  world.w.dispose();
}

/** The objects still work: a gradient into w.grad, and a training step that changes the model. */
export function stillUsable({ x, w, model, opt }: World): void {
  tidy(() => {
    w.grad?.dispose();
    w.grad = null;
    w.square().sum().backward();
    expect(Array.from(w.grad!.data())).toEqual([1, -2, 4]);
    opt.zeroGrad();
    const before = model.parameters()[0]!.data();
    const loss = nn.crossEntropy(model(x), [0, 1]);
    loss.backward();
    opt.step();
    expect(Number.isFinite(loss.item())).toBe(true);
    expect(model.parameters()[0]!.data()).not.toEqual(before);
  });
}
