// The emulator's notion of "now". Everything time-dependent (token expiry, timestamps, retention, simulated job
// durations) reads this clock instead of Date.now(), so tests can advance it or speed it up.
export interface Clock {
  /** Milliseconds since the Unix epoch, as the emulator sees it. */
  now(): number;
}

/** A clock that follows real time, optionally shifted forward and running faster or slower. */
export class VirtualClock implements Clock {
  private anchorReal = Date.now();
  private anchorVirtual = this.anchorReal;
  private speedFactor = 1;

  now(): number {
    return Math.floor(this.anchorVirtual + (Date.now() - this.anchorReal) * this.speedFactor);
  }

  get speed(): number {
    return this.speedFactor;
  }

  /** Jumps forward; the clock never goes backwards, so issued timestamps stay ordered. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError("the clock only moves forward");
    this.rebase();
    this.anchorVirtual += ms;
  }

  setSpeed(factor: number): void {
    if (!(factor > 0) || !Number.isFinite(factor)) throw new RangeError("speed must be a positive number");
    this.rebase();
    this.speedFactor = factor;
  }

  private rebase(): void {
    const virtual = this.now();
    this.anchorReal = Date.now();
    this.anchorVirtual = virtual;
  }
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
