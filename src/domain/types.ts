/**
 * Plain types shared by every room. No I/O here, and no imports from other rooms.
 *
 * Conventions: every instant is a UTC epoch in **milliseconds** (`number`); local time appears
 * only as ISO calendar dates (`LocalDate`, "YYYY-MM-DD") tied to an explicit IANA zone.
 */

/** ISO calendar date "YYYY-MM-DD" in a zone given alongside it (never the process zone). */
export type LocalDate = string;

/** What a meter measures. */
export type EnergyKind = "electricity" | "gas" | "water";

/** Unit of a stored reading value. Electricity is stored in Wh (additive energy, not W). */
export type Unit = "Wh" | "m³" | "L";

/** Identifier of a data source implementation. */
export type ProviderId = "conso_api" | "myelectricaldata" | "myelectricaldata_legacy" | "enedis_data_connect" | "cozy" | "ores";

/**
 * Direction of the energy a meter series measures at its usage point: `consumption` (drawn from
 * the grid, Enedis `CONS` / `soutirage`) or `production` (fed into the grid, Enedis `PROD` /
 * `injection`, shown in the Energy dashboard as "return to grid").
 */
export type Flow = "consumption" | "production";

/** Granularity a provider can serve. `daily` = one value per local day, `load_curve` = sub-hourly. */
export type Resolution = "daily" | "load_curve";

/**
 * A meter the add-on follows.
 * `id` is the provider's meter identifier: for Linky the 14-digit PRM (usage point id).
 */
export interface Meter {
  /**
   * Stable key used in the store and in entity ids: the PRM for a consumption series
   * ("12345678901234"), `<prm>_production` for the production series of the same usage point.
   */
  id: string;
  /** The provider's usage point id (14-digit PRM) sent in requests; defaults to `id` when absent. */
  usagePoint?: string;
  /** What the series measures; `consumption` when absent. Providers pick the resource by it. */
  flow?: Flow;
  provider: ProviderId;
  kind: EnergyKind;
  unit: Unit;
  /** IANA zone of the provider's local days (Europe/Paris for Enedis). */
  timezone: string;
  /** Human name, e.g. "Linky 12345678901234". */
  name: string;
}

/** Provider's own quality label, kept as given ("BRUT", "CORRIGE", …); null when absent. */
export type Quality = string | null;

/**
 * A measured fact: energy over [start, start + durationMs).
 * `value` is in the meter's unit (Wh for electricity; a load-curve W average is converted to Wh
 * by the parser: Wh = W × minutes / 60). Never negative. `start` is UTC epoch ms.
 * Identity is (meter, start, durationMs): a daily reading and half-hour readings of the same day
 * coexist.
 */
export interface Reading {
  start: number;
  durationMs: number;
  value: number;
  quality: Quality;
}

/** A point the provider sent that failed validation; it is not stored. */
export interface RejectedPoint {
  /** Provider's raw date field, e.g. "2026-03-29 02:30:00". */
  raw: string;
  reason: string;
}

/** Inclusive start, exclusive end local dates of a provider request, in the meter's zone. */
export interface FetchRange {
  resolution: Resolution;
  start: LocalDate;
  end: LocalDate;
}

/** Result of one provider fetch. */
export interface FetchResult {
  readings: Reading[];
  rejected: RejectedPoint[];
  /**
   * True when the provider said the range lies before the start of available history
   * (meter activation, history deadline, "no measure found"): not an error, the end of history.
   */
  endOfHistory: boolean;
}

/**
 * The peak apparent power of one local day (Enedis `puissance_conso_max_quotidienne`, `PMA`).
 * `valueVa` in VA; `at` the UTC epoch ms of the peak (Enedis gives its naive local time).
 */
export interface DailyMaxPower {
  day: LocalDate;
  valueVa: number;
  at: number;
}

/** Result of one max-power fetch; `endOfHistory` as in {@link FetchResult}. */
export interface MaxPowerResult {
  points: DailyMaxPower[];
  rejected: RejectedPoint[];
  endOfHistory: boolean;
}

/** Per-resolution limits of a provider. */
export interface ResolutionCapability {
  /** Largest [start, end) span accepted by one call, in days. */
  maxDaysPerCall: number;
  /** How far back the provider keeps data, in days before today. */
  historyDays: number;
}

/** What a provider can do and how gently it must be used. */
export interface ProviderCapabilities {
  kinds: EnergyKind[];
  resolutions: Partial<Record<Resolution, ResolutionCapability>>;
  /** Flows the provider can serve (`production` only where the source has it). */
  flows: Flow[];
  /** Default maximum HTTP requests per local day (all meters of this provider share it). */
  dailyBudget: number;
  /**
   * Hard ceiling on requests per local day to the provider's public host, which no option can
   * raise (the gateway's ban or quota rule, reasoned in the provider's docstring). A self-hosted
   * base URL is bound only by the option's own maximum.
   */
  hardDailyCap: number;
  /** Limits of {@link Provider.fetchMaxPower}, when the provider has it. */
  maxPower?: ResolutionCapability;
  /** Zone of the provider's dates. */
  timezone: string;
  /** Local window ["HH:mm", "HH:mm") in which the daily sync should run (fair use). */
  scheduleWindow: [string, string];
}

/**
 * Admission control for provider HTTP calls (implemented by the store so the count survives
 * restarts). `acquire` records one request or throws ProviderError `budget_exhausted`.
 */
export interface RequestGate {
  acquire(): void;
  remaining(): number;
}

/** The provider contract. Providers never touch the store or Home Assistant. */
export interface Provider {
  readonly id: ProviderId;
  readonly capabilities: ProviderCapabilities;
  /**
   * Readings of `meter` over the local-date range. Throws ProviderError on failure.
   * Every HTTP request goes through global `fetch` and is admitted by `gate` first.
   */
  fetch(meter: Meter, range: FetchRange, gate: RequestGate): Promise<FetchResult>;
  /**
   * Daily peak power of `meter` over [start, end) local dates (one request, at most
   * `capabilities.maxPower.maxDaysPerCall` days), when the provider serves it. Throws ProviderError.
   */
  fetchMaxPower?(meter: Meter, range: { start: LocalDate; end: LocalDate }, gate: RequestGate): Promise<MaxPowerResult>;
}

/** Anomaly severities of the 7-day moving-average rule. */
export type Severity = "minor" | "major" | "critical";

/** A local day whose consumption exceeds the threshold × the 7-day moving average. */
export interface Anomaly {
  meterId: string;
  day: LocalDate;
  /** Day total in the meter's unit (Wh for electricity). */
  value: number;
  /** Mean of the complete days among the 7 preceding local days, same unit. */
  average7d: number;
  /** (value − average7d) / average7d × 100. */
  variancePercent: number;
  severity: Severity;
}

/**
 * One row of a Home Assistant hourly long-term statistic.
 * `start` is the UTC epoch ms of the top of the hour; `state` the energy of that hour and `sum`
 * the running total since the first row, both in the statistic's unit (kWh for electricity).
 */
export interface StatisticRow {
  start: number;
  state: number;
  sum: number;
}

/** Providers an account can be connected to from the add-on's page (the accounts issue). */
export type AccountProvider = "enedis_data_connect" | "conso_api" | "myelectricaldata" | "cozy" | "ores" | "tado";

/**
 * An account's state as the page and Home Assistant show it: `connected`; `expiring` (token or
 * consent expires soon); `revoked` (consent withdrawn / refresh refused: the user must reconnect);
 * `error` (it works no more for another reason, in `detail`).
 */
export type AccountStatus = "connected" | "expiring" | "revoked" | "error";

/**
 * A connected account (store/accounts.ts). Secrets are never here: tokens live encrypted in the
 * token vault under the same `id`. `config` is public, provider-specific JSON (a Cozy instance URL,
 * the PRMs of an Enedis consent, a Tado home id). Instants are UTC epoch ms.
 */
export interface Account {
  /** Stable id, `<provider>_<provider's own id>` (e.g. `cozy_alice.mycozy.cloud`, `tado_12345`). */
  id: string;
  provider: AccountProvider;
  /** What the user sees, e.g. "alice.mycozy.cloud". */
  label: string;
  status: AccountStatus;
  /** One plain sentence for the user when status is not `connected`, else null. */
  detail: string | null;
  config: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}
