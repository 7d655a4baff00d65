// Builds what the image runs: `dist/sde-operator.mjs`, the `sde-operator` command and every
// package it imports in one ES module file (esbuild), so the operator starts without Node's
// TypeScript stripping and without a node_modules tree. Measured on `sde-operator crds` after
// loading: 175 MB resident from the TypeScript sources, 125 MB from the bundle (type stripping
// keeps a WebAssembly compiler in memory, and hundreds of module records and sources go too).
//
//   npm run build            # writes dist/sde-operator.mjs and its source map
import { build } from 'esbuild';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` writes the bundle (the image copies it from there). */
export const BUNDLE = fileURLToPath(new URL('../dist/sde-operator.mjs', import.meta.url));

/**
 * The development tools cli/main.ts loads only when asked for (their import specifiers): left out
 * of the bundle, so the image carries neither the local Kubernetes nor the demo (their import
 * fails there, and says so).
 */
export const DEVELOPMENT_TOOLS = /^(\.\.\/devcluster\/cli|\.\/demo)\.ts$/;

/** Bundles cli/main.ts without the development tools into `outfile` (default {@link BUNDLE}); resolves with the file's path. */
export async function buildBundle(outfile: string = BUNDLE): Promise<string> {
  await build({
    entryPoints: [fileURLToPath(new URL('../cli/main.ts', import.meta.url))],
    plugins: [{ name: 'leave-out-development-tools', setup: (b) => b.onResolve({ filter: DEVELOPMENT_TOOLS }, (args) => ({ path: args.path, external: true })) }],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Whitespace and comments go (8 MB less resident: V8 keeps a module's source); names stay,
    // so stack traces in a site's logs read as they would from the sources. The source map maps
    // their positions back (`node --enable-source-maps`), without the sources themselves.
    minifyWhitespace: true,
    sourcemap: 'linked',
    sourcesContent: false,
    // Licence notices go to dist/sde-operator.mjs.LEGAL.txt. In the bundle, one non-ASCII character
    // would make V8 hold its whole source as two bytes per character (5 MB more).
    legalComments: 'linked',
    charset: 'ascii',
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require() for Node's built-in modules.
    banner: { js: "import { createRequire as __sdeCreateRequire } from 'node:module'; const require = __sdeCreateRequire(import.meta.url);" },
  });
  // esbuild leaves non-ASCII characters in regular expression literals (a `µs` in a duration
  // pattern); an escape means the same there and in strings, and keeps the source one byte a character.
  const text = readFileSync(outfile, 'utf8');
  const ascii = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) writeFileSync(outfile, ascii);
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await buildBundle());
