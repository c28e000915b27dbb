// Learning-rate schedulers take one options object, as the optimizers do (issue 17). Each bad call is refused
// with a message that starts with the scheduler's name and says what to write instead: the positional form of
// wasmgrad 0.1 and of PyTorch, a missing required option, PyTorch's snake_case names, PyTorch arguments wasmgrad
// does not take, and values of the wrong kind or out of range. Each case checks that memory is unchanged, that the
// optimizer's lr was left alone (LinearLR and OneCycleLR set it when they are made), and that the same model and
// optimizer keep training.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init, memory, optim, tidy } from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable, type World } from '../helpers/world.js';

let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.SGD(params, { lr: 0.1, momentum: 0.9 }));
});

afterAll(() => disposeWorld(world));

const opt = () => world.opt;

// [what, the call, the message]
const CASES: [string, () => unknown, string][] = [
  // the positional form
  ['StepLR: a positional step size', () => new optim.StepLR(opt(), 30 as never),
    'StepLR: the second argument must be an options object such as { stepSize: 30, gamma: 0.1 }, got 30'],
  ['ExponentialLR: a positional gamma', () => new optim.ExponentialLR(opt(), 0.9 as never),
    'ExponentialLR: the second argument must be an options object such as { gamma: 0.9 }, got 0.9'],
  ['CosineAnnealingLR: a positional tMax', () => new optim.CosineAnnealingLR(opt(), 100 as never),
    'CosineAnnealingLR: the second argument must be an options object such as { tMax: 100 }, got 100'],
  ['LinearLR: a positional start factor', () => new optim.LinearLR(opt(), 0.1 as never),
    'LinearLR: the second argument must be an options object such as { startFactor: 0.1, totalIters: 5 }, got 0.1'],
  ['OneCycleLR: positional maxLr and totalSteps', () => new (optim.OneCycleLR as never as new (...a: unknown[]) => unknown)(opt(), 0.1, 1000),
    'OneCycleLR: the second argument must be an options object such as { maxLr: 0.1, totalSteps: 1000 }, got 0.1'],
  ['ReduceLROnPlateau: a positional mode', () => new optim.ReduceLROnPlateau(opt(), 'min' as never),
    "ReduceLROnPlateau: options must be an object such as { mode: … }, got the string 'min'"],
  // not an options object at all
  ['StepLR: no options', () => new optim.StepLR(opt(), undefined as never),
    'StepLR: the second argument must be an options object such as { stepSize: 30, gamma: 0.1 }, got undefined'],
  ['CosineAnnealingLR: null', () => new optim.CosineAnnealingLR(opt(), null as never),
    'CosineAnnealingLR: the second argument must be an options object such as { tMax: 100 }, got null'],
  ['ExponentialLR: an array', () => new optim.ExponentialLR(opt(), [0.9] as never),
    'ExponentialLR: the second argument must be an options object such as { gamma: 0.9 }, got [0.9]'],
  // a required option missing (undefined counts as not given)
  ['StepLR without stepSize', () => new optim.StepLR(opt(), { gamma: 0.5 } as never),
    'StepLR: stepSize is required, e.g. { stepSize: 30, gamma: 0.1 }'],
  ['ExponentialLR without gamma', () => new optim.ExponentialLR(opt(), {} as never), 'ExponentialLR: gamma is required, e.g. { gamma: 0.9 }'],
  ['CosineAnnealingLR with tMax undefined', () => new optim.CosineAnnealingLR(opt(), { tMax: undefined } as never),
    'CosineAnnealingLR: tMax is required, e.g. { tMax: 100 }'],
  ['OneCycleLR without totalSteps', () => new optim.OneCycleLR(opt(), { maxLr: 0.1 } as never),
    'OneCycleLR: totalSteps is required, e.g. { maxLr: 0.1, totalSteps: 1000 }'],
  // PyTorch's names in snake_case, and near misses
  ['step_size', () => new optim.StepLR(opt(), { step_size: 30 } as never),
    "StepLR: unknown option 'step_size'; did you mean 'stepSize'? (StepLR's options: stepSize, gamma)"],
  ['T_max', () => new optim.CosineAnnealingLR(opt(), { T_max: 100 } as never),
    "CosineAnnealingLR: unknown option 'T_max'; did you mean 'tMax'? (CosineAnnealingLR's options: tMax, etaMin)"],
  ['eta_min', () => new optim.CosineAnnealingLR(opt(), { tMax: 100, eta_min: 0 } as never),
    "CosineAnnealingLR: unknown option 'eta_min'; did you mean 'etaMin'?"],
  ['total_iters', () => new optim.LinearLR(opt(), { total_iters: 5 } as never), "LinearLR: unknown option 'total_iters'; did you mean 'totalIters'?"],
  ['max_lr', () => new optim.OneCycleLR(opt(), { max_lr: 0.1, totalSteps: 10 } as never),
    "OneCycleLR: unknown option 'max_lr'; did you mean 'maxLr'?"],
  ['a misspelt gamma', () => new optim.ExponentialLR(opt(), { gama: 0.9 } as never), "ExponentialLR: unknown option 'gama'; did you mean 'gamma'?"],
  ['an option of another scheduler', () => new optim.StepLR(opt(), { stepSize: 3, tMax: 10 } as never),
    "StepLR: unknown option 'tMax' (StepLR's options: stepSize, gamma)"],
  // PyTorch arguments wasmgrad does not take
  ['last_epoch', () => new optim.StepLR(opt(), { stepSize: 3, last_epoch: 5 } as never),
    "StepLR: option 'last_epoch' is not supported (to resume a schedule, load its stateDict() with loadStateDict())"],
  ['verbose', () => new optim.CosineAnnealingLR(opt(), { tMax: 10, verbose: true } as never),
    "CosineAnnealingLR: option 'verbose' is not supported (read getLastLr() after step())"],
  ['OneCycleLR: epochs', () => new optim.OneCycleLR(opt(), { maxLr: 0.1, epochs: 10, stepsPerEpoch: 100 } as never),
    "OneCycleLR: option 'epochs' is not supported (give totalSteps: epochs × steps per epoch)"],
  ['OneCycleLR: three_phase', () => new optim.OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, three_phase: true } as never),
    "OneCycleLR: option 'three_phase' is not supported (only the two-phase schedule is implemented)"],
  ['OneCycleLR: cycleMomentum', () => new optim.OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, cycleMomentum: false } as never),
    "OneCycleLR: option 'cycleMomentum' is not supported (only the lr is scheduled; momentum stays as the optimizer has it)"],
  // values of the wrong kind or out of range, shown as given
  ['StepLR: a string stepSize', () => new optim.StepLR(opt(), { stepSize: '30' as never }),
    "StepLR: stepSize must be a positive integer, got the string '30'"],
  ['StepLR: a negative stepSize', () => new optim.StepLR(opt(), { stepSize: -3 }), 'StepLR: stepSize must be a positive integer, got -3'],
  ['StepLR: a negative gamma', () => new optim.StepLR(opt(), { stepSize: 3, gamma: -0.1 }), 'StepLR: gamma must be a number > 0, got -0.1'],
  ['ExponentialLR: a NaN gamma', () => new optim.ExponentialLR(opt(), { gamma: NaN }), 'ExponentialLR: gamma must be a number > 0, got NaN'],
  ['CosineAnnealingLR: a fractional tMax', () => new optim.CosineAnnealingLR(opt(), { tMax: 2.5 }),
    'CosineAnnealingLR: tMax must be a positive integer, got 2.5'],
  ['CosineAnnealingLR: a negative etaMin', () => new optim.CosineAnnealingLR(opt(), { tMax: 10, etaMin: -1e-3 }),
    'CosineAnnealingLR: etaMin must be a number ≥ 0, got -0.001'],
  ['LinearLR: a startFactor above 1', () => new optim.LinearLR(opt(), { startFactor: 2 }), 'LinearLR: startFactor must be in (0, 1], got 2'],
  ['LinearLR: a negative endFactor', () => new optim.LinearLR(opt(), { endFactor: -1 }), 'LinearLR: endFactor must be in [0, 1], got -1'],
  ['LinearLR: zero totalIters', () => new optim.LinearLR(opt(), { totalIters: 0 }), 'LinearLR: totalIters must be a positive integer, got 0'],
  ['OneCycleLR: a negative maxLr', () => new optim.OneCycleLR(opt(), { maxLr: -0.1, totalSteps: 10 }), 'OneCycleLR: maxLr must be a number > 0, got -0.1'],
  ['OneCycleLR: a string totalSteps', () => new optim.OneCycleLR(opt(), { maxLr: 0.1, totalSteps: '10' as never }),
    "OneCycleLR: totalSteps must be a positive integer, got the string '10'"],
  ['OneCycleLR: pctStart of 1', () => new optim.OneCycleLR(opt(), { maxLr: 0.1, totalSteps: 10, pctStart: 1 }),
    'OneCycleLR: pctStart must be in (0, 1), got 1'],
  ['ReduceLROnPlateau: a negative cooldown', () => new optim.ReduceLROnPlateau(opt(), { cooldown: -1 }),
    'ReduceLROnPlateau: cooldown must be an integer ≥ 0, got -1'],
];

describe('scheduler options', () => {
  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    const lrs = opt().paramGroups.map((g) => g.lr);
    expect(() => tidy(() => bad())).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(opt().paramGroups.map((g) => g.lr)).toEqual(lrs);
    stillUsable(world);
  });
});
