/** One line of a BIRD control-socket reply: its 4-digit code and its text. */
export interface BirdReplyLine {
  readonly code: number;
  readonly text: string;
}

/** A whole reply: `code` is the code of its last line (0xxx success, 8xxx/9xxx error). */
export interface BirdReply {
  readonly code: number;
  readonly lines: readonly BirdReplyLine[];
}

const CODED = /^(\d{4})([ -])(.*)$/;

/**
 * Assembles the text BIRD writes on its control socket into replies. Each line is `DDDD-text`
 * (more lines follow), `DDDD text` (the reply's last line) or ` text` (another line with the
 * previous code); lines starting with `+` are spontaneous output and are skipped.
 */
export class BirdReplyReader {
  private partial = '';
  private lines: BirdReplyLine[] = [];
  private lastCode = 0;

  /** Feeds text as it arrives; returns the replies it completed, in order. */
  push(chunk: string): BirdReply[] {
    const done: BirdReply[] = [];
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const raw of parts) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.startsWith('+')) continue;
      const m = CODED.exec(line);
      if (m === null) {
        this.lines.push({ code: this.lastCode, text: line.startsWith(' ') ? line.slice(1) : line });
        continue;
      }
      const code = Number(m[1]);
      this.lastCode = code;
      this.lines.push({ code, text: m[3] ?? '' });
      if (m[2] === ' ') {
        done.push({ code, lines: this.lines });
        this.lines = [];
        this.lastCode = 0;
      }
    }
    return done;
  }

  /** True while part of a reply has been read but not its last line. */
  get midReply(): boolean {
    return this.lines.length > 0 || this.partial !== '';
  }
}

/** Splits a whole transcript (e.g. captured from the socket) into its replies. */
export function parseBirdTranscript(text: string): BirdReply[] {
  return new BirdReplyReader().push(text.endsWith('\n') ? text : `${text}\n`);
}
