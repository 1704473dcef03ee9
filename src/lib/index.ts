export { BrindleError, isRecoverable, describeError, type BrindleErrorOptions } from './brindle-error.js';
export { AbortedError, throwIfAborted, onAbort } from './abort.js';
export { realClock, type Clock, type Timer } from './shims/clock.js';
export { realExec, type Exec, type ChildHandle, type ExitStatus, type RunResult, type RunOptions, type SpawnOptions } from './shims/exec.js';
export { realFs, type Fs, type DirWatch } from './shims/fs.js';
export { createLogger, silentLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { freePort } from './free-port.js';
export { addTo, removeFrom } from './multimap.js';
