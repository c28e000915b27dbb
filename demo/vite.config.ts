// The demo page: `npm run demo` serves it, `npm run build:demo` writes static files to demo/dist/ that work
// offline from any static server. It imports the package as users do ('wasmgrad', 'wasmgrad/worker').
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'demo',
  base: './',
  // Graphviz (for the graph picture) is one 1.4 MB chunk, loaded on demand.
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1500 },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] } },
});
