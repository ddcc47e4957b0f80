// Lambda's architectures: the two machines a function is built for, and how its configuration names one. The
// dispatcher routes by it and the runner refuses another machine's function (docs/runner.md "Architectures").

/** Lambda's names for the two architectures it runs (`Configuration.Architectures`). */
export const Architecture = { x86_64: 'x86_64', arm64: 'arm64' } as const;
export type Architecture = (typeof Architecture)[keyof typeof Architecture];

/** The architecture a function is built for: the first of its `Architectures`, Lambda's default x86_64 when none. */
export function architectureOf(architectures: readonly string[] | undefined): string {
  return architectures?.[0] ?? Architecture.x86_64;
}
