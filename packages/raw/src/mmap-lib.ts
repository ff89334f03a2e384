/**
 * The mmap-io addon, loaded lazily on first use (it is a native module; importing this package
 * must stay cheap). When the addon cannot load (no compiler when it was installed, another
 * platform), callers fall back to positional file I/O.
 */
import { constants } from "node:os";
import { IoError } from "@arraystore/core";

/** The subset of mmap-io (patched for 64-bit sizes and offsets) the raw adapter uses. */
export interface MmapLib {
	map(
		size: number,
		protection: number,
		flags: number,
		fd: number,
		offset?: number,
		advise?: number,
	): Buffer;
	advise(buffer: Buffer, advise: number): void;
	advise(buffer: Buffer, offset: number, length: number, advise: number): void;
	sync(
		buffer: Buffer,
		offset?: number,
		size?: number,
		blockingSync?: boolean,
		invalidatePages?: boolean,
	): void;
	/**
	 * Added by the mmap-io patch we carry (patches/mmap-io@1.1.7.patch): copies prod(counts) runs
	 * of `runLength` bytes between two views in one native call, the run at odometer index
	 * (i_0 … i_k) from `from[fromOffset + Σ i_d·fromStrides[d]]` to `to[toOffset + Σ i_d·toStrides[d]]`;
	 * throws RangeError before copying anything when a run would leave either view. Absent when an
	 * unpatched build is installed: callers then copy run by run.
	 */
	readonly copyStrided?: (
		from: Uint8Array,
		fromOffset: number,
		to: Uint8Array,
		toOffset: number,
		runLength: number,
		counts: readonly number[],
		fromStrides: readonly number[],
		toStrides: readonly number[],
	) => void;
	readonly PROT_READ: number;
	readonly PROT_WRITE: number;
	readonly MAP_SHARED: number;
	readonly MAP_PRIVATE: number;
	readonly MADV_DONTNEED: number;
	readonly PAGESIZE: number;
}

let loading: Promise<MmapLib | null> | undefined;
let loadFailure: unknown;

function isMmapLib(x: unknown): x is MmapLib {
	const m = x as Partial<MmapLib> | null;
	return (
		typeof m?.map === "function" &&
		typeof m.sync === "function" &&
		typeof m.advise === "function" &&
		typeof m.PAGESIZE === "number"
	);
}

/**
 * The mmap-io addon, or null when it cannot load (the reason is kept in
 * {@link mmapLoadFailure}). Loaded once per process.
 */
export function loadMmap(): Promise<MmapLib | null> {
	loading ??= import("mmap-io").then(
		(mod: unknown) => {
			// A CommonJS module: `default` is module.exports, which also carries `default`.
			const outer = (mod as { default?: unknown }).default;
			const lib = isMmapLib(outer)
				? outer
				: (outer as { default?: unknown } | undefined)?.default;
			if (isMmapLib(lib)) return lib;
			loadFailure = new Error("mmap-io loaded without the expected functions");
			return null;
		},
		(err: unknown) => {
			loadFailure = err;
			return null;
		},
	);
	return loading;
}

/** Why the addon did not load (undefined while it has not failed). */
export function mmapLoadFailure(): unknown {
	return loadFailure;
}

/** Whether the addon is known not to load (false while untried). */
export function mmapKnownUnavailable(): boolean {
	return loadFailure !== undefined;
}

const errnoNames = new Map<number, string>(
	Object.entries(constants.errno).map(([name, n]) => [n, name]),
);

/**
 * Translates mmap-io's thrown messages ("mmap failed, 12") into an {@link IoError} carrying the
 * errno name.
 */
export function mmapError(err: unknown, what: string, target: string): IoError {
	const message = err instanceof Error ? err.message : String(err);
	const m = /failed, (\d+)/.exec(message);
	const errno = m ? errnoNames.get(Number(m[1])) : undefined;
	return new IoError(
		`${what} failed for ${target}${errno ? ` (${errno})` : ""}: ${message}`,
		{
			target,
			adapter: "raw",
			cause: err,
			errno,
		},
	);
}
