// wasmgrad/inline: the same API, with the .wasm builds embedded as base64, for bundlers and hosts that do not
// copy or serve the .wasm files next to the JavaScript. About 340 KB larger than the default entry.
import { registerBuild } from './backend/wasm/loader.js';
import { builds } from './backend/wasm/inline-builds.js';

for (const [build, base64] of Object.entries(builds)) {
  registerBuild(build as keyof typeof builds, Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}

export * from './index.js';
