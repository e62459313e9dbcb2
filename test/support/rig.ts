/**
 * The browser side of the server rig: each test starts its own server, steers
 * it, and stops it. Every call goes to the test runner's process, where
 * `rig-plugin.mjs` carries it out.
 */
import {executeServerCommand} from '@web/test-runner-commands';

export interface RigStatus {
  /** The server accepts connections (false between kill and revive). */
  listening: boolean;
  /** WebSocket connections open at the server now. */
  open: number;
  /** Connections accepted since start. */
  accepted: number;
  /** Most connections open at the same time since start. */
  peak: number;
  /** Messages received and not yet taken. */
  received: number;
  /** The proxy is blackholing. */
  holed: boolean;
  /** TCP connections the proxy holds. */
  proxyConnections: number;
}

export type Received = string | {binary: number};

export interface RigConnection {
  /** The subprotocols the client offered, in order. */
  protocols: string[];
  /** The one the server chose (the first offered), or ''. */
  protocol: string;
  /** The request path and query. */
  path: string;
  /** When the server accepted it, in the server's Date.now(). */
  at: number;
}

async function command<T>(op: string, args: object = {}): Promise<T> {
  return (await executeServerCommand('ws-rig', {op, ...args})) as T;
}

export class Rig {
  readonly id: number;
  /** ws:// URL straight to the server. */
  readonly url: string;
  /** ws:// URL through the proxy that can blackhole. */
  readonly proxyUrl: string;
  readonly port: number;

  private constructor(info: {id: number; url: string; proxyUrl: string; port: number}) {
    this.id = info.id;
    this.url = info.url;
    this.proxyUrl = info.proxyUrl;
    this.port = info.port;
  }

  static async start(): Promise<Rig> {
    return new Rig(await command('start'));
  }

  /**
   * Starts a server speaking the delivery protocol (`reliable()` with its
   * memory store): it echoes each message to its session, answers each
   * request with `re:` and its text, and `push` sends to every session.
   * `received()` gives `{session, data}` entries; a kill or restart loses
   * every session.
   */
  static async startReliable(
    options: {resumeWindow?: number; interval?: number; timeout?: number; maxFrame?: number} = {},
  ): Promise<Rig> {
    return new Rig(await command('startReliable', options));
  }

  /** Stops every server the calling test page started. */
  static stopAll(): Promise<number> {
    return command('stopSession');
  }

  private op<T = true>(op: string, args: object = {}): Promise<T> {
    return command<T>(op, {id: this.id, ...args});
  }

  status(): Promise<RigStatus> {
    return this.op('status');
  }
  /** Echo every message but `ping` back (on by default). */
  setEcho(echo: boolean): Promise<true> {
    return this.op('set', {echo});
  }
  /** Answer `ping` with `pong` (on by default); false mutes the server. */
  setPong(pong: boolean): Promise<true> {
    return this.op('set', {pong});
  }
  /** A reliable rig: answer requests (on by default); false leaves them unanswered. */
  setAnswer(answer: boolean): Promise<true> {
    return this.op('set', {answer});
  }
  /** Accept each connection and drop it at once (a server in a crash loop). */
  setFlap(flap: boolean): Promise<true> {
    return this.op('set', {flap});
  }
  /** Sends `count` messages `${prefix}${i}` to every client; resolves to the client count. */
  push(count: number, prefix = 'm'): Promise<number> {
    return this.op('push', {count, prefix});
  }
  send(data: string, binary = false): Promise<number> {
    return this.op('send', {data, binary});
  }
  closeClients(code = 1000, reason = ''): Promise<number> {
    return this.op('closeClients', {code, reason});
  }
  /** Destroys every client's TCP socket without a close frame (the browser sees 1006). */
  terminateClients(): Promise<number> {
    return this.op('terminateClients');
  }
  kill(): Promise<true> {
    return this.op('kill');
  }
  revive(): Promise<true> {
    return this.op('revive');
  }
  /** Kills the server now and revives it on the same port after `downMs`. */
  restart(downMs: number): Promise<true> {
    return this.op('restart', {downMs});
  }
  blackhole(): Promise<true> {
    return this.op('blackhole');
  }
  heal(): Promise<true> {
    return this.op('heal');
  }
  /** Writes raw bytes to the browser through the proxy. */
  inject(bytes: number[]): Promise<true> {
    return this.op('inject', {bytes});
  }
  received(): Promise<Received[]> {
    return this.op('received');
  }
  /** Every connection accepted since start, in order. */
  connections(): Promise<RigConnection[]> {
    return this.op('connections');
  }
  takeReceived(): Promise<Received[]> {
    return this.op('takeReceived');
  }
  /** Starts nginx in front of the server, closing connections idle for 2 s; resolves to its ws:// URL. */
  startNginx(): Promise<string> {
    return this.op('startNginx');
  }
  stop(): Promise<true> {
    return command('stop', {id: this.id});
  }
}

/** Resolves once `check` returns true, polling; rejects after `timeout` ms. */
export async function until(
  check: () => boolean | Promise<boolean>,
  {timeout = 5000, interval = 20, message = 'condition'} = {},
): Promise<void> {
  const deadline = performance.now() + timeout;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
