// Light augmentation of image batches: each image moved by a random whole number of pixels, up to `maxShift` in
// each direction, with zeros where it moves away from the border — torchvision's RandomCrop(size, padding=maxShift).
// The offsets come from a seeded generator, two draws per image, so a run (and a resumed run) is reproducible.
import type { Tensor } from '../autograd/tensor.js';
import { fromValues } from '../creation.js';
import type { Generator } from '../random.js';

/** A new tensor of images [n, channels, height, width] each shifted by its own random offset. */
export function randomShift(images: Tensor, maxShift: number, generator: Generator): Tensor {
  const [n, channels, height, width] = images.shape as [number, number, number, number];
  const src = images.data() as Float32Array;
  const out = new Float32Array(src.length);
  const plane = height * width;
  const draw = () => Math.floor(generator.next() * (2 * maxShift + 1)) - maxShift;
  for (let i = 0; i < n; i++) {
    const dy = draw(), dx = draw();
    // Rows and columns of the output whose source (y − dy, x − dx) lies inside the image.
    const y0 = Math.max(0, dy), y1 = Math.min(height, height + dy);
    const x0 = Math.max(0, dx), x1 = Math.min(width, width + dx);
    for (let c = 0; c < channels; c++) {
      const base = (i * channels + c) * plane;
      for (let y = y0; y < y1; y++) {
        const to = base + y * width;
        const from = base + (y - dy) * width - dx;
        out.set(src.subarray(from + x0, from + x1), to + x0);
      }
    }
  }
  return fromValues(out, images.shape);
}
