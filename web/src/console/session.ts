/** What the console signs in with: an API key and, for admins, an owner. */
export type Session = { key: string; owner: string };

const keyItem = "hookline:apiKey";
const ownerItem = "hookline:owner";

/** load returns the session kept in this tab, if any. */
export function load(): Session | null {
  const key = sessionStorage.getItem(keyItem);
  return key ? { key, owner: sessionStorage.getItem(ownerItem) ?? "" } : null;
}

export function save(s: Session | null) {
  if (!s) {
    sessionStorage.removeItem(keyItem);
    sessionStorage.removeItem(ownerItem);
    return;
  }
  sessionStorage.setItem(keyItem, s.key);
  if (s.owner) sessionStorage.setItem(ownerItem, s.owner);
  else sessionStorage.removeItem(ownerItem);
}

/**
 * keyFromFragment takes a key from a share link (/#key=<key>) and removes
 * it from the address bar and the history, so it is not bookmarked,
 * shared on by accident or left in the back button.
 */
export function keyFromFragment(): string | null {
  const m = /^#key=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(history.state, "", location.pathname + location.search);
  try {
    return decodeURIComponent(m[1]);
  } catch {
    return null;
  }
}

/** shareLink is the URL that signs a partner in with key. */
export function shareLink(key: string): string {
  return `${location.origin}/#key=${encodeURIComponent(key)}`;
}
