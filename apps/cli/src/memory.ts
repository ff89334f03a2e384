/**
 * Memory helpers of the CLI: a garbage-collection hook for the copy engine (freed block
 * buffers are external memory, which V8 collects lazily, so without it dead blocks pile up
 * far beyond the budget), the number of Zarr codec threads a budget affords, and the peak RSS.
 */
import { availableParallelism } from "node:os";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** What one Zarr codec worker thread costs (its V8 isolate and wasm codecs): measured ~33 MB, counted with headroom. */
export const WORKER_BYTES: number = 48 * 1024 * 1024;

/**
 * Codec threads for a budget: at most one per job and core, using at most half of it — a
 * quarter when an HDF5 source may start as many read workers (each holds its own h5wasm heap,
 * so they are reserved twice). At the default 256 MiB that is two Zarr codec workers (one with
 * an HDF5 source): a single worker left one of two cores idle (npy → sharded Zarr 6.0 s → 5.4 s).
 */
export function codecWorkers(
	maxMemory: number,
	jobs: number,
	hdf5Source = false,
): number {
	return Math.max(
		0,
		Math.min(
			jobs,
			availableParallelism(),
			Math.floor(maxMemory / (hdf5Source ? 4 : 2) / WORKER_BYTES),
		),
	);
}

let gc: (() => void) | null | undefined;

// The least external memory (ArrayBuffers, incl. shared ones and Node Buffers) seen since our
// last collection: V8 frees dead backing stores on a background thread after a collection, so
// the value read right after one can still count them.
let low = 0;

/**
 * The copy engine's `releaseMemory`: a full garbage collection when the external memory grew
 * by more than the garbage the budget allows since the last one (a forced collection costs
 * 8–25 ms; copies through reused block buffers often leave no garbage at all), or undefined
 * when the runtime refuses to expose `gc`.
 */
export function garbageCollector():
	| ((garbageBytes: number) => void)
	| undefined {
	if (gc === undefined) {
		try {
			// Exposes `gc` to contexts created from now on; the main context stays unchanged.
			setFlagsFromString("--expose-gc");
			const fn: unknown = runInNewContext("gc");
			gc = typeof fn === "function" ? (fn as () => void) : null;
		} catch {
			gc = null;
		}
	}
	const collect = gc;
	if (!collect) return undefined;
	return (garbageBytes) => {
		const now = process.memoryUsage().arrayBuffers;
		low = Math.min(low, now);
		if (now - low <= garbageBytes) return;
		collect();
		low = process.memoryUsage().arrayBuffers;
	};
}

/** Peak resident set size of this process so far, in bytes. */
export function peakRss(): number {
	return process.resourceUsage().maxRSS * 1024;
}
