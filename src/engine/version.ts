/** Filled in by esbuild from package.json; the fallback serves tsx-run tests. */
declare const __LANDSCAPE_VERSION__: string | undefined;
export const LANDSCAPE_VERSION: string = typeof __LANDSCAPE_VERSION__ === 'string' ? __LANDSCAPE_VERSION__ : '0.0.0-dev';
