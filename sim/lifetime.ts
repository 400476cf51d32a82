/**
 * What a command opened, in one place. A command registers each thing (a board process, a serial port, a sensor
 * connection, an emulator) the moment it has it, and `withResources` closes all of them, last opened first, however
 * the command ends: normally, by an error (bad input found after something was opened) or by Ctrl-C. Each close gets
 * a bounded time, so one stuck close cannot keep the command from exiting; a close that fails or times out is
 * reported on stderr and the others still run.
 */

export interface Closer {
  name: string;
  close: () => unknown;
}

/** Milliseconds one close may take before it is given up on (and reported). */
export const CLOSE_TIMEOUT_MS = 5000;

export class Resources {
  private readonly items: Closer[] = [];
  private closed = false;

  /** Registers `close` for `name`; returns `value` so an open can be wrapped: `res.own('port', await open(), (p) => p.close())`. */
  own<T>(name: string, value: T, close: (v: T) => unknown): T {
    this.add(name, () => close(value));
    return value;
  }

  add(name: string, close: () => unknown): void {
    if (this.closed) throw new Error(`${name} was opened after the command's resources were closed`);
    this.items.push({ name, close });
  }

  /** Names still held (for messages). */
  get names(): string[] {
    return this.items.map((c) => c.name);
  }

  /** Closes everything, last opened first. Returns the names whose close failed or timed out. */
  async closeAll(onProblem: (msg: string) => void = (m) => process.stderr.write(m + '\n'), timeoutMs = CLOSE_TIMEOUT_MS): Promise<string[]> {
    this.closed = true;
    const failed: string[] = [];
    while (this.items.length > 0) {
      const c = this.items.pop() as Closer;
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        Promise.resolve()
          .then(() => c.close())
          .then(
            () => 'ok' as const,
            (err: unknown) => (err instanceof Error ? err.message : String(err)),
          ),
        new Promise<'timeout'>((r) => {
          timer = setTimeout(() => r('timeout'), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (outcome === 'ok') continue;
      failed.push(c.name);
      onProblem(outcome === 'timeout' ? `neurostream: closing ${c.name} took over ${timeoutMs} ms; left behind` : `neurostream: closing ${c.name} failed: ${outcome}`);
    }
    return failed;
  }
}

/** Runs `fn` with a fresh Resources and closes them whatever happens; fn's error (if any) wins over close problems. */
export async function withResources<T>(fn: (res: Resources) => Promise<T>): Promise<T> {
  const res = new Resources();
  try {
    return await fn(res);
  } finally {
    await res.closeAll();
  }
}
