// Typings for the frameworks, generated from the manifest when it is made
// (a plugin of `cem analyze`). The props and events come from
// @wc-toolkit/jsx-types; each package subpath
// (`ws-connection/react`, `/solid`, `/svelte`, `/vue`) gets one file that
// augments its own framework only, so a React project is not told about
// Preact or Solid modules it does not have.
import {mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {generateJsxTypes} from '@wc-toolkit/jsx-types';

const GENERATED = '// Generated from custom-elements.json by scripts/framework-types.mjs.\n';

/**
 * The manifest as the typings should see it: read-only members (`state`,
 * `attempt`, …) are outputs, not something a template may set, so they are
 * left out, with the attribute that reflects `state`.
 */
function settableOnly(manifest) {
  const copy = structuredClone(manifest);
  for (const declaration of copy.modules.flatMap((module) => module.declarations ?? [])) {
    if (!declaration.customElement) continue;
    const readOnly = new Set(
      (declaration.members ?? []).filter((member) => member.readonly).map((member) => member.name),
    );
    declaration.members = declaration.members?.filter((member) => !readOnly.has(member.name));
    declaration.attributes = declaration.attributes?.filter(
      (attribute) => !readOnly.has(attribute.fieldName ?? attribute.name),
    );
  }
  return copy;
}

/** `ws-state` → `onWsState`: the name Vue's template compiler gives `@ws-state`. */
function vueHandlerName(event) {
  return `on${event.replace(/(^|-)(\w)/g, (_, _dash, letter) => letter.toUpperCase())}`;
}

/**
 * Vue's template checker camelizes what a template says (`:heartbeat-interval`
 * → `heartbeatInterval`, `@ws-state` → `onWsState`) and looks the result up in the
 * component's props, so the events are typed under those names too.
 */
function vueTypes(manifest) {
  const elements = manifest.modules
    .flatMap((module) => module.declarations ?? [])
    .filter((declaration) => declaration.customElement && declaration.tagName);
  const props = (element) => `${element.name}Props`;
  const components = elements.map((element) => {
    const events = (element.events ?? []).map(
      ({name}) => `        ${vueHandlerName(name)}?: ${props(element)}['on${name}'];`,
    );
    return `    '${element.tagName}': DefineComponent<\n      ${props(element)} & {\n${events.join('\n')}\n      }\n    >;`;
  });
  return `
import type {DefineComponent} from 'vue';
import type {${elements.map(props).join(', ')}} from './jsx.js';
export type {${elements.map(props).join(', ')}} from './jsx.js';

declare module 'vue' {
  interface GlobalComponents {
${components.join('\n')}
  }
}
`;
}

/** The generated JSX types without their module augmentations, which each framework's file makes itself. */
function jsxTypes(manifest, typesFrom) {
  const template = generateJsxTypes(manifest, {
    outdir: '.',
    fileName: '',
    componentTypePath: () => typesFrom,
    stronglyTypedEvents: true,
  });
  const augmentations = template?.indexOf("declare module 'react'") ?? -1;
  if (augmentations < 0)
    throw new Error('framework-types: @wc-toolkit/jsx-types wrote no React augmentation');
  return template.slice(0, augmentations);
}

const ENTRIES = {
  // React's own props for an HTML element (its `ref`, `className`, `onClick`, …),
  // and the element's.
  'react.d.ts': `
import type {DetailedHTMLProps, HTMLAttributes} from 'react';
import type {WsConnection} from '../index.js';
import type {CustomCssProperties, WsConnectionProps} from './jsx.js';
export type {WsConnectionProps} from './jsx.js';

declare module 'react' {
  namespace JSX {
    interface IntrinsicElements {
      'ws-connection': DetailedHTMLProps<HTMLAttributes<WsConnection>, WsConnection> & WsConnectionProps;
    }
  }
  interface CSSProperties extends CustomCssProperties {}
}
`,
  'solid.d.ts': `
import type {CustomElementsSolidJs} from './jsx.js';
export type {WsConnectionSolidJsProps} from './jsx.js';

declare module 'solid-js' {
  namespace JSX {
    interface IntrinsicElements extends CustomElementsSolidJs {}
  }
}
`,
  // Svelte 5 sets a property when the element has it, an attribute otherwise,
  // and listens to `onws-message` as to `onclick`: the JSX props fit as they are.
  'svelte.d.ts': `
import type {HTMLAttributes} from 'svelte/elements';
import type {WsConnection} from '../index.js';
import type {WsConnectionProps} from './jsx.js';
export type {WsConnectionProps} from './jsx.js';

declare module 'svelte/elements' {
  interface SvelteHTMLElements {
    'ws-connection': HTMLAttributes<WsConnection> & WsConnectionProps;
  }
}
`,
};

/** The CEM analyzer plugin: writes the typings to `outdir` once the manifest is complete. */
export function frameworkTypes({outdir, typesFrom}) {
  return {
    name: 'framework-types',
    packageLinkPhase({customElementsManifest}) {
      const manifest = settableOnly(customElementsManifest);
      mkdirSync(outdir, {recursive: true});
      const files = {'jsx.d.ts': jsxTypes(manifest, typesFrom), 'vue.d.ts': vueTypes(manifest), ...ENTRIES};
      for (const [name, source] of Object.entries(files)) {
        writeFileSync(join(outdir, name), `${GENERATED}${source.trim()}\n`);
      }
    },
  };
}
