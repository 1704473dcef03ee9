import { BrindleError } from '../lib/index.js';

/** The inventory or settings file is unreadable or invalid: names the file and the field. */
export class DeployInputError extends BrindleError {
  readonly field: string | undefined;

  constructor(file: string, detail: string, field?: string) {
    super('DEPLOY_INVALID', `${file}: ${field === undefined ? '' : `${field}: `}${detail}`, { status: 400 });
    this.field = field;
  }
}

/** A step failed on a machine: names the machine, the step and the command with its output. */
export class DeployStepError extends BrindleError {
  readonly machine: string;
  readonly step: string;

  constructor(machine: string, step: string, command: string, output: string) {
    const shown = output.trim().split('\n').slice(-20).join('\n');
    super('DEPLOY_STEP', `${machine}: ${step}: \`${command}\` failed${shown === '' ? '' : `:\n${shown}`}`, { status: 500 });
    this.machine = machine;
    this.step = step;
  }
}

/** The machine could not be reached over ssh at all. */
export class DeployUnreachableError extends BrindleError {
  constructor(machine: string, address: string, output: string) {
    super('DEPLOY_UNREACHABLE', `${machine} (${address}): ssh failed: ${output.trim().split('\n').slice(-3).join(' ')}`, {
      status: 503,
      hint: 'check the address, that sshd runs there and that the key is accepted for the inventory user',
    });
  }
}

/** The post-deploy verification found the cloud not working; lists each failed check. */
export class DeployVerifyError extends BrindleError {
  constructor(failed: readonly string[]) {
    super('DEPLOY_VERIFY', `verification failed: ${failed.join('; ')}`, { status: 500 });
  }
}
