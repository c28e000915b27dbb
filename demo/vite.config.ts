// The demo page: `npm run demo` serves it, `npm run build:demo` writes static files to demo/dist/ that work
// offline from any static server. It imports the package as users do ('wasmgrad', 'wasmgrad/worker').
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * Cross-origin isolation: with these headers the page gets SharedArrayBuffer, which the library's worker threads
 * need. Every resource the page loads is its own (same origin), so require-corp blocks nothing. The static build
 * carries the same headers in public/_headers (read by Netlify and Cloudflare Pages; other hosts need them set).
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: 'demo',
  base: './',
  // Two pages: the digits (index.html) and the names (names.html). Graphviz (for the graph picture) is one 1.4 MB
  // chunk, loaded on demand.
  build: {
    outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 1500,
    rolldownOptions: { input: { digits: resolve(import.meta.dirname, 'index.html'), names: resolve(import.meta.dirname, 'names.html') } },
  },
  worker: { format: 'es' },
  server: { fs: { allow: ['..'] }, headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
