/**
 * The task registry: `createTask(name, options)` for every streaming task of the simulator.
 *   periodic  Murray 2019's periodic output (trials of P steps, no input)
 *   drift     multi-channel noisy sensor whose spectrum changes abruptly at known steps (endless or finite stream)
 *   csv       replay of a recorded sensor log, predicting one column K rows ahead
 */
import type { Task } from './task.ts';
import { createPeriodicTask, type PeriodicOptions } from './periodic.ts';
import { createDriftTask, type DriftOptions } from './drift.ts';
import { createCsvTask, type CsvOptions } from './csv.ts';
import { InputError } from '../modelio.ts';

export type { Task } from './task.ts';
export { createPeriodicTask, periodicTarget, type PeriodicOptions } from './periodic.ts';
export { createDriftTask, type DriftOptions } from './drift.ts';
export { createCsvTask, type CsvOptions } from './csv.ts';

export const TASK_NAMES = ['periodic', 'drift', 'csv'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface TaskOptionsByName {
  periodic: PeriodicOptions;
  drift: DriftOptions;
  csv: CsvOptions;
}

export function createTask<K extends TaskName>(name: K, options: TaskOptionsByName[K]): Task;
export function createTask(name: string, options: unknown): Task;
export function createTask(name: string, options: unknown): Task {
  switch (name) {
    case 'periodic':
      return createPeriodicTask(options as PeriodicOptions);
    case 'drift':
      return createDriftTask(options as DriftOptions);
    case 'csv':
      return createCsvTask(options as CsvOptions);
    default:
      throw new InputError(`unknown task "${name}"; expected one of: ${TASK_NAMES.join(', ')}`);
  }
}
