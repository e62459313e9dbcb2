// The manifest describes the package as published: its modules are the
// compiled files under dist/, not the TypeScript sources they come from.
import {posix} from 'node:path';
import {frameworkTypes} from './scripts/framework-types.mjs';

/** `src/a/b.ts` → `dist/a/b.js`; a path relative to `from` (`./b.js`) is resolved first. */
function published(path, from) {
  const resolved = path.startsWith('.') ? posix.join(posix.dirname(from), path) : path.replace(/^\//, '');
  return resolved.replace(/^src\//, 'dist/').replace(/\.ts$/, '.js');
}

/** Rewrites every `module` reference inside `value`, for references made in the module at `from`. */
function rewriteReferences(value, from) {
  if (Array.isArray(value)) {
    for (const item of value) rewriteReferences(item, from);
  } else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === 'module' && typeof inner === 'string') value.module = published(inner, from);
      else rewriteReferences(inner, from);
    }
  }
}

function publishedPaths() {
  return {
    name: 'published-paths',
    packageLinkPhase({customElementsManifest}) {
      for (const module of customElementsManifest.modules) {
        const source = module.path;
        rewriteReferences(module.declarations, source);
        rewriteReferences(module.exports, source);
        module.path = published(source, source);
      }
      // In path order: the glob lists files in the order the file system
      // keeps them, which differs from one checkout to another.
      customElementsManifest.modules.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    },
  };
}

/**
 * A class's private members are no part of its subclasses: the analyzer lists
 * the element base's `#private` fields and methods on the element as
 * inherited, and this leaves them out of the element (the base keeps them).
 */
function noInheritedPrivates() {
  return {
    name: 'no-inherited-privates',
    packageLinkPhase({customElementsManifest}) {
      const elements = customElementsManifest.modules
        .flatMap((module) => module.declarations ?? [])
        .filter((declaration) => declaration.customElement);
      for (const element of elements) {
        element.members &&= element.members.filter(
          (member) => !(member.inheritedFrom && member.privacy === 'private'),
        );
      }
    },
  };
}

export default {
  globs: ['src/**/*.ts'],
  // The Angular directive is compiled by Angular's compiler and is no custom element.
  exclude: ['src/**/*.test.ts', 'src/frameworks/**'],
  outdir: '.',
  litelement: true,
  plugins: [
    publishedPaths(),
    noInheritedPrivates(),
    frameworkTypes({outdir: 'dist/frameworks', typesFrom: '../index.js'}),
  ],
};
