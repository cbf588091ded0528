/**
 * A synthetic rooftop-PV production curve on the grid of a real consumption series (no measured
 * PV data is bundled, see data/README.md): clear-sky half-sine between 06:00 and 20:00 UTC scaled
 * by season (peak `peakWh` per half-hour at the June solstice, a quarter of it in December), with
 * a deterministic day-to-day cloud factor. Used only to exercise the production path.
 */
import type { HalfHourPoint } from "./dataset.js";

const DAY = 86_400_000;

/** Production points (Wh per half-hour, never negative, 0 at night) at each `start` of `grid`. */
export function solarSeries(grid: readonly HalfHourPoint[], peakWh = 1500): HalfHourPoint[] {
  return grid.map(({ start }) => {
    const d = new Date(start);
    const dayOfYear = Math.floor((start - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY);
    const season = 0.625 - 0.375 * Math.cos((2 * Math.PI * (dayOfYear + 10)) / 365);
    const hour = d.getUTCHours() + d.getUTCMinutes() / 60 + 0.25; // middle of the half-hour
    const sun = hour > 6 && hour < 20 ? Math.sin((Math.PI * (hour - 6)) / 14) : 0;
    const cloud = 0.55 + 0.45 * Math.abs(Math.sin(Math.floor(start / DAY) * 12.9898));
    return { start, wh: Math.round(peakWh * season * sun * cloud * 1000) / 1000 };
  });
}
