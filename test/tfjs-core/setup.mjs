// Bundled first by suite.mjs, before TensorFlow.js's test files: boots jasmine-core, registers the backends,
// sets the one test environment and the include/exclude list (filters.ts) the way tfjs's backends do it
// (setTestEnvs / setupTestFilters from tfjs-core's jasmine_util), and records the kernels each spec dispatches.
import jasmineRequire from 'jasmine-core/lib/jasmine-core/jasmine.js';
import bootJasmine from 'jasmine-core/lib/jasmine-core/node_boot.js';
import { getKernelsForBackend } from '@tensorflow/tfjs-core';
import { ENGINE } from '@tensorflow/tfjs-core/dist/engine.js';
import { setTestEnvs, setupTestFilters } from '@tensorflow/tfjs-core/dist/jasmine_util.js';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js'; // as @tensorflow/tfjs does
import '@tensorflow/tfjs-backend-cpu';
import '../../src/inline.ts'; // the wasm builds embedded: the bundle finds them wherever it is written
import '../../src/tfjs/index.ts';
import { KERNELS } from '../../src/tfjs/kernels/index.ts';
import { FALLBACK_KERNELS } from '../../src/tfjs/fallback.ts';
import { EXCLUDES, KERNEL_BLOCKS, testFilters } from './filters.ts';
import { missingKernels, specKey, summarize } from './report.ts';

const backendName = process.env.TFJS_SUITE_BACKEND ?? 'wasmgrad';
/** The spec names carry the environment's name: "matmul test-wasmgrad {} A x B". */
const ENV = { name: `test-${backendName}`, backendName, isDataSync: true };

const jasmine = bootJasmine(jasmineRequire); // installs describe, it, expect, ... as globals
jasmine.DEFAULT_TIMEOUT_INTERVAL = 20_000; // what tfjs-core's own runs use
const env = jasmine.getEnv();
env.configure({ random: false });

setTestEnvs([ENV]);

// Every registered kernel goes through ENGINE.runKernelFunc: note its name against the running spec.
let current = null;
const runKernelFunc = ENGINE.runKernelFunc;
ENGINE.runKernelFunc = function (params) {
  if (current !== null && params.kernelName !== undefined && this.backendName === backendName) current.add(params.kernelName);
  return runKernelFunc.call(this, params);
};

/**
 * Runs the specs and resolves with what they mean for the backend (report.ts). The reference run (tfjs-backend-cpu)
 * runs every describeWithFlags spec; the others take its kernels per spec and leave out those that need a kernel
 * the backend does not have, and the specs filters.ts excludes.
 */
export function runSuite(reference) {
  const wasmgrad = backendName === 'wasmgrad';
  const expectations = { envName: ENV.name, reference, excludes: reference ? EXCLUDES : [],
    nativeKernels: wasmgrad ? KERNELS.map((k) => k.kernelName) : [], fallbackKernels: wasmgrad ? Object.keys(FALLBACK_KERNELS) : [],
    kernelBlocks: wasmgrad ? KERNEL_BLOCKS : {}, cpuKernels: getKernelsForBackend('cpu').map((k) => k.kernelName) };
  // Plain describe() blocks (no test environment in their name) test tfjs-core itself, not a backend: left out.
  setupTestFilters(testFilters(ENV.name, expectations.excludes), () => false);
  const listed = env.configuration().specFilter;
  env.configure({ specFilter: (spec) => listed(spec) && missingKernels(spec.getFullName(), expectations).length === 0 });

  const specs = [];
  const suiteErrors = [];
  const messages = (r) => r.failedExpectations.map((e) => e.message);
  return new Promise((resolve, reject) => {
    env.addReporter({
      specStarted: () => {
        current = new Set();
      },
      specDone: (r) => {
        specs.push({ name: r.fullName, status: r.status, messages: messages(r), kernels: [...current ?? []] });
        current = null;
      },
      suiteDone: (r) => {
        if (r.failedExpectations.length > 0) suiteErrors.push({ name: r.fullName, messages: messages(r) });
      },
      jasmineDone: (r) => {
        if (r.incompleteReason) suiteErrors.push({ name: 'jasmine', messages: [r.incompleteReason] });
        try {
          const report = summarize({ specs, suiteErrors }, expectations);
          // The reference run hands on each spec's kernels, by a name that leaves out the backend.
          if (!reference) report.kernelsBySpec = Object.fromEntries(specs.map((s) => [specKey(s.name, ENV.name), s.kernels]));
          resolve(report);
        } catch (e) {
          reject(e); // jasmine would swallow it, leaving the run hanging
        }
      },
    });
    env.execute();
  });
}
