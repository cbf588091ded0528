/**
 * The accounts page's browser script (served as static/accounts.js). It is written here as one
 * self-contained function so tsc type-checks it against the DOM; assets.ts serves its source
 * text. Rules: reference nothing outside the function (no imports, no module-level helpers), and
 * build every URL relative to `document.baseURI` (the app's root, see base-path.ts).
 *
 * API (relative to the root, served by the accounts module's plugin):
 * GET api/accounts; POST api/accounts/connect {provider,input,callbackUrl} → FlowStart;
 * POST api/accounts/device/:flowId/poll → DevicePoll; POST api/accounts/device/:flowId/cancel;
 * POST api/accounts/:id/disconnect.
 */
export function accountsClient(): void {
  type Status = "connected" | "expiring" | "revoked" | "error";
  interface AccountView { id: string; provider: string; label: string; status: Status; detail: string | null; expiresAt: number | null }
  interface ProviderView {
    provider: string;
    label: string;
    kind: "redirect" | "device" | "token";
    inputs: { name: string; label: { en: string; fr: string }; type: "text" | "password" | "url" }[];
  }
  interface Listing { accounts: AccountView[]; providers: ProviderView[] }
  interface PageData {
    lang: "en" | "fr";
    /** Served through Home Assistant's ingress (X-Ingress-Path). */
    ingress: boolean;
    strings: Record<string, string>;
    flash: { kind: "connected"; id: string } | { kind: "error"; code: string; message: string } | null;
  }
  type Start =
    | { kind: "redirect"; url: string }
    | { kind: "device"; flowId: string; userCode: string; verificationUri: string; verificationUriComplete?: string; expiresAt: number; interval: number }
    | { kind: "done"; account: AccountView };
  type Poll =
    | { status: "pending"; interval: number }
    | { status: "connected"; account: AccountView }
    | { status: "expired" | "denied" | "cancelled" | "error"; message: string };

  const dataEl = document.getElementById("eb-data");
  const data = JSON.parse(dataEl?.textContent ?? "{}") as PageData;
  const S = data.strings;
  const lang = data.lang;
  const tr = (key: string, vars: Record<string, string | number> = {}): string =>
    (S[key] ?? key).replace(/\{(\w+)\}/g, (m, n: string) => (n in vars ? String(vars[n]) : m));
  const root = document.getElementById("accounts")!;
  const flashEl = document.getElementById("flash")!;
  const deviceEl = document.getElementById("device")!;
  let listing: Listing = { accounts: [], providers: [] };

  function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const c of children) e.append(c);
    return e;
  }

  /** `u` when it is an absolute http(s) URL, else null (never a `javascript:` link from a provider's answer). */
  function httpUrl(u: string | undefined): string | null {
    if (!u) return null;
    try {
      const parsed = new URL(u);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  function flash(kind: "ok" | "bad", ...content: (Node | string)[]): void {
    flashEl.replaceChildren(el("div", { class: `flash ${kind}`, role: kind === "bad" ? "alert" : "status" }, ...content));
  }

  /**
   * The words for a flow error: in English the add-on's own sentence (it names the detail), in
   * French the translation of its code (the English detail inside where the string has one).
   */
  function errorText(code: string, message: string): string {
    const key = `err_${code}`;
    if (lang === "en" && message) return message;
    if (key in S) return tr(key, { message });
    return tr("error_generic", { message: message || code });
  }

  async function api<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, document.baseURI), {
      method: body === undefined ? "GET" : "POST",
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: string; message?: string };
      const err = new Error(e.message ?? `HTTP ${res.status}`) as Error & { code?: string };
      err.code = e.error ?? `http_${res.status}`;
      throw err;
    }
    return json as T;
  }

  function statusBadge(status: Status | "none"): HTMLElement {
    return el("span", { class: `badge ${status}`, "data-status": status }, tr(`status_${status}`));
  }

  function accountRow(a: AccountView): HTMLElement {
    const row = el("div", { class: "account", "data-account": a.id }, el("span", { class: "label" }, a.label), statusBadge(a.status));
    if (a.expiresAt !== null && (a.status === "expiring" || a.status === "connected")) {
      const date = new Date(a.expiresAt).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
      row.append(el("span", { class: "muted expires" }, tr("expires_at", { date })));
    }
    const button = el("button", { type: "button", class: "secondary", "data-action": "disconnect" }, tr("disconnect"));
    button.addEventListener("click", () => void disconnect(a, button));
    row.append(button);
    if (a.detail) row.append(el("div", { class: "detail" }, a.detail));
    return row;
  }

  function connectForm(p: ProviderView, hasAccount: boolean): HTMLFormElement {
    const form = el("form", { class: "connect", "data-provider": p.provider });
    for (const input of p.inputs) {
      const id = `in-${p.provider}-${input.name}`;
      form.append(
        el(
          "label",
          { for: id },
          input.label[lang],
          el("input", { id, name: input.name, type: input.type, required: "", autocomplete: input.type === "password" ? "off" : "on" }),
        ),
      );
    }
    const submit = el("button", { type: "submit" }, hasAccount ? tr("connect_another") : tr("connect"));
    form.append(submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void connect(p, form, submit);
    });
    return form;
  }

  function render(): void {
    const cards = listing.providers.map((p) => {
      const accounts = listing.accounts.filter((a) => a.provider === p.provider);
      const card = el("section", { class: "card", "data-provider-card": p.provider }, el("h2", {}, p.label));
      if (accounts.length === 0) card.append(el("div", { class: "account" }, statusBadge("none")));
      for (const a of accounts) card.append(accountRow(a));
      card.append(connectForm(p, accounts.length > 0));
      return card;
    });
    // Accounts of a provider the API no longer offers a form for still show.
    const known = new Set(listing.providers.map((p) => p.provider));
    const orphans = listing.accounts.filter((a) => !known.has(a.provider));
    if (orphans.length) cards.push(el("section", { class: "card" }, ...orphans.map(accountRow)));
    root.replaceChildren(...cards);
    root.setAttribute("aria-busy", "false");
  }

  async function load(): Promise<void> {
    try {
      listing = await api<Listing>("api/accounts");
      render();
    } catch (err) {
      root.setAttribute("aria-busy", "false");
      root.replaceChildren(el("p", { class: "flash bad" }, tr("load_failed", { message: (err as Error).message })));
    }
  }

  /**
   * Under ingress the page is an iframe of Home Assistant, and Home Assistant's `ingress_session`
   * cookie is SameSite=Strict: a provider page cannot be framed, and a return navigated by the
   * provider's own page (its "Allow" button) reaches Home Assistant without that cookie and is
   * refused (401) before it gets to the add-on. So the provider's pages open in a popup this page
   * watches: when the popup is back on this origin, at the accounts page (the callback was
   * accepted) or refused at the callback, this page finishes from its own, same-origin context.
   */
  const usePopup = data.ingress || window.top !== window.self;
  const isConnectPopup = window.name.startsWith("eb-connect-");

  function watchPopup(popup: Window, provider: string): void {
    const root = new URL(".", document.baseURI);
    const callbackPath = `callback/${encodeURIComponent(provider)}`;
    const finish = (path: string) => {
      window.clearInterval(timer);
      popup.close();
      window.location.assign(new URL(path, document.baseURI).href);
    };
    const timer = window.setInterval(() => {
      if (popup.closed) {
        window.clearInterval(timer);
        showPaste(true);
        return;
      }
      let here: URL;
      try {
        here = new URL(popup.location.href);
      } catch {
        return; // at the provider: another origin
      }
      if (here.origin !== root.origin || !here.pathname.startsWith(root.pathname)) return;
      const rel = here.pathname.slice(root.pathname.length);
      if ((rel === "accounts" || rel === "") && here.search) finish(`accounts${here.search}`);
      else if (rel === callbackPath) {
        const doc = popup.document;
        if (doc.readyState !== "complete" || doc.querySelector('meta[name="eb-bounce"]')) return;
        finish(`${callbackPath}${here.search}`); // refused by Home Assistant: replay from here
      }
    }, 250);
  }

  const pasteEl = document.getElementById("paste") as HTMLDetailsElement | null;
  function showPaste(closedEarly: boolean): void {
    if (!pasteEl) return;
    pasteEl.open = true;
    if (closedEarly) flash("bad", tr("popup_closed"));
  }
  pasteEl?.querySelector("form")?.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const field = (ev.target as HTMLFormElement).elements.namedItem("url") as HTMLInputElement;
    let u: URL | undefined;
    try {
      u = new URL(field.value.trim());
    } catch {
      u = undefined;
    }
    const m = u ? /\/callback\/([A-Za-z0-9_-]+)$/.exec(u.pathname) : null;
    if (!u || !m || !u.searchParams.has("state")) {
      flash("bad", tr("paste_invalid"));
      return;
    }
    window.location.assign(new URL(`callback/${m[1]}${u.search}`, document.baseURI).href);
  });

  async function connect(p: ProviderView, form: HTMLFormElement, submit: HTMLButtonElement): Promise<void> {
    // Opened now, while the click still counts as the user's: a popup opened after the API
    // answer would be blocked.
    const popup = usePopup && p.kind === "redirect" ? window.open("about:blank", `eb-connect-${p.provider}`, "popup,width=640,height=760") : null;
    const input: Record<string, string> = {};
    for (const i of p.inputs) input[i.name] = (form.elements.namedItem(i.name) as HTMLInputElement | null)?.value ?? "";
    const callbackUrl = new URL(`callback/${encodeURIComponent(p.provider)}`, document.baseURI).href;
    submit.disabled = true;
    submit.textContent = tr("connecting");
    try {
      const start = await api<Start>("api/accounts/connect", { provider: p.provider, input, callbackUrl });
      if (start.kind === "redirect" && !httpUrl(start.url)) throw Object.assign(new Error("the provider's sign-in address is not a web address"), { code: "provider_error" });
      if (start.kind === "redirect") {
        if (popup) {
          popup.location.href = start.url;
          flash("ok", tr("popup_waiting", { provider: p.label }));
          watchPopup(popup, p.provider);
        } else if (usePopup) {
          // Pop-ups blocked: a new tab the user opens, then the paste box.
          flash("bad", tr("popup_blocked"), " ", el("a", { href: start.url, target: "_blank", rel: "noopener", "data-signin-link": "" }, tr("popup_link", { provider: p.label })));
          showPaste(false);
        } else window.location.assign(start.url);
        return;
      }
      popup?.close();
      if (start.kind === "device") showDevice(p, start);
      else {
        flash("ok", tr("connected_msg", { label: start.account.label }));
        await load();
      }
    } catch (err) {
      popup?.close();
      const e = err as Error & { code?: string };
      flash("bad", errorText(e.code ?? "error", e.message));
    } finally {
      submit.disabled = false;
      submit.textContent = listing.accounts.some((a) => a.provider === p.provider) ? tr("connect_another") : tr("connect");
    }
  }

  async function disconnect(a: AccountView, button: HTMLButtonElement): Promise<void> {
    if (!window.confirm(tr("confirm_disconnect", { label: a.label }))) return;
    button.disabled = true;
    try {
      await api(`api/accounts/${encodeURIComponent(a.id)}/disconnect`, {});
      flash("ok", tr("disconnected_msg", { label: a.label }));
    } catch (err) {
      const e = err as Error & { code?: string };
      flash("bad", errorText(e.code ?? "error", e.message));
    }
    await load();
  }

  let deviceTimers: number[] = [];
  /** Bumped by stopDevice: an answer of a poll sent before belongs to a flow no longer shown. */
  let deviceGeneration = 0;
  function stopDevice(): void {
    deviceGeneration += 1;
    for (const t of deviceTimers) window.clearTimeout(t);
    deviceTimers = [];
    deviceEl.replaceChildren();
    deviceEl.hidden = true;
  }

  function showDevice(p: ProviderView, d: Extract<Start, { kind: "device" }>): void {
    stopDevice();
    const link = httpUrl(d.verificationUriComplete) ?? httpUrl(d.verificationUri) ?? "about:blank";
    const countdown = el("span", { class: "countdown", "data-countdown": "" });
    const status = el("p", { class: "muted", role: "status" }, tr("device_waiting"));
    const cancel = el("button", { type: "button", class: "secondary", "data-action": "cancel" }, tr("device_cancel"));
    const expires = el("p", {});
    deviceEl.replaceChildren(
      el(
        "section",
        { class: "card device", "data-flow": d.flowId },
        el("h2", {}, tr("device_title", { provider: p.label })),
        el("p", {}, tr("device_step")),
        el("div", { class: "code", "data-user-code": "" }, d.userCode),
        el("p", {}, el("a", { href: link, target: "_blank", rel: "noopener noreferrer", "data-verification": "" }, tr("device_open")), " ", el("span", { class: "muted" }, d.verificationUri)),
        expires,
        status,
        cancel,
      ),
    );
    deviceEl.hidden = false;
    const tick = (): void => {
      const left = Math.max(0, Math.round((d.expiresAt - Date.now()) / 1000));
      countdown.textContent = `${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
      countdown.setAttribute("data-seconds", String(left));
      expires.replaceChildren(...tr("device_expires_in", { time: "\u0000" }).split("\u0000").flatMap((part, i) => (i === 0 ? [part] : [countdown, part])));
      if (left > 0) deviceTimers.push(window.setTimeout(tick, 1000));
    };
    tick();
    let interval = Math.max(1, d.interval);
    const generation = deviceGeneration;
    const poll = async (): Promise<void> => {
      let r: Poll;
      try {
        r = await api<Poll>(`api/accounts/device/${encodeURIComponent(d.flowId)}/poll`, {});
        if (generation !== deviceGeneration) return; // cancelled or replaced meanwhile
      } catch (err) {
        if (generation !== deviceGeneration) return;
        const e = err as Error & { code?: string };
        if (e.code === "http_429") {
          deviceTimers.push(window.setTimeout(() => void poll(), interval * 1000));
          return;
        }
        stopDevice();
        flash("bad", errorText(e.code ?? "error", e.message));
        return;
      }
      if (r.status === "pending") {
        interval = Math.max(1, r.interval);
        deviceTimers.push(window.setTimeout(() => void poll(), interval * 1000));
        return;
      }
      stopDevice();
      if (r.status === "connected") {
        flash("ok", tr("connected_msg", { label: r.account.label }));
        await load();
      } else if (r.status === "expired") flash("bad", tr("device_expired"));
      else if (r.status === "denied") flash("bad", tr("device_denied", { provider: p.label }));
      else if (r.status === "cancelled") flash("ok", tr("device_cancelled"));
      else flash("bad", errorText("error", r.message));
    };
    deviceTimers.push(window.setTimeout(() => void poll(), interval * 1000));
    cancel.addEventListener("click", () => {
      stopDevice();
      void api(`api/accounts/device/${encodeURIComponent(d.flowId)}/cancel`, {}).catch(() => undefined);
      flash("ok", tr("device_cancelled"));
    });
  }

  void load().then(() => {
    const f = data.flash;
    if (f?.kind === "connected") {
      const a = listing.accounts.find((x) => x.id === f.id);
      flash("ok", tr("connected_msg", { label: a?.label ?? f.id }));
    } else if (f?.kind === "error") flash("bad", errorText(f.code, f.message));
    // The result was shown once: a reload must not show it again. (In the sign-in popup the
    // opener still reads it from the address.)
    if (f && !isConnectPopup) history.replaceState(null, "", new URL("accounts", document.baseURI).href);
  });
}
