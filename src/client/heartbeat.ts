import type {TimerHandle} from './environment.js';

/** A timer firing later than this after its due time was delayed by throttling or sleep. */
export const LATE_TIMER_SLACK = 1000;

export interface HeartbeatClock {
  /** Monotonic milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export interface HeartbeatHooks {
  /** Sends the ping payload; false when the socket refused it. */
  ping(): boolean;
  /** Nothing came back in time: the connection is dead. */
  dead(): void;
  log(line: string): void;
}

export interface HeartbeatSettings {
  /** ms without sending, or without receiving, after which a ping goes out; 0 turns the heartbeat off. */
  interval: number;
  /** ms to wait after a ping for anything from the other side. */
  timeout: number;
}

/**
 * The liveness rule of one open connection. A ping goes out whenever
 * `interval` passes without sending or without receiving; anything received
 * answers it; no answer within `timeout` declares the connection dead. A
 * probe while a ping is unanswered never postpones that ping's deadline.
 *
 * A deadline timer that fires late (a throttled, frozen or sleeping page)
 * cannot tell whose silence it measured, so it re-probes once instead of
 * deciding. If that re-probe goes unanswered until its own deadline, on time
 * or late, the connection is dead: a background tab whose timers run once a
 * minute still notices a dead link within a few of its timer periods.
 *
 * @example
 * const heartbeat = new Heartbeat(clock, {ping: () => socket.send('ping'), dead: reconnect, log});
 * heartbeat.start({interval: 30_000, timeout: 10_000});
 * socket.onmessage = (event) => heartbeat.received(event.data === 'pong');
 */
export class Heartbeat {
  readonly #clock: HeartbeatClock;
  readonly #hooks: HeartbeatHooks;
  #settings: HeartbeatSettings = {interval: 0, timeout: 0};
  #running = false;
  #timer: TimerHandle | undefined;
  /** When the pending timer was meant to fire, to tell how late it is. */
  #dueAt = 0;
  #lastSent = 0;
  #lastReceived = 0;
  /** When the unanswered probe went out; anything received answers it. */
  #probeSentAt: number | undefined;
  /** When the unanswered ping went out; only the pong answers it, for the round trip. */
  #pingSentAt: number | undefined;
  /** A late deadline already earned the connection a second probe. */
  #reprobed = false;

  constructor(clock: HeartbeatClock, hooks: HeartbeatHooks) {
    this.#clock = clock;
    this.#hooks = hooks;
  }

  /** The connection opened: silence is measured from now. */
  start(settings: HeartbeatSettings): void {
    this.#settings = settings;
    this.#running = true;
    this.#lastSent = this.#lastReceived = this.#clock.now();
    this.#probeSentAt = this.#pingSentAt = undefined;
    this.#reprobed = false;
    this.#arm();
  }

  /** The connection is gone: no more timers. */
  stop(): void {
    this.#running = false;
    this.#probeSentAt = this.#pingSentAt = undefined;
    this.#clear();
  }

  /** New settings apply to the running heartbeat at once; the same ones change nothing. */
  configure(settings: HeartbeatSettings): void {
    const {interval, timeout} = this.#settings;
    if (settings.interval === interval && settings.timeout === timeout) return;
    this.#settings = settings;
    if (this.#running) this.#arm();
  }

  /** The application sent something. The timer is not moved here, to keep sending cheap: it re-checks when it fires. */
  sent(): void {
    this.#lastSent = this.#clock.now();
  }

  /**
   * Something was received, which proves the connection alive. Returns the
   * round trip in ms when it is the pong to our ping.
   */
  received(isPong: boolean): number | undefined {
    const now = this.#clock.now();
    this.#lastReceived = now;
    this.#reprobed = false;
    if (this.#probeSentAt !== undefined) {
      // The timer waits for this reply's deadline: set it for the next ping instead.
      this.#probeSentAt = undefined;
      this.#arm();
    }
    if (!isPong || this.#pingSentAt === undefined) return undefined;
    const latency = now - this.#pingSentAt;
    this.#pingSentAt = undefined;
    return latency;
  }

  /**
   * Asks the other side for a sign of life now (the page woke up, the
   * network changed). While an earlier probe is unanswered the ping goes out
   * again but the deadline stays the earlier one's, or a page that keeps
   * signalling would keep a dead link alive.
   */
  probe(): void {
    if (!this.#running || this.#settings.interval <= 0) return;
    this.#ping(this.#probeSentAt === undefined);
  }

  /** Sends a ping; `renew` starts a new deadline from now, else the unanswered one stands. */
  #ping(renew: boolean): void {
    const now = this.#clock.now();
    // A refused ping still gets its deadline: a socket that cannot send is as good as dead.
    if (this.#hooks.ping()) this.#lastSent = now;
    // Replies come in order: the first pong answers the first ping, so its send time is kept too.
    if (!renew) return;
    this.#probeSentAt = this.#pingSentAt = now;
    this.#arm();
  }

  /** One timer serves it all: due at the next ping, or at the deadline of the last one. */
  #arm(): void {
    this.#clear();
    const {interval, timeout} = this.#settings;
    if (!this.#running || interval <= 0) return;
    this.#dueAt = this.#probeSentAt === undefined ? this.#nextPingAt() : this.#probeSentAt + timeout;
    this.#set(Math.max(0, this.#dueAt - this.#clock.now()), () => this.#onTimer());
  }

  #nextPingAt(): number {
    return Math.min(this.#lastSent, this.#lastReceived) + this.#settings.interval;
  }

  #onTimer(): void {
    const now = this.#clock.now();
    const late = now - this.#dueAt;
    const {timeout} = this.#settings;
    if (this.#probeSentAt === undefined) {
      // Traffic since arming may have moved the next ping later.
      if (now >= this.#nextPingAt()) this.#ping(true);
      else this.#arm();
      return;
    }
    if (now - this.#probeSentAt < timeout) {
      this.#arm();
      return;
    }
    if (late > LATE_TIMER_SLACK && !this.#reprobed) {
      // Throttled, frozen or asleep: the silence may be ours, not the other side's.
      this.#hooks.log(`heartbeat timer ${Math.round(late)} ms late; probing again`);
      this.#reprobed = true;
      // The one deadline that is renewed while a ping is unanswered.
      this.#ping(true);
      return;
    }
    // A reply may be waiting behind this timer in the page's task queue:
    // give it as long again as the timer was late (up to the slack), then
    // decide. A reply re-arms the timer, which cancels the verdict.
    this.#set(Math.min(Math.max(0, late), LATE_TIMER_SLACK), () => {
      this.#hooks.log(`no reply to the ping within ${timeout} ms`);
      this.stop();
      this.#hooks.dead();
    });
  }

  #set(ms: number, callback: () => void): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      callback();
    }, ms);
  }

  #clear(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
