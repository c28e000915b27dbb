// The bad-input catalogue of profile(): anything but a function is refused with a message that says what to pass,
// before anything is observed; memory is unchanged, the backend is left unobserved, and the same model and
// optimizer keep working (profiled too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBackend, init, memory, optim, profile, tensor, tidy } from '../../src/index.js';
import { disposeWorld, makeWorld, stillUsable, type World } from '../helpers/world.js';

let world: World;

beforeAll(async () => {
  await init({ build: 'simd' });
  world = makeWorld((params) => new optim.SGD(params, { lr: 0.1 }));
});

afterAll(() => disposeWorld(world));

const hint = '; pass the function itself (profile(() => step())), not what it returns';

const CASES: [string, () => unknown, string][] = [
  ['nothing', () => (profile as (fn?: unknown) => unknown)(), `profile: expected a function to run and profile, got undefined${hint}`],
  ["a step's result, a number", () => profile(3 as unknown as () => number), `profile: expected a function to run and profile, got 3${hint}`],
  ["an async step's result, a promise", () => profile(Promise.resolve(1) as unknown as () => number),
    `profile: expected a function to run and profile, got a Promise${hint}`],
  ['a tensor', () => profile(tensor([1, 2]) as unknown as () => number),
    `profile: expected a function to run and profile, got a Tensor of shape [2]${hint}`],
  ['an options object', () => profile({ fn: () => 1 } as unknown as () => number),
    `profile: expected a function to run and profile, got an object${hint}`],
];

describe('bad input to profile', () => {
  it.each(CASES)('%s', (_name, bad, message) => {
    const before = memory();
    expect(() => tidy(() => { bad(); })).toThrow(message);
    expect(memory()).toMatchObject({ tensors: before.tensors, bytes: before.bytes });
    expect(Object.hasOwn(getBackend(), 'matmul')).toBe(false);
    stillUsable(world);
    expect(profile(() => stillUsable(world)).calls.length).toBeGreaterThan(0);
  });
});
