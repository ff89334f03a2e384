/**
 * XXH32 (the checksum of the LZ4 frame format), one-shot and streaming. Small enough to keep
 * here rather than pull a dependency for it.
 */

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
	return (x << r) | (x >>> (32 - r));
}

function round(acc: number, lane: number): number {
	return Math.imul(rotl((acc + Math.imul(lane, P2)) | 0, 13), P1);
}

/** The little-endian uint32 at `b[i]` (also the LZ4 frame's field reader). */
export function u32(b: Uint8Array, i: number): number {
	return (
		((b[i] as number) |
			((b[i + 1] as number) << 8) |
			((b[i + 2] as number) << 16) |
			((b[i + 3] as number) << 24)) >>>
		0
	);
}

/** Streaming XXH32 with seed 0. */
export class Xxh32 {
	#v1 = (P1 + P2) | 0;
	#v2 = P2 | 0;
	#v3 = 0;
	#v4 = -P1 | 0;
	#total = 0;
	readonly #tail = new Uint8Array(16);
	#tailLen = 0;

	update(data: Uint8Array): void {
		this.#total += data.length;
		let i = 0;
		if (this.#tailLen > 0) {
			const take = Math.min(16 - this.#tailLen, data.length);
			this.#tail.set(data.subarray(0, take), this.#tailLen);
			this.#tailLen += take;
			i = take;
			if (this.#tailLen < 16) return;
			this.#stripe(this.#tail, 0);
			this.#tailLen = 0;
		}
		for (; i + 16 <= data.length; i += 16) this.#stripe(data, i);
		this.#tail.set(data.subarray(i));
		this.#tailLen = data.length - i;
	}

	#stripe(b: Uint8Array, i: number): void {
		this.#v1 = round(this.#v1, u32(b, i));
		this.#v2 = round(this.#v2, u32(b, i + 4));
		this.#v3 = round(this.#v3, u32(b, i + 8));
		this.#v4 = round(this.#v4, u32(b, i + 12));
	}

	/** The hash as an unsigned 32-bit number. */
	digest(): number {
		let h: number;
		if (this.#total >= 16)
			h =
				(rotl(this.#v1, 1) +
					rotl(this.#v2, 7) +
					rotl(this.#v3, 12) +
					rotl(this.#v4, 18)) |
				0;
		else h = P5;
		// The total length enters mod 2^32.
		h = (h + (this.#total % 2 ** 32)) | 0;
		const t = this.#tail;
		let i = 0;
		for (; i + 4 <= this.#tailLen; i += 4)
			h = Math.imul(rotl((h + Math.imul(u32(t, i), P3)) | 0, 17), P4);
		for (; i < this.#tailLen; i++)
			h = Math.imul(rotl((h + Math.imul(t[i] as number, P5)) | 0, 11), P1);
		h ^= h >>> 15;
		h = Math.imul(h, P2);
		h ^= h >>> 13;
		h = Math.imul(h, P3);
		h ^= h >>> 16;
		return h >>> 0;
	}
}

/** XXH32 of `data` with seed 0. */
export function xxh32(data: Uint8Array): number {
	const h = new Xxh32();
	h.update(data);
	return h.digest();
}
