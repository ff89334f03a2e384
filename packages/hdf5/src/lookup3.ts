/**
 * Bob Jenkins' lookup3 hash (`hashlittle`, seed 0), the checksum of HDF5's version-2 metadata
 * (object header chunks, among others), computed over whole byte arrays.
 */

/** Bob Jenkins' lookup3 `hashlittle` with seed 0: HDF5's metadata checksum. */
export function lookup3(k: Uint8Array): number {
	let length = k.length;
	let a = (0xdeadbeef + length) >>> 0;
	let b = a;
	let c = a;
	const rot = (x: number, r: number): number =>
		((x << r) | (x >>> (32 - r))) >>> 0;
	let o = 0;
	while (length > 12) {
		a = (a + u32le(k, o)) >>> 0;
		b = (b + u32le(k, o + 4)) >>> 0;
		c = (c + u32le(k, o + 8)) >>> 0;
		a = (a - c) >>> 0;
		a = (a ^ rot(c, 4)) >>> 0;
		c = (c + b) >>> 0;
		b = (b - a) >>> 0;
		b = (b ^ rot(a, 6)) >>> 0;
		a = (a + c) >>> 0;
		c = (c - b) >>> 0;
		c = (c ^ rot(b, 8)) >>> 0;
		b = (b + a) >>> 0;
		a = (a - c) >>> 0;
		a = (a ^ rot(c, 16)) >>> 0;
		c = (c + b) >>> 0;
		b = (b - a) >>> 0;
		b = (b ^ rot(a, 19)) >>> 0;
		a = (a + c) >>> 0;
		c = (c - b) >>> 0;
		c = (c ^ rot(b, 4)) >>> 0;
		b = (b + a) >>> 0;
		length -= 12;
		o += 12;
	}
	if (length === 0) return c;
	const tail = new Uint8Array(12);
	tail.set(k.subarray(o, o + length));
	a = (a + u32le(tail, 0)) >>> 0;
	b = (b + u32le(tail, 4)) >>> 0;
	c = (c + u32le(tail, 8)) >>> 0;
	c = (c ^ b) >>> 0;
	c = (c - rot(b, 14)) >>> 0;
	a = (a ^ c) >>> 0;
	a = (a - rot(c, 11)) >>> 0;
	b = (b ^ a) >>> 0;
	b = (b - rot(a, 25)) >>> 0;
	c = (c ^ b) >>> 0;
	c = (c - rot(b, 16)) >>> 0;
	a = (a ^ c) >>> 0;
	a = (a - rot(c, 4)) >>> 0;
	b = (b ^ a) >>> 0;
	b = (b - rot(a, 14)) >>> 0;
	c = (c ^ b) >>> 0;
	c = (c - rot(b, 24)) >>> 0;
	return c;
}

function u32le(b: Uint8Array, i: number): number {
	return (
		((b[i] as number) |
			((b[i + 1] as number) << 8) |
			((b[i + 2] as number) << 16) |
			((b[i + 3] as number) << 24)) >>>
		0
	);
}
