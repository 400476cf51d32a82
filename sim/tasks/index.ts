/**
 * The task registry: `createTask(name, options)` for every streaming task of the simulator.
 *   periodic  Murray 2019's periodic output (trials of P steps, no input)
 *   drift     multi-channel noisy sensor whose spectrum changes abruptly at known steps (endless or finite stream)
 *   csv       replay of a recorded sensor log, predicting one column K rows ahead
 *   board     the virtual board's signal (scenario mix or heater) as a stream
 *   narma10   NARMA-10 (Atiya & Parlos 2000)
 *   mackey-glass  Mackey-Glass, delay 17, sampled
 */
import type { Task } from './task.ts';
import { createPeriodicTask, type PeriodicOptions } from './periodic.ts';
import { createDriftTask, type DriftOptions } from './drift.ts';
import { createCsvTask, type CsvOptions } from './csv.ts';
import { createBoardTask, type BoardTaskOptions } from './board.ts';
import { createNarmaTask, type NarmaOptions } from './narma.ts';
import { createMackeyGlassTask, type MackeyGlassOptions } from './mackey-glass.ts';
import { InputError } from '../modelio.ts';

export type { Task } from './task.ts';
export { createPeriodicTask, periodicTarget, type PeriodicOptions } from './periodic.ts';
export { createDriftTask, type DriftOptions } from './drift.ts';
export { createCsvTask, type CsvOptions } from './csv.ts';
export { createBoardTask, type BoardTaskOptions } from './board.ts';
export { createNarmaTask, narma10Series, type NarmaOptions } from './narma.ts';
export { createMackeyGlassTask, mackeyGlassSeries, type MackeyGlassOptions } from './mackey-glass.ts';

export const TASK_NAMES = ['periodic', 'drift', 'csv', 'board', 'narma10', 'mackey-glass'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

export interface TaskOptionsByName {
  periodic: PeriodicOptions;
  drift: DriftOptions;
  csv: CsvOptions;
  board: BoardTaskOptions;
  narma10: NarmaOptions;
  'mackey-glass': MackeyGlassOptions;
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
    case 'board':
      return createBoardTask(options as BoardTaskOptions);
    case 'narma10':
      return createNarmaTask(options as NarmaOptions);
    case 'mackey-glass':
      return createMackeyGlassTask(options as MackeyGlassOptions);
    default:
      throw new InputError(`unknown task "${name}"; expected one of: ${TASK_NAMES.join(', ')}`);
  }
}
