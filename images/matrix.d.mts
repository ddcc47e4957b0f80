// Types of images/matrix.mjs (the reader of images/matrix.json), for the TypeScript tests.
export interface Standin {
  target: string;
  suite: string;
  node?: string;
}
export interface ImageEntry {
  flavour: 'lambda' | 'geolambda';
  repository: string;
  runtime: string;
  base: string;
  default?: boolean;
  node_sdk?: boolean;
  geo_base?: boolean;
  standin: Standin;
}
export interface Matrix {
  node: { image: string; standin: Standin };
  geo: Record<string, string>;
  images: ImageEntry[];
}
export const matrixPath: URL;
export const repoRoot: URL;
export function readMatrix(): Matrix;
export function packageVersion(): string;
export function imageTags(entry: ImageEntry, where: { repo: string; version: string }): string[];
