// Types for debianPackages.mjs, for the TypeScript benchmarks that install what they need.
export function ensureDebianPackages(packages: Array<{ pkg: string; provides: string }>, purpose: string): void;
