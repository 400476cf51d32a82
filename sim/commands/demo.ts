/**
 * `neurostream demo` (= `npm start`): the live demo. The virtual board streams over a pseudo-terminal; the fixed-point
 * RFLO learner, the output-only baseline and RFLO's float64 twin learn from the same stream; a report with plots is
 * written at the end. See sim/demo/.
 */
export { registerDemo as register } from '../demo/command.ts';
