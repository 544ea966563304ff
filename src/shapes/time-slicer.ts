// Cuts long synchronous work (routing and appending a large transaction) into slices that yield to the event loop.

/** Default slice length: HTTP requests wait at most about this long behind a large transaction. */
export const DEFAULT_SLICE_MS = 10;

export interface SliceStats {
  /** Slices run (a transaction processed without yielding is one slice). */
  slices: number;
  /** Times processing gave way to the event loop. */
  yields: number;
  /** Longest slice so far, in ms (wall time, so a descheduled process or a GC pause inside it counts). */
  longestSliceMs: number;
  /**
   * Most CPU time the process used during one slice, in ms: unlike wall time it does not grow when a loaded
   * machine deschedules the process (GC helper threads count, so it can exceed the slice's wall time).
   */
  longestSliceCpuMs: number;
}

/**
 * The caller does a bounded piece of work, asks `due()`, and awaits `pause()` when it is: a `setImmediate` lets
 * timers, sockets and HTTP requests run before the next slice. Slices are cut by time, not by a row count, so one
 * slow row or a slow disk shortens the slice instead of stretching it. `sliceMs` Infinity never yields (the old,
 * synchronous behaviour; kept for comparison in bench/event-loop.ts).
 */
export class TimeSlicer {
  private sliceStart = 0;
  private cpuStart = 0;
  private busy = 0;

  constructor(
    readonly sliceMs: number,
    readonly stats: SliceStats = { slices: 0, yields: 0, longestSliceMs: 0, longestSliceCpuMs: 0 },
  ) {
    if (!(sliceMs > 0)) throw new RangeError(`slice length must be a positive number of ms, got ${String(sliceMs)}`);
  }

  /** Starts a slice (a transaction's first, or the first after waiting on something else). */
  begin(): void {
    this.sliceStart = performance.now();
    this.cpuStart = cpuMs();
    this.stats.slices++;
  }

  /** True when the current slice has used its time. */
  due(): boolean {
    return this.sliceMs !== Infinity && performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Ends the slice, lets the event loop run, and starts the next slice. */
  async pause(): Promise<void> {
    this.end();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.stats.yields++;
    this.begin();
  }

  /** Waits for a promise (a sharded router's answer) outside any slice: the event loop runs meanwhile. */
  async wait<T>(p: Promise<T>): Promise<T> {
    this.end();
    try {
      return await p;
    } finally {
      this.begin();
    }
  }

  /** Ends the current slice. */
  end(): void {
    const d = performance.now() - this.sliceStart;
    const cpu = cpuMs() - this.cpuStart;
    this.busy += d;
    if (d > this.stats.longestSliceMs) this.stats.longestSliceMs = d;
    if (cpu > this.stats.longestSliceCpuMs) this.stats.longestSliceCpuMs = cpu;
  }

  /** Busy time (ms) accumulated by ended slices since the previous call. */
  takeBusyMs(): number {
    const b = this.busy;
    this.busy = 0;
    return b;
  }
}

/** CPU time of the process (user + system), in ms; read only at slice boundaries (one getrusage each). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
