// The bundle's entry. setup.mjs must run before TensorFlow.js's test files (they call describeWithFlags as they
// load, which needs the test environment), so it is imported first: ES modules evaluate in import order.
export { runSuite } from './setup.mjs';
import '@tensorflow/tfjs-core/dist/tests.js';
