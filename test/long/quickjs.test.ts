/**
 * The compiled runtime inside QuickJS (quickjs-emscripten) reproduces Node's arena bit for bit: every learner,
 * 10^4 steps (about 2-3 minutes of QuickJS on a loaded 2-core machine). See test/quickjs-arena.ts.
 */
import test from 'ava';
import { compareArenas, setupQuickJsArena } from '../quickjs-arena.ts';

setupQuickJsArena();
const STEPS = 10_000;
test(`every learner's arena after ${STEPS} steps in QuickJS is byte-identical to Node's`, (t) => compareArenas(t, STEPS));
