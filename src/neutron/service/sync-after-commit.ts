import { backoffDelay, describeError, type BackoffPolicy } from '../../lib/index.js';
import type { NeutronDeps } from './neutron-deps.js';

/** Background retries of a Calico sync that failed after its commit: about a minute in all. */
const SYNC_RETRIES = 8;
const SYNC_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 15_000, factor: 2 };

/**
 * Runs the Calico side of a committed change. A failure (the datastore lost a member, say) does
 * not fail the request, which is committed: the sync is retried in the background, and after
 * that the master's periodic resync repairs what is still wrong. Syncs re-read the port, so a
 * late retry cannot undo a newer change.
 */
export async function syncAfterCommit(d: Pick<NeutronDeps, 'clock' | 'logger'>, id: string, sync: () => Promise<void>): Promise<void> {
  const retry = (attempt: number, err: unknown): void => {
    if (attempt >= SYNC_RETRIES) {
      d.logger.warn(
        { port: id, err: describeError(err), attempts: attempt },
        'calico sync still failing after the port change was committed; the periodic resync will repair it',
      );
      return;
    }
    if (attempt === 0) d.logger.warn({ port: id, err: describeError(err) }, 'calico sync failed after the port change was committed; retrying');
    d.clock.setTimer(
      () => {
        sync().then(
          () => d.logger.info({ port: id, attempts: attempt + 1 }, 'calico sync done on retry'),
          (e: unknown) => retry(attempt + 1, e),
        );
      },
      backoffDelay(attempt, SYNC_BACKOFF),
    );
  };
  await sync().catch((err: unknown) => retry(0, err));
}
