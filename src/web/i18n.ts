/**
 * The page's words in English and French. The language comes from `?lang=` (the switch, then
 * remembered in the `eb_lang` cookie), else the cookie, else the browser's `Accept-Language`
 * (first of en/fr by q-value), else English. `{name}` in a string is replaced by {@link t}.
 */

/** Languages of the page. */
export type Lang = "en" | "fr";

/** Cookie remembering the language switch. */
export const LANG_COOKIE = "eb_lang";

const en = {
  app_name: "Energy Bridge",
  nav_label: "Pages",
  switch_lang: "Français",
  accounts_title: "Accounts",
  accounts_intro: "Connect the accounts Energy Bridge reads your consumption from. Tokens are stored encrypted in the add-on's data folder.",
  loading: "Loading…",
  no_js: "This page needs JavaScript to connect accounts.",
  load_failed: "The account list could not be loaded: {message}",
  no_accounts: "No account connected yet.",
  status_none: "Not connected",
  status_connected: "Connected",
  status_expiring: "Token expiring",
  status_revoked: "Consent revoked",
  status_error: "Error",
  expires_at: "Expires {date}",
  connect: "Connect",
  connect_another: "Connect another account",
  connecting: "Connecting…",
  disconnect: "Disconnect",
  confirm_disconnect: "Disconnect {label}? Its tokens are forgotten; you can connect it again later.",
  disconnected_msg: "{label} disconnected.",
  connected_msg: "Account {label} connected. Its first sync has started.",
  device_title: "Sign in to {provider}",
  device_step: "Open the link and enter this code:",
  device_open: "Open the sign-in page",
  device_expires_in: "The code expires in {time}.",
  device_waiting: "Waiting for your approval…",
  device_cancel: "Cancel",
  device_cancelled: "Connection cancelled.",
  device_expired: "The code expired before it was approved. Connect again to get a new one.",
  device_denied: "Access was refused at {provider}.",
  error_title: "Could not connect",
  error_generic: "Something went wrong: {message}",
  err_state_mismatch: "This sign-in answer does not belong to this browser session or was already used. Start connecting again from this page.",
  err_access_denied: "You refused access at the provider. Nothing was connected.",
  err_consent_expired: "The consent has expired. Give it again to keep receiving data.",
  err_consent_revoked: "The consent was revoked. Give it again on the provider's site, then connect again here.",
  err_already_shared: "This meter's data is already shared with another application under the same consent. Withdraw that consent on the Enedis portal, then connect again.",
  err_expired_token: "The code expired before it was approved. Connect again to get a new one.",
  err_invalid_input: "Check the fields of the form: {message}",
  err_invalid_instance: "This is not the address of a Cozy (e.g. alice.mycozy.cloud).",
  err_invalid_token: "The token was refused. Copy it again from the gateway's site.",
  err_provider_error: "The provider refused: {message}",
  err_provider_unreachable: "The provider cannot be reached: {message}",
  err_not_connected: "This account is not connected any more. Connect it again.",
  err_reconnect_required: "Connect this account again.",
  err_token_expired: "The access expired. Connect this account again.",
  err_unknown_flow: "This connection is not in progress any more. Start again.",
  err_wrong_prm: "The meter number (PRM) does not match this consent.",
  err_no_meter: "No meter was found in this account.",
  err_internal: "Something went wrong on the add-on's side; its log has the details.",
  popup_waiting: "Finish signing in to {provider} in the window that opened.",
  popup_closed: "The sign-in window closed before coming back here. If it ended on an error page (such as \"401: Unauthorized\"), paste its address below.",
  popup_blocked: "The browser blocked the sign-in window.",
  popup_link: "Open the {provider} sign-in page",
  paste_title: "Signed in, but the window ended on an error page?",
  paste_help: "Copy the whole address of that page (it contains …/callback/… and a code) and paste it here to finish connecting.",
  paste_label: "Address of that page",
  paste_submit: "Finish connecting",
  paste_invalid: "This is not the address of a sign-in return (…/callback/<provider>?…&state=…).",
  login_title: "Log in",
  login_intro: "Enter the web_secret from Energy Bridge's options.",
  login_secret: "Secret",
  login_submit: "Log in",
  login_wrong: "Wrong secret. {n} attempt(s) left before this address is locked for 15 minutes.",
  login_locked: "Too many failed logins from your address. Try again in {minutes} minute(s).",
  logout: "Log out",
  login_required: "Log in first.",
  rate_limited: "Too many requests. Try again in {seconds} second(s).",
  not_found: "This page does not exist.",
  back: "Back to the accounts",
};

/** Every string key. */
export type MessageKey = keyof typeof en;

const fr: Record<MessageKey, string> = {
  app_name: "Energy Bridge",
  nav_label: "Pages",
  switch_lang: "English",
  accounts_title: "Comptes",
  accounts_intro: "Connectez les comptes dont Energy Bridge lit votre consommation. Les jetons sont conservés chiffrés dans le dossier de données de l'add-on.",
  loading: "Chargement…",
  no_js: "Cette page a besoin de JavaScript pour connecter des comptes.",
  load_failed: "Impossible de charger la liste des comptes : {message}",
  no_accounts: "Aucun compte connecté pour l'instant.",
  status_none: "Non connecté",
  status_connected: "Connecté",
  status_expiring: "Jeton bientôt expiré",
  status_revoked: "Consentement révoqué",
  status_error: "Erreur",
  expires_at: "Expire le {date}",
  connect: "Connecter",
  connect_another: "Connecter un autre compte",
  connecting: "Connexion…",
  disconnect: "Déconnecter",
  confirm_disconnect: "Déconnecter {label} ? Ses jetons sont oubliés ; vous pourrez le reconnecter plus tard.",
  disconnected_msg: "{label} déconnecté.",
  connected_msg: "Compte {label} connecté. Sa première synchronisation a commencé.",
  device_title: "Connexion à {provider}",
  device_step: "Ouvrez le lien et saisissez ce code :",
  device_open: "Ouvrir la page de connexion",
  device_expires_in: "Le code expire dans {time}.",
  device_waiting: "En attente de votre accord…",
  device_cancel: "Annuler",
  device_cancelled: "Connexion annulée.",
  device_expired: "Le code a expiré avant d'être validé. Connectez-vous à nouveau pour en obtenir un autre.",
  device_denied: "L'accès a été refusé chez {provider}.",
  error_title: "Connexion impossible",
  error_generic: "Un problème est survenu : {message}",
  err_state_mismatch: "Cette réponse de connexion n'appartient pas à cette session du navigateur ou a déjà servi. Recommencez la connexion depuis cette page.",
  err_access_denied: "Vous avez refusé l'accès chez le fournisseur. Rien n'a été connecté.",
  err_consent_expired: "Le consentement a expiré. Donnez-le à nouveau pour continuer à recevoir les données.",
  err_consent_revoked: "Le consentement a été révoqué. Redonnez-le sur le site du fournisseur, puis reconnectez ici.",
  err_already_shared: "Les données de ce compteur sont déjà partagées avec une autre application pour le même consentement. Retirez ce consentement sur le portail Enedis, puis reconnectez.",
  err_expired_token: "Le code a expiré avant d'être validé. Connectez-vous à nouveau pour en obtenir un autre.",
  err_invalid_input: "Vérifiez les champs du formulaire : {message}",
  err_invalid_instance: "Ce n'est pas l'adresse d'un Cozy (par exemple alice.mycozy.cloud).",
  err_invalid_token: "Le jeton a été refusé. Copiez-le à nouveau depuis le site de la passerelle.",
  err_provider_error: "Le fournisseur a refusé : {message}",
  err_provider_unreachable: "Le fournisseur est injoignable : {message}",
  err_not_connected: "Ce compte n'est plus connecté. Connectez-le à nouveau.",
  err_reconnect_required: "Connectez ce compte à nouveau.",
  err_token_expired: "L'accès a expiré. Connectez ce compte à nouveau.",
  err_unknown_flow: "Cette connexion n'est plus en cours. Recommencez.",
  err_wrong_prm: "Le numéro de compteur (PRM) ne correspond pas à ce consentement.",
  err_no_meter: "Aucun compteur n'a été trouvé dans ce compte.",
  err_internal: "Un problème est survenu du côté de l'add-on ; son journal donne les détails.",
  popup_waiting: "Terminez la connexion à {provider} dans la fenêtre qui s'est ouverte.",
  popup_closed: "La fenêtre de connexion s'est fermée avant de revenir ici. Si elle a fini sur une page d'erreur (par exemple « 401: Unauthorized »), collez son adresse ci-dessous.",
  popup_blocked: "Le navigateur a bloqué la fenêtre de connexion.",
  popup_link: "Ouvrir la page de connexion de {provider}",
  paste_title: "Connecté, mais la fenêtre a fini sur une page d'erreur ?",
  paste_help: "Copiez l'adresse complète de cette page (elle contient …/callback/… et un code) et collez-la ici pour terminer la connexion.",
  paste_label: "Adresse de cette page",
  paste_submit: "Terminer la connexion",
  paste_invalid: "Ce n'est pas l'adresse d'un retour de connexion (…/callback/<fournisseur>?…&state=…).",
  login_title: "Connexion",
  login_intro: "Saisissez le web_secret des options d'Energy Bridge.",
  login_secret: "Secret",
  login_submit: "Se connecter",
  login_wrong: "Secret incorrect. Encore {n} essai(s) avant le blocage de cette adresse pendant 15 minutes.",
  login_locked: "Trop d'échecs de connexion depuis votre adresse. Réessayez dans {minutes} minute(s).",
  logout: "Se déconnecter",
  login_required: "Connectez-vous d'abord.",
  rate_limited: "Trop de requêtes. Réessayez dans {seconds} seconde(s).",
  not_found: "Cette page n'existe pas.",
  back: "Retour aux comptes",
};

const DICTS: Record<Lang, Record<MessageKey, string>> = { en, fr };

/** The whole dictionary of a language (handed to the page script). */
export function messages(lang: Lang): Readonly<Record<MessageKey, string>> {
  return DICTS[lang];
}

/** The string `key` in `lang` with `{name}` placeholders filled from `vars`. */
export function t(lang: Lang, key: MessageKey, vars: Record<string, string | number> = {}): string {
  return DICTS[lang][key].replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

function asLang(v: unknown): Lang | null {
  return v === "en" || v === "fr" ? v : null;
}

/**
 * The language of a request. `query` = `?lang=` value, `cookie` = the eb_lang cookie,
 * `acceptLanguage` = the header (`fr-FR,fr;q=0.9,en;q=0.8`).
 */
export function pickLang(query: unknown, cookie: unknown, acceptLanguage: string | undefined): Lang {
  const chosen = asLang(query) ?? asLang(cookie);
  if (chosen) return chosen;
  const ranked = (acceptLanguage ?? "")
    .split(",")
    .map((part, i) => {
      const [tag = "", ...params] = part.trim().split(";");
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((x) => x !== undefined);
      return { lang: tag.trim().toLowerCase().split("-")[0], q: q === undefined ? 1 : Number(q), i };
    })
    .filter((x) => x.q > 0 && (x.lang === "en" || x.lang === "fr"))
    .sort((a, b) => b.q - a.q || a.i - b.i);
  return (ranked[0]?.lang as Lang | undefined) ?? "en";
}
