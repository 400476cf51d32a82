/**
 * Murray 2019's periodic task in a few lines: RFLO learns its recurrent weights online, the output-only baseline
 * only its readout. Run it with:  npx tsx examples/periodic-rflo.ts [trials]
 */
import { createTask } from '../sim/tasks/index.ts';
import { createSimLearner, runTrials } from '../sim/tasks/run.ts';

const trials = Number(process.argv[2] ?? 1000);
for (const learner of ['rflo', 'output'] as const) {
  const task = createTask('periodic', { period: 200 });
  const lr = learner === 'rflo' ? 0.03 : 0.1;
  const { learner: net } = createSimLearner({ learner, hidden: 30, tau: 10, lrRec: lr, lrOut: lr, update: 'trial', seed: 1 }, task);
  const { nmse, curve } = runTrials(net, task, { trials, curvePoints: 5 });
  const path = curve.map((p) => `${p.at}: ${p.nmse.toFixed(3)}`).join(', ');
  console.log(`${learner.padEnd(6)} test NMSE after ${trials} trials: ${nmse.toFixed(4)}   (${path})`);
}
