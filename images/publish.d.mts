// Types of images/publish.mjs (the publish step of npm run images), for the TypeScript tests.
export function registryHost(prefix: string): string;
export function isLoopback(host: string): boolean;
