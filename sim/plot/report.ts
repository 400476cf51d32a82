/**
 * The report folder's index: index.md and index.html listing the figures (PNG inline, SVG linked) and a table of
 * summary numbers. No template engine: the page is small and fully escaped.
 */
import { writeFileSync } from 'node:fs';
import { makeDir } from '../modelio.ts';
import { join } from 'node:path';
import type { Figure } from './charts.ts';

export interface ReportIndex {
  title: string;
  /** Paragraphs under the title (what was run). */
  intro: string[];
  /** Summary table: header row first. */
  table: string[][];
  figures: Figure[];
  /** Closing paragraphs (how to read the numbers, what is missing). */
  notes?: string[];
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function reportMarkdown(r: ReportIndex): string {
  const out: string[] = [`# ${r.title}`, ''];
  for (const p of r.intro) out.push(p, '');
  if (r.table.length > 0) {
    out.push('| ' + r.table[0].map(mdCell).join(' | ') + ' |');
    out.push('|' + r.table[0].map(() => '---').join('|') + '|');
    for (const row of r.table.slice(1)) out.push('| ' + row.map(mdCell).join(' | ') + ' |');
    out.push('');
  }
  for (const f of r.figures) {
    out.push(`## ${f.title}`, '');
    if (f.caption) out.push(f.caption, '');
    out.push(`![${f.title}](${f.png})`, '', `[SVG](${f.svg})`, '');
  }
  for (const p of r.notes ?? []) out.push(p, '');
  return out.join('\n');
}

export function reportHtml(r: ReportIndex): string {
  const out: string[] = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${esc(r.title)}</title>`,
    '<style>body{font-family:sans-serif;max-width:1500px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}' +
      'td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}img{max-width:100%}</style>',
    '</head><body>',
    `<h1>${esc(r.title)}</h1>`,
  ];
  for (const p of r.intro) out.push(`<p>${esc(p)}</p>`);
  if (r.table.length > 0) {
    out.push('<table>');
    out.push('<tr>' + r.table[0].map((c) => `<th>${esc(c)}</th>`).join('') + '</tr>');
    for (const row of r.table.slice(1)) out.push('<tr>' + row.map((c) => `<td>${esc(c)}</td>`).join('') + '</tr>');
    out.push('</table>');
  }
  for (const f of r.figures) {
    out.push(`<h2>${esc(f.title)}</h2>`);
    if (f.caption) out.push(`<p>${esc(f.caption)}</p>`);
    out.push(`<p><img src="${esc(f.png)}" alt="${esc(f.title)}"><br><a href="${esc(f.svg)}">SVG</a></p>`);
  }
  for (const p of r.notes ?? []) out.push(`<p>${esc(p)}</p>`);
  out.push('</body></html>', '');
  return out.join('\n');
}

/** Writes <dir>/index.md and <dir>/index.html; returns the path of index.html. */
export function writeReportIndex(dir: string, r: ReportIndex): string {
  makeDir(dir);
  writeFileSync(join(dir, 'index.md'), reportMarkdown(r));
  const html = join(dir, 'index.html');
  writeFileSync(html, reportHtml(r));
  return html;
}
