/** Types of shuffle-simd.mjs (plain JavaScript shared with worker threads). */

/**
 * Byte-shuffles (or with `inverse`, unshuffles) `src` into `dst` for `ts`-byte elements with
 * SIMD. Returns false, touching nothing, when it cannot (no SIMD, another element size, an
 * element count that is not a multiple of 16, or more than 4 MiB).
 */
export declare function simdShuffle(
	src: Uint8Array,
	dst: Uint8Array,
	ts: number,
	inverse: boolean,
): boolean;

/**
 * Unshuffles `src` (`ts`-byte elements) with SIMD; the result is a view of the module's memory,
 * valid until the next call into the module on this thread. Null when it cannot.
 */
export declare function simdUnshuffled(
	src: Uint8Array,
	ts: number,
): Uint8Array | null;
