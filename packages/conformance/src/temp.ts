/**
 * Temporary directories for tests: `await using tmp = await tempDir()` removes it on dispose.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A temporary directory that removes itself on `[Symbol.asyncDispose]`. */
export interface TempDir extends AsyncDisposable {
	readonly path: string;
	/** `path` joined with `parts`. */
	join(...parts: string[]): string;
}

/** Creates a fresh directory under the OS temp dir. */
export async function tempDir(prefix = "arraystore-"): Promise<TempDir> {
	const path = await mkdtemp(join(tmpdir(), prefix));
	return {
		path,
		join: (...parts: string[]) => join(path, ...parts),
		[Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }),
	};
}
