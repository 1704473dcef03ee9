/** Brindle's version (package.json's). */
export const VERSION = '0.1.0';
