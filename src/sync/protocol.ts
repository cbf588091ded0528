/**
 * The entity-mirror wire protocol, shared by the server (`server/`) and the client (`client/`).
 * One JSON object per WebSocket text frame (permessage-deflate on); every frame is validated with
 * zod on receipt, and anything unknown or malformed is answered with an `error` frame — never a
 * crash, never a silent drop.
 *
 * Order of a session (client C, server S):
 * ```
 * C → S {"type":"auth","token":"<JWT>","instance_id":"<C's instance id>","protocol":1}
 * S → C {"type":"auth_ok","server_id":…,"server_name":…,"client_id":…,"temperature_unit":"C"}
 *   or  {"type":"auth_invalid","reason":"revoked"|"expired"|"invalid"|"loop","message":…} then close
 * S → C {"type":"snapshot","part":0,"last":false,"entities":[EntityState…]}   (each < chunk limit)
 * S → C {"type":"snapshot","part":1,"last":true,"entities":[…]}
 * S → C {"type":"diff","changed":[EntityState…],"removed":["light.x"]}          (as states change)
 * either side {"type":"ping","id":n} → {"type":"pong","id":n}                    (heartbeat)
 * C → S {"type":"call_service","id":"<correlation id>","domain":"light","service":"turn_on",
 *        "entity_id":"light.kitchen","data":{"brightness":128}}
 * S → C {"type":"call_result","id":"<same id>","success":true}  or success:false + error
 * S → C {"type":"error","code":"bad_message"|"unauthorized"|…,"message":…,"ref":…}
 * ```
 * Every state carries `origin` (the instance id of the Home Assistant the entity really lives in)
 * and `path` (every instance it went through, origin first), so a client can refuse its own
 * entities coming back, also through a chain of instances.
 */
import { z } from "zod";

/** Version of this protocol; sent in `auth`. */
export const PROTOCOL_VERSION = 1;

/** Largest frame either side accepts, in bytes (1 MiB; a snapshot is chunked far below it). */
export const MAX_FRAME_BYTES = 1024 * 1024;

/** Default size bound of one snapshot chunk (serialised JSON, bytes). */
export const DEFAULT_SNAPSHOT_CHUNK_BYTES = 128 * 1024;

const entityId = z.string().regex(/^[a-z_]+\.[a-z0-9_]+$/, "must be an entity id such as light.kitchen");
const instanceId = z.string().min(8).max(64);

/** One mirrored state: HA's state object plus where it came from. Instants are ISO 8601 strings. */
export const entityStateSchema = z
  .object({
    entity_id: entityId,
    state: z.string().max(255),
    attributes: z.record(z.unknown()),
    last_changed: z.string().max(40).optional(),
    last_updated: z.string().max(40).optional(),
    /** Instance id of the HA the entity lives in. */
    origin: instanceId,
    /** Instances the state went through, origin first (at most a few hops). */
    path: z.array(instanceId).min(1).max(16),
    /** Area name of the entity on its server, when known. */
    area: z.string().max(100).nullable().optional(),
  })
  .strict();
export type EntityState = z.infer<typeof entityStateSchema>;

const errorBody = z.object({ code: z.string().max(64), message: z.string().max(2000) }).strict();

/** Frames a client sends. */
export const clientMessageSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("auth"), token: z.string().min(10).max(8192), instance_id: instanceId, protocol: z.number().int() }).strict(),
  z.object({ type: z.literal("ping"), id: z.number().int() }).strict(),
  z.object({ type: z.literal("pong"), id: z.number().int() }).strict(),
  z
    .object({
      type: z.literal("call_service"),
      /** Correlation id chosen by the client; the server runs each id at most once. */
      id: z.string().min(8).max(100),
      domain: z.string().regex(/^[a-z_]+$/),
      service: z.string().regex(/^[a-z_]+$/),
      entity_id: entityId,
      data: z.record(z.unknown()).default({}),
    })
    .strict(),
]);
export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type CallServiceMessage = Extract<ClientMessage, { type: "call_service" }>;

/** Why the server refused a session. */
export const AUTH_INVALID_REASONS = ["invalid", "expired", "revoked", "loop"] as const;

/** Frames a server sends. */
export const serverMessageSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("auth_ok"),
      server_id: instanceId,
      server_name: z.string().max(200),
      client_id: z.string().max(100),
      temperature_unit: z.enum(["C", "F"]).default("C"),
    })
    .strict(),
  z.object({ type: z.literal("auth_invalid"), reason: z.enum(AUTH_INVALID_REASONS), message: z.string().max(500) }).strict(),
  z
    .object({ type: z.literal("snapshot"), part: z.number().int().min(0), last: z.boolean(), entities: z.array(entityStateSchema) })
    .strict(),
  z.object({ type: z.literal("diff"), changed: z.array(entityStateSchema), removed: z.array(entityId) }).strict(),
  z.object({ type: z.literal("ping"), id: z.number().int() }).strict(),
  z.object({ type: z.literal("pong"), id: z.number().int() }).strict(),
  z.object({ type: z.literal("call_result"), id: z.string().max(100), success: z.boolean(), error: errorBody.optional() }).strict(),
  z.object({ type: z.literal("error"), code: z.string().max(64), message: z.string().max(2000), ref: z.string().max(100).optional() }).strict(),
]);
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Result of {@link decodeFrame}: the typed message, or the error frame to answer with. */
export type Decoded<T> = { ok: true; message: T } | { ok: false; code: "bad_message" | "too_big"; message: string };

/**
 * Parses and validates one frame (text or binary, UTF-8 JSON) against `schema`.
 * Never throws: oversized, non-JSON or schema-violating input gives `{ok:false}` with a short,
 * secret-free description (the first zod issue's path and message).
 */
export function decodeFrame<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, data: unknown, maxBytes = MAX_FRAME_BYTES): Decoded<T> {
  let text: string;
  if (typeof data === "string") text = data;
  else if (Buffer.isBuffer(data)) text = data.toString("utf8");
  else if (Array.isArray(data) && data.every((d) => Buffer.isBuffer(d))) text = Buffer.concat(data as Buffer[]).toString("utf8");
  else if (data instanceof ArrayBuffer) text = Buffer.from(data).toString("utf8");
  else return { ok: false, code: "bad_message", message: "frame is not text" };
  if (text.length > maxBytes) return { ok: false, code: "too_big", message: `frame larger than ${maxBytes} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, code: "bad_message", message: "frame is not JSON" };
  }
  const r = schema.safeParse(raw);
  if (r.success) return { ok: true, message: r.data };
  const issue = r.error.issues[0];
  const where = issue?.path.length ? issue.path.join(".") : "(frame)";
  return { ok: false, code: "bad_message", message: `invalid frame at ${where}: ${issue?.message ?? "rejected"}`.slice(0, 300) };
}

/** Serialises a frame (the counterpart of {@link decodeFrame}). */
export function encodeFrame(message: ServerMessage | ClientMessage): string {
  return JSON.stringify(message);
}

/**
 * Splits states into snapshot frames whose serialised size stays under `maxBytes` (a single
 * state larger than the bound gets a frame of its own). Always yields at least one frame
 * (an empty `last` snapshot when there is nothing to share).
 */
export function snapshotFrames(states: readonly EntityState[], maxBytes = DEFAULT_SNAPSHOT_CHUNK_BYTES): Extract<ServerMessage, { type: "snapshot" }>[] {
  const frames: Extract<ServerMessage, { type: "snapshot" }>[] = [];
  let current: EntityState[] = [];
  let size = 64;
  for (const s of states) {
    const n = Buffer.byteLength(JSON.stringify(s)) + 1;
    if (current.length > 0 && size + n > maxBytes) {
      frames.push({ type: "snapshot", part: frames.length, last: false, entities: current });
      current = [];
      size = 64;
    }
    current.push(s);
    size += n;
  }
  frames.push({ type: "snapshot", part: frames.length, last: true, entities: current });
  return frames;
}

/** The sync HTTP API prefix (kept from seed 002, `home_assistant_sync`). */
export const API_PREFIX = "/api/home_assistant_sync";

/** Body of `POST register_client`: exactly one of `pairing_code` or `registration_secret`. */
export const registerBodySchema = z
  .object({
    name: z.string().min(1).max(100),
    instance_id: instanceId,
    pairing_code: z.string().min(4).max(64).optional(),
    registration_secret: z.string().min(1).max(512).optional(),
  })
  .strict()
  .refine((b) => (b.pairing_code === undefined) !== (b.registration_secret === undefined), {
    message: "give either pairing_code or registration_secret",
  });

/** Answer of `POST register_client` (and of `POST rotate_token`). */
export const registerResultSchema = z.object({
  client_id: z.string(),
  token: z.string(),
  /** Epoch seconds. */
  expires_at: z.number(),
  server_id: instanceId,
  server_name: z.string(),
});
export type RegisterResult = z.infer<typeof registerResultSchema>;

/** Body of `POST call_service` over HTTP (same fields as the WS frame, `correlation_id` = `id`). */
export const httpCallBodySchema = z
  .object({
    correlation_id: z.string().min(8).max(100),
    domain: z.string().regex(/^[a-z_]+$/),
    service: z.string().regex(/^[a-z_]+$/),
    entity_id: entityId,
    data: z.record(z.unknown()).default({}),
  })
  .strict();
