// The signed-in secret key lives in sessionStorage only: it ends with the tab, is never written to
// localStorage or a cookie, and signing out removes it.
const KEY = 'parley.console.secretKey';
export const SECRET_KEY_SHAPE = /^sk_(live|test)_[0-9A-Za-z]{32}$/;

export const loadKey = (storage: Storage = sessionStorage): string | null => {
  const v = storage.getItem(KEY);
  return v && SECRET_KEY_SHAPE.test(v) ? v : null;
};
export const saveKey = (key: string, storage: Storage = sessionStorage): void => storage.setItem(KEY, key);
export const clearKey = (storage: Storage = sessionStorage): void => storage.removeItem(KEY);
/** What the UI shows of a key: the same 12-character prefix the server lists. */
export const keyPrefix = (key: string): string => key.slice(0, 12);
