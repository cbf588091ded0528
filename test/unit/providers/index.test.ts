import { describe, expect, it } from "vitest";
import { createProvider } from "../../../src/providers/index.js";
import { ConsoApiProvider } from "../../../src/providers/conso-api.js";
import { MyElectricalDataProvider } from "../../../src/providers/myelectricaldata.js";
import { MyElectricalDataLegacyProvider } from "../../../src/providers/myelectricaldata-legacy.js";
import { EnedisDataConnectProvider } from "../../../src/providers/enedis-data-connect.js";

describe("createProvider", () => {
  it("builds each provider from its settings", () => {
    expect(createProvider({ provider: "conso_api", token: "t" })).toBeInstanceOf(ConsoApiProvider);
    expect(createProvider({ provider: "myelectricaldata", token: "t" })).toBeInstanceOf(MyElectricalDataProvider);
    const legacy = createProvider({ provider: "myelectricaldata_legacy", token: "t" });
    expect(legacy).toBeInstanceOf(MyElectricalDataLegacyProvider);
    expect(legacy.id).toBe("myelectricaldata_legacy");
    const dc = createProvider({ provider: "enedis_data_connect", enedisClientId: "id", enedisClientSecret: "s" });
    expect(dc).toBeInstanceOf(EnedisDataConnectProvider);
    expect(dc.id).toBe("enedis_data_connect");
  });

  it("throws a clear error when a credential is missing or blank", () => {
    expect(() => createProvider({ provider: "conso_api" })).toThrow("token is required for provider conso_api");
    expect(() => createProvider({ provider: "myelectricaldata", token: "  " })).toThrow("token is required for provider myelectricaldata");
    expect(() => createProvider({ provider: "enedis_data_connect", enedisClientId: "id" })).toThrow(
      "enedisClientSecret is required for provider enedis_data_connect",
    );
    expect(() => createProvider({ provider: "enedis_data_connect" })).toThrow("enedisClientId is required");
  });
});
