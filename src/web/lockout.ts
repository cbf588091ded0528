/**
 * Brute-force protection of the standalone login (seed 003 "Blocage après 5 échecs"): after
 * `maxFailures` failed logins from one address, that address is locked for `lockMs` (default 5
 * failures, 15 minutes), whatever it sends. Failures older than `lockMs` are forgotten; a success
 * clears the count. Keyed by the socket address (not X-Forwarded-For, which a client can forge).
 */

/** Addresses remembered at most (memory bound under a spread attack); locked ones are kept. */
const MAX_ENTRIES = 10_000;

/** Options of {@link LoginLockout}. */
export interface LockoutOptions {
  maxFailures: number;
  lockMs: number;
  now: () => number;
}

interface Entry {
  failures: number;
  firstFailureAt: number;
  lockedUntil: number;
}

/** See the file comment. */
export class LoginLockout {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: LockoutOptions) {}

  /** Ms the address stays locked (0 = not locked). */
  lockedFor(address: string): number {
    const e = this.entries.get(address);
    if (!e) return 0;
    const left = e.lockedUntil - this.opts.now();
    return left > 0 ? left : 0;
  }

  /** Records a failed login; returns the ms locked from now (0 = not yet locked) and the tries left. */
  fail(address: string): { lockedForMs: number; triesLeft: number } {
    const now = this.opts.now();
    this.sweep(now);
    let e = this.entries.get(address);
    if (!e || (e.lockedUntil <= now && now - e.firstFailureAt > this.opts.lockMs) || (e.lockedUntil > 0 && e.lockedUntil <= now)) {
      e = { failures: 0, firstFailureAt: now, lockedUntil: 0 };
      this.entries.set(address, e);
    }
    e.failures += 1;
    if (e.failures >= this.opts.maxFailures) e.lockedUntil = now + this.opts.lockMs;
    return { lockedForMs: this.lockedFor(address), triesLeft: Math.max(0, this.opts.maxFailures - e.failures) };
  }

  /** A successful login: the address's failures are forgotten. */
  succeed(address: string): void {
    this.entries.delete(address);
  }

  /** Forgets stale entries past 1000 addresses; past MAX_ENTRIES the oldest unlocked ones go first. */
  private sweep(now: number): void {
    if (this.entries.size < 1000) return;
    for (const [a, e] of this.entries) if (e.lockedUntil <= now && now - e.firstFailureAt > this.opts.lockMs) this.entries.delete(a);
    for (const [a, e] of this.entries) {
      if (this.entries.size < MAX_ENTRIES) break;
      if (e.lockedUntil <= now) this.entries.delete(a);
    }
  }
}
