// The wasmgrad kernel ABI. Only numbers cross the boundary: byte offsets into linear memory (usize), element
// counts and flags (i32), hyperparameters (f64). No managed objects are ever allocated here: TypeScript owns
// every block of memory above heap_base() (see src/backend/wasm/heap.ts). Shapes are validated in TypeScript
// before a kernel runs; the release builds are compiled with --noAssert.
export { heap_base } from './kernels/memory';
export {
  matmul_ws_bytes, matmul_is_blocked, matmul_block_ws_bytes, matmul_tile_rows, matmul_f32, matmul_f32_block, matmul_sgd_f32,
} from './kernels/matmul';
export * from './kernels/binary';
export * from './kernels/unary';
export * from './kernels/reduce';
export * from './kernels/softmax';
export * from './kernels/copy';
export * from './kernels/optim';
export * from './kernels/pool';
export * from './kernels/batchnorm';
export * from './kernels/layernorm';
export * from './kernels/conv';
export * from './kernels/sequence';
export * from './kernels/attention';
