/**
 * The device-flow routes of the accounts API with a scripted flow (the real Tado flow against a
 * real OAuth server is in the web e2e test): poll and cancel are bound to the browser session that
 * began the flow, a finished flow is forgotten, unknown ids are 404 JSON errors.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import type { AccountFlow, DevicePoll } from "../../../src/auth/flow.js";
import { FlowError } from "../../../src/auth/flow.js";
import { accountsKit, type AccountsKit } from "./kit.js";

let kit: AccountsKit;
const polls: DevicePoll[] = [];
const cancelled: string[] = [];

beforeEach(async () => {
  polls.length = 0;
  cancelled.length = 0;
  kit = await accountsKit({
    module: {
      flows: () => [
        {
          provider: "tado",
          async begin(input) {
            if (input.fail) throw new FlowError("access_denied", "You refused.");
            return { kind: "device", flowId: `flow-${Math.random()}`, userCode: "ABCD-EFGH", verificationUri: "https://login.example/device", expiresAt: Date.now() + 300_000, interval: 5 };
          },
          async poll() {
            return polls.shift() ?? { status: "pending", interval: 5 };
          },
          cancel(flowId) {
            cancelled.push(flowId);
          },
          async disconnect() {},
        } satisfies AccountFlow,
      ],
    },
  });
});
afterEach(() => kit.close());

const begin = async (session: string) =>
  (await kit.api("POST", "/api/accounts/connect", { session, body: { provider: "tado", input: {}, callbackUrl: "http://127.0.0.1:8099/callback/tado" } })).json<{ kind: string; flowId: string }>();

it("poll is bound to the session that began the flow; a finished flow is forgotten", async () => {
  const { kind, flowId } = await begin("alice");
  expect(kind).toBe("device");
  const other = await kit.api("POST", `/api/accounts/device/${flowId}/poll`, { session: "mallory" });
  expect(other.statusCode).toBe(404);
  expect(other.json()).toMatchObject({ error: "unknown_flow" });
  expect((await kit.api("POST", `/api/accounts/device/${flowId}/poll`, { session: "alice" })).json()).toEqual({ status: "pending", interval: 5 });
  polls.push({ status: "denied", message: "You refused on tado's page." });
  expect((await kit.api("POST", `/api/accounts/device/${flowId}/poll`, { session: "alice" })).json()).toEqual({ status: "denied", message: "You refused on tado's page." });
  expect((await kit.api("POST", `/api/accounts/device/${flowId}/poll`, { session: "alice" })).statusCode).toBe(404);
});

it("cancel reaches the flow only from the right session", async () => {
  const { flowId } = await begin("alice");
  expect((await kit.api("POST", `/api/accounts/device/${flowId}/cancel`, { session: "mallory" })).statusCode).toBe(404);
  expect(cancelled).toEqual([]);
  expect((await kit.api("POST", `/api/accounts/device/${flowId}/cancel`, { session: "alice" })).json()).toEqual({ ok: true });
  expect(cancelled).toEqual([flowId]);
  expect((await kit.api("POST", `/api/accounts/device/${flowId}/poll`, { session: "alice" })).statusCode).toBe(404);
});

it("a FlowError from begin is a 400 with its code and plain message", async () => {
  const res = await kit.api("POST", "/api/accounts/connect", { session: "alice", body: { provider: "tado", input: { fail: "1" }, callbackUrl: "http://127.0.0.1:8099/callback/tado" } });
  expect(res.statusCode).toBe(400);
  expect(res.json()).toEqual({ error: "access_denied", message: "You refused." });
});
