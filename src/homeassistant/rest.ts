/**
 * Minimal Home Assistant REST client for what the WebSocket API cannot do: writing states.
 * `apiUrl` is `http://supervisor/core/api` under the Supervisor, `<HA_URL>/api` standalone.
 * Source: developers.home-assistant docs/api/rest.md, core api/__init__.py.
 */
export interface HaRest {
  apiUrl: string;
  token: string;
}

/** An error answered by Home Assistant's REST API. */
export class HaRestError extends Error {
  override readonly name = "HaRestError";
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

async function post(rest: HaRest, path: string, body: unknown): Promise<unknown> {
  const url = `${rest.apiUrl.replace(/\/$/, "")}${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: { Authorization: `Bearer ${rest.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new HaRestError(`cannot reach Home Assistant at ${url}: ${(err as Error).message}`, 0);
  }
  if (res.status === 401) throw new HaRestError(`Home Assistant rejected the access token (HTTP 401 on ${path})`, 401);
  if (!res.ok) throw new HaRestError(`Home Assistant answered HTTP ${res.status} on ${path}: ${await res.text()}`, res.status);
  return res.json();
}

/**
 * Sets the state of `entityId` (`POST /api/states/<entity_id>`; 201 created, 200 updated).
 * Such states have no registry entry and vanish when HA restarts: re-post after every reconnect.
 */
export async function setState(
  rest: HaRest,
  entityId: string,
  state: string,
  attributes: Record<string, unknown>,
): Promise<void> {
  await post(rest, `/states/${entityId}`, { state, attributes });
}

/** Fires `eventType` on HA's event bus with `data` (`POST /api/events/<event_type>`). */
export async function fireEvent(rest: HaRest, eventType: string, data: Record<string, unknown>): Promise<void> {
  await post(rest, `/events/${eventType}`, data);
}
