/**
 * The request decoration the web module adds to every request (src/web/security.ts
 * `sessionHook`): `request.sessionId`, the opaque browser session id that OAuth `state` is bound
 * to. Declared here too (same type) so the accounts plugin type-checks without importing the web
 * module.
 */
import "fastify";

declare module "fastify" {
  interface FastifyRequest {
    sessionId: string;
  }
}
