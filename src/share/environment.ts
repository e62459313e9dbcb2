/**
 * What sharing needs from the platform besides the engine's environment:
 * Web Locks to elect the tab that holds the socket, a BroadcastChannel per
 * key to carry everything else, and the page signals on which a holder
 * hands over. Read from globals guardedly: where either is missing (an
 * insecure context, an old browser), elements share within the page only.
 */

export interface LockManagerLike {
  request(
    name: string,
    options: {signal?: AbortSignal; steal?: boolean},
    callback: () => Promise<void>,
  ): Promise<unknown>;
  query(): Promise<{held?: {name?: string; clientId?: string}[]}>;
}

export interface ChannelLike {
  onmessage: ((event: {data: unknown}) => void) | null;
  postMessage(message: unknown): void;
  close(): void;
}

/**
 * `leave`: the page is being hidden for good or for the back/forward cache
 * (`pagehide`), or frozen (`freeze`). `return`: it is back (`pageshow`,
 * `resume`).
 */
export type ShareSignal = 'leave' | 'return';

/** The page's hubs, by share key: one per page (a test world gives each of its tabs its own). */
export type ShareRegistry = Map<string, unknown>;

const pageRegistry: ShareRegistry = new Map();

export interface ShareEnvironment {
  registry: ShareRegistry;
  /** Undefined where there is no Web Locks API. */
  locks: LockManagerLike | undefined;
  /** Undefined where there is no BroadcastChannel. */
  channel: ((name: string) => ChannelLike) | undefined;
  watchPage(listener: (signal: ShareSignal) => void): () => void;
}

type Target = {
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
};

export function defaultShareEnvironment(): ShareEnvironment {
  const host = globalThis as unknown as Target & {
    navigator?: {locks?: LockManagerLike};
    BroadcastChannel?: new (name: string) => ChannelLike;
    document?: Target;
  };
  const Channel = host.BroadcastChannel;
  return {
    registry: pageRegistry,
    locks: host.navigator?.locks,
    channel: Channel && ((name) => new Channel(name)),
    watchPage(listener) {
      const leave = () => listener('leave');
      const back = () => listener('return');
      const subscriptions: [Target | undefined, string, () => void][] = [
        [host, 'pagehide', leave],
        [host, 'pageshow', back],
        [host.document, 'freeze', leave],
        [host.document, 'resume', back],
      ];
      for (const [target, type, handler] of subscriptions) target?.addEventListener?.(type, handler);
      return () => {
        for (const [target, type, handler] of subscriptions) target?.removeEventListener?.(type, handler);
      };
    },
  };
}
