// `wasmgrad sample`: loads a character-level GPT written by `train --model gpt` (its sizes and vocabulary travel in
// the safetensors metadata) and continues a prompt, one character at a time, each drawn from the model's
// next-character distribution at a temperature. For the names model: new names, one per line.
import { Option, type Command } from 'commander';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CharTokenizer } from '../data/text.js';
import { Generator } from '../random.js';
import type { GPT } from '../train/gpt.js';
import { initBackend, nonNegativeInt, positiveInt, positiveNumber } from './common.js';
import { loadModel } from './predict.js';

export interface SampleOptions {
  model: string; prompt: string; temperature: number; maxTokens: number; seed?: number; backend: string; json?: boolean;
}

export interface SampleResult { prompt: string; temperature: number; maxTokens: number; seed: number; text: string }

/** A run directory stands for the model.safetensors in it. */
export async function modelFile(path: string): Promise<string> {
  const isDir = await stat(path).then((s) => s.isDirectory(), () => false);
  return isDir ? join(path, 'model.safetensors') : path;
}

export async function runSample(opts: SampleOptions, log: (line: string) => void = console.log): Promise<SampleResult> {
  await initBackend(opts.backend);
  const path = await modelFile(opts.model);
  const { model, description, info } = await loadModel(path);
  try {
    if (!('gpt' in description)) {
      throw new Error(`--model: ${path} is ${'mlp' in description ? 'an MLP' : 'a CNN'}, which classifies; sample needs a model trained with --model gpt`);
    }
    const tokenizer = new CharTokenizer(info.classes);
    // The model learnt every line after a newline: a prompt is the start of a line.
    const start = tokenizer.encode(`\n${opts.prompt}`, '--prompt');
    const seed = opts.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
    const ids = (model as GPT).generate(start, opts.maxTokens, { temperature: opts.temperature, generator: new Generator(seed) });
    const text = opts.prompt + tokenizer.decode(ids.subarray(start.length));
    const result = { prompt: opts.prompt, temperature: opts.temperature, maxTokens: opts.maxTokens, seed, text };
    log(opts.json ? JSON.stringify(result) : text);
    return result;
  } finally {
    model.dispose();
  }
}

export function registerSample(program: Command): void {
  program
    .command('sample')
    .description('generate text with a character-level GPT trained by `train --model gpt` (for the names model: new names, one per line)')
    .requiredOption('--model <path>', 'the run directory (runs/names) or its model.safetensors')
    .option('--prompt <text>', 'how the text starts (a line of it)', '')
    .option('--temperature <t>', 'below 1: likelier characters, more often; above 1: more surprising ones', positiveNumber('--temperature'), 1)
    .option('--max-tokens <n>', 'characters to generate after the prompt', positiveInt('--max-tokens'), 200)
    .option('--seed <n>', 'random seed of the draws (default: a new one each run)', nonNegativeInt('--seed'))
    .addOption(new Option('--backend <name>', 'compute backend').choices(['wasm', 'ref']).default('wasm'))
    .option('--json', 'print one JSON object (prompt, temperature, seed, text) and nothing else')
    .action(async (opts: SampleOptions) => {
      await runSample(opts);
    });
}
