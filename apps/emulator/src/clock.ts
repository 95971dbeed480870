// The emulator's notion of "now". Everything time-dependent (token expiry, timestamps, retention, simulated job
// durations) reads this clock instead of Date.now(), so tests can advance it or speed it up.
export interface Clock {
  /** Milliseconds since the Unix epoch, as the emulator sees it. */
  now(): number;
}

/** A clock's reading at one real instant, and its speed: enough to tell its reading at any later instant. */
export interface ClockState {
  /** Real time (Date.now()) of the reading. */
  real: number;
  /** The clock's reading then. */
  virtual: number;
  speed: number;
}

/** Where a clock keeps its state across restarts. */
export interface ClockStore {
  load(): ClockState | undefined;
  save(state: ClockState): void;
}

/**
 * A clock that follows real time, optionally shifted forward and running faster or slower. The emulator's clock
 * keeps its state in the database (`new VirtualClock(clockStoreIn(db))`, see db/clock-store.ts).
 *
 * With a store, every change (advance, speed) is saved, and a new clock on the same store continues from it as
 * though it had run all along: its reading is the saved reading plus the real time elapsed since, times the
 * saved speed. So a restart neither loses an advance nor makes the clock go back, and a sped-up clock keeps its
 * pace (downtime included). A real clock set back while stopped counts as no time elapsed.
 */
export class VirtualClock implements Clock {
  private anchorReal = Date.now();
  private anchorVirtual = this.anchorReal;
  private speedFactor = 1;
  private loaded: boolean;

  constructor(private readonly store?: ClockStore) {
    this.loaded = store === undefined;
  }

  now(): number {
    if (!this.loaded) this.load();
    return Math.floor(this.anchorVirtual + (Date.now() - this.anchorReal) * this.speedFactor);
  }

  get speed(): number {
    if (!this.loaded) this.load();
    return this.speedFactor;
  }

  /** Jumps forward; the clock never goes backwards, so issued timestamps stay ordered. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("the clock only moves forward");
    this.rebase();
    this.anchorVirtual += ms;
    this.save();
  }

  setSpeed(factor: number): void {
    if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError("speed must be a positive number");
    this.rebase();
    this.speedFactor = factor;
    this.save();
  }

  private rebase(): void {
    const virtual = this.now();
    this.anchorReal = Date.now();
    this.anchorVirtual = virtual;
  }

  private save(): void {
    this.store?.save({ real: this.anchorReal, virtual: this.anchorVirtual, speed: this.speedFactor });
  }

  /**
   * Read on first use rather than in the constructor: an emulator started with --import replaces the database's
   * rows (the saved clock included) after it built its clock and before anything reads the time.
   */
  private load(): void {
    this.loaded = true;
    const state = this.store?.load();
    if (!state) return;
    const real = Date.now();
    this.anchorReal = real;
    this.anchorVirtual = Math.floor(state.virtual + Math.max(0, real - state.real) * state.speed);
    this.speedFactor = state.speed;
  }
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
