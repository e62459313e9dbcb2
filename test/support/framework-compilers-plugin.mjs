// Compiles the framework examples of test/frameworks/ on their way to the
// browser, as each framework's own build would: Vue's single-file components
// with Vue's compiler (the tag declared a custom element, as the README says),
// Svelte components with Svelte's compiler, Solid's JSX with its Babel preset;
// esbuild removes the types. React's needs only esbuild, and Angular's
// compiler runs in the page (JIT).
import {transformAsync} from '@babel/core';
import {transform} from 'esbuild';
import {compile} from 'svelte/compiler';
import {compileScript, parse} from 'vue/compiler-sfc';

const isCustomElement = (tag) => tag === 'ws-connection';
const SOLID = /^\/test\/frameworks\/solid\/[^/]+\.tsx$/;

export function frameworkCompilersPlugin() {
  return {
    name: 'framework-compilers',
    async transform(context) {
      if (context.path.endsWith('.vue')) {
        // The template is parsed once, with the descriptor: that is where the tag is told apart.
        const {descriptor} = parse(context.body, {
          filename: context.path,
          templateParseOptions: {isCustomElement},
        });
        const script = compileScript(descriptor, {id: context.path, inlineTemplate: true});
        const {code} = await transform(script.content, {loader: 'ts', target: 'es2022'});
        return {body: code};
      }
      if (context.path.endsWith('.svelte')) {
        const {js} = compile(context.body, {filename: context.path, generate: 'client', dev: true});
        return {body: js.code};
      }
      if (SOLID.test(context.path)) {
        const typeless = await transform(context.body, {loader: 'tsx', jsx: 'preserve', target: 'es2022'});
        const solid = await transformAsync(typeless.code, {
          filename: context.path,
          presets: [['babel-preset-solid', {generate: 'dom'}]],
          babelrc: false,
          configFile: false,
        });
        return {body: solid.code};
      }
      return undefined;
    },
  };
}
