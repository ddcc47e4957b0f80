// Types of images/matrix.mjs (the reader of images/matrix.json), for the TypeScript tests.
export type Arch = 'x86_64' | 'arm64';
export interface Standin {
  target: string;
  suite: string;
  node?: string;
  jdk?: string;
  npm_test?: Arch[];
}
export interface ImageEntry {
  flavour: 'lambda' | 'geolambda';
  repository: string;
  runtime: string;
  base: string;
  digests?: Partial<Record<Arch, string>>;
  os: 'al2' | 'al2023';
  unpinned?: string;
  default?: boolean;
  node_sdk?: boolean;
  /** `base`: the runner runs on the base's own Node.js (/var/lang/bin/node); the image ships none */
  runner_node?: 'base';
  geo_base?: boolean;
  standin: Standin;
}
export interface Matrix {
  arches: Arch[];
  node: { image: string; standin: Standin };
  geo: Record<string, string>;
  images: ImageEntry[];
}
export const matrixPath: URL;
export const repoRoot: URL;
export const ARCHES: readonly Arch[];
export const MACHINE: Record<Arch, string>;
export function readMatrix(): Matrix;
export function parseMatrix(text: string): Matrix;
export function packageVersion(): string;
export function checkArch(arch: string): Arch;
export function dockerArch(arch: Arch): string;
export function baseFor(entry: ImageEntry, arch: Arch): string;
export function nodeImageFor(m: Matrix, arch: Arch): string;
export function npmTestArches(entry: ImageEntry): Arch[];
export function archTag(entry: ImageEntry, where: { repo: string; version: string; arch: Arch }): string;
export function listTags(entry: ImageEntry, where: { repo: string; version: string }): string[];
