/**
 * Learning from a recorded sensor log: replays examples/sensor-log.csv (temperature, humidity, light once a
 * minute, with a few broken cells) and predicts the temperature 3 rows ahead with the fixed-point RFLO learner,
 * online, against the "predict the last value" (persistence) baseline. Broken rows (missing, non-numeric or absurd
 * cells) are skipped and counted, never fed; inputs are z-scored with running statistics of the rows seen so far;
 * errors are scored in degrees. Other dialects: createTask('csv', { ..., delimiter: ';', decimal: ',', missing: ['-9999'] }).
 *
 *   npx tsx examples/csv-log.ts [path/to/log.csv]
 */
import { fileURLToPath } from 'node:url';
import { createFixedLearner, initWeights } from '../runtime/index.ts';
import { createTask } from '../sim/tasks/index.ts';
import { runStream } from '../sim/tasks/run.ts';

const file = process.argv[2] ?? fileURLToPath(new URL('./sensor-log.csv', import.meta.url));
const task = createTask('csv', { file, columns: ['temperature', 'humidity', 'light'], target: 'temperature', horizon: 3 });
const options = { learner: 'rflo', inputs: task.inputs, hidden: 16, outputs: task.outputs, tau: 2, lrRec: 0.03, lrOut: 0.03, update: 'step', trialLength: 1 } as const;
const learner = createFixedLearner(options, initWeights({ ...options, seed: 1, gain: 1.2 }));

const r = runStream(learner, task, {}); // predict each row, then learn from it
console.log(`${task.describe()}`);
console.log(`${r.steps} rows learned, ${r.skipped} skipped (broken cells, ${task.rejected ?? 0} of them outliers)`);
for (const note of task.notes ?? []) console.log(`data: ${note}`); // missing readings, outliers, constant columns
console.log(`NMSE RFLO (fixed point) ${r.nmse.toFixed(4)}, persistence ${r.persistenceNmse.toFixed(4)}`);
console.log(`learning curve: ${r.curve.map((p) => `${p.at}: ${p.nmse.toFixed(3)}`).join(', ')}`);
