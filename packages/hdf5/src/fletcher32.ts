/**
 * HDF5's fletcher32 filter on read (H5Zfletcher32.c, H5checksum.c): the last 4 bytes of a
 * chunk are the checksum (little-endian) of the bytes before them, taken as big-endian 16-bit
 * words. Files written before HDF5 1.6.3 on little-endian hosts hold the checksum with the
 * bytes of each 16-bit half swapped; HDF5 accepts both, and so do we.
 */

/** HDF5's `H5_checksum_fletcher32` of `data`. */
export function fletcher32(data: Uint8Array): number {
	let sum1 = 0;
	let sum2 = 0;
	let len = data.length >>> 1;
	let p = 0;
	while (len > 0) {
		// 360 words keep both sums below 2^32 before folding.
		let t = Math.min(len, 360);
		len -= t;
		do {
			sum1 += ((data[p] as number) << 8) | (data[p + 1] as number);
			p += 2;
			sum2 += sum1;
		} while (--t);
		sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
		sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
	}
	if (data.length & 1) {
		sum1 += (data[p] as number) << 8;
		sum2 += sum1;
		sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
		sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
	}
	sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
	sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
	return ((sum2 << 16) | sum1) >>> 0;
}

/**
 * The data of a fletcher32-filtered chunk without its checksum, or null when the checksum
 * does not match (or the chunk is too short to hold one).
 */
export function stripFletcher32(chunk: Uint8Array): Uint8Array | null {
	const n = chunk.length - 4;
	if (n < 0) return null;
	const stored =
		((chunk[n] as number) |
			((chunk[n + 1] as number) << 8) |
			((chunk[n + 2] as number) << 16) |
			((chunk[n + 3] as number) << 24)) >>>
		0;
	const data = chunk.subarray(0, n);
	const sum = fletcher32(data);
	// The pre-1.6.3 value: bytes swapped within each 16-bit half.
	const reversed =
		(((sum & 0x00ff00ff) << 8) | ((sum >>> 8) & 0x00ff00ff)) >>> 0;
	return stored === sum || stored === reversed ? data : null;
}
