/**
 * Report charts without a browser: vega-lite specs for line charts (several series, vertical rules for events,
 * optional log-scale y), compiled to vega, rendered headless to SVG, and rasterised to PNG by resvg.
 */
import { writeFileSync } from 'node:fs';
import { makeDir } from '../modelio.ts';
import { join } from 'node:path';
import type * as VegaLite from 'vega-lite';
// vega, vega-lite and resvg are loaded on the first figure, not at start-up: `neurostream --help` and the commands
// that draw nothing do not pay for them.
const loadVega = async (): Promise<[typeof import('vega'), typeof import('vega-lite')]> => Promise.all([import('vega'), import('vega-lite')]);
let resvg: typeof import('@resvg/resvg-js') | null = null;

export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Draw dashed (e.g. a target or a reference). */
  dashed?: boolean;
  /** CSS colour; default from a fixed palette by position. */
  color?: string;
}

export interface Rule {
  x: number;
  label?: string;
}

export interface LineChartOptions {
  title: string;
  xTitle: string;
  yTitle: string;
  series: Series[];
  /** Vertical rules (e.g. drift events), drawn in grey with their label on top. */
  rules?: Rule[];
  /** Log-scale y: points with y <= 0 or non-finite y are left out. */
  logY?: boolean;
  width?: number;
  height?: number;
  /** At most this many points per series (evenly decimated, keeping the last point); default 1200. */
  maxPoints?: number;
  /** Fixed y domain. */
  yDomain?: [number, number];
  /** Fixed x domain. */
  xDomain?: [number, number];
}

/** The data rows of a chart: {series, x, y}, decimated, non-finite (and, for log scale, non-positive) y left out. */
export function chartRows(o: Pick<LineChartOptions, 'series' | 'logY' | 'maxPoints'>): { series: string; x: number; y: number }[] {
  const rows: { series: string; x: number; y: number }[] = [];
  const max = o.maxPoints ?? 1200;
  for (const s of o.series) {
    const n = Math.min(s.x.length, s.y.length);
    const stride = Math.max(1, Math.ceil(n / max));
    for (let i = 0; i < n; i += stride) push(s.name, s.x[i], s.y[i]);
    if (n > 0 && (n - 1) % stride !== 0) push(s.name, s.x[n - 1], s.y[n - 1]);
  }
  return rows;
  function push(series: string, x: number, y: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    if (o.logY && y <= 0) return;
    rows.push({ series, x, y });
  }
}

/** A vega-lite spec (plain JSON) of a multi-series line chart with optional event rules and log-scale y. */
export function lineChartSpec(o: LineChartOptions): Record<string, unknown> {
  const rows = chartRows(o);
  const names = o.series.map((s) => s.name);
  const dashed = o.series.filter((s) => s.dashed).map((s) => s.name);
  const xScale: Record<string, unknown> = { zero: false, nice: false };
  if (o.xDomain) xScale.domain = o.xDomain;
  const yScale: Record<string, unknown> = o.logY ? { type: 'log' } : { zero: false };
  if (o.yDomain) yScale.domain = o.yDomain;
  const layers: Record<string, unknown>[] = [
    {
      data: { values: rows },
      mark: { type: 'line', strokeWidth: 1.4, clip: true },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: o.xTitle, scale: xScale },
        y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: yScale },
        color: { field: 'series', type: 'nominal', title: null, sort: names, scale: { domain: names, range: palette(o.series) } },
        strokeDash: {
          field: 'series',
          type: 'nominal',
          sort: names,
          title: null,
          scale: { domain: names, range: names.map((n) => (dashed.includes(n) ? [5, 3] : [1, 0])) },
        },
        order: { field: 'x', type: 'quantitative' },
      },
    },
  ];
  const rules = (o.rules ?? []).filter((r) => !o.xDomain || (r.x >= o.xDomain[0] && r.x <= o.xDomain[1]));
  if (rules.length > 0) {
    layers.push({
      data: { values: rules.map((r) => ({ x: r.x, label: r.label ?? '' })) },
      mark: { type: 'rule', color: '#888', strokeDash: [4, 4], strokeWidth: 1.2 },
      encoding: { x: { field: 'x', type: 'quantitative' } },
    });
    layers.push({
      data: { values: rules.map((r) => ({ x: r.x, label: r.label ?? '' })) },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 2, color: '#555', fontSize: 10 },
      encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: o.title,
    width: o.width ?? 720,
    height: o.height ?? 260,
    background: 'white',
    config: { font: 'DejaVu Sans', legend: { orient: 'top', labelLimit: 420 } },
    layer: layers,
  };
}

const PALETTE = ['#222222', '#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];

function palette(series: Series[]): string[] {
  return series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
}

/** vega-lite spec -> SVG text (headless vega view, no renderer). */
export async function renderSvg(spec: Record<string, unknown>): Promise<string> {
  const [vega, vl] = await loadVega();
  const compiled = vl.compile(spec as unknown as VegaLite.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** SVG text -> PNG bytes (resvg, system fonts; 2x scale for sharp text by default). */
export async function svgToPng(svg: string, scale = 2): Promise<Buffer> {
  resvg ??= await import('@resvg/resvg-js');
  const r = new resvg.Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' });
  return r.render().asPng();
}

export interface Figure {
  /** File stem: <name>.svg, <name>.png, <name>.vl.json. */
  name: string;
  title: string;
  /** One line saying what the figure shows. */
  caption: string;
  svg: string;
  png: string;
}

/** Writes <dir>/<name>.svg, .png and the vega-lite spec .vl.json; returns the paths relative to dir. */
export async function writeFigure(dir: string, name: string, spec: Record<string, unknown>, caption = ''): Promise<Figure> {
  makeDir(dir);
  const svg = await renderSvg(spec);
  writeFileSync(join(dir, `${name}.svg`), svg);
  writeFileSync(join(dir, `${name}.png`), await svgToPng(svg));
  writeFileSync(join(dir, `${name}.vl.json`), JSON.stringify(spec) + '\n');
  return { name, title: String(spec.title ?? name), caption, svg: `${name}.svg`, png: `${name}.png` };
}
