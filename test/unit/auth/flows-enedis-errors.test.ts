/** Enedis consent page errors → stable codes and plain sentences (seed 003 troubleshooting, providers.md §1.2). */
import { describe, expect, it } from "vitest";
import { consentErrorMessage } from "../../../src/auth/flows/enedis-consent.js";

describe("Enedis consent errors in plain words", () => {
  it.each([
    ["access_denied", "L'utilisateur a refusé le partage", "access_denied", /declined/],
    ["access_denied", "Les données de ce point sont déjà partagées avec ce service", "already_shared", /partage-donnees-tiers/],
    ["access_denied", "PRM already shared with this application", "already_shared", /Delete the old share/],
    ["invalid_request", "Enedis token expired, please renew consent", "consent_expired", /expired/],
    ["access_denied", "Access denied - consent may have been revoked", "consent_revoked", /withdrawn/],
    ["invalid_request", "maximum_duration_exceeded", "invalid_request", /consent duration/],
    ["server_error", "lincs-internal-server-error", "provider_error", /Try again later/],
  ])("%s / %s → %s", (error, description, code, message) => {
    const e = consentErrorMessage(error, description);
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    // Plain words: never the provider's raw description.
    expect(e.message).not.toContain(description);
  });
});
