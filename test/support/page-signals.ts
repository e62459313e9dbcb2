// Page lifecycle signals as a browser fires them, for tests whose page may
// not be in front (test runners open pages in background tabs).

/** The page comes to the front: `visibilitychange` with `visibilityState` "visible", emulated for one dispatch. */
export function becomeVisible(): void {
  Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'visible'});
  try {
    document.dispatchEvent(new Event('visibilitychange'));
  } finally {
    delete (document as {visibilityState?: unknown}).visibilityState;
  }
}
