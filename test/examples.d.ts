// The JavaScript examples, as the TypeScript test sees them.
declare module '*/examples/react/LiveFeed.jsx' {
  import type {FunctionComponent} from 'react';
  export const LiveFeed: FunctionComponent<{url: string}>;
}
declare module '*/examples/vue/LiveFeed.js' {
  import type {Component} from 'vue';
  export const LiveFeed: Component<{url: string}>;
}
