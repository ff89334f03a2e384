/** Types of shuffle.mjs (plain JavaScript shared with worker threads). */

/**
 * Byte-shuffles `src` into `dst` (at least as long, not overlapping) for elements of `ts`
 * bytes: byte j of element i to j * n + i; trailing bytes of no whole element stay at the end.
 */
export declare function byteShuffle(
	src: Uint8Array,
	dst: Uint8Array,
	ts: number,
): void;

/** Inverse of {@link byteShuffle}. */
export declare function byteUnshuffle(
	src: Uint8Array,
	dst: Uint8Array,
	ts: number,
): void;
