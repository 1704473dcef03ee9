const UNIT_SECONDS: Readonly<Record<string, number>> = { ns: 1e-9, us: 1e-6, µs: 1e-6, μs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/**
 * Parses a Go duration (`120s`, `2m`, `1h30m`, `1.5s`, `500ms`, `0`) into seconds; undefined if
 * it is not one. Negative durations are refused: nothing in BGP configuration can use them.
 */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (!/^\+?(\d*\.?\d*[a-zµμ]+)+$/.test(text)) return undefined;
  let seconds = 0;
  for (const m of text.replace(/^\+/, '').matchAll(/(\d*\.?\d*)([a-zµμ]+)/g)) {
    const [, num = '', unit = ''] = m;
    const scale = UNIT_SECONDS[unit];
    if (scale === undefined || num === '' || num === '.') return undefined;
    seconds += Number(num) * scale;
  }
  return Number.isFinite(seconds) ? seconds : undefined;
}
