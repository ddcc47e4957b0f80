// One shape for every error type of the project: a class per failure a caller can act on, named after it, below its
// part's base class (runner/errors.ts, functions/post-batch/errors.ts, lib/errors.ts). `name` is what the runner's
// last line starts with and what Lambda reports as errorType, so it is set once here, never by hand.

/** A class of errors of type `E`, constructed as Error is. */
export type ErrorClass<E extends Error = Error> = new (message: string, options?: ErrorOptions) => E;

/**
 * An error class called `name` below `Base`: `instanceof` holds for it and for every base, each error's `name` and
 * the class's own are `name`, and `fields` (the runner's exit code, say) are set on each error it makes.
 *
 * Declared as a class of its own, so that its name is a type too:
 *
 * @example
 * export class UsageError extends errorClass('UsageError', RunnerError, { exitCode: ExitCode.usage }) {}
 * new UsageError('missing <payload-url>') instanceof RunnerError; // true; its name is 'UsageError', exit code 2
 */
export function errorClass<E extends Error>(
  name: string,
  Base: ErrorClass<E>,
  fields: Partial<E> = {},
): ErrorClass<E> {
  const Named = class extends (Base as ErrorClass) {
    constructor(message: string, options?: ErrorOptions) {
      super(message, options);
      this.name = name;
      Object.assign(this, fields);
    }
  };
  Object.defineProperty(Named, 'name', { value: name });
  return Named as unknown as ErrorClass<E>;
}
