/**
 * The main thread's side of worker/native-deflate.mjs (plain JavaScript, because the read
 * workers load it too): HDF5's deflate filter in this process's h5wasm instance runs Node's
 * zlib, and takes chunks deflated ahead of time from `encodedChunks`.
 */
import { encodedChunks } from "./encoded-chunks.js";
import type { H5Api } from "./module.js";

/** Counters of the redirected filter (per thread). */
export interface NativeDeflateStats {
	readonly inflated: number;
	readonly deflated: number;
	readonly taken: number;
	readonly fallbacks: number;
}

interface NativeDeflateModule {
	installNativeDeflate(
		api: H5Api,
		env: Record<string, unknown>,
		take?: (input: Uint8Array, level: number) => Uint8Array | undefined,
	): boolean;
	nativeDeflateStats(): NativeDeflateStats;
	setInflateHint(bytes: number): void;
}

const MODULE_URL = new URL("../worker/native-deflate.mjs", import.meta.url);

let loaded: NativeDeflateModule | null = null;

async function load(): Promise<NativeDeflateModule> {
	loaded ??= (await import(MODULE_URL.href)) as NativeDeflateModule;
	return loaded;
}

/**
 * Tells the filter the uncompressed size of the chunks about to be read (bytes; 0 = unknown),
 * so each chunk inflates into one buffer of the right size.
 */
export function setInflateHint(bytes: number): void {
	loaded?.setInflateHint(bytes);
}

/**
 * Redirects the deflate filter of `api` (import object `env`) to Node's zlib; false when it
 * could not be done (HDF5 keeps its own).
 */
export async function installNativeDeflate(
	api: H5Api,
	env: Record<string, unknown>,
): Promise<boolean> {
	try {
		return (await load()).installNativeDeflate(api, env, (input, level) =>
			encodedChunks.take(input, level),
		);
	} catch {
		return false;
	}
}

/** This thread's counters. */
export async function nativeDeflateStats(): Promise<NativeDeflateStats> {
	return (await load()).nativeDeflateStats();
}
