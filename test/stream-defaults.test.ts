import test from 'ava';
import { runSim, formatSim } from '../sim/commands/sim.ts';
import { FIXED_STREAM_DEFAULTS, STREAM_DEFAULTS } from '../sim/defaults.ts';

test('sim on a stream starts from the stream defaults; the periodic task keeps Murray 2019 settings', (t) => {
  const s = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 1500 });
  const d = STREAM_DEFAULTS.rflo;
  t.is(s.hidden, d.hidden);
  t.is(s.tau, d.tau);
  t.is(s.lr_rec, d.lrRec);
  t.is(s.lr_out, d.lrOut);
  t.is(s.direct, true);
  t.is(s.normalized, d.normalized);
  t.is(s.rls_readout, d.rlsReadout ?? null);
  t.is(s.gain, d.gain ?? 1.5);
  t.is(s.max_rec_step, d.maxRecStep ?? null);
  t.is(s.input_scale, d.inScale ?? 1);
  // Flags win over the defaults; 0 turns the step bound and the RLS readout off.
  const f = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 500, tau: 10, direct: false, normalized: false, rlsReadout: 0, lrOut: 0.01, maxRecStep: 0, gain: 1.2, inputScale: 2 });
  t.deepEqual([f.tau, f.direct, f.normalized, f.rls_readout, f.lr_out, f.max_rec_step, f.gain, f.input_scale], [10, false, false, null, 0.01, null, 1.2, 2]);
  // An explicit --normalized chooses the normalised delta rule over the default RLS readout.
  const n = runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 500, normalized: true });
  t.deepEqual([n.normalized, n.rls_readout], [true, null]);
  t.throws(() => runSim({ task: 'drift', learner: 'rflo', seeds: [1], steps: 500, rlsReadout: 1.5 }), { message: /--rls-readout must be a forgetting factor in \(0, 1\]/ });
  const p = runSim({ task: 'periodic', learner: 'rflo', seeds: [1], trials: 1 });
  t.deepEqual([p.hidden, p.tau, p.lr_rec, p.lr_out, p.direct, p.normalized, p.rls_readout, p.gain, p.input_scale], [30, 10, 0.03, 0.03, false, false, null, 1.5, 1]);
  // The fixed engine starts from the live defaults of run and demo (the normalised readout, which it has, instead
  // of the RLS readout and the recurrent step bound, which it does not).
  const x = runSim({ task: 'drift', learner: 'output', engine: 'fixed', seeds: [1], steps: 300 });
  const fx = FIXED_STREAM_DEFAULTS.output;
  t.deepEqual([x.hidden, x.tau, x.direct, x.normalized, x.lr_out, x.rls_readout, x.gain, x.input_scale], [fx.hidden, fx.tau, true, true, fx.lrOut, null, fx.gain, fx.inScale ?? 1]);
});

test('a stream report carries both linear baselines, the better one and its name, beside persistence', (t) => {
  const s = runSim({ task: 'drift', learner: 'output', seeds: [1, 2], steps: 2000 });
  t.is(s.nlms?.length, 2);
  t.is(s.rls?.length, 2);
  t.is(s.linear_nmse, Math.min(s.nlms_nmse as number, s.rls_nmse as number));
  t.is(s.linear_variant, (s.rls_nmse as number) < (s.nlms_nmse as number) ? 'rls' : 'nlms');
  t.regex(formatSim(s), /persistence NMSE +NLMS-AR p8 +RLS-AR p8/);
  // A task without inputs has no regressor: no linear fields.
  const p = runSim({ task: 'periodic', learner: 'output', seeds: [1], trials: 1 });
  t.is(p.linear_nmse, undefined);
});
