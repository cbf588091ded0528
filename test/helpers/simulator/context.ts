/** What the route handlers share: the parsed request, the answer, and the simulator state they read. */
import type { IncomingHttpHeaders } from "node:http";
import { DateTime } from "luxon";
import { z } from "zod";
import type { V2Context } from "./enedis-v2.js";

/** Access path of a request, as counted by the simulator. */
export type Route = "conso" | "med" | "med-legacy" | "direct" | "oauth" | "unknown";

export interface SimRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Reply {
  status: number;
  /** A string is sent verbatim as text/plain; anything else as JSON. */
  body: unknown;
  headers?: Record<string, string>;
}

export interface SimState {
  v2: V2Context;
  token: string;
  now: () => number;
  consoApi: "v2" | "v5";
  med: { errorStatus: "200" | "http"; minimal: boolean; startStamps: "instant" | "naive" };
  direct: { clientId: string; clientSecret: string; tokens: Map<string, number>; tokenLifetimeS: number };
  /** Retry-After seconds when this data request is over the simulated quota, else null. */
  overQuota(): number | null;
}

const DATE_RE = /^20[0-9]{2}-[0-9]{2}-[0-9]{2}$/;
/** "YYYY-MM-DD" and a real calendar day. */
export const dateParam = z
  .string()
  .regex(DATE_RE)
  .refine((s) => DateTime.fromISO(s, { zone: "UTC" }).isValid, { message: "Invalid date" });

/** The second word of the Authorization header, whatever the scheme (Conso API's parsing). */
export const bearer = (req: SimRequest): string | undefined => req.headers.authorization?.split(" ")[1];
