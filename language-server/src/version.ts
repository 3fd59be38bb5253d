// Replaced at build time by esbuild's `define` with the version in package.json.
declare const __TESSERA_VERSION__: string | undefined;

export const VERSION: string = typeof __TESSERA_VERSION__ === 'string' ? __TESSERA_VERSION__ : '0.0.0-dev';
