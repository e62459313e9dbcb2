/**
 * How often the tabs speak, and how long they wait for each other. A
 * follower judges the holder by answers, not by its own clock: it takes
 * over only from a holder that did not answer its probe within the
 * holder's `timeout`, counted from the probe.
 */

/** The most a holder stays silent: a beat at least this often (less with a short `timeout`). */
const MAX_BEAT = 1000;

/** ms between a holder's beats, for its `timeout`: a quarter of it, at most a second. */
export function beatInterval(timeout: number): number {
  return Math.min(MAX_BEAT, Math.max(1, timeout / 4));
}

/** Silence after which a follower probes: a beat that should have come by now did not. */
export function probeAfter(timeout: number): number {
  return beatInterval(timeout) * 1.25;
}

/**
 * Up to this much, at random, is added to a probe's deadline, so that of
 * several followers the first to take over is heard by the others before
 * their own deadlines.
 */
export const PROBE_SPREAD = 100;

/**
 * A probe's timer that fired later than this after its deadline was
 * throttled, and cannot tell whose silence it measured: the follower asks
 * once more. The engine's heartbeat allows the same second; this one is
 * sharing's own, so that sharing's code (a chunk of its own in the CDN
 * build) needs nothing from the engine but its public classes.
 */
export const LATE_PROBE = 1000;

/**
 * How long a page granted the lock waits, before it opens, for the word
 * that the last holder let the socket go. A page that navigates away may
 * lose its lock when the next document commits, before its own `pagehide`
 * has closed its socket (a few tens of ms later); a holder killed outright
 * says nothing, and is replaced this much later.
 */
export const FAREWELL_WAIT = 250;

/** A lock granted within this of asking was free: no holder had it. */
export const PROMPT_GRANT = 100;

/** How long a page that took the lock from a silent holder waits before it opens its socket. */
export const TAKEOVER_SETTLE = 50;
