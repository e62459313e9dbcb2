/**
 * How long to wait before retry number `retry` (1 for the first): the window
 * doubles from `base` up to `max`, and the delay is drawn uniformly from it
 * ("full jitter"), so that clients dropped at the same moment spread out
 * instead of returning together.
 *
 * @example
 * retryDelay(3, 1000, 30000, Math.random); // somewhere in [0, 4000)
 */
export function retryDelay(retry: number, base: number, max: number, random: () => number): number {
  const window = Math.min(max, base * 2 ** Math.max(0, retry - 1));
  return Math.floor(window * random());
}
