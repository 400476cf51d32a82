import test from 'ava';
import { README_BEGIN, README_END, acceptanceMarkdown, judge, replaceBetweenMarkers, type AcceptanceRow } from '../bench/learning.ts';

const row = (stream: string, learner: string, nmse: number[], persistence: number, nlms: number, rls: number, diverged = 0): AcceptanceRow => ({
  stream,
  learner,
  nmse,
  median_nmse: [...nmse].sort((a, b) => a - b)[nmse.length >> 1],
  diverged,
  persistence_nmse: persistence,
  nlms_ar_p8_nmse: nlms,
  rls_ar_p8_nmse: rls,
});

test('the acceptance bars are judged from the rows: below persistence, within 1.25x of NLMS-AR, 2x the best linear baseline', (t) => {
  const rows = [
    row('drift', 'rflo', [0.04, 0.05, 0.06], 0.09, 0.05, 0.04), // 1.0x NLMS-AR: met
    row('drift', 'snap1', [0.07, 0.07, 0.07], 0.09, 0.05, 0.04), // 1.4x NLMS-AR: not met
    row('board', 'rflo', [0.007], 0.006, 0.0069, 0.16), // above persistence: not met
    row('narma10', 'rflo', [0.2], 0.7, 0.43, 0.6), // 2.15x: met
    row('mackey-glass', 'rflo', [2e-4], 0.02, 0.008, 3e-4), // 1.5x RLS-AR: not met
  ];
  const byText = new Map(judge(rows).map((c) => [c.text, c]));
  t.is(byText.get('defaults never diverge: NMSE finite and < 1 for every learner x stream x seed')?.met, true);
  t.is(byText.get('drift: rflo below persistence and within 1.25x of NLMS-AR p8')?.met, true);
  t.is(byText.get('drift: snap1 below persistence and within 1.25x of NLMS-AR p8')?.met, false);
  t.is(byText.get('drift: rtrl below persistence and within 1.25x of NLMS-AR p8')?.met, null);
  t.is(byText.get('board: rflo below persistence and within 1.25x of NLMS-AR p8')?.met, false);
  t.is(byText.get('narma10: rflo beats the best linear baseline by at least 2x')?.met, true);
  t.is(byText.get('mackey-glass: rflo beats the best linear baseline by at least 2x')?.met, false);
});

test('a diverged seed, a NaN or an NMSE of 1 or more fails "defaults never diverge" and is named', (t) => {
  for (const r of [row('drift', 'rtrl', [0.04, NaN], 0.09, 0.05, 0.04), row('drift', 'rtrl', [0.04, 1.2], 0.09, 0.05, 0.04), row('drift', 'rtrl', [0.04], 0.09, 0.05, 0.04, 1)]) {
    const c = judge([r])[0];
    t.is(c.met, false);
    t.regex(c.detail, /rtrl on drift/);
  }
});

test('the README block replaces only the text between the markers, and a README without them is refused', (t) => {
  const readme = `# title\nbefore\n${README_BEGIN}\nold table\n${README_END}\nafter\n`;
  const block = acceptanceMarkdown([row('drift', 'rflo', [0.04], 0.09, 0.05, 0.04)], { seeds: [1, 2], steps: 1500, date: '2026-11-30', seconds: 3, machine: '2 cores' });
  const out = replaceBetweenMarkers(readme, block);
  t.true(out.startsWith('# title\nbefore\n'));
  t.true(out.endsWith(`${README_END}\nafter\n`));
  t.false(out.includes('old table'));
  t.true(out.includes('| drift | rflo | 0.0400 |'));
  t.true(out.includes('seeds 1..2, 1500 samples'));
  // Writing twice gives the same text (the markers stay, one copy of the block).
  t.is(replaceBetweenMarkers(out, block), out);
  t.throws(() => replaceBetweenMarkers('# no markers\n', block, 'README.md'), { message: /README\.md has no <!-- learning-acceptance:begin -->/ });
});
