/**
 * A dependency-free SVG plot of the training loss and eval WER against the step, written
 * next to the JSON-lines log so a run can be judged at a glance.
 */

function polyline(points: [number, number][], color: string): string {
  return `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${
    points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")
  }"/>`;
}

/** SVG text of loss (left axis, log scale) and WER (right axis, 0–100%) over steps. */
export function trainingPlotSvg(
  loss: { step: number; loss: number }[],
  wer: { step: number; wer: number }[],
): string {
  const w = 720, h = 360, pad = 50;
  const finite = loss.filter((p) => Number.isFinite(p.loss) && p.loss > 0);
  const maxStep = Math.max(1, ...finite.map((p) => p.step), ...wer.map((p) => p.step));
  const lo = Math.log10(Math.min(...finite.map((p) => p.loss), 1));
  const hi = Math.log10(Math.max(...finite.map((p) => p.loss), 10));
  const x = (s: number) => pad + (w - 2 * pad) * s / maxStep;
  const yLoss = (l: number) => h - pad - (h - 2 * pad) * (Math.log10(l) - lo) / Math.max(hi - lo, 1e-9);
  const yWer = (r: number) => h - pad - (h - 2 * pad) * Math.min(r, 1);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="black"/>
<line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="black"/>
<line x1="${w - pad}" y1="${pad}" x2="${w - pad}" y2="${h - pad}" stroke="black"/>
<text x="${w / 2}" y="${h - 15}" text-anchor="middle">step (max ${maxStep})</text>
<text x="10" y="${pad - 10}" fill="#1f77b4">loss (log, ${(10 ** lo).toPrecision(2)}–${
    (10 ** hi).toPrecision(2)
  })</text>
<text x="${w - 10}" y="${pad - 10}" fill="#d62728" text-anchor="end">eval WER (0–100%)</text>
${polyline(finite.map((p) => [x(p.step), yLoss(p.loss)]), "#1f77b4")}
${polyline(wer.map((p) => [x(p.step), yWer(p.wer)]), "#d62728")}
</svg>
`;
}

/** Writes the plot to `path`. */
export async function writeTrainingPlot(
  path: string,
  loss: { step: number; loss: number }[],
  wer: { step: number; wer: number }[],
): Promise<void> {
  await Deno.writeTextFile(path, trainingPlotSvg(loss, wer));
}
