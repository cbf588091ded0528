/**
 * The dashboard page's stylesheet (served as `dashboard/app.css`): light and dark from
 * `prefers-color-scheme`, one colour per energy, and a print stylesheet for the monthly report
 * (toolbar, upload and links hidden, cards unbroken across pages, black on white).
 */
export const PAGE_STYLE = `:root {
  --bg: #ffffff; --fg: #1b1f24; --muted: #5b6470; --card: #f5f7fa; --grid: #d8dde3; --accent: #0b62c4;
  --electricity: #e0a100; --gas: #d9480f; --water: #1c7ed6; --minor: #b08800; --major: #d9480f; --critical: #c92a2a;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #111418; --fg: #e6e9ee; --muted: #9aa4b1; --card: #1c2128; --grid: #2f3640; --accent: #5ea8ff;
    --electricity: #ffd43b; --gas: #ff8a4c; --water: #4dabf7; --minor: #ffd43b; --major: #ff8a4c; --critical: #ff6b6b; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; justify-content: space-between; align-items: baseline; padding: 12px 20px; border-bottom: 1px solid var(--grid); }
header h1 { font-size: 1.3rem; margin: 0; }
a { color: var(--accent); }
main { padding: 12px 20px 40px; max-width: 1000px; margin: 0 auto; }
.toolbar { display: flex; gap: 6px; flex-wrap: wrap; margin: 8px 0 16px; }
.toolbar button { border: 1px solid var(--grid); background: var(--card); color: var(--fg); padding: 6px 14px; border-radius: 6px; cursor: pointer; font: inherit; }
.toolbar button[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
#print { margin-left: auto; }
section { background: var(--card); border-radius: 10px; padding: 12px 16px; margin-bottom: 16px; }
section h2 { font-size: 1.1rem; margin: 0 0 8px; }
section h3 { font-size: 0.95rem; margin: 12px 0 6px; color: var(--muted); }
.comparison { display: flex; gap: 14px; flex-wrap: wrap; margin-bottom: 8px; }
.figure { font-variant-numeric: tabular-nums; }
.warn { color: var(--major); }
.muted { color: var(--muted); }
.chart { min-height: 230px; }
.monthly { display: grid; grid-template-columns: repeat(auto-fill, minmax(80px, 1fr)); gap: 6px; }
.month { background: var(--bg); border-radius: 6px; padding: 4px 6px; display: flex; flex-direction: column; font-size: 0.85rem; }
.month.partial { opacity: 0.7; font-style: italic; }
.m-name { color: var(--muted); }
table.anomalies { width: 100%; border-collapse: collapse; margin-top: 10px; font-size: 0.9rem; }
table.anomalies caption { text-align: left; font-weight: 600; padding-bottom: 4px; }
table.anomalies th, table.anomalies td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--grid); }
tr.sev-minor td:nth-child(2) { color: var(--minor); }
tr.sev-major td:nth-child(2) { color: var(--major); }
tr.sev-critical td:nth-child(2) { color: var(--critical); font-weight: 600; }
.tools { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; margin-top: 10px; font-size: 0.9rem; }
.progress-row { display: grid; grid-template-columns: 1fr 220px; gap: 10px; align-items: center; margin: 4px 0; font-size: 0.9rem; }
progress { width: 100%; height: 14px; accent-color: var(--accent); }
.account { margin: 4px 0; }
.status-revoked, .status-error { color: var(--critical); }
.status-expiring { color: var(--major); }
.uplot, .u-legend { color: var(--fg); }
@media print {
  :root { --bg: #fff; --fg: #000; --card: #fff; --grid: #bbb; --muted: #444; }
  .no-print, .toolbar, #progress { display: none !important; }
  body { font-size: 11pt; }
  main { max-width: none; padding: 0; }
  section { break-inside: avoid; border: 1px solid #bbb; }
  a { color: #000; text-decoration: none; }
}
`;
