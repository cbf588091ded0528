/**
 * The dashboard page's script (served as `dashboard/app.js`): reads the JSON API with relative
 * URLs, draws one uPlot bar chart per meter for the chosen period, the comparison figures, the
 * monthly strip and the anomaly list, and polls `api/progress` for the backfill bars and the
 * account status. Plain ES2020, no build step. Dates are handled as local-date strings of the
 * meter's zone (calendar arithmetic in UTC fields, zone-free), views end at the meter's last day.
 */
export const PAGE_SCRIPT = String.raw`"use strict";
(function () {
  var T = JSON.parse(document.getElementById("eb-strings").textContent);
  var lang = document.documentElement.lang || "en";
  var period = "month";
  var meters = [];
  var charts = {};
  var POLL_MS = Number(new URLSearchParams(location.search).get("poll")) || 2000;

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function get(url) {
    return fetch(url, { headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (b) { if (!r.ok) throw new Error(b.message || r.statusText); return b; });
    });
  }
  function addDays(d, n) { var t = Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)) + n * 864e5; return new Date(t).toISOString().slice(0, 10); }
  function monthStart(d) { return d.slice(0, 8) + "01"; }
  function weekStart(d) { var w = new Date(d + "T00:00:00Z").getUTCDay(); return addDays(d, -((w + 6) % 7)); }
  function yearStart(d) { return d.slice(0, 4) + "-01-01"; }
  function periodStart(d, p) { return p === "day" ? d : p === "week" ? weekStart(d) : p === "month" ? monthStart(d) : yearStart(d); }
  function digits(unit) { return unit === "kWh" ? 1 : unit === "m³" ? 2 : 0; }
  function fmt(v, unit) { return v == null ? "—" : new Intl.NumberFormat(lang, { maximumFractionDigits: digits(unit), minimumFractionDigits: digits(unit) }).format(v) + " " + unit; }
  function pct(s) { return s == null ? "—" : s; }
  function q(o) { return Object.keys(o).map(function (k) { return k + "=" + encodeURIComponent(o[k]); }).join("&"); }
  function base(m) { return "api/meters/" + encodeURIComponent(m.id); }

  /** [chart query, comparison query] of a view ending at the meter's last day. */
  function view(m) {
    var last = m.last_day, end = addDays(last, 1);
    if (period === "day") return { kind: "readings", url: base(m) + "/readings?" + q({ from: last, to: end, per_page: 1000 }), cmp: { period: "day", from: last, to: end } };
    if (period === "week") return { kind: "stats", url: base(m) + "/statistics?" + q({ period: "day", from: weekStart(last), to: end }), cmp: { period: "week", from: weekStart(last), to: end } };
    if (period === "month") return { kind: "stats", url: base(m) + "/statistics?" + q({ period: "day", from: monthStart(last), to: end }), cmp: { period: "month", from: monthStart(last), to: end } };
    return { kind: "stats", url: base(m) + "/statistics?" + q({ period: "month", from: monthStart(addDays(monthStart(last), -330)), to: end }), cmp: { period: "year", from: yearStart(last), to: end } };
  }

  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || "#888"; }

  function drawChart(m, box, xs, ys, unit) {
    if (charts[m.id]) { charts[m.id].destroy(); delete charts[m.id]; }
    box.textContent = "";
    if (!xs.length || ys.every(function (v) { return v == null; })) { box.appendChild(el("p", { class: "muted", text: T.noData })); return; }
    var width = Math.max(280, Math.min(900, box.clientWidth || 700));
    var color = css("--" + m.kind);
    charts[m.id] = new uPlot({
      width: width, height: 220,
      // Bars: y from 0; x padded by half a step on each side so the first and last bars show whole.
      scales: {
        x: { time: true, range: function (u, min, max) { var step = xs.length > 1 ? xs[1] - xs[0] : 86400; return [min - step / 2, max + step / 2]; } },
        y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; } },
      },
      axes: [{ stroke: css("--fg") , grid: { stroke: css("--grid") } }, { stroke: css("--fg"), grid: { stroke: css("--grid") }, label: unit }],
      series: [{}, { label: T[m.kind], stroke: color, fill: color + "99", paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false } }],
      legend: { show: false },
    }, [xs, ys], box);
    box.setAttribute("data-points", String(xs.length));
  }

  function renderComparison(target, s) {
    target.textContent = "";
    var cur = s.data_points[s.data_points.length - 1];
    var per = s.period === "day" ? T.perHour : T.perDay;
    target.appendChild(el("span", { class: "figure", text: T.total + " " + cur.period + ": " + fmt(cur.value, s.unit) }));
    target.appendChild(el("span", { class: "figure", text: T.average + ": " + fmt(cur.avg, s.unit) + " " + per }));
    target.appendChild(el("span", { class: "figure cmp-prev", "data-value": s.comparison.vs_previous_period || "", text: pct(s.comparison.vs_previous_period) + " " + T.vsPrevious }));
    target.appendChild(el("span", { class: "figure cmp-year", "data-value": s.comparison.vs_same_period_last_year || "", text: pct(s.comparison.vs_same_period_last_year) + " " + T.vsLastYear }));
    if (cur.missing_days.length) target.appendChild(el("span", { class: "figure warn", text: cur.missing_days.length + " " + (cur.missing_days.length === 1 ? T.missingDay : T.missingDays), title: cur.missing_days.join(", ") }));
  }

  function loadMeter(m) {
    var card = document.getElementById("meter-" + m.id);
    var chart = card.querySelector(".chart"), cmp = card.querySelector(".comparison");
    card.setAttribute("data-period", period);
    card.setAttribute("data-state", "loading");
    if (!m.last_day) { chart.textContent = T.noData; card.setAttribute("data-state", "ready"); return Promise.resolve(); }
    var v = view(m);
    var a = get(v.url).then(function (b) {
      if (v.kind === "readings") {
        var factor = m.unit === "Wh" ? 0.001 : 1;
        drawChart(m, chart, b.readings.map(function (r) { return Date.parse(r.start) / 1000; }), b.readings.map(function (r) { return r.value * factor; }), m.display_unit);
      } else {
        drawChart(m, chart, b.data_points.map(function (p) { return Date.parse(p.start_utc) / 1000; }), b.data_points.map(function (p) { return p.value; }), b.unit);
      }
    });
    var c = get(base(m) + "/statistics?" + q(v.cmp)).then(function (s) { renderComparison(cmp, s); });
    return Promise.all([a, c]).then(function () { card.setAttribute("data-state", "ready"); }, function (err) {
      card.setAttribute("data-state", "error"); chart.textContent = err.message;
    });
  }

  function loadStatic(m) {
    var card = document.getElementById("meter-" + m.id);
    if (!m.last_day) return;
    var end = addDays(m.last_day, 1);
    get(base(m) + "/statistics?" + q({ period: "month", from: monthStart(addDays(monthStart(m.last_day), -330)), to: end })).then(function (s) {
      var strip = card.querySelector(".monthly");
      strip.textContent = "";
      s.data_points.forEach(function (p) {
        var d = new Date(p.start + "T12:00:00Z");
        var name = new Intl.DateTimeFormat(lang, { month: "short", year: "2-digit", timeZone: "UTC" }).format(d);
        strip.appendChild(el("div", { class: "month" + (p.complete ? "" : " partial") }, [el("span", { class: "m-name", text: name }), el("span", { class: "m-value", text: fmt(p.value, s.unit) })]));
      });
    });
    get(base(m) + "/anomalies?" + q({ days: 30 })).then(function (a) {
      var list = card.querySelector(".anomalies tbody");
      list.textContent = "";
      if (!a.anomalies.length) { list.appendChild(el("tr", {}, [el("td", { colspan: "5", class: "muted", text: T.noAnomaly })])); return; }
      a.anomalies.forEach(function (x) {
        list.appendChild(el("tr", { class: "anomaly sev-" + x.severity, "data-day": x.day }, [
          el("td", { text: x.day }), el("td", { text: T.severity[x.severity] }), el("td", { text: fmt(x.value, a.unit) }),
          el("td", { text: fmt(x.avg_7d, a.unit) }), el("td", { text: "+" + x.variance_percent.toFixed(1) + " %" })]));
      });
    });
  }

  function meterCard(m) {
    var title = el("h2", { text: T[m.kind] + " · " + m.name });
    var head = el("tr", {}, [T.dayCol, T.severityCol, T.value, T.avg7d, T.variance].map(function (h) { return el("th", { text: h }); }));
    var table = el("table", { class: "anomalies" }, [el("caption", { text: T.anomalies }), el("thead", {}, [head]), el("tbody")]);
    var tools = el("div", { class: "tools no-print" });
    var end = m.last_day ? addDays(m.last_day, 1) : "";
    if (m.last_day) tools.appendChild(el("a", { href: base(m) + "/export.csv?" + q({ from: monthStart(m.last_day), to: end }), text: T.exportCsv }));
    if (m.kind === "electricity") {
      var input = el("input", { type: "file", accept: ".csv,.xlsx", class: "import-file", "aria-label": T.import });
      var status = el("span", { class: "import-status" });
      input.addEventListener("change", function () {
        var f = input.files[0]; if (!f) return;
        var type = /\.xlsx$/i.test(f.name) ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv";
        fetch(base(m) + "/import?" + q({ name: f.name }), { method: "POST", headers: { "content-type": type }, body: f }).then(function (r) { return r.json(); }).then(function (b) {
          status.textContent = b.message ? b.message : T.importDone + ": " + b.inserted + " + " + b.updated;
          if (!b.message) reloadMeter(m.id);
        });
      });
      tools.appendChild(el("label", { text: T.import }, [input]));
      tools.appendChild(status);
    }
    return el("section", { class: "meter kind-" + m.kind, id: "meter-" + m.id, "data-kind": m.kind }, [
      title, el("div", { class: "comparison" }), el("div", { class: "chart" }), el("h3", { text: T.monthly }), el("div", { class: "monthly" }), table, tools]);
  }

  /** Re-reads one meter (its extent may have grown) and redraws its card in place. */
  function reloadMeter(id) {
    return get("api/meters").then(function (b) {
      var fresh = b.meters.filter(function (x) { return x.id === id; })[0];
      if (!fresh) return;
      meters = meters.map(function (x) { return x.id === id ? fresh : x; });
      loadMeter(fresh);
      loadStatic(fresh);
    });
  }

  function refreshMeters() {
    return get("api/meters").then(function (b) {
      meters = b.meters;
      var box = document.getElementById("meters");
      box.textContent = "";
      meters.forEach(function (m) { box.appendChild(meterCard(m)); });
      meters.forEach(function (m) { loadMeter(m); loadStatic(m); });
    });
  }

  function renderProgress(p) {
    var list = document.getElementById("progress-list");
    list.textContent = "";
    p.meters.forEach(function (m) {
      m.resolutions.forEach(function (r) {
        var bar = el("progress", { max: String(r.days_available || 1), value: String(r.days_held), "data-meter": m.meter_id, "data-resolution": r.resolution });
        var text = m.meter_id + " · " + T[r.resolution] + ": " + r.days_held + " " + T.daysHeld + (r.days_available != null ? " " + T.of + " " + r.days_available + " (" + r.percent + " %)" : "");
        var extra = (m.expected_finish ? " · " + T.finish + " " + m.expected_finish : "") + (m.requests_left_today != null ? " · " + m.requests_left_today + " " + T.requestsLeft : "");
        list.appendChild(el("div", { class: "progress-row" }, [el("span", { class: "progress-text", text: text + extra }), bar]));
      });
    });
    var acc = document.getElementById("account-list");
    acc.textContent = "";
    if (!p.accounts.length) acc.appendChild(el("p", { class: "muted", text: T.noAccount }));
    p.accounts.forEach(function (a) {
      var sync = p.meters.map(function (m) { return m.last_sync; }).filter(Boolean).sort().pop();
      acc.appendChild(el("div", { class: "account status-" + a.status, "data-account": a.id }, [
        el("strong", { text: a.label }), el("span", { text: " · " + (T.status[a.status] || a.status) }),
        a.detail ? el("span", { class: "muted", text: " · " + a.detail }) : null,
        a.consent_expires ? el("span", { text: " · " + T.consent + " " + a.consent_expires.slice(0, 10) }) : null,
        el("span", { text: " · " + T.lastSync + " " + (sync ? sync.slice(0, 16).replace("T", " ") + " UTC" : T.never) }),
        p.next_sync ? el("span", { class: "next-sync", text: " · " + T.nextSync + " " + p.next_sync.slice(0, 16).replace("T", " ") + " UTC" }) : null,
        el("a", { class: "no-print", href: "accounts#" + encodeURIComponent(a.id), text: " " + T.reconnect }),
        el("a", { class: "no-print", href: "accounts#" + encodeURIComponent(a.id), text: " " + T.disconnect })]));
    });
  }

  function poll() {
    get("api/progress").then(renderProgress).catch(function () {}).then(function () { setTimeout(poll, POLL_MS); });
  }

  document.querySelectorAll("button.period").forEach(function (b) {
    b.addEventListener("click", function () {
      period = b.getAttribute("data-period");
      document.querySelectorAll("button.period").forEach(function (x) { x.setAttribute("aria-pressed", String(x === b)); });
      meters.forEach(loadMeter);
    });
  });
  document.getElementById("print").addEventListener("click", function () {
    document.querySelector('button.period[data-period="month"]').click();
    setTimeout(function () { window.print(); }, 300);
  });
  refreshMeters();
  poll();
})();
`;
