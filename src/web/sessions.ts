/**
 * Browser sessions, in memory: a random 256-bit id (node:crypto) in an `HttpOnly`,
 * `SameSite=Strict` cookie, a sliding expiry, and a bounded count (the least recently used is
 * dropped first). A restart forgets every session: the user logs in again (standalone) or just
 * gets a new one (add-on). `request.sessionId` is what flows bind OAuth `state` to.
 */
import { randomBytes } from "node:crypto";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * Opaque id of the browser's session (cookie-bound, set on every request by the web module);
     * OAuth `state` is bound to it. Never log it.
     */
    sessionId: string;
  }
}

/** Name of the session cookie. */
export const SESSION_COOKIE = "eb_session";

/** One browser session. Instants are epoch ms. */
export interface Session {
  readonly id: string;
  /** Standalone: logged in with the secret. Add-on mode: always false (ingress authenticates). */
  authenticated: boolean;
  expiresAt: number;
}

/** Options of {@link SessionStore}. */
export interface SessionStoreOptions {
  /** Idle lifetime, ms; each use extends it. */
  ttlMs: number;
  /** Most sessions kept; the least recently used goes first. */
  max: number;
  now: () => number;
}

const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** See the file comment. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly opts: SessionStoreOptions) {}

  /** The live session with this id (its expiry extended), or undefined (unknown, malformed or expired). */
  get(id: string | undefined): Session | undefined {
    if (!id || !ID_SHAPE.test(id)) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.opts.now();
    this.sessions.delete(id);
    if (s.expiresAt <= now) return undefined;
    s.expiresAt = now + this.opts.ttlMs;
    this.sessions.set(id, s); // most recently used last
    return s;
  }

  /** A new session with a fresh random id. */
  create(authenticated = false): Session {
    const now = this.opts.now();
    if (this.sessions.size >= this.opts.max) {
      for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
      for (const id of this.sessions.keys()) {
        if (this.sessions.size < this.opts.max) break;
        this.sessions.delete(id);
      }
    }
    const s: Session = { id: randomBytes(32).toString("base64url"), authenticated, expiresAt: now + this.opts.ttlMs };
    this.sessions.set(s.id, s);
    return s;
  }

  /** Forgets a session (logout, or replaced at login against session fixation). */
  destroy(id: string): void {
    this.sessions.delete(id);
  }

  /** Sessions held (expired ones included until swept). */
  get size(): number {
    return this.sessions.size;
  }
}
