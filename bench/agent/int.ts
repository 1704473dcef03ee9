/** A whole number with thousands separators (`5,000`), or `-` when there is none. */
export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');
