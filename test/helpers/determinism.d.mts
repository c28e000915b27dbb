import type * as wg from '../../src/index.js';
export function seededRun(lib: typeof wg, steps: number): Promise<{ build: string; losses: number[]; params: number[][] }>;
