import type { BenchResults } from './report-types';

/**
 * docs/benchmarks-latency.svg: latency (p50, p99) against load, drawn here without a plotting
 * library. Left: ingress' ack latency at each offered rate (and at saturation). Right: the
 * pipeline's overhead per callback at each paced rate, and in bursts (marked apart). Log scale
 * for latency, linear for load.
 */
interface Point {
  x: number;
  p50: number;
  p99: number;
  label: string;
  burst?: boolean;
}

interface Panel {
  title: string;
  xLabel: string;
  points: Point[];
}

const WIDTH = 960;
const HEIGHT = 420;
const PANEL_WIDTH = 400;
const TOP = 50;
const PLOT_HEIGHT = 290;
const COLORS = { p50: '#1f77b4', p99: '#d62728' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderLatencyChart(results: BenchResults): string {
  const panels: Panel[] = [];
  const ingress = results.ingress;
  panels.push({
    title: 'ingress: ack latency',
    xLabel: 'callbacks/s',
    points: ingress
      ? [
          ...ingress.paced.map((p) => ({ x: p.offeredRate ?? p.rate, p50: p.ack.p50, p99: p.ack.p99, label: `paced ${p.offeredRate}/s` })),
          { x: ingress.saturation.rate, p50: ingress.saturation.ack.p50, p99: ingress.saturation.ack.p99, label: 'saturated' },
        ]
      : [],
  });
  const pipeline = results.pipeline;
  panels.push({
    title: 'pipeline: overhead per callback',
    xLabel: 'callbacks/s (bursts: average)',
    points: (pipeline?.phases ?? []).map((p) => ({
      x: p.offeredRate ?? p.rate,
      p50: p.overhead.p50,
      p99: p.overhead.p99,
      label: p.kind === 'burst' ? `bursts of ${p.offeredRate}` : `paced ${p.offeredRate}/s`,
      burst: p.kind === 'burst',
    })),
  });

  const values = panels.flatMap((p) => p.points.flatMap((q) => [q.p50, q.p99])).filter((v) => Number.isFinite(v) && v > 0);
  const low = 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...values))));
  const high = 10 ** Math.ceil(Math.log10(Math.max(10, ...values)));
  const y = (ms: number) =>
    TOP + PLOT_HEIGHT - ((Math.log10(Math.max(low, ms)) - Math.log10(low)) / (Math.log10(high) - Math.log10(low))) * PLOT_HEIGHT;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  panels.forEach((panel, index) => {
    const left = 70 + index * (PANEL_WIDTH + 50);
    const maxX = Math.max(1, ...panel.points.map((p) => p.x)) * 1.15;
    const x = (value: number) => left + (value / maxX) * PANEL_WIDTH;
    parts.push(
      `<text x="${left + PANEL_WIDTH / 2}" y="${TOP - 20}" text-anchor="middle" font-size="14" font-weight="bold">${escape(panel.title)}</text>`,
    );
    parts.push(`<rect x="${left}" y="${TOP}" width="${PANEL_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#888"/>`);
    for (let tick = low; tick <= high * 1.0001; tick *= 10) {
      parts.push(`<line x1="${left}" x2="${left + PANEL_WIDTH}" y1="${y(tick)}" y2="${y(tick)}" stroke="#ddd"/>`);
      parts.push(`<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick >= 1 ? tick.toLocaleString('en-US') : tick} ms</text>`);
    }
    const step = niceStep(maxX);
    for (let tick = 0; tick <= maxX; tick += step) {
      parts.push(`<line x1="${x(tick)}" x2="${x(tick)}" y1="${TOP + PLOT_HEIGHT}" y2="${TOP + PLOT_HEIGHT + 5}" stroke="#888"/>`);
      parts.push(`<text x="${x(tick)}" y="${TOP + PLOT_HEIGHT + 18}" text-anchor="middle">${tick.toLocaleString('en-US')}</text>`);
    }
    parts.push(`<text x="${left + PANEL_WIDTH / 2}" y="${TOP + PLOT_HEIGHT + 36}" text-anchor="middle">${escape(panel.xLabel)}</text>`);
    if (panel.points.length === 0) {
      parts.push(
        `<text x="${left + PANEL_WIDTH / 2}" y="${TOP + PLOT_HEIGHT / 2}" text-anchor="middle" fill="#888">not measured in this run</text>`,
      );
      return;
    }
    for (const key of ['p50', 'p99'] as const) {
      const line = panel.points.filter((p) => !p.burst).sort((a, b) => a.x - b.x);
      if (line.length > 1) {
        parts.push(
          `<polyline fill="none" stroke="${COLORS[key]}" stroke-width="2" points="${line.map((p) => `${x(p.x).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ')}"/>`,
        );
      }
      for (const p of panel.points) {
        // Bursts share an average rate with a paced phase: drawn a little to the right of it.
        const cx = (x(p.x) + (p.burst ? 14 : 0)).toFixed(1);
        const cy = y(p[key]).toFixed(1);
        parts.push(
          p.burst
            ? `<rect x="${Number(cx) - 5}" y="${Number(cy) - 5}" width="10" height="10" fill="${COLORS[key]}"><title>${escape(`${p.label}: ${key} ${p[key].toFixed(1)} ms`)}</title></rect>`
            : `<circle cx="${cx}" cy="${cy}" r="4" fill="${COLORS[key]}"><title>${escape(`${p.label}: ${key} ${p[key].toFixed(1)} ms`)}</title></circle>`,
        );
        const nearRightEdge = Number(cx) > left + PANEL_WIDTH - 50;
        parts.push(
          `<text x="${Number(cx) + (nearRightEdge ? -7 : 7)}" y="${Number(cy) + (key === 'p50' ? 14 : -6)}" font-size="10" text-anchor="${nearRightEdge ? 'end' : 'start'}" fill="${COLORS[key]}">${p[key].toFixed(1)}</text>`,
        );
      }
    }
    for (const p of panel.points) {
      // Burst labels along the top, paced ones along the bottom: they would overlap at the same rate.
      parts.push(
        `<text x="${(x(p.x) + (p.burst ? 14 : 0)).toFixed(1)}" y="${p.burst ? TOP + 14 : TOP + PLOT_HEIGHT - 6}" font-size="10" text-anchor="middle" fill="#555">${escape(p.label)}</text>`,
      );
    }
  });
  const legendY = HEIGHT - 20;
  parts.push(`<circle cx="80" cy="${legendY - 4}" r="4" fill="${COLORS.p50}"/><text x="90" y="${legendY}">p50</text>`);
  parts.push(`<circle cx="140" cy="${legendY - 4}" r="4" fill="${COLORS.p99}"/><text x="150" y="${legendY}">p99</text>`);
  parts.push(
    `<rect x="195" y="${legendY - 9}" width="10" height="10" fill="#555"/><text x="210" y="${legendY}">bursts (not joined to the paced line)</text>`,
  );
  parts.push(
    `<text x="${WIDTH - 10}" y="${legendY}" text-anchor="end" fill="#555">${escape(`npm run bench, ${results.startedAt}${results.smoke ? ' (smoke)' : ''}`)}</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceStep(max: number): number {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const scaled = raw / magnitude;
  return (scaled <= 1 ? 1 : scaled <= 2 ? 2 : scaled <= 5 ? 5 : 10) * magnitude;
}
