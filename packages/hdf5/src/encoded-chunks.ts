/**
 * Chunks deflated ahead of HDF5 (chunk-encoder.ts), kept by content until HDF5's deflate
 * filter — redirected to Node's zlib by worker/native-deflate.mjs — is handed the same bytes
 * and takes the ready stream instead of compressing them itself. Entries are compared in full
 * before use; bounded: the oldest go first once they hold more than {@link EncodedChunks.CAP}
 * input bytes (HDF5 then has those chunks compressed on the spot).
 */

// A cheap key of a chunk's content.
function fingerprint(b: Uint8Array): number {
	let h = 0x811c9dc5 ^ b.length;
	const step = Math.max(1, Math.floor(b.length / 61));
	for (let i = 0; i < b.length; i += step) {
		h ^= b[i] as number;
		h = Math.imul(h, 0x01000193);
	}
	h ^= b[b.length - 1] ?? 0;
	return Math.imul(h, 0x01000193) >>> 0;
}

interface Entry {
	readonly key: string;
	readonly input: Uint8Array;
	readonly encoded: Uint8Array;
}

/** See the module comment. */
export class EncodedChunks {
	static readonly CAP: number = 64 * 1024 * 1024;
	readonly #byKey = new Map<string, Entry[]>();
	readonly #order = new Set<Entry>();
	#bytes = 0;

	/** Input bytes held. */
	get bytes(): number {
		return this.#bytes;
	}

	/** Keeps `encoded`, the deflate stream (at `level`) of `input`. */
	put(input: Uint8Array, level: number, encoded: Uint8Array): void {
		const key = `${level}/${input.length}/${fingerprint(input)}`;
		const e: Entry = { key, input, encoded };
		const list = this.#byKey.get(key);
		if (list) list.push(e);
		else this.#byKey.set(key, [e]);
		this.#order.add(e);
		this.#bytes += input.length;
		for (const old of this.#order) {
			if (this.#bytes <= EncodedChunks.CAP) break;
			this.#remove(old);
		}
	}

	/** The deflate stream of bytes equal to `input` at `level`, removed from the cache. */
	take(input: Uint8Array, level: number): Uint8Array | undefined {
		const list = this.#byKey.get(
			`${level}/${input.length}/${fingerprint(input)}`,
		);
		if (!list) return undefined;
		const probe = Buffer.from(input.buffer, input.byteOffset, input.length);
		const e = list.find((x) => probe.equals(x.input));
		if (!e) return undefined;
		this.#remove(e);
		return e.encoded;
	}

	clear(): void {
		this.#byKey.clear();
		this.#order.clear();
		this.#bytes = 0;
	}

	#remove(e: Entry): void {
		this.#order.delete(e);
		this.#bytes -= e.input.length;
		const list = this.#byKey.get(e.key);
		if (!list) return;
		const i = list.indexOf(e);
		if (i >= 0) list.splice(i, 1);
		if (list.length === 0) this.#byKey.delete(e.key);
	}
}

/** The process-wide cache HDF5's (redirected) deflate filter takes chunks from. */
export const encodedChunks: EncodedChunks = new EncodedChunks();
