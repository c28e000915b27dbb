// compile() refuses what a recording cannot replay faithfully, naming what to do instead: reading tensor data inside
// the step (checkNumerics included), random draws outside dropout, disposing a tensor the step did not make,
// results that are not a tensor the step computed, tensors left alive by every call, gradients accumulated across
// calls, a step that keeps changing past maxTraces, arguments that are not tensors or primitives or that share
// storage, a compiled step inside another, ReduceLROnPlateau inside the step, a disposed step, and bad options.
// Each refusal leaves memory unchanged (once the gradients the eager part made are dropped) and the same model and
// optimizer working, eagerly and compiled.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkNumerics, compile, init, keep, memory, nn, optim, randn, tensor, tidy, type Tensor,
} from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable, type World } from '../helpers/world.js';

let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.SGD(params, { lr: 0.1 }));
});
afterAll(() => disposeWorld(world));

/** The world's loss on x. */
const lossOf = (x: Tensor) => nn.crossEntropy(world.model(x), [0, 1]);

/** A compiled training step whose loss goes through `inside` first. */
function stepWith(inside: (loss: Tensor, x: Tensor) => Tensor | number | void) {
  return compile((x: Tensor) => {
    world.opt.zeroGrad();
    const loss = lossOf(x);
    const out = inside(loss, x);
    loss.backward();
    world.opt.step();
    return out as Tensor;
  });
}

/** Calls a compiled step `times` times on a fresh input (the last call's error is what the case expects). */
function callTimes(step: (x: Tensor) => unknown, times = 1, shape: number[] = [2, 3]): void {
  for (let i = 0; i < times; i++) {
    tidy(() => {
      step(tensor(Float32Array.from({ length: 6 }, (_, j) => j + i), { shape }));
    });
  }
}

const kept: Tensor[] = [];

const REFUSED: [string, () => unknown, string][] = [
  ['reading a value inside the step (.item())', () => callTimes(stepWith((loss) => (loss.item() > 100 ? loss.mul(2) : loss))),
    'compile: the step reads tensor data (.item(), .data(), a check that reads values) inside the function, and ' +
      'replay would not read it again; return the tensor and read the result outside'],
  ['checkNumerics(true), which reads every output', () => {
    checkNumerics(true);
    try {
      callTimes(stepWith((loss) => loss));
    } finally {
      checkNumerics(false);
    }
  }, '(checkNumerics(true) reads every output: turn it off for compiled steps)'],
  ['random numbers drawn inside the step', () => callTimes(stepWith((loss) => loss.add(randn([]).mul(0)))),
    'compile: the step draws random numbers (randn, rand, a Generator) outside nn.Dropout, and replay would repeat ' +
      'the traced numbers; draw them outside the step and pass them in as an argument'],
  ['disposing an argument inside the step', () => callTimes(stepWith((loss, x) => {
    x.dispose();
    return loss;
  })), 'compile: the step disposes a tensor it did not make (an argument, a parameter, a tensor from outside), and ' +
    'replay would not dispose it again; dispose it outside the step'],
  ['returning a number', () => callTimes(stepWith(() => 3)),
    'compile: the function must return a tensor (the loss), an array of tensors, or nothing, got 3; return tensors ' +
      'and read them (.item()) from what the compiled step returns'],
  ['returning its argument', () => callTimes(stepWith((_loss, x) => x)),
    'compile: the function returned a tensor it did not make (an argument, a parameter) or one tensor twice; return ' +
      'tensors the step computes'],
  ['keeping a tensor alive at every call', () => callTimes(stepWith((loss, x) => {
    kept.push(keep(x.mul(2)));
    return loss;
  }), 2), "compile: every call leaves tensors alive that the step neither returns nor keeps as gradients (made by 'mul'); " +
    "a compiled step keeps only its results, the parameters' gradients and state made on its first call (an " +
    "optimizer's): dispose the rest inside the function or move it out"],
  ['accumulating gradients across calls (no zeroGrad)', () => {
    const step = compile((x: Tensor) => {
      const loss = lossOf(x);
      loss.backward();
      return loss;
    });
    try {
      callTimes(step, 2);
    } finally {
      step.dispose();
    }
  }, "compile: backward accumulates into the gradient tensor 'weight' [2,4] had before the step, and replay would " +
    'start from the traced one; call optimizer.zeroGrad() inside the step, or before every call'],
  ['a step that changes more often than maxTraces', () => {
    const step = compile((x: Tensor) => x.sum(), { maxTraces: 1 });
    try {
      callTimes(step, 1, [2, 3]);
      callTimes(step, 1, [3, 2]);
    } finally {
      step.dispose();
    }
  }, "compile: the step changed again after 1 trace (argument 0 is float32 [3,2], traced as float32 [2,3]); keep " +
    "its inputs' shapes and the modules' modes steady, or raise maxTraces"],
  ['an object as an argument', () => compile((x: Tensor) => x.sum())({ x: world.x } as never),
    'compile: argument 0 must be a tensor or a primitive (a number, a string), got an object; pass tensors separately'],
  ['one tensor passed twice', () => compile((a: Tensor, b: Tensor) => a.add(b))(world.x, world.x),
    'compile: arguments 0 and 1 share storage; pass separate tensors'],
  ['a compiled step inside another', () => {
    const inner = compile((x: Tensor) => x.sum());
    callTimes(compile((x: Tensor) => inner(x)));
  }, 'compile: a compiled step cannot run inside another one while it is traced'],
  ['ReduceLROnPlateau inside the step', () => {
    const plateau = new optim.ReduceLROnPlateau(world.opt);
    callTimes(stepWith((loss) => {
      plateau.step(1);
      return loss;
    }));
  }, 'compile: ReduceLROnPlateau.step() cannot run inside a compiled step (it decides from a metric that replay ' +
    'would not see again); call it outside the step, e.g. once per epoch'],
  ['calling a disposed step', () => {
    const step = compile((x: Tensor) => x.sum());
    step.dispose();
    step(world.x);
  }, 'compile: this compiled step was disposed; compile the function again to use it'],
  ['a function that is not one', () => compile(3 as never), 'compile: expected a function (the training step), got 3'],
  ["torch.compile's fullgraph", () => compile((x: Tensor) => x, { fullgraph: true } as never),
    "compile: option 'fullgraph' is not supported (the whole function is always one recording)"],
  ['maxTraces 0', () => compile((x: Tensor) => x, { maxTraces: 0 }), 'compile: maxTraces must be a positive integer, got 0'],
];

describe('compiled steps the library refuses', () => {
  it.each(REFUSED)('%s', (_name, call, message) => {
    const before = memory();
    expect(call).toThrow(message);
    world.opt.zeroGrad();
    for (const t of kept.splice(0)) t.dispose();
    expect(memory()).toMatchObject({ tensors: before.tensors, buffers: before.buffers, bytes: before.bytes });
    stillUsable(world);
    // And compiled, the same objects train.
    world.opt.zeroGrad();
    const settled = memory();
    const step = stepWith((loss) => loss);
    callTimes(step, 3);
    expect(step.replays).toBe(2);
    step.dispose();
    world.opt.zeroGrad();
    expect(memory()).toMatchObject({ tensors: settled.tensors, buffers: settled.buffers, bytes: settled.bytes });
  });
});
