// How this project starts headless Chromium, everywhere it does: the tests,
// the demo test, the soak and the benchmarks.

/** As root, on a closed network: no sandbox, no GPU, and none of Chromium's own traffic. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/**
 * For runs that measure timers: a page in a background tab keeps them on
 * time. The soak leaves them out, so that its page is throttled as a real one is.
 */
export const ON_TIME_TIMER_FLAGS = [
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];
