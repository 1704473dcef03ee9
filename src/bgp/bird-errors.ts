import { BrindleError } from '../lib/index.js';

/** BIRD's control socket cannot be reached: no socket, nobody listening, or no reply in time. */
export class BirdUnreachableError extends BrindleError {
  readonly socketPath: string;
  constructor(socketPath: string, detail: string, cause?: unknown) {
    super('BGP_BIRD_UNREACHABLE', `Cannot reach BIRD at ${socketPath}: ${detail}`, {
      status: 503,
      recoverable: true,
      hint: `is bird running with -s ${socketPath}?`,
      cause,
    });
    this.socketPath = socketPath;
  }
}

/** BIRD answered a command with a runtime error (8xxx) or did not parse it (9xxx). */
export class BirdCommandError extends BrindleError {
  readonly command: string;
  /** BIRD's reply code, e.g. 8002 (configuration file error) or 9001 (parse error). */
  readonly birdCode: number;
  /** BIRD's own message, e.g. `syntax error, unexpected CF_SYM_UNDEFINED`. */
  readonly birdText: string;
  constructor(command: string, birdCode: number, birdText: string) {
    super('BGP_BIRD_COMMAND', `BIRD rejected ${JSON.stringify(command)}: ${birdText} (${String(birdCode).padStart(4, '0')})`, { status: 500 });
    this.command = command;
    this.birdCode = birdCode;
    this.birdText = birdText;
  }
}

/** BIRD's reply to a command is not in the shape Brindle expects (another BIRD version?). */
export class BirdOutputError extends BrindleError {
  constructor(command: string, detail: string) {
    super('BGP_BIRD_OUTPUT', `Unexpected reply from BIRD to ${JSON.stringify(command)}: ${detail}`, { status: 502 });
  }
}
