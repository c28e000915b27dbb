// Pictures of a training run: an SVG line chart (loss and accuracy per epoch, train and test) and a small ASCII
// chart for the terminal. Plain string building, no dependencies, so it also runs in a browser.

export interface Series { name: string; values: (number | null)[]; color: string; dashed?: boolean }

interface Panel { title: string; series: Series[]; yLabel: string; percent?: boolean }

const W = 420, H = 260, M = { top: 34, right: 16, bottom: 40, left: 52 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (hi === lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-12; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function panel(p: Panel, x0: number, epochs: number): string {
  const vals = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  let lo = Math.min(...vals), hi = Math.max(...vals);
  if (!vals.length) [lo, hi] = [0, 1];
  const pad = (hi - lo) * 0.08 || 0.05;
  lo -= pad;
  hi += pad;
  const iw = W - M.left - M.right, ih = H - M.top - M.bottom;
  const sx = (e: number) => x0 + M.left + (epochs <= 1 ? iw / 2 : ((e - 1) / (epochs - 1)) * iw);
  const sy = (v: number) => M.top + ih - ((v - lo) / (hi - lo)) * ih;
  const parts: string[] = [`<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${esc(p.title)}</text>`];
  for (const t of niceTicks(lo, hi)) {
    parts.push(`<line x1="${x0 + M.left}" x2="${x0 + W - M.right}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${x0 + M.left - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${p.percent ? `${(t * 100).toFixed(1)}%` : t}</text>`);
  }
  for (const e of niceTicks(1, Math.max(epochs, 2)).filter((e) => Number.isInteger(e) && e >= 1 && e <= epochs)) {
    parts.push(`<text x="${sx(e).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle" font-size="10">${e}</text>`);
  }
  parts.push(`<text x="${x0 + M.left + iw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">epoch</text>`,
    `<text transform="translate(${x0 + 14},${M.top + ih / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`,
    `<rect x="${x0 + M.left}" y="${M.top}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`);
  p.series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (v === null ? null : `${sx(i + 1).toFixed(1)},${sy(v).toFixed(1)}`)).filter(Boolean);
    if (pts.length) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${pts.join(' ')}"/>`);
    }
    const ly = M.top + 14 + k * 14;
    parts.push(`<line x1="${x0 + W - M.right - 90}" x2="${x0 + W - M.right - 74}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
      `<text x="${x0 + W - M.right - 70}" y="${ly}" font-size="10">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** Loss (and, when given, accuracy) per epoch as an SVG document. */
export function trainingChart(metrics: {
  trainLoss: number[]; testLoss: number[]; trainAccuracy?: (number | null)[]; testAccuracy?: (number | null)[];
  /** What the held-out rows are called: the digits' test set, or a validation split (default 'test'). */
  heldOut?: 'test' | 'validation';
}, title = 'training'): string {
  const heldOut = metrics.heldOut ?? 'test';
  const epochs = metrics.trainLoss.length;
  const panels: Panel[] = [{ title: `${title}: loss`, yLabel: 'loss', series: [
    { name: 'train', values: metrics.trainLoss, color: '#1f77b4' },
    { name: heldOut, values: metrics.testLoss, color: '#d62728', dashed: true },
  ] }];
  if (metrics.testAccuracy?.some((v) => v !== null)) {
    panels.push({ title: `${title}: accuracy`, yLabel: 'accuracy', percent: true, series: [
      { name: 'train', values: metrics.trainAccuracy ?? [], color: '#1f77b4' },
      { name: heldOut, values: metrics.testAccuracy, color: '#d62728', dashed: true },
    ] });
  }
  const width = W * panels.length;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="Helvetica, Arial, sans-serif">\n` +
    `<rect width="${width}" height="${H}" fill="#ffffff"/>\n${panels.map((p, i) => panel(p, i * W, epochs)).join('\n')}\n</svg>\n`;
}

/** A small terminal chart of one series (e.g. test accuracy per epoch). */
export function asciiChart(values: number[], options: { height?: number; label?: string; format?: (v: number) => string } = {}): string {
  const { height = 8, label = '', format = (v) => v.toFixed(3) } = options;
  if (!values.length) return '';
  const lo = Math.min(...values), hi = Math.max(...values);
  const span = hi - lo || 1;
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--) {
    const level = lo + (span * r) / (height - 1);
    const cells = values.map((v) => (Math.round(((v - lo) / span) * (height - 1)) === r ? '●' : Math.round(((v - lo) / span) * (height - 1)) > r ? '│' : ' '));
    rows.push(`${format(level).padStart(8)} ┤${cells.join(' ')}`);
  }
  rows.push(`${' '.repeat(8)} └${'──'.repeat(values.length)}`, `${' '.repeat(10)}${label} (epochs 1–${values.length})`);
  return rows.join('\n');
}
