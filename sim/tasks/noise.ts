/**
 * Gaussian noise into a buffer, the same numbers as runtime/rng.ts's rngNormal (xorshift128 + Box-Muller, one
 * normal per two uint32 draws), written out in one leaf function: no call returns a double or a large uint32, so
 * nothing is boxed whether or not the JIT inlines it into its caller. Hot loops (state noise, sensor noise) use it.
 */

/** out[i] = sigma * N(0, 1) for i in [from, to), advancing the caller's xorshift128 state s. Allocates nothing. */
export function fillNormal(out: Float64Array, from: number, to: number, sigma: number, s: Uint32Array): void {
  for (let i = from; i < to; i++) {
    // Two xorshift128 steps (Marsaglia 2003), exactly as rngNextU32.
    let t = s[3];
    let x = s[0];
    s[3] = s[2];
    s[2] = s[1];
    s[1] = x;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = (t ^ x ^ (x >>> 19)) >>> 0;
    const a = s[0];
    t = s[3];
    x = s[0];
    s[3] = s[2];
    s[2] = s[1];
    s[1] = x;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = (t ^ x ^ (x >>> 19)) >>> 0;
    const b = s[0];
    // Box-Muller, exactly as rngNormal: u1 in (0, 1), u2 in [0, 1).
    const u1 = (a + 1) / 4294967297;
    const u2 = b / 4294967296;
    out[i] = sigma * (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
  }
}
