// AWS_LAMBDA_EXEC_WRAPPER ("Wrapper scripts", Modifying the runtime environment): the runtime is started through the
// wrapper, which Lambda hands "the path to the interpreter and all of the original arguments for the standard runtime
// startup". Lambda's own bootstraps (/var/runtime/bootstrap in the base images) apply it themselves, with these checks
// and exit codes (127 for a wrapper that does not exist, 126 for one that is not executable); the runner does the same
// for its own Python and Node.js clients. A custom runtime's bootstrap gets the variable and does as it pleases.
import { accessSync, constants, statSync } from 'node:fs';
import { FunctionError } from '../errors.js';
import { RuntimeLossType } from './host.js';
import type { RuntimeCommand } from './which-runtime.js';

export const EXEC_WRAPPER = 'AWS_LAMBDA_EXEC_WRAPPER';

/** The command that starts `command` with the runtime's environment `env`: through its wrapper when it names one. */
export function throughWrapper(
  command: RuntimeCommand,
  env: Readonly<Record<string, string>>,
): { command: string; args: string[] } {
  const wrapper = env[EXEC_WRAPPER];
  if (!command.ownClient || !wrapper) return { command: command.command, args: command.args };
  let problem: { text: string; code: number } | undefined;
  try {
    if (!statSync(wrapper).isFile()) problem = { text: 'does not exist', code: 127 };
    else accessSync(wrapper, constants.X_OK);
  } catch (err) {
    problem =
      (err as NodeJS.ErrnoException).code === 'EACCES'
        ? { text: 'is not an executable', code: 126 }
        : { text: 'does not exist', code: 127 };
  }
  if (problem) {
    throw new FunctionError(
      RuntimeLossType.exit,
      `${wrapper}: ${problem.text} (${EXEC_WRAPPER}); the runtime exited with code ${problem.code}`,
    );
  }
  return { command: wrapper, args: [command.command, ...command.args] };
}
