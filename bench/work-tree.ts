// Shared by the benchmarks: what was measured.
import { realExec } from '../src/lib/index.js';

/**
 * The commit, and the files of src/ or bench/ that differ from it (what was measured). Results
 * already recorded under bench/results/ do not count.
 */
export async function workTree(): Promise<{ commit: string; dirty: boolean; dirtyFiles: string[] }> {
  const exec = realExec();
  const commit = (await exec.run('git', ['rev-parse', '--short', 'HEAD'], { timeoutMs: 5_000 })).stdout.trim() || 'unknown';
  const status = await exec.run('git', ['status', '--porcelain', '--', 'src', 'bench', ':!bench/results'], { timeoutMs: 5_000 });
  const dirtyFiles = status.stdout.split('\n').filter((l) => l.trim() !== '');
  return { commit, dirty: dirtyFiles.length > 0, dirtyFiles };
}
