// The JavaScript examples, as the TypeScript test sees them.
declare module '*/examples/react/LiveFeed.jsx' {
  import type {FunctionComponent} from 'react';
  export const LiveFeed: FunctionComponent<{url: string}>;
}
declare module '*/examples/vue/LiveFeed.js' {
  import type {Component} from 'vue';
  export const LiveFeed: Component<{url: string}>;
}
declare module '*/examples/i18n/status-words.js' {
  import type {StatusWords} from '../src/status-text.js';
  export const deutsch: Partial<StatusWords>;
  export const francais: Partial<StatusWords>;
}
declare module '*/examples/react/ServerRenderedFeed.jsx' {
  import type {FunctionComponent} from 'react';
  export const ServerRenderedFeed: FunctionComponent<{url: string}>;
}
