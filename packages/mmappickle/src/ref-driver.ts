/**
 * Array drivers over an {@link ArrayRef} whose bytes are not a plain file region: bytes decoded
 * into memory (protocol ≤ 2 payloads, small inline payloads), ranges of a decompressed stream
 * (compressed joblib), and protocol-5 `'K'` arrays whose axes are permuted. Plain file regions
 * go through `@arraystore/raw`'s `openRawRegion` instead (see open-ref.ts).
 */
import {
	type ArrayDriver,
	type ArrayInfo,
	ClosedError,
	copyElements,
	type DType,
	type Region,
	slabShape,
	stridesOf,
} from "@arraystore/core";

/** Reads `length` bytes at `offset` (relative to element 0 of the stored C-contiguous array). */
export type Fetch = (
	offset: number,
	length: number,
	signal?: AbortSignal,
) => Promise<Uint8Array>;

/** What a ref driver needs to know. */
export interface RefDriverSpec {
	readonly dtype: DType;
	/** C-contiguous shape of the stored bytes. */
	readonly storedShape: readonly number[];
	/** Logical axis i is stored axis perm[i]. */
	readonly perm: readonly number[];
	readonly byteOffset: number | null;
	readonly codecs?: ArrayInfo["codecs"];
	readonly fetch: Fetch;
	readonly onClose?: () => void;
}

/** A read-only driver over fetched stored bytes. F permutations are reported as order "F". */
export function refDriver(spec: RefDriverSpec): ArrayDriver {
	return new RefDriver(spec);
}

class RefDriver implements ArrayDriver {
	readonly info: ArrayInfo;
	readonly #spec: RefDriverSpec;
	readonly #kind: "C" | "F" | "perm";
	#closed = false;

	constructor(spec: RefDriverSpec) {
		this.#spec = spec;
		const n = spec.perm.length;
		const isC = spec.perm.every((p, i) => p === i);
		const isF = !isC && spec.perm.every((p, i) => p === n - 1 - i);
		this.#kind = isC ? "C" : isF ? "F" : "perm";
		const shape = spec.perm.map((p) => spec.storedShape[p] as number);
		const order = this.#kind === "F" ? "F" : "C";
		this.info = {
			dtype: spec.dtype,
			shape,
			order,
			chunks: null,
			blockShape: slabShape(shape, spec.dtype.itemsize, order),
			fillValue: null,
			codecs: spec.codecs ?? [],
			byteOffset: spec.byteOffset,
		};
	}

	async read(
		region: Region,
		out: Uint8Array,
		signal?: AbortSignal,
	): Promise<void> {
		if (this.#closed) throw new ClosedError("array is closed");
		const { perm, storedShape, dtype } = this.#spec;
		// The box in stored coordinates.
		const sStart = new Array<number>(perm.length).fill(0);
		const sShape = new Array<number>(perm.length).fill(1);
		perm.forEach((p, i) => {
			sStart[p] = region.start[i] as number;
			sShape[p] = region.shape[i] as number;
		});
		if (this.#kind !== "perm") {
			// C: the box in C order; F: the F order of the box is the C order of the stored box.
			await readCBox(
				this.#spec.fetch,
				storedShape,
				dtype.itemsize,
				{ start: sStart, shape: sShape },
				out,
				signal,
			);
			return;
		}
		const tmp = new Uint8Array(out.length);
		await readCBox(
			this.#spec.fetch,
			storedShape,
			dtype.itemsize,
			{ start: sStart, shape: sShape },
			tmp,
			signal,
		);
		const sStrides = stridesOf(sShape, "C");
		copyElements(
			{ bytes: tmp, base: 0, strides: perm.map((p) => sStrides[p] as number) },
			{ bytes: out, base: 0, strides: stridesOf(region.shape, "C") },
			region.shape,
			dtype.itemsize,
		);
	}

	async close(): Promise<void> {
		if (this.#closed) return;
		this.#closed = true;
		this.#spec.onClose?.();
	}
}

/**
 * Reads a C-order box of a C-contiguous array through `fetch`, one contiguous run at a time
 * (runs merge over trailing dimensions the box covers whole), fetching the whole span at once
 * when the box is dense enough.
 */
async function readCBox(
	fetch: Fetch,
	shape: readonly number[],
	itemsize: number,
	box: Region,
	out: Uint8Array,
	signal?: AbortSignal,
): Promise<void> {
	const n = shape.length;
	if (out.length === 0) return;
	const strides = stridesOf(shape, "C");
	// Merge trailing dims that the box covers entirely.
	let k = n;
	let run = 1;
	while (k > 0 && box.start[k - 1] === 0 && box.shape[k - 1] === shape[k - 1]) {
		run *= shape[k - 1] as number;
		k--;
	}
	if (k > 0) {
		run *= box.shape[k - 1] as number;
		k--;
	}
	const runBytes = run * itemsize;
	let first = 0;
	for (let d = 0; d < n; d++)
		first += (box.start[d] as number) * (strides[d] as number);
	let last = first;
	for (let d = 0; d < n; d++)
		last += Math.max(0, (box.shape[d] as number) - 1) * (strides[d] as number);
	const spanBytes = (last - first + 1) * itemsize;
	// One fetch of the whole span when it is at most twice the output (few, larger reads).
	const span =
		spanBytes <= 2 * out.length + 65536
			? await fetch(first * itemsize, spanBytes, signal)
			: null;
	const idx = new Array<number>(k).fill(0);
	let o = 0;
	for (;;) {
		let e = first;
		for (let d = 0; d < k; d++)
			e += (idx[d] as number) * (strides[d] as number);
		const bytes = span
			? span.subarray((e - first) * itemsize, (e - first) * itemsize + runBytes)
			: await fetch(e * itemsize, runBytes, signal);
		out.set(bytes, o);
		o += runBytes;
		let d = k - 1;
		while (d >= 0) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (box.shape[d] as number)) break;
			idx[d] = 0;
			d--;
		}
		if (d < 0) break;
		if (!span) signal?.throwIfAborted();
	}
}
