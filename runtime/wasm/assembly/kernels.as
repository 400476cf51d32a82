// The fixed-point learner's step (runtime/learner.ts core()) in AssemblyScript with WebAssembly SIMD, bit-exact with
// the TypeScript kernels (runtime/network.ts, runtime/learners/*) and runtime/ARITHMETIC.md. The TS reference keeps
// wide sums exactly in float64; here they are i64 (as in the C port), and the Q30 accumulators stay f64 in the arena
// (integer additions, exact as in TS). The arena lives in the imported memory; configure() reads its layout from the
// config block the loader writes (runtime/wasm/backend.ts), step() runs one step. Nothing is allocated.

// ---- configuration: the config block the loader (runtime/wasm/backend.ts) writes at CONFIG, read once by
// configure(). Every address and code comes from the layout manifest runtime/layout.ts.
// ---- GENERATED LAYOUT: scripts/gen-layout.ts from runtime/layout.ts; do not edit by hand ----
const CONFIG: usize = 16384;
/** Q1.15 tanh table (1025 entries, runtime/activation.ts TANH_TABLE), written by the loader. */
const TANH: usize = 20480;
const KIND_RTRL = 0;
const KIND_RFLO = 1;
const KIND_SNAP1 = 2;
const KIND_OUTPUT = 3;
// config block fields
let N: i32 = 0; // hidden units
let M: i32 = 0; // inputs
let O: i32 = 0; // outputs
let THETA: i32 = 0; // recurrent parameters N*N + N*M + N
let KIND: i32 = 0; // learner kind code (LEARNER_KIND_CODES)
let STEP: i32 = 0; // 1 for update 'step', 0 for 'trial'
let ALPHA: i32 = 0; // a = 1/tau, Q1.15
let KEEP: i32 = 0; // 1 - a, Q1.15
let ETA_REC: i32 = 0; // mantissa of lrRec / trialLength
let ETA_OUT: i32 = 0; // mantissa of lrOut / trialLength
let SH_TRACE_REC: i32 = 0; // plan shifts.traceRec
let SH_TRACE_IN: i32 = 0; // plan shifts.traceIn
let SH_OUT: i32 = 0; // plan shifts.out
let SH_RTRL: i32 = 0; // plan shifts.rtrl
let SH_APPLY: i32 = 0; // plan shifts.apply
let FR_REC: i32 = 0; // fractional bits of the W_rec and b traces
let FR_IN: i32 = 0; // fractional bits of the W_in traces
let APPLY_LOG2: i32 = 0; // log2 of applyMul = 2^(24 - weightFracBits)
let TRANSPOSE: i32 = 0; // 1 when the feedback is W_out^T e (not B e)
let DIRECT: i32 = 0; // 1 when the readout reads the input too (y = W_out h + D x)
let SH_OUT_DIRECT: i32 = 0; // plan shifts.outDirect
let NORMALIZED: i32 = 0; // 1 for the normalised (NLMS) readout step
let EPS_Q30: i32 = 0; // eps of the normalised readout, Q30 (plan readoutEpsQ30)
let ACCUMULATE: i32 = 0; // 1 when the gradient accumulators acc_* are written (options.accumulateGradient)
let SCRATCH: usize = 0; // address of the private scratch after the arena
// arena buffer addresses (p_ + the buffer name)
let p_W_in: usize = 0;
let p_W_rec: usize = 0;
let p_b: usize = 0;
let p_W_out: usize = 0;
let p_D: usize = 0;
let p_W_rec_q12: usize = 0;
let p_W_out_q12: usize = 0;
let p_B: usize = 0;
let p_h0: usize = 0;
let p_h: usize = 0;
let p_h_prev: usize = 0;
let p_x: usize = 0;
let p_target: usize = 0;
let p_y: usize = 0;
let p_e: usize = 0;
let p_u: usize = 0;
let p_dphi: usize = 0;
let p_aphi: usize = 0;
let p_fb: usize = 0;
let p_P_in: usize = 0;
let p_P_rec: usize = 0;
let p_P_b: usize = 0;
let p_decay: usize = 0;
let p_S: usize = 0;
let p_S_next: usize = 0;
let p_sum_hi: usize = 0;
let p_sum_lo: usize = 0;
let p_acc_W_in: usize = 0;
let p_acc_W_rec: usize = 0;
let p_acc_b: usize = 0;
let p_acc_W_out: usize = 0;
let p_acc_D: usize = 0;
let p_saturation: usize = 0;
let p_steps: usize = 0;
// saturation counter addresses (s_ + the counter name)
let s_x: usize = 0;
let s_x_invalid: usize = 0;
let s_target: usize = 0;
let s_target_invalid: usize = 0;
let s_y: usize = 0;
let s_e: usize = 0;
let s_feedback: usize = 0;
let s_gain: usize = 0;
let s_W_in: usize = 0;
let s_W_rec: usize = 0;
let s_b: usize = 0;
let s_W_out: usize = 0;
let s_weights_q12: usize = 0;
let s_h: usize = 0;
let s_trace: usize = 0;
let s_decay: usize = 0;
let s_sens: usize = 0;
let s_grad: usize = 0;
@inline function cfg(i: i32): i32 {
  return load<i32>(CONFIG + (<usize>i << 2));
}
@inline function cfgp(i: i32): usize {
  return <usize>load<u32>(CONFIG + (<usize>i << 2));
}
export function configure(): void {
  N = cfg(0);
  M = cfg(1);
  O = cfg(2);
  THETA = cfg(3);
  KIND = cfg(4);
  STEP = cfg(5);
  ALPHA = cfg(6);
  KEEP = cfg(7);
  ETA_REC = cfg(8);
  ETA_OUT = cfg(9);
  SH_TRACE_REC = cfg(10);
  SH_TRACE_IN = cfg(11);
  SH_OUT = cfg(12);
  SH_RTRL = cfg(13);
  SH_APPLY = cfg(14);
  FR_REC = cfg(15);
  FR_IN = cfg(16);
  APPLY_LOG2 = cfg(17);
  TRANSPOSE = cfg(18);
  DIRECT = cfg(19);
  SH_OUT_DIRECT = cfg(20);
  NORMALIZED = cfg(21);
  EPS_Q30 = cfg(22);
  ACCUMULATE = cfg(23);
  SCRATCH = cfgp(24);
  p_W_in = cfgp(25);
  p_W_rec = cfgp(26);
  p_b = cfgp(27);
  p_W_out = cfgp(28);
  p_D = cfgp(29);
  p_W_rec_q12 = cfgp(30);
  p_W_out_q12 = cfgp(31);
  p_B = cfgp(32);
  p_h0 = cfgp(33);
  p_h = cfgp(34);
  p_h_prev = cfgp(35);
  p_x = cfgp(36);
  p_target = cfgp(37);
  p_y = cfgp(38);
  p_e = cfgp(39);
  p_u = cfgp(40);
  p_dphi = cfgp(41);
  p_aphi = cfgp(42);
  p_fb = cfgp(43);
  p_P_in = cfgp(44);
  p_P_rec = cfgp(45);
  p_P_b = cfgp(46);
  p_decay = cfgp(47);
  p_S = cfgp(48);
  p_S_next = cfgp(49);
  p_sum_hi = cfgp(50);
  p_sum_lo = cfgp(51);
  p_acc_W_in = cfgp(52);
  p_acc_W_rec = cfgp(53);
  p_acc_b = cfgp(54);
  p_acc_W_out = cfgp(55);
  p_acc_D = cfgp(56);
  p_saturation = cfgp(57);
  p_steps = cfgp(58);
  s_x = p_saturation + 0;
  s_x_invalid = p_saturation + 4;
  s_target = p_saturation + 8;
  s_target_invalid = p_saturation + 12;
  s_y = p_saturation + 16;
  s_e = p_saturation + 20;
  s_feedback = p_saturation + 24;
  s_gain = p_saturation + 28;
  s_W_in = p_saturation + 32;
  s_W_rec = p_saturation + 36;
  s_b = p_saturation + 40;
  s_W_out = p_saturation + 44;
  s_weights_q12 = p_saturation + 48;
  s_h = p_saturation + 52;
  s_trace = p_saturation + 56;
  s_decay = p_saturation + 60;
  s_sens = p_saturation + 64;
  s_grad = p_saturation + 68;
}
// ---- END GENERATED LAYOUT ----

/** Where finalizeScalar/finalizeVec read the row's exact i64 sums (the scratch or sum_hi). */
let pSUM: usize = 0;

// ---- scalar helpers (runtime/fixed.ts) ----

/** roundShiftRight: round-half-up shift of an i32 by s in 1..31. */
@inline function rsr(v: i32, s: i32): i32 {
  return (v >> s) + ((v >> (s - 1)) & 1);
}
/** roundShiftRightWide on an exact i64, s in 0..62. */
@inline function rsr64(v: i64, s: i32): i64 {
  return s == 0 ? v : (v + (<i64>1 << (s - 1))) >> s;
}
@inline function count(p: usize): void {
  store<u32>(p, load<u32>(p) + 1);
}
@inline function sat16c(v: i64, p: usize): i32 {
  if (v > 32767) {
    count(p);
    return 32767;
  }
  if (v < -32768) {
    count(p);
    return -32768;
  }
  return <i32>v;
}
@inline function sat32c(v: i64, p: usize): i32 {
  if (v > 2147483647) {
    count(p);
    return 2147483647;
  }
  if (v < -2147483648) {
    count(p);
    return -2147483648;
  }
  return <i32>v;
}
/** mul32x16RoundShift: round-half-up (a b) / 2^s, exact. */
@inline function mul32x16(a: i32, b: i32, s: i32): i64 {
  return rsr64(<i64>a * <i64>b, s);
}
@inline function ld16(p: usize, i: i32): i32 {
  return <i32>load<i16>(p + (<usize>i << 1));
}
@inline function ld32(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/**
 * applyStep (runtime/learners/apply.ts): W[i] += rsr(d, SH_APPLY) 2^APPLY_LOG2 (saturated, counted), refreshes the
 * Q3.12 copy if Wq != 0; a zero change writes nothing.
 */
function applyStep(W: usize, Wq: usize, i: i32, d: i64, satp: usize): void {
  const delta = rsr64(d, SH_APPLY) << APPLY_LOG2;
  if (delta == 0) return;
  const w = sat32c(<i64>ld32(W, i) + delta, satp);
  store<i32>(W + (<usize>i << 2), w);
  if (Wq != 0) store<i16>(Wq + (<usize>i << 1), sat16c(<i64>rsr(w, 12), s_weights_q12));
}

/** tanhQ15 (runtime/activation.ts). */
@inline function tanhQ15(u: i32): i32 {
  const a = u < 0 ? -u : u;
  let t: i32;
  if (a >= 32768) t = 32767;
  else {
    const i = a >> 5;
    const f = a & 31;
    const t0 = <i32>load<i16>(TANH + (<usize>i << 1));
    const t1 = <i32>load<i16>(TANH + (<usize>(i + 1) << 1));
    t = t0 + rsr((t1 - t0) * f, 5);
  }
  return u < 0 ? -t : t;
}

// ---- SIMD kernels ----

/**
 * Exact sum of n int32 x int16 products (Q7.24 master weights times Q1.15 or Q3.12 values): i64x2.extmul of the
 * weights with the sign-extended values, summed in i64 lanes (|product| < 2^46).
 */
function dot32x16(pw: usize, pv: usize, n: i32): i64 {
  let acc0 = i64x2.splat(0);
  let acc1 = i64x2.splat(0);
  let k = 0;
  for (; k + 4 <= n; k += 4) {
    const w4 = v128.load(pw + (<usize>k << 2));
    const v4 = v128.load16x4_s(pv + (<usize>k << 1));
    acc0 = i64x2.add(acc0, i64x2.extmul_low_i32x4_s(w4, v4));
    acc1 = i64x2.add(acc1, i64x2.extmul_high_i32x4_s(w4, v4));
  }
  const a = i64x2.add(acc0, acc1);
  let s = i64x2.extract_lane(a, 0) + i64x2.extract_lane(a, 1);
  for (; k < n; k++) s += <i64>ld32(pw, k) * <i64>ld16(pv, k);
  return s;
}

/**
 * forwardQ (runtime/network.ts), reading the Q7.24 master weights: the exact Q39 total
 * sum W_rec h + 8 sum W_in x + 2^15 b is rounded half up to Q19.12 by one shift of 27 (the reference's
 * roundShiftRightWide(hi + floor(lo / 2^16), 11) is the same number: floor((total + 2^26) / 2^27)).
 */
function forward(): void {
  memory.copy(p_h_prev, p_h, <usize>N << 1);
  // Rows in pairs: each block of h_prev, loaded and sign-extended once, serves two rows.
  let i = 0;
  for (; i + 2 <= N; i += 2) {
    const acc0 = dot32x16x2(p_W_rec + (<usize>(i * N) << 2), p_W_rec + (<usize>((i + 1) * N) << 2), p_h_prev, N);
    const acc1 = DOT2;
    finishUnit(i, acc0);
    finishUnit(i + 1, acc1);
  }
  if (i < N) finishUnit(i, dot32x16(p_W_rec + (<usize>(i * N) << 2), p_h_prev, N));
  forwardOutput();
}

/** The second sum of dot32x16x2. */
let DOT2: i64 = 0;

/** dot32x16 of the rows at pw0 and pw1 with the same values pv: returns the first sum, the second in DOT2. */
@inline function dot32x16x2(pw0: usize, pw1: usize, pv: usize, n: i32): i64 {
  let a0 = i64x2.splat(0);
  let a1 = i64x2.splat(0);
  let b0 = i64x2.splat(0);
  let b1 = i64x2.splat(0);
  let k = 0;
  // 8 values per iteration (the loop's own work and V8's interrupt check paid half as often)
  for (; k + 8 <= n; k += 8) {
    const v4 = v128.load16x4_s(pv + (<usize>k << 1));
    const v4b = v128.load16x4_s(pv + (<usize>k << 1) + 8);
    const w4 = v128.load(pw0 + (<usize>k << 2));
    const u4 = v128.load(pw1 + (<usize>k << 2));
    const w4b = v128.load(pw0 + (<usize>k << 2) + 16);
    const u4b = v128.load(pw1 + (<usize>k << 2) + 16);
    a0 = i64x2.add(a0, i64x2.extmul_low_i32x4_s(w4, v4));
    a1 = i64x2.add(a1, i64x2.extmul_high_i32x4_s(w4, v4));
    b0 = i64x2.add(b0, i64x2.extmul_low_i32x4_s(u4, v4));
    b1 = i64x2.add(b1, i64x2.extmul_high_i32x4_s(u4, v4));
    a0 = i64x2.add(a0, i64x2.extmul_low_i32x4_s(w4b, v4b));
    a1 = i64x2.add(a1, i64x2.extmul_high_i32x4_s(w4b, v4b));
    b0 = i64x2.add(b0, i64x2.extmul_low_i32x4_s(u4b, v4b));
    b1 = i64x2.add(b1, i64x2.extmul_high_i32x4_s(u4b, v4b));
  }
  for (; k + 4 <= n; k += 4) {
    const v4 = v128.load16x4_s(pv + (<usize>k << 1));
    const w4 = v128.load(pw0 + (<usize>k << 2));
    const u4 = v128.load(pw1 + (<usize>k << 2));
    a0 = i64x2.add(a0, i64x2.extmul_low_i32x4_s(w4, v4));
    a1 = i64x2.add(a1, i64x2.extmul_high_i32x4_s(w4, v4));
    b0 = i64x2.add(b0, i64x2.extmul_low_i32x4_s(u4, v4));
    b1 = i64x2.add(b1, i64x2.extmul_high_i32x4_s(u4, v4));
  }
  const a = i64x2.add(a0, a1);
  const b = i64x2.add(b0, b1);
  let s = i64x2.extract_lane(a, 0) + i64x2.extract_lane(a, 1);
  let t = i64x2.extract_lane(b, 0) + i64x2.extract_lane(b, 1);
  for (; k < n; k++) {
    const v = <i64>ld16(pv, k);
    s += <i64>ld32(pw0, k) * v;
    t += <i64>ld32(pw1, k) * v;
  }
  DOT2 = t;
  return s;
}

/** Unit i of forwardQ from its exact recurrent sum acc = sum_k W_rec[i,k] h_prev[k]: u, phi', a phi', h. */
@inline function finishUnit(i: i32, acc: i64): void {
  let accIn: i64 = 0;
  const io = i * M;
  let j = 0;
  if (M >= 4) {
    let v = i64x2.splat(0);
    for (; j + 4 <= M; j += 4) {
      const w4 = v128.load(p_W_in + (<usize>(io + j) << 2));
      const x4 = v128.load16x4_s(p_x + (<usize>j << 1));
      v = i64x2.add(v, i64x2.add(i64x2.extmul_low_i32x4_s(w4, x4), i64x2.extmul_high_i32x4_s(w4, x4)));
    }
    accIn = i64x2.extract_lane(v, 0) + i64x2.extract_lane(v, 1);
  }
  for (; j < M; j++) accIn += <i64>ld32(p_W_in, io + j) * <i64>ld16(p_x, j);
  acc += accIn * 8 + <i64>ld32(p_b, i) * 32768;
  const u = <i32>rsr64(acc, 27);
  store<i32>(p_u + (<usize>i << 2), u);
  const t = tanhQ15(u);
  const d = 32768 - rsr(t * t, 15);
  store<i32>(p_dphi + (<usize>i << 2), d);
  store<i32>(p_aphi + (<usize>i << 2), rsr(ALPHA * d, 15));
  const hi = ld16(p_h_prev, i);
  store<i16>(p_h + (<usize>i << 1), hi + rsr(ALPHA * (t - hi), 15));
}

/** forwardQ's readout y = W_out h (+ D x), rounded and saturated to Q3.12. */
function forwardOutput(): void {
  for (let o = 0; o < O; o++) {
    let acc = dot32x16(p_W_out + (<usize>(o * N) << 2), p_h, N);
    if (DIRECT) {
      // D x (Q36) times 8 into the same Q39 sum before the one rounding (runtime/network.ts forwardQ).
      let accD: i64 = 0;
      const od = o * M;
      for (let j = 0; j < M; j++) accD += <i64>ld32(p_D, od + j) * <i64>ld16(p_x, j);
      acc += accD * 8;
    }
    store<i16>(p_y + (<usize>o << 1), sat16c(rsr64(acc, 27), s_y));
  }
}

/** Number of lanes of r outside int16 (each counted once), added to cnt. */
@inline function outside16(cnt: v128, r: v128): v128 {
  cnt = i32x4.sub(cnt, i32x4.gt_s(r, i32x4.splat(32767)));
  return i32x4.sub(cnt, i32x4.lt_s(r, i32x4.splat(-32768)));
}
@inline function rsrV(v: v128, s: i32): v128 {
  return i32x4.add(i32x4.shr_s(v, s), v128.and(i32x4.shr_s(v, s - 1), i32x4.splat(1)));
}
@inline function sumLanes(v: v128): i32 {
  return i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1) + i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3);
}

/**
 * advanceTraces (runtime/learners/rflo.ts): RFLO (snap = false) and SnAp-1 (snap = true). A SnAp-1 row whose decay
 * exceeds 1 is computed around 1: P := up P + round(((d - up 2^15) P + c v) / 2^15), up = 1 when d > 2^15.
 */
function advanceTraces(snap: bool): void {
  let cntV = i32x4.splat(0);
  const quick = !snap && FR_REC == 15;
  if (quick) setQuickConstants();
  const d = KEEP;
  for (let a = 0; a < N; a++) {
    if (quick) {
      const c = ld32(p_aphi, a);
      if (boundedRow(c, d)) {
        traceRowQuick(a, c, d);
        advanceInBias(a, 0, d, c);
        continue;
      }
    }
    cntV = advanceRow(a, snap, cntV);
  }
  const cnt = sumLanes(cntV);
  if (cnt != 0) store<u32>(s_trace, load<u32>(s_trace) + <u32>cnt);
}

/**
 * A learning step's traces and recurrent update in one pass over the rows (learners/optimized/rflo.ts learnTraces):
 * per unit a, the trace recursion then the update. The same operations on the same values as advanceTraces then
 * the update of every unit: unit a's trace recursion reads only unit a's weights (SnAp-1's W_aa), which only unit a's update
 * changes, after it; feedback() reads neither traces nor decay.
 */
function learnTraces(snap: bool): void {
  let cntV = i32x4.splat(0);
  const sr = FR_REC - 6;
  const si = FR_IN - 6;
  const fused = fusedRows(snap);
  const d = KEEP;
  // Every row bounded and W_in's shift quick: the rows' W_in and bias parts wait for learnInBiasRows, which takes them
  // without a call and a set-up per row (units are independent: unit a's W_in/b update reads only its own traces,
  // x and its gain, and no W_rec row reads W_in or b).
  let rows = false;
  if (fused) {
    setQuickConstants();
    setShiftConstants(SH_TRACE_REC - 16);
    if (quickShifts(SH_TRACE_IN - 16)) {
      setShiftConstants(SH_TRACE_IN - 16, K_RND_IN);
      rows = allBounded(d);
    }
    setRowShift();
  }
  const ds = SH_TRACE_REC - 16;
  const G = SCRATCH;
  for (let a = 0; a < N; a++) {
    if (fused) {
      const c = ld32(p_aphi, a);
      if (rows || boundedRow(c, d)) {
        const f = ld32(p_fb, a);
        if (f == 0) {
          traceRowQuick(a, c, d);
          // learnInBiasRows with gain 0 moves no weight (delta = (0 + 2^(ds-1) + 2^(sh-1)) >> sh = 0): advanceInBias
          if (rows) store<i32>(G + (<usize>a << 2), 0);
          else advanceInBias(a, 0, d, c);
          continue;
        }
        const g = sat32c(mul32x16(f, ETA_REC, 15), s_gain);
        // A gain too small to move any W_rec weight (for the extreme traces, hence for all: delta is monotone in p)
        // leaves the row's update out.
        if (quickDelta(g, 32767, ds) == 0 && quickDelta(g, -32768, ds) == 0) traceRowQuick(a, c, d);
        else learnRowQuick(a, c, d, g);
        if (rows) store<i32>(G + (<usize>a << 2), g);
        else learnInBiasQuick(a, c, d, g);
        continue;
      }
    }
    cntV = advanceRow(a, snap, cntV);
    updateUnit(a, sr, si);
  }
  if (rows) cntV = learnInBiasRows(d, cntV);
  const cnt = sumLanes(cntV);
  if (cnt != 0) store<u32>(s_trace, load<u32>(s_trace) + <u32>cnt);
}

/** Whether every row's (c, d) is bounded (boundedRow). */
function allBounded(d: i32): bool {
  for (let a = 0; a < N; a++) if (!boundedRow(ld32(p_aphi, a), d)) return false;
  return true;
}

/**
 * The W_in and bias parts of learnInBiasQuick for every row, gains g_a at SCRATCH (i32, 0 for f_a = 0), all rows
 * bounded, decay d, W_in's shift quick (constants at K_RND_IN, K_RND): per row the W_in traces and update4 4 inputs
 * at a time (the rest as update1), then the biases 4 rows at a time in i32 lanes: P_b := (d P_b + c 2^15 + 2^14) >> 15,
 * where |d P_b + c 2^15| <= (c + d) 2^15 <= 2^30 and only 2^15 can leave int16 (saturated by the narrowing, and
 * counted into cntV, returned), then b += (t + 2^(ds-1) + 2^(sh-1)) >> sh with the signed-overflow test.
 */
function learnInBiasRows(d: i32, cntV: v128): v128 {
  const G = SCRATCH;
  const sa = SH_APPLY;
  const di = SH_TRACE_IN - 16;
  const shIn = di + sa;
  const ds = SH_TRACE_REC - 16;
  const shB = ds + sa;
  const h14 = vk(K_H14);
  const kIn = vk(K_RND_IN);
  const kLO = vk(K_LO16);
  const n = N;
  const m = M;
  for (let a = 0; a < n; a++) {
    const io = a * m;
    const c = ld32(p_aphi, a);
    const g = ld32(G, a);
    const dc = i32x4.splat((d & 0xffff) | (c << 16));
    const gv = i32x4.splat(g);
    const ghi = i32x4.shr_s(gv, 16);
    const glo = v128.and(gv, kLO);
    let j = 0;
    for (; j + 4 <= m; j += 4) {
      const pp = p_P_in + (<usize>(io + j) << 1);
      const pv = traceLoK(v128.load64_zero(pp), v128.load64_zero(p_x + (<usize>j << 1)), dc, h14);
      v128.store64_lane(pp, i16x8.narrow_i32x4_s(pv, pv), 0);
      addDelta4(p_W_in + (<usize>(io + j) << 2), deltaK(gainK(pv, ghi, glo), kIn, shIn), s_W_in);
    }
    for (; j < m; j++) {
      const p = p_P_in + (<usize>(io + j) << 1);
      const pv = (d * <i32>load<i16>(p) + c * ld16(p_x, j) + 16384) >> 15;
      store<i16>(p, <i16>pv);
      update1(p_W_in + (<usize>(io + j) << 2), pv, g >> 16, g & 0xffff, di, sa, s_W_in);
    }
  }
  const dv = i32x4.splat(d);
  const kB = vk(K_RND);
  const k32767 = vk(K_32767);
  let a = 0;
  for (; a + 4 <= n; a += 4) {
    const pb = p_P_b + (<usize>a << 1);
    const tr = i32x4.shr_s(i32x4.add(i32x4.add(i32x4.mul(v128.load16x4_s(pb), dv), i32x4.shl(v128.load(p_aphi + (<usize>a << 2)), 15)), h14), 15);
    cntV = i32x4.sub(cntV, i32x4.gt_s(tr, k32767));
    v128.store64_lane(pb, i16x8.narrow_i32x4_s(tr, tr), 0);
    const gv = v128.load(G + (<usize>a << 2));
    const p = i32x4.min_s(tr, k32767);
    addDelta4(p_b + (<usize>a << 2), deltaK(gainK(p, i32x4.shr_s(gv, 16), v128.and(gv, kLO)), kB, shB), s_b);
  }
  for (; a < n; a++) {
    const pb = p_P_b + (<usize>a << 1);
    const pbv = sat16c(<i64>((d * <i32>load<i16>(pb) + (ld32(p_aphi, a) << 15) + 16384) >> 15), s_trace);
    store<i16>(pb, <i16>pbv);
    const g = ld32(G, a);
    update1(p_b + (<usize>a << 2), pbv, g >> 16, g & 0xffff, ds, sa, s_b);
  }
  return cntV;
}

/** Row a of advanceTraces; vector lanes' trace saturations are added to cntV (returned), scalar ones counted. */
@inline function advanceRow(a: i32, snap: bool, cntV: v128): v128 {
  const fr = FR_REC;
  {
    const c = ld32(p_aphi, a);
    let d = KEEP;
    if (snap) {
      d += rsr(c * ld16(p_W_rec_q12, a * N + a), 12);
      if (d > 65536) {
        count(s_decay);
        d = 65536;
      } else if (d < 0) {
        count(s_decay);
        d = 0;
      }
      store<i32>(p_decay + (<usize>a << 2), d);
    }
    const up: i32 = d > 32768 ? 1 : 0;
    const m = d - up * 32768;
    const row = p_P_rec + (<usize>(a * N) << 1);
    const dv = i32x4.splat(d);
    const mv = i32x4.splat(m);
    const upv = i32x4.splat(-up);
    const cv = i32x4.splat(c);
    let b = 0;
    if (fr == 15) {
      for (; b + 8 <= N; b += 8) {
        const off = <usize>b << 1;
        const P8 = v128.load(row + off);
        const H8 = v128.load(p_h_prev + off);
        const lo = rsrV(i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_s(P8), dv), i32x4.mul(i32x4.extend_low_i16x8_s(H8), cv)), 15);
        const hi = rsrV(i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_s(P8), dv), i32x4.mul(i32x4.extend_high_i16x8_s(H8), cv)), 15);
        cntV = outside16(outside16(cntV, lo), hi);
        v128.store(row + off, i16x8.narrow_i32x4_s(lo, hi));
      }
      for (; b < N; b++) {
        const p = row + (<usize>b << 1);
        store<i16>(p, sat16c(<i64>rsr(d * <i32>load<i16>(p) + c * ld16(p_h_prev, b), 15), s_trace));
      }
    } else {
      const s = 15 - fr;
      for (; b + 8 <= N; b += 8) {
        const off = <usize>b << 1;
        const P8 = v128.load(row + off);
        const H8 = v128.load(p_h_prev + off);
        const Pl = i32x4.extend_low_i16x8_s(P8);
        const Ph = i32x4.extend_high_i16x8_s(P8);
        const lo = i32x4.add(v128.and(Pl, upv), rsrV(i32x4.add(i32x4.mul(Pl, mv), rsrV(i32x4.mul(i32x4.extend_low_i16x8_s(H8), cv), s)), 15));
        const hi = i32x4.add(v128.and(Ph, upv), rsrV(i32x4.add(i32x4.mul(Ph, mv), rsrV(i32x4.mul(i32x4.extend_high_i16x8_s(H8), cv), s)), 15));
        cntV = outside16(outside16(cntV, lo), hi);
        v128.store(row + off, i16x8.narrow_i32x4_s(lo, hi));
      }
      for (; b < N; b++) {
        const p = row + (<usize>b << 1);
        const pv = <i32>load<i16>(p);
        store<i16>(p, sat16c(<i64>(up * pv + rsr(m * pv + rsr(c * ld16(p_h_prev, b), s), 15)), s_trace));
      }
    }
    advanceInBias(a, up, m, c);
  }
  return cntV;
}

/** Unit a's W_in traces (follow x) and bias trace (c 2^FR_REC): P := up P + round((m P + c v) / 2^15), counted. */
@inline function advanceInBias(a: i32, up: i32, m: i32, c: i32): void {
  const io = a * M;
  for (let j = 0; j < M; j++) {
    const p = p_P_in + (<usize>(io + j) << 1);
    const pv = <i32>load<i16>(p);
    store<i16>(p, sat16c(<i64>(up * pv + rsr(m * pv + c * ld16(p_x, j), 15)), s_trace));
  }
  const pb = p_P_b + (<usize>a << 1);
  const pbv = <i32>load<i16>(pb);
  store<i16>(pb, sat16c(<i64>(up * pbv + rsr(m * pbv + c * (1 << FR_REC), 15)), s_trace));
}

/**
 * Whether a Q1.15 trace row with decay d and coefficient c = a phi'(u_a) can take the quick kernels: 0 <= c, d <= 2^15 - 1
 * and c + d <= 2^15 (RFLO always: c <= a, d = 1 - a, unless tau = 1). Then |d P + c v| <= 2^30 for |v| <= 2^15, so
 * the sum and its rounding as (s + 2^14) >> 15 stay in int32, and for v = h_b or x_b (int16) the result stays in
 * int16: no W_rec or W_in trace saturates (nothing to count). The bias trace (v = 2^15) still can. (d, c) fit the i16
 * halves of one i32x4.dot_i16x8_s against the pairs (P_b, h_b).
 */
@inline function boundedRow(c: i32, d: i32): bool {
  return c >= 0 && d >= 0 && c <= 32767 && d <= 32767 && c + d <= 32768;
}

/**
 * Whether a learning step's recurrent rows take learnRowQuick: RFLO's Q1.15 traces, 'step' updates without the
 * gradient accumulators, full Q7.24 weights, and shifts for which the update's two roundings are one add and one
 * shift without overflow (quickShifts, ds = SH_TRACE_REC - 16).
 */
@inline function fusedRows(snap: bool): bool {
  return !snap && FR_REC == 15 && STEP != 0 && ACCUMULATE == 0 && APPLY_LOG2 == 0 && quickShifts(SH_TRACE_REC - 16);
}

/**
 * Whether update8's one-shift rounding is exact for ds (and sa = SH_APPLY): ds, sa >= 1 and sh = ds + sa <= 30.
 * The reference rounds twice, half up: d = round(g p / 2^(ds+16)), delta = round(d / 2^sa). With A = 2^(ds+16),
 * B = 2^sa >= 2 and g p = A B q + r (0 <= r < AB), d = B q + floor((r + A/2) / A), whose remainder modulo B reaches
 * B/2 exactly when r >= AB/2 - A/2; so delta = q + [r >= AB/2 - A/2] = floor((g p + A/2 + AB/2) / AB), one rounding
 * with both halves added. In t = floor(g p / 2^16): delta = (t + 2^(ds-1) + 2^(sh-1)) >> sh, and with
 * |t| <= 2^30 + 2^15 the sum stays in int32 (2^(ds-1) + 2^(sh-1) <= 2^28 + 2^29).
 */
@inline function quickShifts(ds: i32): bool {
  return ds >= 1 && SH_APPLY >= 1 && ds + SH_APPLY <= 30;
}

/**
 * Unit a's W_in and bias traces (bounded: W_in's cannot saturate, the bias trace can) and the update of W_in and b on them, gain g, under fusedRows:
 * the scalar lanes of learnRowQuick (update1), the same operations as advanceInBias then updateRow. W_in's shift
 * SH_TRACE_IN may lie outside update1's bounds (small learning rates): then applyStep.
 */
function learnInBiasQuick(a: i32, c: i32, d: i32, g: i32): void {
  const ghi = g >> 16;
  const glo = g & 0xffff;
  const sa = SH_APPLY;
  const di = SH_TRACE_IN - 16;
  const inQuick = quickShifts(di);
  const io = a * M;
  let j = 0;
  if (inQuick) {
    // 4 inputs at a time: the pairs (P_in, x) against K_DC, update4 on the gain at K_GHI / K_GLO.
    setVK(K_DC, (d & 0xffff) | (c << 16));
    setGain(g);
    const sh = di + sa;
    for (; j + 4 <= M; j += 4) {
      const pp = p_P_in + (<usize>(io + j) << 1);
      const pv = traceLo(v128.load64_zero(pp), v128.load64_zero(p_x + (<usize>j << 1)));
      v128.store64_lane(pp, i16x8.narrow_i32x4_s(pv, pv), 0);
      update4(p_W_in + (<usize>(io + j) << 2), pv, sh, s_W_in);
    }
  }
  for (; j < M; j++) {
    const p = p_P_in + (<usize>(io + j) << 1);
    const pv = (d * <i32>load<i16>(p) + c * ld16(p_x, j) + 16384) >> 15;
    store<i16>(p, <i16>pv);
    if (inQuick) update1(p_W_in + (<usize>(io + j) << 2), pv, ghi, glo, di, sa, s_W_in);
    else applyStep(p_W_in, 0, io + j, mul32x16(g, pv, SH_TRACE_IN), s_W_in);
  }
  const pb = p_P_b + (<usize>a << 1);
  // v = 2^15 is above int16: at c + d = 2^15 and P_b = 2^15 - 1 the bias trace rounds to 2^15 and saturates.
  const pbv = sat16c(<i64>((d * <i32>load<i16>(pb) + (c << FR_REC) + 16384) >> 15), s_trace);
  store<i16>(pb, <i16>pbv);
  update1(p_b + (<usize>a << 2), pbv, ghi, glo, SH_TRACE_REC - 16, sa, s_b);
}

/** update8's delta for one trace p (shift ds, SH_APPLY; quickShifts(ds)). */
@inline function quickDelta(g: i32, p: i32, ds: i32): i32 {
  const t = (g >> 16) * p + (((g & 0xffff) * p) >> 16);
  return (t + rndConst(ds)) >> (ds + SH_APPLY);
}

/** update8 for one weight at q without a Q3.12 copy: W += (hi(g) p + (lo(g) p >> 16) + 2^(ds-1) + 2^(ds+sa-1)) >> (ds + sa). */
@inline function update1(q: usize, p: i32, ghi: i32, glo: i32, ds: i32, sa: i32, satp: usize): void {
  const t = ghi * p + ((glo * p) >> 16);
  const delta = (t + (1 << (ds - 1)) + (1 << (ds + sa - 1))) >> (ds + sa);
  if (delta == 0) return;
  const w0 = load<i32>(q);
  let w = w0 + delta;
  if (((w0 ^ w) & (delta ^ w)) < 0) {
    count(satp);
    w = (w0 >> 31) ^ i32.MAX_VALUE;
  }
  store<i32>(q, w);
}

/**
 * Vector constants of the quick kernels, in memory: a v128.const or a splat used in a loop is rebuilt by the engine
 * (V8) in every iteration (2-3 instructions each), a load from here is one. Per step (setQuickConstants) and per row
 * (setRowConstants, setGain).
 */
const VK: usize = memory.data(192, 16);
const K_DC: usize = 0; // d | c << 16: the trace's (decay, coefficient) pair against (P_b, h_b)
const K_GHI: usize = 16; // g >> 16
const K_GLO: usize = 32; // g & 0xffff
const K_RND: usize = 48; // 2^(ds-1) + 2^(ds+sa-1): update8's two roundings in one (setShiftConstants)
const K_H14: usize = 64; // 2^14
const K_QBIAS: usize = 80; // 2^27 + 2^11: W + this < 2^28 (unsigned) iff round(W / 2^12) fits int16 (update8)
const K_RND_IN: usize = 96; // K_RND for W_in's shift di = SH_TRACE_IN - 16
const K_Q8000: usize = 112; // 0x8000 in every i16 lane: (x >> 12) - 2^15 for x >> 12 in [0, 2^16)
const K_ONES: usize = 128; // every bit set
const K_RNDC: usize = 144; // K_RND for learnRowQuick's constant shift 16 (setRowShift)
const K_LO16: usize = 160; // 0xffff
const K_32767: usize = 176; // 32767
@inline function vk(o: usize): v128 {
  return v128.load(VK + o);
}
@inline function setVK(o: usize, v: i32): void {
  v128.store(VK + o, i32x4.splat(v));
}
function setQuickConstants(): void {
  setVK(K_H14, 16384);
  setVK(K_QBIAS, 134219776);
  setVK(K_Q8000, 0x80008000);
  setVK(K_ONES, -1);
  setVK(K_LO16, 0xffff);
  setVK(K_32767, 32767);
}
/** The rounding constant of update8 for shift ds (and SH_APPLY) at K_RND (or kb): 2^(ds-1) + 2^(ds+sa-1) (quickShifts). */
function setShiftConstants(ds: i32, kb: usize = K_RND): void {
  setVK(kb, rndConst(ds));
}
@inline function rndConst(ds: i32): i32 {
  return (1 << (ds - 1)) + (1 << (ds + SH_APPLY - 1));
}
/** update8's delta for t (4 lanes): (t + 2^(ds-1) + 2^(sh-1)) >> sh, the constant at kb (quickShifts). */
@inline function deltaV(t: v128, kb: usize, sh: i32): v128 {
  return deltaK(t, vk(kb), sh);
}
@inline function deltaK(t: v128, rnd: v128, sh: i32): v128 {
  return i32x4.shr_s(i32x4.add(t, rnd), sh);
}
/** t = hi(g) p + (lo(g) p >> 16) = floor(g p / 2^16) for 4 lanes, g at K_GHI / K_GLO (or in ghi, glo). */
@inline function gainV(p: v128): v128 {
  return gainK(p, vk(K_GHI), vk(K_GLO));
}
@inline function gainK(p: v128, ghi: v128, glo: v128): v128 {
  return i32x4.add(i32x4.mul(ghi, p), i32x4.shr_s(i32x4.mul(glo, p), 16));
}
@inline function setGain(g: i32): void {
  setVK(K_GHI, g >> 16);
  setVK(K_GLO, g & 0xffff);
}

/**
 * Trace pairs (P_b, h_b) of lanes 0-3 (low) or 4-7 (high) as i16 pairs, against (d, c) at K_DC (or dc):
 * (d P + c h + 2^14) >> 15, h14 = 2^14.
 */
@inline function traceLo(P8: v128, H8: v128): v128 {
  return traceLoK(P8, H8, vk(K_DC), vk(K_H14));
}
@inline function traceHi(P8: v128, H8: v128): v128 {
  return traceHiK(P8, H8, vk(K_DC), vk(K_H14));
}
@inline function traceLoK(P8: v128, H8: v128, dc: v128, h14: v128): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(i16x8.shuffle(P8, H8, 0, 8, 1, 9, 2, 10, 3, 11), dc), h14), 15);
}
@inline function traceHiK(P8: v128, H8: v128, dc: v128, h14: v128): v128 {
  return i32x4.shr_s(i32x4.add(i32x4.dot_i16x8_s(i16x8.shuffle(P8, H8, 4, 12, 5, 13, 6, 14, 7, 15), dc), h14), 15);
}

/** Row a of P_rec for a bounded row (boundedRow): P := (d P + c h_prev + 2^14) >> 15, one i16 dot product per pair. */
@inline function traceRowQuick(a: i32, c: i32, d: i32): void {
  const n = N;
  const row = p_P_rec + (<usize>(a * n) << 1);
  const hp = p_h_prev;
  setVK(K_DC, (d & 0xffff) | (c << 16));
  let b = 0;
  for (; b + 8 <= n; b += 8) {
    const off = <usize>b << 1;
    const P8 = v128.load(row + off);
    const H8 = v128.load(hp + off);
    v128.store(row + off, i16x8.narrow_i32x4_s(traceLo(P8, H8), traceHi(P8, H8)));
  }
  for (; b < n; b++) {
    const p = row + (<usize>b << 1);
    store<i16>(p, <i16>((d * <i32>load<i16>(p) + c * ld16(hp, b) + 16384) >> 15));
  }
}

/**
 * A bounded row (boundedRow) of a learning step under fusedRows: the trace recursion of traceRowQuick and W_rec's
 * update on the new traces in one pass, gain g (Q(9 + k)). The new traces (in range, so their i32 lanes are the i16
 * values) feed update8 directly. Needs setQuickConstants and setShiftConstants(SH_TRACE_REC - 16).
 */
@inline function learnRowQuick(a: i32, c: i32, d: i32, g: i32): void {
  const n = N;
  const ro = <usize>(a * n);
  const row = p_P_rec + (ro << 1);
  const pW = p_W_rec + (ro << 2);
  const pQ = p_W_rec_q12 + (ro << 1);
  const sh = SH_TRACE_REC - 16 + SH_APPLY;
  setVK(K_DC, (d & 0xffff) | (c << 16));
  let b = 0;
  // The final shift as the constant 16 >= sh (V8 spends three more instructions on a shift by a variable): the
  // gain scaled by 2^(16 - sh), when that fits int32, moves the rounding boundaries of t by the same factor
  // (setRowShift), so delta is the same number. (One constant only: the optimizer merges two copies of the loop
  // that differ in the constant into one with a variable shift.)
  const s = 16 - sh;
  if (ROW_16 && (g << s) >> s == g) {
    setGain(g << s);
    b = learnRowLoop(row, pW, pQ, n, K_RNDC, 16);
  } else {
    setGain(g);
    b = learnRowLoop(row, pW, pQ, n, K_RND, sh);
  }
  const hp = p_h_prev;
  for (; b < n; b++) {
    const p = row + (<usize>b << 1);
    const pv = (d * <i32>load<i16>(p) + c * ld16(hp, b) + 16384) >> 15;
    store<i16>(p, <i16>pv);
    applyStep(pW, pQ, b, mul32x16(g, pv, SH_TRACE_REC), s_W_rec);
  }
}

/** Whether sh = SH_TRACE_REC - 16 + SH_APPLY <= 16: learnRowQuick's rows may shift by the constant 16 (setRowShift). */
let ROW_16: bool = false;

/**
 * ROW_16 and its constant at K_RNDC: update8's for the shift ds' = 16 - SH_APPLY, i.e. ds scaled by 2^s, s = 16 - sh,
 * with the gain: t' = floor(g 2^s p / 2^16), and the one rounding of update8,
 * floor((t' + 2^(ds'-1) + 2^(15)) / 2^16) = floor((g p + 2^(ds+15) + 2^(sh+15)) / 2^(sh+16)), is the same number
 * for t' as for t = floor(g p / 2^16) with ds; quickShifts(ds') holds since 1 <= ds' and ds' + SH_APPLY = 16.
 */
function setRowShift(): void {
  ROW_16 = SH_TRACE_REC - 16 + SH_APPLY <= 16;
  if (ROW_16) setShiftConstants(16 - SH_APPLY, K_RNDC);
}

/**
 * The fused loop of learnRowQuick over a row's blocks of 8 (gain at K_GHI / K_GLO, rounding constant at kb, final
 * shift sh); returns where the blocks end. 16 weights per iteration (V8's interrupt check and the loop's own work
 * paid half as often), each block's test a branch out of the loop (no flag on the usual path), and no call in the loop
 * (V8 keeps its values in registers): a block that needs the exact tests leaves it, its traces already written, and
 * update8Rare finishes it here.
 */
@inline function learnRowLoop(row: usize, pW: usize, pQ: usize, n: i32, kb: usize, sh: i32): i32 {
  const hp = p_h_prev;
  let b = 0;
  while (true) {
    let rare = false;
    // The vector constants in locals, loaded once per row: V8 keeps all 8 in registers through the loop.
    const kDC = vk(K_DC);
    const kH14 = vk(K_H14);
    const kGHI = vk(K_GHI);
    const kGLO = vk(K_GLO);
    const kRND = vk(kb);
    const kQB = vk(K_QBIAS);
    const kONES = vk(K_ONES);
    const kQ8 = vk(K_Q8000);
    for (; b + 16 <= n; b += 16) {
      const off = <usize>b << 1;
      const P8 = v128.load(row + off);
      const H8 = v128.load(hp + off);
      const lo = traceLoK(P8, H8, kDC, kH14);
      const hi = traceHiK(P8, H8, kDC, kH14);
      v128.store(row + off, i16x8.narrow_i32x4_s(lo, hi));
      const d0 = deltaK(gainK(lo, kGHI, kGLO), kRND, sh);
      const d1 = deltaK(gainK(hi, kGHI, kGLO), kRND, sh);
      const qw = pW + (off << 1);
      const w0 = i32x4.add(v128.load(qw), d0);
      const w1 = i32x4.add(v128.load(qw + 16), d1);
      const u = copyBits(w0, w1, kQB);
      if (needsRare(u, kONES)) {
        rare = true;
        break;
      }
      store8(qw, pQ + off, w0, w1, d0, d1, u, kQ8);
      const P8b = v128.load(row + off + 16);
      const H8b = v128.load(hp + off + 16);
      const lob = traceLoK(P8b, H8b, kDC, kH14);
      const hib = traceHiK(P8b, H8b, kDC, kH14);
      v128.store(row + off + 16, i16x8.narrow_i32x4_s(lob, hib));
      const d0b = deltaK(gainK(lob, kGHI, kGLO), kRND, sh);
      const d1b = deltaK(gainK(hib, kGHI, kGLO), kRND, sh);
      const w0b = i32x4.add(v128.load(qw + 32), d0b);
      const w1b = i32x4.add(v128.load(qw + 48), d1b);
      const ub = copyBits(w0b, w1b, kQB);
      if (needsRare(ub, kONES)) {
        b += 8;
        rare = true;
        break;
      }
      store8(qw + 32, pQ + off + 16, w0b, w1b, d0b, d1b, ub, kQ8);
    }
    if (!rare && b + 8 <= n) {
      const off = <usize>b << 1;
      if (learn8(row + off, hp + off, pW + (off << 1), pQ + off, kb, sh)) b += 8;
      else rare = true;
    }
    if (!rare) break;
    const off = <usize>b << 1;
    update8Rare(pW + (off << 1), pQ + off, row + off, kb, sh, s_W_rec);
    b += 8;
  }
  return b;
}

/** 8 traces at pP (their h_prev at pH) and update8 of their weights at pW, copies at pQ; false (traces written,
 * weights not) when the block needs update8Rare. */
@inline function learn8(pP: usize, pH: usize, pW: usize, pQ: usize, kb: usize, sh: i32): bool {
  const P8 = v128.load(pP);
  const H8 = v128.load(pH);
  const lo = traceLo(P8, H8);
  const hi = traceHi(P8, H8);
  v128.store(pP, i16x8.narrow_i32x4_s(lo, hi));
  return update8(pW, pQ, lo, hi, kb, sh);
}

/**
 * The 'step' update of 8 weights at pW (Q3.12 copies at pQ) from the values p0 (lanes 0-3) and p1 (4-7), |p| <= 2^15,
 * gain g split into hi(g) = g >> 16 and lo(g) = g & 0xffff at K_GHI, K_GLO (updateRow's fast path),
 * sh = ds + SH_APPLY (quickShifts):
 *   t = hi(g) p + (lo(g) p >> 16) (= floor(g p / 2^16)),  delta = (t + 2^(ds-1) + 2^(sh-1)) >> sh
 * (= round(round(g p / 2^(ds+16)) / 2^sa), see quickShifts), W + delta in int32 with the signed-overflow test (saturated,
 * counted into satp), and the Q3.12 copy round(W / 2^12) (saturated to int16, counted) rewritten only where
 * delta != 0.
 * One test on the new weights decides the usual case: with x = W + 2^27 + 2^11 (wrapping), x >> 12 (logical, below
 * 2^20) narrowed unsigned to i16 is 0xffff exactly where x >= 2^28 - 2^12. No such lane means x < 2^28 (unsigned)
 * in every lane, hence every copy round(W / 2^12) = (x >> 12) - 2^15 fits int16 (it is that narrowed value minus
 * 2^15), and no addition overflowed, since |delta| <= 2^29 (|t| <= 2^30 + 2^15, sh >= 2) puts a wrapped sum within
 * 2^29 of -2^31 or 2^31 - 1, far outside. The usual block then stores W and the copies with nothing to count; any
 * other block (including copies of exactly 32767, W in [2^27 - 3 2^11, 2^27 - 2^11)) takes the exact tests lane by
 * lane (overflow, copy range) on a rare path.
 */
@inline function update8(pW: usize, pQ: usize, p0: v128, p1: v128, kb: usize, sh: i32): bool {
  const delta0 = deltaV(gainV(p0), kb, sh);
  const delta1 = deltaV(gainV(p1), kb, sh);
  const w0 = i32x4.add(v128.load(pW), delta0);
  const w1 = i32x4.add(v128.load(pW + 16), delta1);
  const u = copyBits(w0, w1, vk(K_QBIAS));
  if (needsRare(u, vk(K_ONES))) return false;
  store8(pW, pQ, w0, w1, delta0, delta1, u, vk(K_Q8000));
  return true;
}
/**
 * x >> 12 (logical) narrowed unsigned for x = W + 2^27 + 2^11 of the 8 new weights w0 (lanes 0-3), w1 (4-7);
 * qb = 2^27 + 2^11 (K_QBIAS).
 */
@inline function copyBits(w0: v128, w1: v128, qb: v128): v128 {
  return i16x8.narrow_i32x4_u(i32x4.shr_u(i32x4.add(w0, qb), 12), i32x4.shr_u(i32x4.add(w1, qb), 12));
}
/** Whether a block's copyBits u has a lane 0xffff (x >= 2^28 - 2^12: the block needs update8Rare); ones = K_ONES. */
@inline function needsRare(u: v128, ones: v128): bool {
  return i8x16.bitmask(i16x8.eq(u, ones)) != 0;
}
/** A usual block's stores: the new weights, and the copies (u - 2^15) where delta != 0; q8 = K_Q8000. */
@inline function store8(pW: usize, pQ: usize, w0: v128, w1: v128, delta0: v128, delta1: v128, u: v128, q8: v128): void {
  v128.store(pW, w0);
  v128.store(pW + 16, w1);
  // lanes where delta == 0 keep their copy
  const keep = i16x8.eq(i16x8.narrow_i32x4_s(delta0, delta1), i16x8.splat(0));
  v128.store(pQ, v128.bitselect(v128.load(pQ), v128.xor(u, q8), keep));
}

/**
 * update8 with the exact lane-by-lane tests, for the 8 values at pP (i16, |p| <= 2^15): W = W_old + delta with int32
 * overflow saturated and counted into satp, the copy round(W / 2^12) as ((W >> 1) + 2^10) >> 11 (no overflow at
 * W = INT32_MAX), saturated to int16, counted and written only where delta != 0.
 */
function update8Rare(pW: usize, pQ: usize, pP: usize, kb: usize, sh: i32, satp: usize): void {
  const P8 = v128.load(pP);
  const delta0 = deltaV(gainV(i32x4.extend_low_i16x8_s(P8)), kb, sh);
  const delta1 = deltaV(gainV(i32x4.extend_high_i16x8_s(P8)), kb, sh);
  const keep = i16x8.eq(i16x8.narrow_i32x4_s(delta0, delta1), i16x8.splat(0));
  const w00 = v128.load(pW);
  const w01 = v128.load(pW + 16);
  let w0 = i32x4.add(w00, delta0);
  let w1 = i32x4.add(w01, delta1);
  const m0 = i32x4.shr_s(v128.and(v128.xor(w00, w0), v128.xor(delta0, w0)), 31);
  const m1 = i32x4.shr_s(v128.and(v128.xor(w01, w1), v128.xor(delta1, w1)), 31);
  const maxv = i32x4.splat(i32.MAX_VALUE);
  w0 = v128.bitselect(v128.xor(i32x4.shr_s(w00, 31), maxv), w0, m0);
  w1 = v128.bitselect(v128.xor(i32x4.shr_s(w01, 31), maxv), w1, m1);
  const nw = popcnt<i32>(i32x4.bitmask(m0)) + popcnt<i32>(i32x4.bitmask(m1));
  if (nw != 0) store<u32>(satp, load<u32>(satp) + <u32>nw);
  v128.store(pW, w0);
  v128.store(pW + 16, w1);
  const q0 = i32x4.shr_s(i32x4.add(i32x4.shr_s(w0, 1), i32x4.splat(1024)), 11);
  const q1 = i32x4.shr_s(i32x4.add(i32x4.shr_s(w1, 1), i32x4.splat(1024)), 11);
  const out = v128.andnot(
    i16x8.narrow_i32x4_s(
      v128.or(i32x4.gt_s(q0, i32x4.splat(32767)), i32x4.lt_s(q0, i32x4.splat(-32768))),
      v128.or(i32x4.gt_s(q1, i32x4.splat(32767)), i32x4.lt_s(q1, i32x4.splat(-32768))),
    ),
    keep,
  );
  const nq = popcnt<i32>(i8x16.bitmask(out)) >> 1;
  if (nq != 0) store<u32>(s_weights_q12, load<u32>(s_weights_q12) + <u32>nq);
  v128.store(pQ, v128.bitselect(v128.load(pQ), i16x8.narrow_i32x4_s(q0, q1), keep));
}

/** update8 for 4 weights at pW without a Q3.12 copy (W_in), the shift constants at K_RND_IN, sh = di + SH_APPLY. */
@inline function update4(pW: usize, p: v128, sh: i32, satp: usize): void {
  addDelta4(pW, deltaV(gainV(p), K_RND_IN, sh), satp);
}
/** W[0..4) at pW += delta in int32, overflow saturated and counted into satp; nothing written when delta is 0. */
@inline function addDelta4(pW: usize, delta: v128, satp: usize): void {
  if (!v128.any_true(delta)) return;
  const w00 = v128.load(pW);
  let w = i32x4.add(w00, delta);
  const ov = v128.and(v128.xor(w00, w), v128.xor(delta, w));
  if (i32x4.bitmask(ov) != 0) {
    const m = i32x4.shr_s(ov, 31);
    w = v128.bitselect(v128.xor(i32x4.shr_s(w00, 31), i32x4.splat(i32.MAX_VALUE)), w, m);
    store<u32>(satp, load<u32>(satp) + <u32>popcnt<i32>(i32x4.bitmask(m)));
  }
  v128.store(pW, w);
}

/** errorQ (runtime/network.ts). */
function errorQ(): void {
  for (let o = 0; o < O; o++) store<i16>(p_e + (<usize>o << 1), sat16c(<i64>(ld16(p_target, o) - ld16(p_y, o)), s_e));
}

/**
 * feedbackQ (runtime/network.ts): fb_a = sat32(sum_o B_ao e_o) (or W_out_q12^T e with TRANSPOSE). With B and 4
 * outputs, 4 units at a time: B's rows of two units are one vector of 8, one i32x4.dot_i16x8_s against (e, e) gives
 * pair sums, exact since no e is -2^15 (|B e| <= 2^15 (2^15 - 1) < 2^30); the two pair sums of a unit add in int32
 * with the signed-overflow test, an overflowed lane saturated and counted (the sum lies within 2^31 of the limit).
 */
function feedback(): void {
  let a = 0;
  if (!TRANSPOSE && O == 4) {
    const e0 = ld16(p_e, 0);
    const e1 = ld16(p_e, 1);
    const e2 = ld16(p_e, 2);
    const e3 = ld16(p_e, 3);
    if (e0 != -32768 && e1 != -32768 && e2 != -32768 && e3 != -32768) {
      const E = v128.load64_splat(p_e);
      let nsat = 0;
      for (; a + 4 <= N; a += 4) {
        const pb = p_B + (<usize>(a * 4) << 1);
        const d0 = i32x4.dot_i16x8_s(v128.load(pb), E);
        const d1 = i32x4.dot_i16x8_s(v128.load(pb + 16), E);
        const x = i32x4.shuffle(d0, d1, 0, 2, 4, 6);
        const y = i32x4.shuffle(d0, d1, 1, 3, 5, 7);
        let f = i32x4.add(x, y);
        const ov = v128.and(v128.xor(x, f), v128.xor(y, f));
        if (i32x4.bitmask(ov) != 0) {
          const m = i32x4.shr_s(ov, 31);
          f = v128.bitselect(v128.xor(i32x4.shr_s(x, 31), i32x4.splat(i32.MAX_VALUE)), f, m);
          nsat += popcnt<i32>(i32x4.bitmask(m));
        }
        v128.store(p_fb + (<usize>a << 2), f);
      }
      if (nsat != 0) store<u32>(s_feedback, load<u32>(s_feedback) + <u32>nsat);
    }
  }
  for (; a < N; a++) {
    let acc: i64 = 0;
    if (TRANSPOSE) for (let o = 0; o < O; o++) acc += <i64>(ld16(p_W_out_q12, o * N + a) * ld16(p_e, o));
    else for (let o = 0; o < O; o++) acc += <i64>(ld16(p_B, a * O + o) * ld16(p_e, o));
    store<i32>(p_fb + (<usize>a << 2), sat32c(acc, s_feedback));
  }
}

/**
 * One row of updateTraces (runtime/learners/rflo.ts): acc += round(f p / 2^accShift) for len traces p. The product
 * f p (|f p| < 2^47) is exact in f64 and so is its scaling by 2^-accShift, + 1/2 and floor: the term is the same
 * integer as mul32x16RoundShift(f, p, accShift), added to the same f64 accumulator. 'step' mode: W += the rounded
 * update (i64), skipped on a zero change as in the reference.
 */
function updateRow(W: usize, Wq: usize, acc: usize, P: usize, off: i32, len: i32, f: i32, accShift: i32, g: i32, dShift: i32, satp: usize): void {
  const fs = <f64>f * (1.0 / <f64>(1 << accShift));
  const fsv = f64x2.splat(fs);
  const pA = acc + (<usize>off << 3);
  const pP = P + (<usize>off << 1);
  const fast = STEP && dShift >= 17 && SH_APPLY >= 1 && APPLY_LOG2 == 0;
  let i = 0;
  if (fast) i = stepRowFast(W, Wq, P, off, len, g, dShift, satp, pA, fsv);
  else if (ACCUMULATE) {
    for (; i + 8 <= len; i += 8) {
      const P8 = v128.load(pP + (<usize>i << 1));
      accBlock8(pA + (<usize>i << 3), i32x4.extend_low_i16x8_s(P8), i32x4.extend_high_i16x8_s(P8), fsv);
    }
  }
  const done = i;
  if (ACCUMULATE) for (; i < len; i++) {
    const q = pA + (<usize>i << 3);
    store<f64>(q, load<f64>(q) + Math.floor(<f64>ld16(pP, i) * fs + 0.5));
  }
  if (!STEP) return;
  for (let k = fast ? done : 0; k < len; k++) {
    const idx = off + k;
    const p = ld16(P, idx);
    const delta = rsr64(mul32x16(g, p, dShift), SH_APPLY) << APPLY_LOG2;
    if (delta == 0) continue;
    const w = sat32c(<i64>ld32(W, idx) + delta, satp);
    store<i32>(W + (<usize>idx << 2), w);
    if (Wq != 0) store<i16>(Wq + (<usize>idx << 1), sat16c(<i64>rsr(w, 12), s_weights_q12));
  }
}

/** acc[0..8) += floor(p f 2^-accShift + 1/2) for the 8 traces in lo (lanes 0-3) and hi (4-7); fsv = f 2^-accShift. */
@inline function accBlock8(q: usize, lo: v128, hi: v128, fsv: v128): void {
  const half = f64x2.splat(0.5);
  v128.store(q, f64x2.add(v128.load(q), f64x2.floor(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(lo), fsv), half))));
  v128.store(q + 16, f64x2.add(v128.load(q + 16), f64x2.floor(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(lo, lo, 2, 3, 0, 1)), fsv), half))));
  v128.store(q + 32, f64x2.add(v128.load(q + 32), f64x2.floor(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(hi), fsv), half))));
  v128.store(q + 48, f64x2.add(v128.load(q + 48), f64x2.floor(f64x2.add(f64x2.mul(f64x2.convert_low_i32x4_s(i32x4.shuffle(hi, hi, 2, 3, 0, 1)), fsv), half))));
}

/**
 * The 'step' update of a row, 8 weights at a time, for the usual case (dShift >= 17, SH_APPLY >= 1, full Q7.24
 * weights): the reference's inline path in i32 lanes. g is split into a signed high and an unsigned low half;
 *   t = hi(g) p + (lo(g) p >> 16)  (= floor(g p / 2^16), fits int32),  d = rsr(t, dShift - 16),  delta = rsr(d, SH_APPLY)
 * (|delta| < 2^30), W + delta in int32 with the signed-overflow test (saturated, counted); the Q3.12 copy is
 * rewritten (and its saturation counted) only where delta != 0, as in the reference. The accumulator update of the
 * same 8 traces (accBlock8) is fused in. Returns how many weights it did.
 */
function stepRowFast(W: usize, Wq: usize, P: usize, off: i32, len: i32, g: i32, dShift: i32, satp: usize, pA: usize, fsv: v128): i32 {
  const ghi = i32x4.splat(g >> 16);
  const glo = i32x4.splat(g & 0xffff);
  const ds = dShift - 16;
  const as = SH_APPLY;
  const maxv = i32x4.splat(i32.MAX_VALUE);
  const zero = i32x4.splat(0);
  let satW = zero;
  let satQ = zero;
  const pW = W + (<usize>off << 2);
  const pP = P + (<usize>off << 1);
  const pQ = Wq + (<usize>off << 1);
  let k = 0;
  for (; k + 8 <= len; k += 8) {
    const P8 = v128.load(pP + (<usize>k << 1));
    const p0 = i32x4.extend_low_i16x8_s(P8);
    const p1 = i32x4.extend_high_i16x8_s(P8);
    if (ACCUMULATE) accBlock8(pA + (<usize>k << 3), p0, p1, fsv);
    const delta0 = rsrV(rsrV(i32x4.add(i32x4.mul(ghi, p0), i32x4.shr_s(i32x4.mul(glo, p0), 16)), ds), as);
    const delta1 = rsrV(rsrV(i32x4.add(i32x4.mul(ghi, p1), i32x4.shr_s(i32x4.mul(glo, p1), 16)), ds), as);
    const nz0 = v128.not(i32x4.eq(delta0, zero));
    const nz1 = v128.not(i32x4.eq(delta1, zero));
    if (!v128.any_true(v128.or(nz0, nz1))) continue;
    const qa = pW + (<usize>k << 2);
    const w00 = v128.load(qa);
    const w01 = v128.load(qa + 16);
    const s0 = i32x4.add(w00, delta0);
    const s1 = i32x4.add(w01, delta1);
    const ovf0 = i32x4.shr_s(v128.and(v128.xor(w00, s0), v128.xor(delta0, s0)), 31);
    const ovf1 = i32x4.shr_s(v128.and(v128.xor(w01, s1), v128.xor(delta1, s1)), 31);
    satW = i32x4.sub(i32x4.sub(satW, ovf0), ovf1);
    const w0 = v128.bitselect(v128.xor(i32x4.shr_s(w00, 31), maxv), s0, ovf0);
    const w1 = v128.bitselect(v128.xor(i32x4.shr_s(w01, 31), maxv), s1, ovf1);
    v128.store(qa, w0);
    v128.store(qa + 16, w1);
    if (Wq != 0) {
      const q0 = rsrV(w0, 12);
      const q1 = rsrV(w1, 12);
      satQ = i32x4.sub(satQ, v128.and(nz0, v128.or(i32x4.gt_s(q0, i32x4.splat(32767)), i32x4.lt_s(q0, i32x4.splat(-32768)))));
      satQ = i32x4.sub(satQ, v128.and(nz1, v128.or(i32x4.gt_s(q1, i32x4.splat(32767)), i32x4.lt_s(q1, i32x4.splat(-32768)))));
      const qq = pQ + (<usize>k << 1);
      v128.store(qq, v128.bitselect(i16x8.narrow_i32x4_s(q0, q1), v128.load(qq), i16x8.narrow_i32x4_s(nz0, nz1)));
    }
  }
  const nW = sumLanes(satW);
  if (nW != 0) store<u32>(satp, load<u32>(satp) + <u32>nW);
  const nQ = sumLanes(satQ);
  if (nQ != 0) store<u32>(s_weights_q12, load<u32>(s_weights_q12) + <u32>nQ);
  return k;
}

/** Unit a of updateTraces (runtime/learners/rflo.ts updateTraceUnit): with f_a = fb[a] != 0, its W_rec, W_in and b rows. */
@inline function updateUnit(a: i32, sr: i32, si: i32): void {
  const f = ld32(p_fb, a);
  if (f == 0) return;
  const g = STEP ? sat32c(mul32x16(f, ETA_REC, 15), s_gain) : 0;
  updateRow(p_W_rec, p_W_rec_q12, p_acc_W_rec, p_P_rec, a * N, N, f, sr, g, SH_TRACE_REC, s_W_rec);
  updateRow(p_W_in, 0, p_acc_W_in, p_P_in, a * M, M, f, si, g, SH_TRACE_IN, s_W_in);
  updateRow(p_b, 0, p_acc_b, p_P_b, a, 1, f, sr, g, SH_TRACE_REC, s_b);
}

/**
 * nlmsReciprocal (runtime/fixed.ts): for an exact Q30 norm n2 in [1, 2^53), p = bit length and r in [2^14, 2^15] with
 * 2^30 / n2 ~= r 2^(16 - p), packed as p << 16 | r.
 */
function nlmsReciprocal(n2: i64): i32 {
  let p = 64 - <i32>clz<i64>(n2);
  let n: i32;
  if (p > 15) {
    n = <i32>rsr64(n2, p - 15);
    if (n == 32768) {
      n = 16384;
      p++;
    }
  } else {
    n = <i32>n2 << (15 - p);
  }
  return (p << 16) | <i32>((<u32>536870912 + <u32>(n >> 1)) / <u32>n);
}
/** mulShiftWide (runtime/fixed.ts) on v = g z: v 2^-s, round half up for s > 0 (0 for s >= 46), exact for s in -17..0. */
@inline function shiftWide(v: i64, s: i32): i64 {
  if (s > 0) return s >= 46 ? 0 : rsr64(v, s);
  return v << (-s);
}

/** updateOutput (runtime/learners/output.ts): W_out's delta rule and, with DIRECT, D's; NORMALIZED: NLMS steps. */
function updateOutput(): void {
  let r: i32 = 0;
  let sOut = SH_OUT;
  let sDirect = SH_OUT_DIRECT;
  const normalized = STEP != 0 && NORMALIZED != 0;
  if (normalized) {
    let n2: i64 = <i64>EPS_Q30;
    for (let j = 0; j < N; j++) {
      const h = ld16(p_h, j);
      n2 += <i64>(h * h);
    }
    if (DIRECT) {
      for (let j = 0; j < M; j++) {
        const xj = ld16(p_x, j);
        n2 += <i64>(xj * xj) * 64;
      }
    }
    const pr = nlmsReciprocal(n2);
    r = pr & 0xffff;
    const p = pr >>> 16;
    sOut = SH_OUT + p - 31;
    sDirect = SH_OUT_DIRECT + p - 31;
  }
  // The delta rule's usual case through update8 (the bounds of fusedRows with ds = SH_OUT - 16; |h| <= 2^15).
  const dso = SH_OUT - 16;
  const quick = STEP != 0 && !normalized && APPLY_LOG2 == 0 && quickShifts(dso);
  if (quick) {
    setQuickConstants();
    setShiftConstants(dso);
    if (dso + SH_APPLY <= 16) setShiftConstants(16 - SH_APPLY, K_RNDC);
  }
  for (let o = 0; o < O; o++) {
    const e = ld16(p_e, o);
    if (e == 0) continue;
    const g = e * ETA_OUT;
    const oo = o * N;
    if (quick) {
      if (ACCUMULATE) {
        for (let j = 0; j < N; j++) {
          const q = p_acc_W_out + (<usize>(oo + j) << 3);
          store<f64>(q, load<f64>(q) + <f64>(e * ld16(p_h, j)) * 8);
        }
      }
      const pW = p_W_out + (<usize>oo << 2);
      const pQ = p_W_out_q12 + (<usize>oo << 1);
      const sh = dso + SH_APPLY;
      // as learnRowQuick: the constant final shift 16 with the gain scaled by 2^(16 - sh) where that fits int32
      const s = 16 - sh;
      let j = 0;
      if (sh <= 16 && (g << s) >> s == g) {
        setGain(g << s);
        j = outputRowLoop(pW, pQ, K_RNDC, 16);
      } else {
        setGain(g);
        j = outputRowLoop(pW, pQ, K_RND, sh);
      }
      for (; j < N; j++) applyStep(pW, pQ, j, mul32x16(g, ld16(p_h, j), sOut), s_W_out);
    }
    const g1: i64 = normalized ? mul32x16(g, r, 15) : 0;
    if (!quick) for (let j = 0; j < N; j++) {
      const h = ld16(p_h, j);
      if (ACCUMULATE) {
        const q = p_acc_W_out + (<usize>(oo + j) << 3);
        store<f64>(q, load<f64>(q) + <f64>(e * h) * 8);
      }
      if (STEP) applyStep(p_W_out, p_W_out_q12, oo + j, normalized ? shiftWide(g1 * <i64>h, sOut) : mul32x16(g, h, sOut), s_W_out);
    }
    if (!DIRECT) continue;
    const od = o * M;
    for (let j = 0; j < M; j++) {
      const xj = ld16(p_x, j);
      if (ACCUMULATE) {
        const q = p_acc_D + (<usize>(od + j) << 3);
        store<f64>(q, load<f64>(q) + <f64>(e * xj) * 64);
      }
      if (STEP) applyStep(p_D, 0, od + j, normalized ? shiftWide(g1 * <i64>xj, sDirect) : mul32x16(g, xj, sDirect), s_W_out);
    }
  }
}

/**
 * The delta rule's usual case for one readout row (W_out at pW, copies at pQ) on h through update8 (gain at
 * K_GHI / K_GLO, rounding constant at kb, final shift sh), the vector constants in registers; a block that needs the
 * exact tests goes to update8Rare. Returns where the blocks of 8 end.
 */
@inline function outputRowLoop(pW: usize, pQ: usize, kb: usize, sh: i32): i32 {
  const ph = p_h;
  const n = N;
  let j = 0;
  while (j + 8 <= n) {
    const kGHI = vk(K_GHI);
    const kGLO = vk(K_GLO);
    const kRND = vk(kb);
    const kQB = vk(K_QBIAS);
    const kONES = vk(K_ONES);
    const kQ8 = vk(K_Q8000);
    let rare = false;
    for (; j + 8 <= n; j += 8) {
      const H8 = v128.load(ph + (<usize>j << 1));
      const d0 = deltaK(gainK(i32x4.extend_low_i16x8_s(H8), kGHI, kGLO), kRND, sh);
      const d1 = deltaK(gainK(i32x4.extend_high_i16x8_s(H8), kGHI, kGLO), kRND, sh);
      const qw = pW + (<usize>j << 2);
      const w0 = i32x4.add(v128.load(qw), d0);
      const w1 = i32x4.add(v128.load(qw + 16), d1);
      const u = copyBits(w0, w1, kQB);
      if (needsRare(u, kONES)) {
        rare = true;
        break;
      }
      store8(qw, pQ + (<usize>j << 1), w0, w1, d0, d1, u, kQ8);
    }
    if (!rare) break;
    update8Rare(pW + (<usize>j << 2), pQ + (<usize>j << 1), ph + (<usize>j << 1), kb, sh, s_W_out);
    j += 8;
  }
  return j;
}

/** hi/lo partial sums of row j exactly as the reference leaves them in sum_hi/sum_lo (f64). */
function refSums(j: i32): void {
  const P = THETA;
  for (let t = 0; t < P; t++) {
    store<f64>(p_sum_hi + (<usize>t << 3), 0);
    store<f64>(p_sum_lo + (<usize>t << 3), 0);
  }
  for (let k = 0; k < N; k++) {
    const w = ld16(p_W_rec_q12, j * N + k);
    if (w == 0) continue;
    const base = k * P;
    for (let t = 0; t < P; t++) {
      const v = ld32(p_S, base + t);
      const qh = p_sum_hi + (<usize>t << 3);
      const ql = p_sum_lo + (<usize>t << 3);
      store<f64>(qh, load<f64>(qh) + <f64>(w * (v >> 16)));
      store<f64>(ql, load<f64>(ql) + <f64>(w * (v & 0xffff)));
    }
  }
}

/**
 * S_next[j, t] for t in [t0, t1), a range with a direct term (h_b, x_b or 1):
 * inner = round(sum / 2^12) + direct (saturated), S' = round(S (1-a) / 2^15) + round(inner c / 2^15) (saturated).
 */
function finalizeScalar(j: i32, c: i32, t0: i32, t1: i32): void {
  const P = THETA;
  const inBase = N * N;
  const bBase = N * N + N * M;
  const base = j * P;
  for (let t = t0; t < t1; t++) {
    let inner = (load<i64>(pSUM + (<usize>t << 3)) + 2048) >> 12;
    if (t >= j * N && t < j * N + N) inner += <i64>(ld16(p_h_prev, t - j * N) * 32);
    else if (t >= inBase + j * M && t < inBase + j * M + M) inner += <i64>(ld16(p_x, t - inBase - j * M) * 256);
    else if (t == bBase + j) inner += 1048576;
    const inn = sat32c(inner, s_sens);
    const sn = sat32c(mul32x16(ld32(p_S, base + t), KEEP, 15) + mul32x16(inn, c, 15), s_sens);
    store<i32>(p_S_next + (<usize>(base + t) << 2), sn);
  }
}

/** i64x2 lanes clamped to int32, out-of-range lanes counted into the cnt global. */
let SATCNT: v128 = i64x2.splat(0);
@inline function clamp64(v: v128): v128 {
  const hi = i64x2.gt_s(v, i64x2.splat(2147483647));
  const lo = i64x2.lt_s(v, i64x2.splat(-2147483648));
  SATCNT = i64x2.sub(i64x2.sub(SATCNT, hi), lo);
  return v128.bitselect(i64x2.splat(2147483647), v128.bitselect(i64x2.splat(-2147483648), v, lo), hi);
}

/** finalizeScalar for a range without a direct term, 4 parameters at a time (i64x2 lanes). */
function finalizeVec(j: i32, c: i32, t0: i32, t1: i32): void {
  const base = j * THETA;
  const keep = i32x4.splat(KEEP);
  const cv = i32x4.splat(c);
  const h12 = i64x2.splat(2048);
  const h15 = i64x2.splat(16384);
  SATCNT = i64x2.splat(0);
  let t = t0;
  for (; t + 4 <= t1; t += 4) {
    const q = pSUM + (<usize>t << 3);
    const i0 = clamp64(i64x2.shr_s(i64x2.add(v128.load(q), h12), 12));
    const i1 = clamp64(i64x2.shr_s(i64x2.add(v128.load(q + 16), h12), 12));
    const inner = i32x4.shuffle(i0, i1, 0, 2, 4, 6);
    const ps = p_S + (<usize>(base + t) << 2);
    const s4 = v128.load(ps);
    const n0 = i64x2.add(
      i64x2.shr_s(i64x2.add(i64x2.extmul_low_i32x4_s(s4, keep), h15), 15),
      i64x2.shr_s(i64x2.add(i64x2.extmul_low_i32x4_s(inner, cv), h15), 15),
    );
    const n1 = i64x2.add(
      i64x2.shr_s(i64x2.add(i64x2.extmul_high_i32x4_s(s4, keep), h15), 15),
      i64x2.shr_s(i64x2.add(i64x2.extmul_high_i32x4_s(inner, cv), h15), 15),
    );
    v128.store(p_S_next + (<usize>(base + t) << 2), i32x4.shuffle(clamp64(n0), clamp64(n1), 0, 2, 4, 6));
  }
  const n = <u32>(i64x2.extract_lane(SATCNT, 0) + i64x2.extract_lane(SATCNT, 1));
  if (n != 0) store<u32>(s_sens, load<u32>(s_sens) + n);
  if (t < t1) finalizeScalar(j, c, t, t1);
}

/**
 * advanceRtrl (runtime/learners/rtrl.ts). sum_k W_jk S_k,theta is an exact i64 sum (i64x2.extmul of i32 lanes);
 * rounding the Q32 total to Q20 half up equals the reference's hi 16 + round(lo / 2^12) (hi 2^16 is a multiple of
 * 2^12). The i64 sums live in a private scratch; sum_hi/sum_lo get the reference's values of the last row.
 */
function advanceRtrl(): void {
  const P = THETA;
  setRtrlConstants();
  // Rows in pairs: each S block loaded once serves both rows (half the S traffic); row j's sums go to the private
  // scratch, row j + 1's to sum_hi (free until refSums / updateRtrl write the reference's values below).
  if (advanceRtrlDot()) return;
  let j = 0;
  for (; j + 2 <= N; j += 2) {
    const wrow = p_W_rec_q12 + (<usize>(j * N) << 1);
    const wrow1 = wrow + (<usize>N << 1);
    let t = 0;
    for (; t + 8 <= P; t += 8) {
      let a0 = i64x2.splat(0);
      let a1 = i64x2.splat(0);
      let a2 = i64x2.splat(0);
      let a3 = i64x2.splat(0);
      let b0 = i64x2.splat(0);
      let b1 = i64x2.splat(0);
      let b2 = i64x2.splat(0);
      let b3 = i64x2.splat(0);
      let ps = p_S + (<usize>t << 2);
      for (let k = 0; k < N; k++) {
        const wv = i32x4.splat(<i32>load<i16>(wrow + (<usize>k << 1)));
        const wv1 = i32x4.splat(<i32>load<i16>(wrow1 + (<usize>k << 1)));
        const s0 = v128.load(ps);
        const s1 = v128.load(ps + 16);
        a0 = i64x2.add(a0, i64x2.extmul_low_i32x4_s(s0, wv));
        a1 = i64x2.add(a1, i64x2.extmul_high_i32x4_s(s0, wv));
        a2 = i64x2.add(a2, i64x2.extmul_low_i32x4_s(s1, wv));
        a3 = i64x2.add(a3, i64x2.extmul_high_i32x4_s(s1, wv));
        b0 = i64x2.add(b0, i64x2.extmul_low_i32x4_s(s0, wv1));
        b1 = i64x2.add(b1, i64x2.extmul_high_i32x4_s(s0, wv1));
        b2 = i64x2.add(b2, i64x2.extmul_low_i32x4_s(s1, wv1));
        b3 = i64x2.add(b3, i64x2.extmul_high_i32x4_s(s1, wv1));
        ps += <usize>P << 2;
      }
      const q = SCRATCH + (<usize>t << 3);
      v128.store(q, a0);
      v128.store(q + 16, a1);
      v128.store(q + 32, a2);
      v128.store(q + 48, a3);
      const q1 = p_sum_hi + (<usize>t << 3);
      v128.store(q1, b0);
      v128.store(q1 + 16, b1);
      v128.store(q1 + 32, b2);
      v128.store(q1 + 48, b3);
    }
    for (; t < P; t++) {
      let acc: i64 = 0;
      let acc1: i64 = 0;
      for (let k = 0; k < N; k++) {
        const v = <i64>ld32(p_S, k * P + t);
        acc += <i64>ld16(wrow, k) * v;
        acc1 += <i64>ld16(wrow1, k) * v;
      }
      store<i64>(SCRATCH + (<usize>t << 3), acc);
      store<i64>(p_sum_hi + (<usize>t << 3), acc1);
    }
    pSUM = SCRATCH;
    finalizeRow(j);
    pSUM = p_sum_hi;
    finalizeRow(j + 1);
  }
  for (; j < N; j++) {
    // Blocks of 8 parameters: the 8 i64 sums stay in registers over k (no scratch traffic per k).
    const wrow = p_W_rec_q12 + (<usize>(j * N) << 1);
    let t = 0;
    for (; t + 8 <= P; t += 8) {
      let a0 = i64x2.splat(0);
      let a1 = i64x2.splat(0);
      let a2 = i64x2.splat(0);
      let a3 = i64x2.splat(0);
      let ps = p_S + (<usize>t << 2);
      for (let k = 0; k < N; k++) {
        const wv = i32x4.splat(<i32>load<i16>(wrow + (<usize>k << 1)));
        const s0 = v128.load(ps);
        const s1 = v128.load(ps + 16);
        a0 = i64x2.add(a0, i64x2.extmul_low_i32x4_s(s0, wv));
        a1 = i64x2.add(a1, i64x2.extmul_high_i32x4_s(s0, wv));
        a2 = i64x2.add(a2, i64x2.extmul_low_i32x4_s(s1, wv));
        a3 = i64x2.add(a3, i64x2.extmul_high_i32x4_s(s1, wv));
        ps += <usize>P << 2;
      }
      const q = SCRATCH + (<usize>t << 3);
      v128.store(q, a0);
      v128.store(q + 16, a1);
      v128.store(q + 32, a2);
      v128.store(q + 48, a3);
    }
    for (; t < P; t++) {
      let acc: i64 = 0;
      for (let k = 0; k < N; k++) acc += <i64>ld16(wrow, k) * <i64>ld32(p_S, k * P + t);
      store<i64>(SCRATCH + (<usize>t << 3), acc);
    }
    pSUM = SCRATCH;
    finalizeRow(j);
  }
  // The reference's sum_hi/sum_lo of the last row (read from the old S, still in place until the copy below).
  if (N > 0 && !STEP_LEARN) refSums(N - 1);
  memory.copy(p_S, p_S_next, <usize>(N * P) << 2);
}

/** Row j of S_next for parameters [t0, t1) from its exact i64 sums at pSUM. */
function finalizeRange(j: i32, c: i32, t0: i32, t1: i32): void {
  const inBase = N * N;
  const bBase = N * N + N * M;
  const rec0 = j * N;
  const in0 = inBase + j * M;
  rangeVec(j, c, t0, t1, 0, rec0);
  rangeScalar(j, c, t0, t1, rec0, rec0 + N);
  rangeVec(j, c, t0, t1, rec0 + N, in0);
  rangeScalar(j, c, t0, t1, in0, in0 + M);
  rangeVec(j, c, t0, t1, in0 + M, bBase + j);
  rangeScalar(j, c, t0, t1, bBase + j, bBase + j + 1);
  rangeVec(j, c, t0, t1, bBase + j + 1, THETA);
}
@inline function rangeVec(j: i32, c: i32, t0: i32, t1: i32, a: i32, b: i32): void {
  const lo = max(a, t0);
  const hi = min(b, t1);
  if (lo < hi) finalizeVec(j, c, lo, hi);
}
@inline function rangeScalar(j: i32, c: i32, t0: i32, t1: i32, a: i32, b: i32): void {
  const lo = max(a, t0);
  const hi = min(b, t1);
  if (lo < hi) finalizeScalar(j, c, lo, hi);
}

/**
 * Parameters per chunk of the dot paths: 2048 / ceil(N / 2) rounded down to a multiple of 8 within [8, 256], so a
 * chunk's i16 pieces (at most 12 bytes per k pair and parameter) stay within 24 KiB, in the level-1 data cache.
 * runtime/wasm/backend.ts (rtrlWorkBytes) sizes the work area with the same formula.
 */
@inline function rtrlChunk(): i32 {
  let ch = 2048 / ((N + 1) >> 1);
  if (ch > 256) ch = 256;
  ch &= ~7;
  return ch < 8 ? 8 : ch;
}

/** max_j sum_k |W_rec_q12[j, k]| (< N 2^15 < 2^31): bounds every row's sum_k W_jk x_k by this times max |x_k|. */
function rowL1Max(): i64 {
  let L: i32 = 0;
  for (let j = 0; j < N; j++) {
    const w = p_W_rec_q12 + (<usize>(j * N) << 1);
    let s: i32 = 0;
    for (let k = 0; k < N; k++) {
      const v = <i32>load<i16>(w + (<usize>k << 1));
      s += v < 0 ? -v : v;
    }
    if (s > L) L = s;
  }
  return <i64>L;
}

/**
 * The split of the two-piece path for a chunk whose |S| <= m, rows bounded by L = rowL1Max(): the smallest s in
 * 12..16 with S = hi 2^s + lo, hi = (S + 2^(s-1)) >> s in i16 and lo in [-2^(s-1), 2^(s-1)), such that both sums
 * HS = sum_k W_jk hi_k and LS = sum_k W_jk lo_k are exact in i32 (|HS| <= L (m / 2^s + 1), |LS| <= L 2^(s-1), the
 * i32 lanes of dot_i16x8_s wrap, so only the totals must fit) and the row's inner term
 * (HS << (s - 12)) + ((LS + 2048) >> 12) plus any direct term (|h 2^5|, |x 2^8|, 2^20 <= 2^23) stays inside int32
 * (then the reference's inner saturation cannot occur). 0 when no s qualifies (the chunk takes the 3-piece path).
 */
function splitFor(m: i64, L: i64): i32 {
  for (let s = 12; s <= 16; s++) {
    if ((m + (<i64>1 << (s - 1))) >> s > 32767) continue;
    return splitOk(m, L, s) ? s : 0;
  }
  return 0;
}
/** splitFor's bounds for the split 2^s (with hi = (S + 2^(s-1)) >> s in i16). */
function splitOk(m: i64, L: i64, s: i32): bool {
  const half: i64 = <i64>1 << (s - 1);
  if ((m + half) >> s > 32767) return false;
  const hS = L * ((m >> s) + 1);
  const lS = L * half;
  if (hS > 2147483647 || lS > 2147483647 - 2048) return false;
  return (hS << (s - 12)) + (lS >> 12) + 1 + 8388608 <= 2147483647;
}

/**
 * The sums sum_k W_jk S_k,theta with i32x4.dot_i16x8_s, parameters in chunks of CH (rtrlChunk) whose pieces of S (k
 * pairs interleaved as i16, an odd N padded with a zero k) sit in the private work area; S is updated in place
 * chunk by chunk (S_next gets the same values), since a chunk's old S is read only into its pieces and by its own
 * finalization. Per chunk, by its max |S| and the rows' L1 norm (splitFor):
 * - two pieces, S = hi 2^s + lo (the common case, chunk2): HS and LS are exact i32 sums over all k, the inner term
 *   and S' = round((1 - a) S / 2^15) + round(a phi'_j inner / 2^15) are computed in i32 lanes in registers, two
 *   rows per pass over the pieces; the split 2^16 is preferred when it qualifies, so that blocks where few k pairs
 *   have |S| >= 2^15 skip the others' zero hi pieces;
 * - three pieces otherwise (any state, saturated ones included): S = A 2^22 + B 2^11 + C with A = S >> 22 in
 *   [-512, 511], B = (S >> 11) & 2047, C = S & 2047: per pair of k one dot gives W_jk x_k + W_jk+1 x_k+1 exactly
 *   (|.| <= 2 32768 2047 < 2^27), 16 such pairs (32 k) still sum exactly in i32 before the three partial sums are
 *   combined exactly in i64 (2^22 A + 2^11 B + C), then finalizeRange (i64 lanes, every saturation counted).
 * Returns false (nothing done) for N <= 3 (the i64 path of advanceRtrl).
 */
function advanceRtrlDot(): bool {
  if (N <= 3) return false;
  const P = THETA;
  const KP = (N + 1) >> 1;
  const CH = rtrlChunk();
  const XP = SCRATCH + ((<usize>(P << 3) + (<usize>N << 2) + 15) & ~15);
  const INNER = XP + <usize>(12 * KP * CH);
  const SUMS = INNER + (<usize>CH << 3);
  const DIR = SUMS + (<usize>CH << 3);
  const LST = DIR + ((<usize>(N + M + 49) << 2) + 15 & ~15);
  // The reference's sum_hi/sum_lo of the last row, from the old S (before the first chunk overwrites it).
  if (!STEP_LEARN) refSums(N - 1);
  const L = rowL1Max();
  // The direct terms as int32 vectors with 8 zeros on each side: h_prev 2^5 (N), x 2^8 (M), and 2^20 (one), so that
  // a block of 8 parameters reads its lanes' terms with two unaligned loads (zeros outside the term's range).
  memory.fill(DIR, 0, <usize>(N + M + 49) << 2);
  for (let b = 0; b < N; b++) store<i32>(DIR + (<usize>(b + 8) << 2), ld16(p_h_prev, b) << 5);
  for (let b = 0; b < M; b++) store<i32>(DIR + (<usize>(N + 24 + b) << 2), ld16(p_x, b) << 8);
  store<i32>(DIR + (<usize>(N + M + 40) << 2), 1048576);
  // chunk16 can qualify only when L 2^15 fits int32 (its bound on LS)
  const try16 = L <= 65535;
  for (let t0 = 0; t0 < P; t0 += CH) {
    const t1 = min(t0 + CH, P);
    const nb = (t1 - t0 + 7) >> 3;
    if (try16 && chunk16(t0, t1, nb, KP, XP, INNER, DIR, LST, L)) continue;
    // max |S| over the chunk's columns (and the few read past t1 into the pieces' last block)
    let mv = i32x4.splat(0);
    for (let k = 0; k < N; k++) {
      const p = p_S + (<usize>(k * P + t0) << 2);
      for (let u = 0; u < nb << 3; u += 4) mv = i32x4.max_u(mv, i32x4.abs(v128.load(p + (<usize>u << 2))));
    }
    const m = max(max(<u32>i32x4.extract_lane(mv, 0), <u32>i32x4.extract_lane(mv, 1)), max(<u32>i32x4.extract_lane(mv, 2), <u32>i32x4.extract_lane(mv, 3)));
    // the split at 2^16 when it qualifies: then hi = 0 wherever |S| < 2^15, and chunk2 may skip those k pairs
    const s16 = splitOk(<i64>m, L, 16);
    const s = s16 ? 16 : splitFor(<i64>m, L);
    if (s != 0) chunk2(t0, t1, nb, CH, KP, s, XP, INNER, DIR, s16, LST);
    else chunk3(t0, t1, CH, KP, XP, SUMS);
  }
  return true;
}

/**
 * One chunk on the two-piece path (advanceRtrlDot): pieces per k pair and block of 8 parameters as 64 bytes
 * [hi of 4 params | hi of next 4 | lo of 4 | lo of next 4], each i32 lane holding (piece_k, piece_k+1) as i16, a
 * block's k pairs contiguous. Two
 * rows per pass over the pieces; each block of 8 parameters is finalized in registers, its direct terms added from
 * the zero-padded vectors at DIR (advanceRtrlDot), the chunk's last partial block through finalizeFast.
 * S' needs no saturation test here: a phi'_j = round(a dphi / 2^15) <= a, so (1 - a) + a phi'_j <= 1 and
 * |S'| <= max(|S|, |inner|) + 1 < 2^31 with |S| < 2^31 - 2^15 (hi fits i16) and |inner| < 2^31 - 2^23 (splitFor).
 */
function chunk2(t0: i32, t1: i32, nb: i32, CH: i32, KP: i32, s: i32, XP: usize, INNER: usize, DIR: usize, sparse: bool, LST: usize): void {
  const P = THETA;
  const halfv = i32x4.splat(1 << (s - 1));
  const m16 = i32x4.splat(0xffff);
  // pieces block-major: a block's k pairs are contiguous (64 bytes each), so the k loop reads sequentially
  const kStride: usize = 64;
  const bStride = <usize>KP << 6;
  // LST: per block of 8 parameters, the count of k pairs whose hi pieces are not all 0, then those pairs (the byte
  // offsets of their pieces and of their weights)
  const LC = LST;
  const LK = LST + (<usize>nb << 2);
  if (sparse) memory.fill(LC, 0, <usize>nb << 2);
  let flagged = 0;
  for (let kp = 0; kp < KP; kp++) {
    const k0 = kp << 1;
    const p0 = p_S + (<usize>(k0 * P + t0) << 2);
    const odd = k0 + 1 < N;
    const p1 = p0 + (<usize>P << 2);
    const o = XP + <usize>kp * kStride;
    for (let b = 0; b < nb; b++) {
      const q = o + <usize>b * bStride;
      let any = i32x4.splat(0);
      for (let hlf = 0; hlf < 2; hlf++) {
        const u = (b << 3) + (hlf << 2);
        const v0 = v128.load(p0 + (<usize>u << 2));
        const v1 = odd ? v128.load(p1 + (<usize>u << 2)) : i32x4.splat(0);
        const h0 = i32x4.shr_s(i32x4.add(v0, halfv), s);
        const h1 = i32x4.shr_s(i32x4.add(v1, halfv), s);
        const l0 = i32x4.sub(v0, i32x4.shl(h0, s));
        const l1 = i32x4.sub(v1, i32x4.shl(h1, s));
        const hp = v128.or(v128.and(h0, m16), i32x4.shl(h1, 16));
        any = v128.or(any, hp);
        v128.store(q + (<usize>hlf << 4), hp);
        v128.store(q + 32 + (<usize>hlf << 4), v128.or(v128.and(l0, m16), i32x4.shl(l1, 16)));
      }
      if (sparse && v128.any_true(any)) {
        const pc = LC + (<usize>b << 2);
        const c = load<i32>(pc);
        const e = LK + (<usize>(b * KP + c) << 3);
        store<i32>(e, kp * <i32>kStride);
        store<i32>(e + 4, kp << 2);
        store<i32>(pc, c + 1);
        flagged++;
      }
    }
  }
  // skipping pays when at most ~30% of the pairs are listed (measured: N = 64 gains 20% at 12% listed, N = 32 at 46%
  // listed is no faster than the dense loop, whose pair costs about what a listed pair costs)
  if (sparse && flagged * 10 > KP * nb * 3) sparse = false;
  const sh = s - 12;
  const r12 = i32x4.splat(2048);
  const keep = i32x4.splat(KEEP);
  const full = (t1 - t0) >> 3;
  const DH = DIR;
  const DX = DIR + (<usize>(N + 16) << 2);
  const DB = DX + (<usize>(M + 16) << 2);
  for (let j = 0; j < N; j += 2) {
    const j1 = j + 1 < N ? j + 1 : j;
    const two = j1 != j;
    // an odd N reads one i16 past the row as the partner of the padded zero k: its product is 0
    const w0 = p_W_rec_q12 + (<usize>(j * N) << 1);
    const w1 = p_W_rec_q12 + (<usize>(j1 * N) << 1);
    const c0 = i32x4.splat(ld32(p_aphi, j));
    const c1 = i32x4.splat(ld32(p_aphi, j1));
    const pS0 = p_S + (<usize>(j * P + t0) << 2);
    const pS1 = p_S + (<usize>(j1 * P + t0) << 2);
    const pN0 = p_S_next + (<usize>(j * P + t0) << 2);
    const pN1 = p_S_next + (<usize>(j1 * P + t0) << 2);
    for (let b = 0; b < nb; b++) {
      let a0 = i32x4.splat(0);
      let a1 = i32x4.splat(0);
      let a2 = i32x4.splat(0);
      let a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0);
      let b1 = i32x4.splat(0);
      let b2 = i32x4.splat(0);
      let b3 = i32x4.splat(0);
      if (sparse) {
        // lo pieces of every k pair, hi pieces of the listed ones
        let q = XP + <usize>b * bStride + 32;
        const qe = q + <usize>KP * kStride;
        let pa = w0;
        let pb = w1;
        while (q < qe) {
          const x2 = v128.load(q);
          const x3 = v128.load(q + 16);
          const wa = v128.load32_splat(pa);
          const wb = v128.load32_splat(pb);
          pa += 4;
          pb += 4;
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2, wa));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3, wa));
          b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2, wb));
          b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3, wb));
          q += kStride;
        }
        let pk = LK + (<usize>(b * KP) << 3);
        const pke = pk + (<usize>load<i32>(LC + (<usize>b << 2)) << 3);
        const qb = XP + <usize>b * bStride;
        while (pk < pke) {
          const qh = qb + <usize>load<i32>(pk);
          const wk = <usize>load<i32>(pk + 4);
          const x0 = v128.load(qh);
          const x1 = v128.load(qh + 16);
          const wa = v128.load32_splat(w0 + wk);
          const wb = v128.load32_splat(w1 + wk);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, wa));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1, wa));
          b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0, wb));
          b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, wb));
          pk += 8;
        }
      } else {
        let q = XP + <usize>b * bStride;
        const qe = q + <usize>KP * kStride;
        let pa = w0;
        let pb = w1;
        while (q < qe) {
          const x0 = v128.load(q);
          const x1 = v128.load(q + 16);
          const x2 = v128.load(q + 32);
          const x3 = v128.load(q + 48);
          const wa = v128.load32_splat(pa);
          const wb = v128.load32_splat(pb);
          pa += 4;
          pb += 4;
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, wa));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1, wa));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2, wa));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3, wa));
          b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0, wb));
          b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, wb));
          b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2, wb));
          b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3, wb));
          q += kStride;
        }
      }
      // inner = (HS << (s - 12)) + round(LS / 2^12): the rounded Q20 total, exact in i32 (splitFor); + direct terms
      const tb = t0 + (b << 3);
      let i0 = i32x4.add(i32x4.shl(a0, sh), i32x4.shr_s(i32x4.add(a2, r12), 12));
      let i1 = i32x4.add(i32x4.shl(a1, sh), i32x4.shr_s(i32x4.add(a3, r12), 12));
      let i2 = i32x4.add(i32x4.shl(b0, sh), i32x4.shr_s(i32x4.add(b2, r12), 12));
      let i3 = i32x4.add(i32x4.shl(b1, sh), i32x4.shr_s(i32x4.add(b3, r12), 12));
      const dh0 = tb - j * N;
      if (dh0 > -8 && dh0 < N) {
        const d = DH + (<usize>(dh0 + 8) << 2);
        i0 = i32x4.add(i0, v128.load(d));
        i1 = i32x4.add(i1, v128.load(d + 16));
      }
      const dh1 = dh0 - N;
      if (two && dh1 > -8 && dh1 < N) {
        const d = DH + (<usize>(dh1 + 8) << 2);
        i2 = i32x4.add(i2, v128.load(d));
        i3 = i32x4.add(i3, v128.load(d + 16));
      }
      const dx0 = tb - N * N - j * M;
      if (dx0 > -8 && dx0 < M) {
        const d = DX + (<usize>(dx0 + 8) << 2);
        i0 = i32x4.add(i0, v128.load(d));
        i1 = i32x4.add(i1, v128.load(d + 16));
      }
      const dx1 = dx0 - M;
      if (two && dx1 > -8 && dx1 < M) {
        const d = DX + (<usize>(dx1 + 8) << 2);
        i2 = i32x4.add(i2, v128.load(d));
        i3 = i32x4.add(i3, v128.load(d + 16));
      }
      const db0 = tb - N * N - N * M - j;
      if (db0 > -8 && db0 < 1) {
        const d = DB + (<usize>(db0 + 8) << 2);
        i0 = i32x4.add(i0, v128.load(d));
        i1 = i32x4.add(i1, v128.load(d + 16));
      }
      const db1 = db0 - 1;
      if (two && db1 > -8 && db1 < 1) {
        const d = DB + (<usize>(db1 + 8) << 2);
        i2 = i32x4.add(i2, v128.load(d));
        i3 = i32x4.add(i3, v128.load(d + 16));
      }
      const o = <usize>b << 5;
      if (b < full) {
        fin4(pS0 + o, pN0 + o, i0, keep, c0);
        fin4(pS0 + o + 16, pN0 + o + 16, i1, keep, c0);
        if (two) {
          fin4(pS1 + o, pN1 + o, i2, keep, c1);
          fin4(pS1 + o + 16, pN1 + o + 16, i3, keep, c1);
        }
      } else {
        // the chunk's last, partial block: parameters up to t1 only
        v128.store(INNER, i0);
        v128.store(INNER + 16, i1);
        finalizeFast(j, tb, t1 - tb, INNER);
        if (two) {
          v128.store(INNER, i2);
          v128.store(INNER + 16, i3);
          finalizeFast(j1, tb, t1 - tb, INNER);
        }
      }
    }
  }
}

/**
 * RTRL vector constants in memory (a splat or v128.const inside a loop is rebuilt by V8 in every iteration, a load
 * from here is one instruction), written at the start of every RTRL step (advanceRtrl: seven stores) since the
 * layout's configure is generated.
 */
const VR: usize = memory.data(112, 16);
const R_KEEP: usize = 0; // KEEP = 1 - a, Q1.15
const R_M16: usize = 16; // 0xffff
const R_H14: usize = 32; // 2^14
const R_R12: usize = 48; // 2^11
const R_H15: usize = 64; // 2^15
const R_HIM: usize = 80; // 0xffff0000
const R_X8000: usize = 96; // 0x8000 in every i16 lane
function setRtrlConstants(): void {
  v128.store(VR + R_KEEP, i32x4.splat(KEEP));
  v128.store(VR + R_M16, i32x4.splat(0xffff));
  v128.store(VR + R_H14, i32x4.splat(16384));
  v128.store(VR + R_R12, i32x4.splat(2048));
  v128.store(VR + R_H15, i32x4.splat(32768));
  v128.store(VR + R_HIM, i32x4.splat(0xffff0000));
  v128.store(VR + R_X8000, i32x4.splat(0x80008000));
}
@inline function vr(o: usize): v128 {
  return v128.load(VR + o);
}
/** mulRound15 with its constants (0xffff, 2^14) passed in, so a caller loads them once for several calls. */
@inline function mulR15c(v: v128, b: v128, m16: v128, h14: v128): v128 {
  return i32x4.add(i32x4.shl(i32x4.mul(i32x4.shr_s(v, 16), b), 1), i32x4.shr_u(i32x4.add(i32x4.mul(v128.and(v, m16), b), h14), 15));
}

/** Bits b < nb (nb <= 32) of the blocks [8b, 8b + 8) that meet [start, start + len) (chunk-local parameters). */
@inline function blockBits(start: i32, len: i32, nb: i32): u32 {
  const lo = max(start, 0) >> 3;
  const hi = min(start + len - 1, (nb << 3) - 1);
  if (hi < 0 || lo > (hi >> 3)) return 0;
  const n = (hi >> 3) - lo + 1;
  return (n >= 32 ? <u32>-1 : (<u32>1 << n) - 1) << lo;
}

/**
 * chunk2 at the split 2^16, the common case, with the pieces built before the split is known to qualify: hi =
 * (S + 2^15) >> 16 is the top half of S + 2^15 and lo = S - hi 2^16 the bottom half of S read as int16, so a pair of
 * k is two blends, and the chunk's bound comes from the largest |hi| built (H, as u16 lanes, i16x8.abs leaving
 * -2^15 at 2^15) rather than from a separate pass for max |S|. H <= 32767 means S + 2^15 did not wrap and
 * |S| <= 2^31 - 2^15 (the finalization's no-saturation argument, chunk2); then with L = rowL1Max():
 * |HS| <= L H, |LS| <= L 2^15 (both exact in i32 when inside it, the lanes wrap), and
 * |inner| <= 16 L H + L 2^15 / 2^12 + 1 + 2^23 must stay inside int32, as splitOk. H <= (max |S| >> 16) + 1, so this
 * accepts every chunk splitOk(., ., 16) accepts. Returns false, S untouched, when the bound fails (the caller then
 * takes the general path, which rebuilds the pieces). Shifts are constants (V8 spends four instructions on a shift
 * by a variable), and a block's direct terms are looked up only when one of the row pair's three ranges meets it.
 */
function chunk16(t0: i32, t1: i32, nb: i32, KP: i32, XP: usize, INNER: usize, DIR: usize, LST: usize, L: i64): bool {
  const P = THETA;
  const kStride: usize = 64;
  const bStride = <usize>KP << 6;
  const LC = LST;
  const LK = LST + (<usize>nb << 2);
  memory.fill(LC, 0, <usize>nb << 2);
  // an odd N pairs its last k with zeros (INNER, free until the last partial block)
  if (N & 1) memory.fill(INNER, 0, <usize>nb << 5);
  let flagged = 0;
  let hm = i16x8.splat(0);
  for (let kp = 0; kp < KP; kp++) {
    const k0 = kp << 1;
    const p0 = p_S + (<usize>(k0 * P + t0) << 2);
    const p1 = k0 + 1 < N ? p0 + (<usize>P << 2) : INNER;
    let q = XP + <usize>kp * kStride;
    for (let b = 0; b < nb; b++) {
      const u = <usize>b << 5;
      const v0 = v128.load(p0 + u);
      const v1 = v128.load(p1 + u);
      const v2 = v128.load(p0 + u + 16);
      const v3 = v128.load(p1 + u + 16);
      const x0 = i32x4.add(v0, vr(R_H15));
      const x1 = i32x4.add(v1, vr(R_H15));
      const x2 = i32x4.add(v2, vr(R_H15));
      const x3 = i32x4.add(v3, vr(R_H15));
      const h0 = v128.or(i32x4.shr_u(x0, 16), v128.and(x1, vr(R_HIM)));
      const h1 = v128.or(i32x4.shr_u(x2, 16), v128.and(x3, vr(R_HIM)));
      v128.store(q, h0);
      v128.store(q + 16, h1);
      v128.store(q + 32, v128.or(v128.and(v0, vr(R_M16)), i32x4.shl(v1, 16)));
      v128.store(q + 48, v128.or(v128.and(v2, vr(R_M16)), i32x4.shl(v3, 16)));
      hm = i16x8.max_u(hm, i16x8.max_u(i16x8.abs(h0), i16x8.abs(h1)));
      if (v128.any_true(v128.or(h0, h1))) {
        const pc = LC + (<usize>b << 2);
        const c = load<i32>(pc);
        const e = LK + (<usize>(b * KP + c) << 3);
        store<i32>(e, kp * <i32>kStride);
        store<i32>(e + 4, kp << 2);
        store<i32>(pc, c + 1);
        flagged++;
      }
      q += bStride;
    }
  }
  hm = i16x8.max_u(hm, i16x8.shuffle(hm, hm, 4, 5, 6, 7, 0, 1, 2, 3));
  hm = i16x8.max_u(hm, i16x8.shuffle(hm, hm, 2, 3, 0, 1, 2, 3, 0, 1));
  const H = <i64>max(i16x8.extract_lane_u(hm, 0), i16x8.extract_lane_u(hm, 1));
  if (H > 32767) return false;
  const hS = L * H;
  const lS = L << 15;
  if (hS > 2147483647 || lS > 2147483647 - 2048) return false;
  if ((hS << 4) + (lS >> 12) + 1 + 8388608 > 2147483647) return false;
  // skipping the zero hi pieces pays when at most ~30% of the pairs are listed (chunk2)
  const sparse = flagged * 10 <= KP * nb * 3;
  const full = (t1 - t0) >> 3;
  const inBase = N * N;
  const bBase = inBase + N * M;
  const DH = DIR;
  const DX = DIR + (<usize>(N + 16) << 2);
  const DB = DX + (<usize>(M + 16) << 2);
  for (let j = 0; j < N; j += 2) {
    const j1 = j + 1 < N ? j + 1 : j;
    const two = j1 != j;
    const w0 = p_W_rec_q12 + (<usize>(j * N) << 1);
    const w1 = p_W_rec_q12 + (<usize>(j1 * N) << 1);
    const pS0 = p_S + (<usize>(j * P + t0) << 2);
    const pS1 = p_S + (<usize>(j1 * P + t0) << 2);
    const pN0 = p_S_next + (<usize>(j * P + t0) << 2);
    const pN1 = p_S_next + (<usize>(j1 * P + t0) << 2);
    // the blocks (bits, nb <= 32) that meet the row pair's direct terms: [jN, jN + 2N), [N^2 + jM, N^2 + jM + 2M),
    // [bBase + j, bBase + j + 2)
    const dmask = blockBits(j * N - t0, 2 * N, nb) | blockBits(inBase + j * M - t0, 2 * M, nb) | blockBits(bBase + j - t0, 2, nb);
    for (let b = 0; b < nb; b++) {
      let a0 = i32x4.splat(0);
      let a1 = i32x4.splat(0);
      let a2 = i32x4.splat(0);
      let a3 = i32x4.splat(0);
      let b0 = i32x4.splat(0);
      let b1 = i32x4.splat(0);
      let b2 = i32x4.splat(0);
      let b3 = i32x4.splat(0);
      if (sparse) {
        let q = XP + <usize>b * bStride + 32;
        const qe = q + <usize>KP * kStride;
        let pa = w0;
        let pb = w1;
        while (q < qe) {
          const x2 = v128.load(q);
          const x3 = v128.load(q + 16);
          const wa = v128.load32_splat(pa);
          const wb = v128.load32_splat(pb);
          pa += 4;
          pb += 4;
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2, wa));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3, wa));
          b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2, wb));
          b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3, wb));
          q += kStride;
        }
        let pk = LK + (<usize>(b * KP) << 3);
        const pke = pk + (<usize>load<i32>(LC + (<usize>b << 2)) << 3);
        const qb = XP + <usize>b * bStride;
        while (pk < pke) {
          const qh = qb + <usize>load<i32>(pk);
          const wk = <usize>load<i32>(pk + 4);
          const x0 = v128.load(qh);
          const x1 = v128.load(qh + 16);
          const wa = v128.load32_splat(w0 + wk);
          const wb = v128.load32_splat(w1 + wk);
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, wa));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1, wa));
          b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0, wb));
          b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, wb));
          pk += 8;
        }
      } else {
        let q = XP + <usize>b * bStride;
        const qe = q + <usize>KP * kStride;
        let pa = w0;
        let pb = w1;
        while (q < qe) {
          const x0 = v128.load(q);
          const x1 = v128.load(q + 16);
          const x2 = v128.load(q + 32);
          const x3 = v128.load(q + 48);
          const wa = v128.load32_splat(pa);
          const wb = v128.load32_splat(pb);
          pa += 4;
          pb += 4;
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(x0, wa));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(x1, wa));
          a2 = i32x4.add(a2, i32x4.dot_i16x8_s(x2, wa));
          a3 = i32x4.add(a3, i32x4.dot_i16x8_s(x3, wa));
          b0 = i32x4.add(b0, i32x4.dot_i16x8_s(x0, wb));
          b1 = i32x4.add(b1, i32x4.dot_i16x8_s(x1, wb));
          b2 = i32x4.add(b2, i32x4.dot_i16x8_s(x2, wb));
          b3 = i32x4.add(b3, i32x4.dot_i16x8_s(x3, wb));
          q += kStride;
        }
      }
      // inner = (HS << 4) + round(LS / 2^12), exact in i32 (the bound above); + direct terms
      let i0 = i32x4.add(i32x4.shl(a0, 4), i32x4.shr_s(i32x4.add(a2, vr(R_R12)), 12));
      let i1 = i32x4.add(i32x4.shl(a1, 4), i32x4.shr_s(i32x4.add(a3, vr(R_R12)), 12));
      let i2 = i32x4.add(i32x4.shl(b0, 4), i32x4.shr_s(i32x4.add(b2, vr(R_R12)), 12));
      let i3 = i32x4.add(i32x4.shl(b1, 4), i32x4.shr_s(i32x4.add(b3, vr(R_R12)), 12));
      const tb = t0 + (b << 3);
      if (dmask & (1 << b)) {
        const dh0 = tb - j * N;
        if (dh0 > -8 && dh0 < N) {
          const d = DH + (<usize>(dh0 + 8) << 2);
          i0 = i32x4.add(i0, v128.load(d));
          i1 = i32x4.add(i1, v128.load(d + 16));
        }
        const dh1 = dh0 - N;
        if (two && dh1 > -8 && dh1 < N) {
          const d = DH + (<usize>(dh1 + 8) << 2);
          i2 = i32x4.add(i2, v128.load(d));
          i3 = i32x4.add(i3, v128.load(d + 16));
        }
        const dx0 = tb - inBase - j * M;
        if (dx0 > -8 && dx0 < M) {
          const d = DX + (<usize>(dx0 + 8) << 2);
          i0 = i32x4.add(i0, v128.load(d));
          i1 = i32x4.add(i1, v128.load(d + 16));
        }
        const dx1 = dx0 - M;
        if (two && dx1 > -8 && dx1 < M) {
          const d = DX + (<usize>(dx1 + 8) << 2);
          i2 = i32x4.add(i2, v128.load(d));
          i3 = i32x4.add(i3, v128.load(d + 16));
        }
        const db0 = tb - bBase - j;
        if (db0 > -8 && db0 < 1) {
          const d = DB + (<usize>(db0 + 8) << 2);
          i0 = i32x4.add(i0, v128.load(d));
          i1 = i32x4.add(i1, v128.load(d + 16));
        }
        const db1 = db0 - 1;
        if (two && db1 > -8 && db1 < 1) {
          const d = DB + (<usize>(db1 + 8) << 2);
          i2 = i32x4.add(i2, v128.load(d));
          i3 = i32x4.add(i3, v128.load(d + 16));
        }
      }
      const o = <usize>b << 5;
      if (b < full) {
        // all four results before the stores, so that the engine loads each constant once
        const keep = vr(R_KEEP);
        const m16 = vr(R_M16);
        const h14 = vr(R_H14);
        const c0 = v128.load32_splat(p_aphi + (<usize>j << 2));
        const c1 = v128.load32_splat(p_aphi + (<usize>j1 << 2));
        const r0 = i32x4.add(mulR15c(v128.load(pS0 + o), keep, m16, h14), mulR15c(i0, c0, m16, h14));
        const r1 = i32x4.add(mulR15c(v128.load(pS0 + o + 16), keep, m16, h14), mulR15c(i1, c0, m16, h14));
        const r2 = i32x4.add(mulR15c(v128.load(pS1 + o), keep, m16, h14), mulR15c(i2, c1, m16, h14));
        const r3 = i32x4.add(mulR15c(v128.load(pS1 + o + 16), keep, m16, h14), mulR15c(i3, c1, m16, h14));
        v128.store(pS0 + o, r0);
        v128.store(pS0 + o + 16, r1);
        v128.store(pN0 + o, r0);
        v128.store(pN0 + o + 16, r1);
        if (two) {
          v128.store(pS1 + o, r2);
          v128.store(pS1 + o + 16, r3);
          v128.store(pN1 + o, r2);
          v128.store(pN1 + o + 16, r3);
        }
      } else {
        v128.store(INNER, i0);
        v128.store(INNER + 16, i1);
        finalizeFast(j, tb, t1 - tb, INNER);
        if (two) {
          v128.store(INNER, i2);
          v128.store(INNER + 16, i3);
          finalizeFast(j1, tb, t1 - tb, INNER);
        }
      }
    }
  }
  return true;
}

/** round(v b / 2^15) in wrapping i32 lanes for b in [0, 2^15] (exact when the result fits int32, see finalizeFast). */
@inline function mulRound15(v: v128, b: v128): v128 {
  return i32x4.add(
    i32x4.shl(i32x4.mul(i32x4.shr_s(v, 16), b), 1),
    i32x4.shr_u(i32x4.add(i32x4.mul(v128.and(v, i32x4.splat(0xffff)), b), i32x4.splat(16384)), 15),
  );
}
/** S' of 4 parameters (at pS, also written to pN) when it cannot leave int32. */
@inline function fin4(pS: usize, pN: usize, inner: v128, keep: v128, c: v128): void {
  const r = i32x4.add(mulRound15(v128.load(pS), keep), mulRound15(inner, c));
  v128.store(pS, r);
  v128.store(pN, r);
}
/** S' of 4 parameters, saturated; returns cnt minus the saturating lanes' masks (-1 each). */
@inline function fin4s(pS: usize, pN: usize, inner: v128, keep: v128, c: v128, cnt: v128): v128 {
  const p1 = mulRound15(v128.load(pS), keep);
  const p2 = mulRound15(inner, c);
  const r = i32x4.add(p1, p2);
  const ov = i32x4.shr_s(v128.and(v128.xor(r, p1), v128.xor(r, p2)), 31);
  const out = v128.bitselect(v128.xor(i32x4.shr_s(p1, 31), i32x4.splat(2147483647)), r, ov);
  v128.store(pS, out);
  v128.store(pN, out);
  return i32x4.sub(cnt, ov);
}

/**
 * S'[j, t0 .. t0 + len) = round((1 - a) S / 2^15) + round(a phi'_j inner / 2^15), saturated and counted ('sens'),
 * written to S (in place) and S_next, from the row's inner terms (int32, direct terms added) at pI. In i32 lanes
 * exactly as mul32x16RoundShift does it (runtime/fixed.ts): v b / 2^15 = 2 (v >> 16) b + (v & 0xffff) b / 2^15, where
 * (v & 0xffff) b + 2^14 < 2^31 for b <= 2^15, and each product's rounded value fits int32 (|b| <= 2^15), so its
 * wrapping i32 evaluation is exact; the sum of the two is saturated by the sign test of a wrapping add.
 */
function finalizeFast(j: i32, t0: i32, len: i32, pI: usize): void {
  const c = ld32(p_aphi, j);
  const keep = i32x4.splat(KEEP);
  const cv = i32x4.splat(c);
  let cnt = i32x4.splat(0);
  const pS = p_S + (<usize>(j * THETA + t0) << 2);
  const pN = p_S_next + (<usize>(j * THETA + t0) << 2);
  let u = 0;
  for (; u + 4 <= len; u += 4) {
    const o = <usize>u << 2;
    cnt = fin4s(pS + o, pN + o, v128.load(pI + o), keep, cv, cnt);
  }
  let n = i32x4.extract_lane(cnt, 0) + i32x4.extract_lane(cnt, 1) + i32x4.extract_lane(cnt, 2) + i32x4.extract_lane(cnt, 3);
  for (; u < len; u++) {
    const o = <usize>u << 2;
    const v = mul32x16(load<i32>(pS + o), KEEP, 15) + mul32x16(load<i32>(pI + o), c, 15);
    const sn = v > 2147483647 ? 2147483647 : v < -2147483648 ? -2147483648 : <i32>v;
    if (<i64>sn != v) n++;
    store<i32>(pS + o, sn);
    store<i32>(pN + o, sn);
  }
  if (n != 0) store<u32>(s_sens, load<u32>(s_sens) + <u32>n);
}

/**
 * One chunk on the three-piece path (advanceRtrlDot), any state: i64 sums per row at SUMS, finalizeRange, then the
 * chunk's new rows copied from S_next into S.
 */
function chunk3(t0: i32, t1: i32, CH: i32, KP: i32, XP: usize, SUMS: usize): void {
  const P = THETA;
  const chB = <usize>CH << 2;
  const XA = XP;
  const XB = XA + <usize>KP * chB;
  const XC = XB + <usize>KP * chB;
  const m11 = i32x4.splat(2047);
  const m16 = i32x4.splat(0xffff);
  for (let kp = 0; kp < KP; kp++) {
    const k0 = kp << 1;
    const p0 = p_S + (<usize>(k0 * P + t0) << 2);
    const odd = k0 + 1 < N;
    const p1 = p0 + (<usize>P << 2);
    const o = <usize>kp * chB;
    for (let u = 0; u < t1 - t0; u += 4) {
      const v0 = v128.load(p0 + (<usize>u << 2));
      const v1 = odd ? v128.load(p1 + (<usize>u << 2)) : i32x4.splat(0);
      const q = o + (<usize>u << 2);
      v128.store(XC + q, v128.or(v128.and(v0, m11), i32x4.shl(v128.and(v1, m11), 16)));
      v128.store(XB + q, v128.or(v128.and(i32x4.shr_u(v0, 11), m11), i32x4.shl(v128.and(i32x4.shr_u(v1, 11), m11), 16)));
      v128.store(XA + q, v128.or(v128.and(i32x4.shr_s(v0, 22), m16), i32x4.shl(i32x4.shr_s(v1, 22), 16)));
    }
  }
  pSUM = SUMS - (<usize>t0 << 3);
  for (let j = 0; j < N; j++) {
    const wrow = p_W_rec_q12 + (<usize>(j * N) << 1);
    // an odd N reads one i16 past the row as the partner of the padded zero k: its product is 0
    for (let u = 0; u < t1 - t0; u += 8) {
      let s0 = i64x2.splat(0);
      let s1 = i64x2.splat(0);
      let s2 = i64x2.splat(0);
      let s3 = i64x2.splat(0);
      for (let kb = 0; kb < KP; kb += 16) {
        const ke = min(kb + 16, KP);
        let a0 = i32x4.splat(0);
        let a1 = i32x4.splat(0);
        let b0 = i32x4.splat(0);
        let b1 = i32x4.splat(0);
        let c0 = i32x4.splat(0);
        let c1 = i32x4.splat(0);
        let q = <usize>kb * chB + (<usize>u << 2);
        for (let kp = kb; kp < ke; kp++) {
          const wp = i32x4.splat(load<i32>(wrow + (<usize>kp << 2)));
          a0 = i32x4.add(a0, i32x4.dot_i16x8_s(v128.load(XA + q), wp));
          a1 = i32x4.add(a1, i32x4.dot_i16x8_s(v128.load(XA + q + 16), wp));
          b0 = i32x4.add(b0, i32x4.dot_i16x8_s(v128.load(XB + q), wp));
          b1 = i32x4.add(b1, i32x4.dot_i16x8_s(v128.load(XB + q + 16), wp));
          c0 = i32x4.add(c0, i32x4.dot_i16x8_s(v128.load(XC + q), wp));
          c1 = i32x4.add(c1, i32x4.dot_i16x8_s(v128.load(XC + q + 16), wp));
          q += chB;
        }
        s0 = i64x2.add(s0, comb(i64x2.extend_low_i32x4_s(a0), i64x2.extend_low_i32x4_s(b0), i64x2.extend_low_i32x4_s(c0)));
        s1 = i64x2.add(s1, comb(i64x2.extend_high_i32x4_s(a0), i64x2.extend_high_i32x4_s(b0), i64x2.extend_high_i32x4_s(c0)));
        s2 = i64x2.add(s2, comb(i64x2.extend_low_i32x4_s(a1), i64x2.extend_low_i32x4_s(b1), i64x2.extend_low_i32x4_s(c1)));
        s3 = i64x2.add(s3, comb(i64x2.extend_high_i32x4_s(a1), i64x2.extend_high_i32x4_s(b1), i64x2.extend_high_i32x4_s(c1)));
      }
      const d = SUMS + (<usize>u << 3);
      v128.store(d, s0);
      v128.store(d + 16, s1);
      v128.store(d + 32, s2);
      v128.store(d + 48, s3);
    }
    finalizeRange(j, ld32(p_aphi, j), t0, t1);
  }
  for (let j = 0; j < N; j++) {
    const o = <usize>(j * P + t0) << 2;
    memory.copy(p_S + o, p_S_next + o, <usize>(t1 - t0) << 2);
  }
}
@inline function comb(a: v128, b: v128, c: v128): v128 {
  return i64x2.add(i64x2.add(i64x2.shl(a, 22), i64x2.shl(b, 11)), c);
}

/** Row j of S_next from its exact i64 sums at pSUM. */
function finalizeRow(j: i32): void {
  const P = THETA;
  const inBase = N * N;
  const bBase = N * N + N * M;
  const c = ld32(p_aphi, j);
  const rec0 = j * N;
  const in0 = inBase + j * M;
  finalizeVec(j, c, 0, rec0);
  finalizeScalar(j, c, rec0, rec0 + N);
  finalizeVec(j, c, rec0 + N, in0);
  finalizeScalar(j, c, in0, in0 + M);
  finalizeVec(j, c, in0 + M, bBase + j);
  finalizeScalar(j, c, bBase + j, bBase + j + 1);
  finalizeVec(j, c, bBase + j + 1, P);
}

/**
 * updateRtrl (runtime/learners/rtrl.ts), with the reference's f64 partial sums (they stay in the arena):
 * c_j = sat16(round(fb_j / 2^12)) once per unit, hi_t = sum_j c_j (S >> 16) and lo_t = sum_j c_j (S & 0xffff)
 * (sumsI32 when sum_j |c_j| < 2^16 bounds them inside int32, else sumsI64), then learnRange over the three blocks of
 * theta (W_rec with its Q3.12 copy, W_in, b).
 */
function updateRtrl(): void {
  const P = THETA;
  const nRec = N * N;
  const nIn = N * M;
  const pC = SCRATCH + (<usize>P << 3);
  let c1: i32 = 0;
  let cs: i32 = 0;
  for (let j = 0; j < N; j++) {
    const c = sat16c(<i64>rsr(ld32(p_fb, j), 12), s_feedback);
    store<i32>(pC + (<usize>j << 2), c);
    c1 += c < 0 ? -c : c;
    cs += c;
  }
  if (c1 < 65536) sumsI32(pC, cs);
  else sumsI64(pC);
  learnRange(p_W_rec, p_W_rec_q12, p_acc_W_rec, 0, nRec, s_W_rec);
  learnRange(p_W_in, 0, p_acc_W_in, nRec, nIn, s_W_in);
  learnRange(p_b, 0, p_acc_b, nRec + nIn, N, s_b);
}

/**
 * hi_t and lo_t in i32 lanes, 8 parameters at a time: with C = sum_j |c_j| < 2^16, |sum_j c_j (S >> 16)| and
 * |sum_j c_j ((S & 0xffff) - 2^15)| are at most C 2^15 < 2^31; lo_t = the latter + 2^15 sum_j c_j. Stored as f64
 * (exact integers, the reference's values).
 */
function sumsI32(pC: usize, cs: i32): void {
  const P = THETA;
  // (c_j, c_j+1) as i16 pairs, in the RTRL work area (free once the sensitivities are updated)
  const pCP = SCRATCH + ((<usize>(P << 3) + (<usize>N << 2) + 15) & ~15);
  for (let j = 0; j < N; j += 2) {
    const c1 = j + 1 < N ? load<i32>(pC + (<usize>(j + 1) << 2)) : 0;
    store<i32>(pCP + (<usize>j << 1), (load<i32>(pC + (<usize>j << 2)) & 0xffff) | (c1 << 16));
  }
  const off = f64x2.splat(<f64>cs * 32768);
  let t = 0;
  for (; t + 8 <= P; t += 8) {
    let h0 = i32x4.splat(0);
    let h1 = i32x4.splat(0);
    let l0 = i32x4.splat(0);
    let l1 = i32x4.splat(0);
    // rows in pairs: (S_j >> 16, S_j+1 >> 16) and the low halves minus 2^15 as i16 pairs against (c_j, c_j+1), one
    // i32x4.dot_i16x8_s each (c_j is int16; the lanes wrap, the totals fit as above); an odd N's last row pairs
    // with itself and a zero coefficient
    let p = p_S + (<usize>t << 2);
    for (let j = 0; j < N; j += 2) {
      const cp = load<i32>(pCP + (<usize>j << 1));
      if (cp != 0) {
        const cv = i32x4.splat(cp);
        const q = j + 1 < N ? p + (<usize>P << 2) : p;
        const v0 = v128.load(p);
        const v1 = v128.load(p + 16);
        const u0 = v128.load(q);
        const u1 = v128.load(q + 16);
        h0 = i32x4.add(h0, i32x4.dot_i16x8_s(v128.or(i32x4.shr_u(v0, 16), v128.and(u0, vr(R_HIM))), cv));
        h1 = i32x4.add(h1, i32x4.dot_i16x8_s(v128.or(i32x4.shr_u(v1, 16), v128.and(u1, vr(R_HIM))), cv));
        l0 = i32x4.add(l0, i32x4.dot_i16x8_s(v128.xor(v128.or(v128.and(v0, vr(R_M16)), i32x4.shl(u0, 16)), vr(R_X8000)), cv));
        l1 = i32x4.add(l1, i32x4.dot_i16x8_s(v128.xor(v128.or(v128.and(v1, vr(R_M16)), i32x4.shl(u1, 16)), vr(R_X8000)), cv));
      }
      p += <usize>P << 3;
    }
    const z = f64x2.splat(0);
    storeF64x4(p_sum_hi + (<usize>t << 3), h0, z);
    storeF64x4(p_sum_hi + (<usize>t << 3) + 32, h1, z);
    storeF64x4(p_sum_lo + (<usize>t << 3), l0, off);
    storeF64x4(p_sum_lo + (<usize>t << 3) + 32, l1, off);
  }
  for (; t < P; t++) sumsOne(pC, t);
}
/** Four i32 lanes + off as f64 at q. */
@inline function storeF64x4(q: usize, v: v128, off: v128): void {
  v128.store(q, f64x2.add(f64x2.convert_low_i32x4_s(v), off));
  v128.store(q + 16, f64x2.add(f64x2.convert_low_i32x4_s(i32x4.shuffle(v, v, 2, 3, 2, 3)), off));
}
/** hi_t and lo_t of one parameter, exact i64. */
function sumsOne(pC: usize, t: i32): void {
  let hs: i64 = 0;
  let ls: i64 = 0;
  for (let j = 0; j < N; j++) {
    const c = load<i32>(pC + (<usize>j << 2));
    const v = ld32(p_S, j * THETA + t);
    hs += <i64>(c * (v >> 16));
    ls += <i64>(c * (v & 0xffff));
  }
  store<f64>(p_sum_hi + (<usize>t << 3), <f64>hs);
  store<f64>(p_sum_lo + (<usize>t << 3), <f64>ls);
}
/** hi_t and lo_t for any c_j: exact i64 lanes, 4 parameters at a time. */
function sumsI64(pC: usize): void {
  const P = THETA;
  const mask = i32x4.splat(0xffff);
  let t = 0;
  for (; t + 4 <= P; t += 4) {
    let h0 = i64x2.splat(0);
    let h1 = i64x2.splat(0);
    let l0 = i64x2.splat(0);
    let l1 = i64x2.splat(0);
    for (let j = 0; j < N; j++) {
      const c = load<i32>(pC + (<usize>j << 2));
      if (c == 0) continue;
      const cv = i32x4.splat(c);
      const v = v128.load(p_S + (<usize>(j * P + t) << 2));
      const vh = i32x4.shr_s(v, 16);
      const vl = v128.and(v, mask);
      h0 = i64x2.add(h0, i64x2.extmul_low_i32x4_s(vh, cv));
      h1 = i64x2.add(h1, i64x2.extmul_high_i32x4_s(vh, cv));
      l0 = i64x2.add(l0, i64x2.extmul_low_i32x4_s(vl, cv));
      l1 = i64x2.add(l1, i64x2.extmul_high_i32x4_s(vl, cv));
    }
    const qh = p_sum_hi + (<usize>t << 3);
    const ql = p_sum_lo + (<usize>t << 3);
    store<f64>(qh, <f64>i64x2.extract_lane(h0, 0));
    store<f64>(qh + 8, <f64>i64x2.extract_lane(h0, 1));
    store<f64>(qh + 16, <f64>i64x2.extract_lane(h1, 0));
    store<f64>(qh + 24, <f64>i64x2.extract_lane(h1, 1));
    store<f64>(ql, <f64>i64x2.extract_lane(l0, 0));
    store<f64>(ql + 8, <f64>i64x2.extract_lane(l0, 1));
    store<f64>(ql + 16, <f64>i64x2.extract_lane(l1, 0));
    store<f64>(ql + 24, <f64>i64x2.extract_lane(l1, 1));
  }
  for (; t < P; t++) sumsOne(pC, t);
}

/**
 * The learning step of theta block [t0, t0 + len) (weights W, Q3.12 copy Wq or 0, accumulators acc) from hi_t, lo_t:
 * term = hi 2^14 + round(lo / 4) into acc (ACCUMULATE); in 'step' mode D = sat32(hi 2^4 + round(lo / 2^12)) ('grad'),
 * d = round(D m / 2^SH_RTRL) and applyStep. Four parameters at a time in f64x2 lanes, exact: every value is an
 * integer below 2^53 (D m < 2^46) and each rounding is floor(v 2^-s + 1/2) of an exact v; then W + delta saturated
 * ('W_rec'/'W_in'/'b'), and where delta != 0 the copy rewritten, sat16(round(W / 2^12)) ('weights_q12').
 */
/** 2^e as f64 for e in -1022..1023 (built from its exponent bits: exact). */
@inline function pow2(e: i32): f64 {
  return reinterpret<f64>(<u64>(1023 + e) << 52);
}
function learnRange(W: usize, Wq: usize, acc: usize, t0: i32, len: i32, satW: usize): void {
  const qh = p_sum_hi + (<usize>t0 << 3);
  const ql = p_sum_lo + (<usize>t0 << 3);
  const half = f64x2.splat(0.5);
  const fmin = f64x2.splat(-2147483648.0);
  const fmax = f64x2.splat(2147483647.0);
  const etaS = f64x2.splat(<f64>ETA_REC * pow2(-SH_RTRL));
  const appS = f64x2.splat(pow2(-SH_APPLY));
  const appM = f64x2.splat(pow2(APPLY_LOG2));
  const zero = f64x2.splat(0);
  let gcnt = i64x2.splat(0);
  let wcnt = i64x2.splat(0);
  let qcnt = i32x4.splat(0);
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const o = <usize>i << 3;
    const h0 = v128.load(qh + o);
    const h1 = v128.load(qh + o + 16);
    const l0 = v128.load(ql + o);
    const l1 = v128.load(ql + o + 16);
    if (ACCUMULATE) {
      const a = acc + o;
      v128.store(a, f64x2.add(v128.load(a), f64x2.add(f64x2.mul(h0, f64x2.splat(16384)), f64x2.floor(f64x2.add(f64x2.mul(l0, f64x2.splat(0.25)), half)))));
      v128.store(a + 16, f64x2.add(v128.load(a + 16), f64x2.add(f64x2.mul(h1, f64x2.splat(16384)), f64x2.floor(f64x2.add(f64x2.mul(l1, f64x2.splat(0.25)), half)))));
    }
    if (!STEP) continue;
    let d0 = f64x2.add(f64x2.mul(h0, f64x2.splat(16)), f64x2.floor(f64x2.add(f64x2.mul(l0, f64x2.splat(1.0 / 4096)), half)));
    let d1 = f64x2.add(f64x2.mul(h1, f64x2.splat(16)), f64x2.floor(f64x2.add(f64x2.mul(l1, f64x2.splat(1.0 / 4096)), half)));
    gcnt = i64x2.sub(i64x2.sub(gcnt, v128.or(f64x2.gt(d0, fmax), f64x2.lt(d0, fmin))), v128.or(f64x2.gt(d1, fmax), f64x2.lt(d1, fmin)));
    d0 = f64x2.pmin(f64x2.pmax(d0, fmin), fmax);
    d1 = f64x2.pmin(f64x2.pmax(d1, fmin), fmax);
    // d = round(D m / 2^SH_RTRL), delta = round(d / 2^SH_APPLY) 2^APPLY_LOG2
    const e0 = f64x2.mul(f64x2.floor(f64x2.add(f64x2.mul(f64x2.floor(f64x2.add(f64x2.mul(d0, etaS), half)), appS), half)), appM);
    const e1 = f64x2.mul(f64x2.floor(f64x2.add(f64x2.mul(f64x2.floor(f64x2.add(f64x2.mul(d1, etaS), half)), appS), half)), appM);
    const pw = W + (<usize>i << 2);
    const w = v128.load(pw);
    let n0 = f64x2.add(f64x2.convert_low_i32x4_s(w), e0);
    let n1 = f64x2.add(f64x2.convert_low_i32x4_s(i32x4.shuffle(w, w, 2, 3, 2, 3)), e1);
    wcnt = i64x2.sub(i64x2.sub(wcnt, v128.or(f64x2.gt(n0, fmax), f64x2.lt(n0, fmin))), v128.or(f64x2.gt(n1, fmax), f64x2.lt(n1, fmin)));
    n0 = f64x2.pmin(f64x2.pmax(n0, fmin), fmax);
    n1 = f64x2.pmin(f64x2.pmax(n1, fmin), fmax);
    const wn = i32x4.shuffle(i32x4.trunc_sat_f64x2_s_zero(n0), i32x4.trunc_sat_f64x2_s_zero(n1), 0, 1, 4, 5);
    v128.store(pw, wn);
    if (Wq != 0) {
      // lanes whose change is non-zero get the copy sat16(round(W / 2^12)), counted when it clips
      const nz = v128.not(i32x4.shuffle(f64x2.eq(e0, zero), f64x2.eq(e1, zero), 0, 2, 4, 6));
      const r = i32x4.add(i32x4.shr_s(wn, 12), v128.and(i32x4.shr_s(wn, 11), i32x4.splat(1)));
      qcnt = i32x4.sub(qcnt, v128.and(nz, v128.or(i32x4.gt_s(r, i32x4.splat(32767)), i32x4.lt_s(r, i32x4.splat(-32768)))));
      const pq = Wq + (<usize>i << 1);
      const q = v128.bitselect(i16x8.narrow_i32x4_s(r, r), v128.load64_zero(pq), i16x8.narrow_i32x4_s(nz, nz));
      store<i64>(pq, i64x2.extract_lane(q, 0));
    }
  }
  if (STEP) {
    const g = <u32>(i64x2.extract_lane(gcnt, 0) + i64x2.extract_lane(gcnt, 1));
    if (g != 0) store<u32>(s_grad, load<u32>(s_grad) + g);
    const wc = <u32>(i64x2.extract_lane(wcnt, 0) + i64x2.extract_lane(wcnt, 1));
    if (wc != 0) store<u32>(satW, load<u32>(satW) + wc);
    const qc = <u32>(i32x4.extract_lane(qcnt, 0) + i32x4.extract_lane(qcnt, 1) + i32x4.extract_lane(qcnt, 2) + i32x4.extract_lane(qcnt, 3));
    if (qc != 0) store<u32>(s_weights_q12, load<u32>(s_weights_q12) + qc);
  }
  for (; i < len; i++) {
    const hi = load<f64>(qh + (<usize>i << 3));
    const lo = load<f64>(ql + (<usize>i << 3));
    if (ACCUMULATE) {
      const a = acc + (<usize>i << 3);
      store<f64>(a, load<f64>(a) + (hi * 16384 + Math.floor(lo * 0.25 + 0.5)));
    }
    if (STEP) {
      const dq = <i64>(hi * 16 + Math.floor(lo * (1.0 / 4096) + 0.5));
      applyStep(W, Wq, i, mul32x16(sat32c(dq, s_grad), ETA_REC, SH_RTRL), satW);
    }
  }
}

let STEP_LEARN: bool = false;

/** One step of FixedLearner.core(learn): forward, traces/sensitivities, and with a target the learning update. */
export function step(learn: i32): void {
  STEP_LEARN = learn != 0;
  forward();
  if (learn && (KIND == KIND_RFLO || KIND == KIND_SNAP1)) {
    // One pass over the rows: traces and recurrent update fused (learnTraces), after the error and its feedback.
    store<f64>(p_steps, load<f64>(p_steps) + 1);
    errorQ();
    feedback();
    learnTraces(KIND == KIND_SNAP1);
    updateOutput();
    return;
  }
  if (KIND == KIND_RFLO) advanceTraces(false);
  else if (KIND == KIND_SNAP1) advanceTraces(true);
  else if (KIND == KIND_RTRL) advanceRtrl();
  store<f64>(p_steps, load<f64>(p_steps) + 1);
  if (!learn) return;
  errorQ();
  if (KIND == KIND_RTRL) {
    feedback();
    updateRtrl();
  }
  updateOutput();
}
