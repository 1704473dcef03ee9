// Test helpers for the console's tests (and any other test that drives a page).
export { launchHeadlessBrowser, CHROMIUM, type HeadlessBrowser } from './headless-browser.js';
