/**
 * The compiled runtime inside QuickJS (quickjs-emscripten) reproduces Node's arena bit for bit: every learner,
 * 10^3 steps (test/long/quickjs.test.ts runs 10^4). See test/quickjs-arena.ts.
 */
import test from 'ava';
import { compareArenas, setupQuickJsArena } from './quickjs-arena.ts';

setupQuickJsArena();
const STEPS = 1000;
test(`every learner's arena after ${STEPS} steps in QuickJS is byte-identical to Node's`, (t) => compareArenas(t, STEPS));
