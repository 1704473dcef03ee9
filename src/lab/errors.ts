import { BrindleError } from '../lib/index.js';

/** A namespace, link or address operation the kernel refused. */
export class LabCommandError extends BrindleError {
  constructor(command: string, stderr: string) {
    super('LAB_COMMAND', `Lab command failed: ${command}: ${stderr.trim().split('\n')[0] ?? ''}`, { status: 500 });
  }
}
