// The web console: settings (BGP, pools, IPv6) written with compare-and-swap, and a live view of hosts, BGP, networks and VMs.
export { startConsole, refuseConsoleExposure, type ConsoleOptions, type RunningConsole } from './start-console.js';
export type { ConsoleLogin } from './console-auth.js';
export { ConsoleError, ConsoleExposedError, SettingsConflictError, SettingsInvalidError } from './errors.js';
export type * from './api-types.js';
