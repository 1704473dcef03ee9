import { createConnection, type Socket } from 'node:net';
import { realClock, type Clock, type Timer } from '../lib/index.js';
import { BirdCommandError, BirdOutputError, BirdUnreachableError } from './errors.js';
import { BirdReplyReader, type BirdReply } from './bird-reply.js';
import { parseBirdProtocols, type BirdProtocol } from './parse-bird-protocols.js';
import { parseBirdStatus, type BirdStatus } from './parse-bird-status.js';

export interface BirdControlOptions {
  /** How long to wait for the greeting, and for each reply to make progress (default 10 s). */
  readonly timeoutMs?: number;
  readonly clock?: Clock;
}

/** What `configure` did: ok false (and BIRD's message) when the new file was refused. */
export interface BirdConfigureResult {
  readonly ok: boolean;
  readonly message: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Reply codes of a `configure` that took (or had nothing to do). */
const CONFIGURE_OK = new Set([3, 4, 5, 17, 18, 19, 20]);

interface Waiter {
  readonly command: string;
  readonly resolve: (reply: BirdReply) => void;
  readonly reject: (err: Error) => void;
}

function describeSocketError(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return 'no socket there';
  if (code === 'ECONNREFUSED') return 'connection refused (a stale socket?)';
  if (code === 'EACCES') return 'permission denied';
  return err instanceof Error ? err.message : String(err);
}

/**
 * A client of BIRD's control socket (what birdc speaks), without forking birdc: one command at a
 * time, queued; replies assembled by BirdReplyReader. A reply ending in 8xxx/9xxx rejects with
 * BirdCommandError; a socket that cannot be reached, closes or stalls gives BirdUnreachableError
 * (recoverable: connect again), after which this client only fails.
 */
export class BirdControl {
  readonly socketPath: string;
  private readonly socket: Socket;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly reader = new BirdReplyReader();
  private waiter: Waiter | undefined;
  private timer: Timer | undefined;
  private broken: BirdUnreachableError | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private birdVersion = '';

  private constructor(socketPath: string, socket: Socket, options: BirdControlOptions) {
    this.socketPath = socketPath;
    this.socket = socket;
    this.clock = options.clock ?? realClock();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new BirdUnreachableError(socketPath, describeSocketError(err), err)));
    socket.on('close', () => this.fail(new BirdUnreachableError(socketPath, 'the connection closed')));
  }

  /** Connects and reads the greeting (`0001 BIRD 2.0.12 ready.`). */
  static async connect(socketPath: string, options: BirdControlOptions = {}): Promise<BirdControl> {
    const control = new BirdControl(socketPath, createConnection({ path: socketPath }), options);
    try {
      const greeting = await control.awaitReply('(greeting)');
      const version = /^BIRD (\S+) ready\.$/.exec(greeting.lines.at(-1)?.text ?? '')?.[1];
      if (greeting.code !== 1 || version === undefined) {
        throw new BirdOutputError('(greeting)', `expected "0001 BIRD <version> ready.", got ${JSON.stringify(greeting.lines.at(-1)?.text ?? '')}`);
      }
      control.birdVersion = version;
      return control;
    } catch (err) {
      control.close();
      throw err;
    }
  }

  /** The version BIRD announced when we connected (`2.0.12`). */
  get version(): string {
    return this.birdVersion;
  }

  /** Sends one command (after any still queued) and resolves with BIRD's whole reply. */
  request(command: string): Promise<BirdReply> {
    const run = this.queue.then(() => this.send(command));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `show status`: version, router id, boot and reconfiguration times. */
  async showStatus(): Promise<BirdStatus> {
    return parseBirdStatus(await this.request('show status'));
  }

  /** `show protocols all`: every protocol, with BGP session details and per-channel route counts. */
  async showProtocols(): Promise<BirdProtocol[]> {
    return parseBirdProtocols(await this.request('show protocols all'));
  }

  /**
   * `configure`: re-reads the configuration file. A file BIRD refuses (`8002 file:line:col
   * syntax error ...`) gives ok false with BIRD's message; BIRD keeps running the old one.
   */
  async configure(): Promise<BirdConfigureResult> {
    try {
      const reply = await this.request('configure');
      return { ok: CONFIGURE_OK.has(reply.code), message: reply.lines.at(-1)?.text ?? '' };
    } catch (err) {
      if (err instanceof BirdCommandError && err.birdCode >= 8000 && err.birdCode < 9000) return { ok: false, message: err.birdText };
      throw err;
    }
  }

  /**
   * `graceful restart`: BIRD exits at once, leaving its routes in the kernel and telling its BGP
   * peers to keep ours (RFC 4724) until a new BIRD takes over. Resolves with BIRD's message.
   */
  async gracefulRestart(): Promise<string> {
    const reply = await this.request('graceful restart');
    if (reply.code !== 25) throw new BirdOutputError('graceful restart', `expected code 0025, got ${reply.code}`);
    return reply.lines.at(-1)?.text ?? '';
  }

  /** Closes the connection; queued and later requests fail with BirdUnreachableError. */
  close(): void {
    this.fail(new BirdUnreachableError(this.socketPath, 'the connection was closed by Brindle'));
    this.socket.destroy();
  }

  private async send(command: string): Promise<BirdReply> {
    if (/[\r\n]/.test(command)) throw new BirdCommandError(command, 9000, 'a command is one line');
    const reply = this.awaitReply(command);
    if (this.broken === undefined) this.socket.write(`${command}\n`);
    const r = await reply;
    if (r.code >= 8000) throw new BirdCommandError(command, r.code, r.lines.at(-1)?.text ?? '');
    return r;
  }

  private awaitReply(command: string): Promise<BirdReply> {
    return new Promise((resolve, reject) => {
      if (this.broken !== undefined) {
        reject(this.broken);
        return;
      }
      this.waiter = { command, resolve, reject };
      this.arm();
    });
  }

  /** (Re)starts the timer of the reply awaited: it must make progress every timeoutMs. */
  private arm(): void {
    this.timer?.cancel();
    const w = this.waiter;
    if (w === undefined) return;
    this.timer = this.clock.setTimer(() => {
      this.fail(new BirdUnreachableError(this.socketPath, `no reply to ${JSON.stringify(w.command)} in ${this.timeoutMs} ms`));
      this.socket.destroy();
    }, this.timeoutMs);
  }

  private onData(chunk: string): void {
    for (const reply of this.reader.push(chunk)) {
      const w = this.waiter;
      this.waiter = undefined;
      this.timer?.cancel();
      w?.resolve(reply);
    }
    if (this.waiter !== undefined) this.arm();
  }

  private fail(err: BirdUnreachableError): void {
    this.broken ??= err;
    this.timer?.cancel();
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(this.broken);
  }
}
