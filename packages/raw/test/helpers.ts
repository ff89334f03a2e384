/** Shared helpers of the raw tests. */
import { createRawAdapter, type RawAdapter } from "../src/index.js";

/** Both byte layers: memory-mapped windows and the positional-I/O fallback. */
export const IO_PATHS: readonly {
	readonly name: string;
	readonly mmap: boolean;
}[] = [
	{ name: "mmap", mmap: true },
	{ name: "fallback", mmap: false },
];

const adapters = new Map<boolean, RawAdapter>();
/** The raw adapter with or without mmap. */
export function adapterFor(mmap: boolean): RawAdapter {
	let a = adapters.get(mmap);
	if (!a) {
		a = createRawAdapter({ mmap });
		adapters.set(mmap, a);
	}
	return a;
}

/** Element `idx` (per-dimension) → linear index in C or F order. */
function linear(
	idx: readonly number[],
	shape: readonly number[],
	order: "C" | "F",
): number {
	let k = 0;
	if (order === "C")
		for (let d = 0; d < shape.length; d++)
			k = k * (shape[d] as number) + (idx[d] as number);
	else
		for (let d = shape.length - 1; d >= 0; d--)
			k = k * (shape[d] as number) + (idx[d] as number);
	return k;
}

/** Re-lays `bytes` (elements of `itemsize` in `from` order) into the other order; a naive reference. */
export function reorder(
	bytes: Uint8Array,
	shape: readonly number[],
	itemsize: number,
	from: "C" | "F",
): Uint8Array {
	const out = new Uint8Array(bytes.length);
	const n = shape.reduce((a, b) => a * b, 1);
	const idx = new Array<number>(shape.length).fill(0);
	const to = from === "C" ? "F" : "C";
	for (let e = 0; e < n; e++) {
		const s = linear(idx, shape, from) * itemsize;
		const t = linear(idx, shape, to) * itemsize;
		out.set(bytes.subarray(s, s + itemsize), t);
		for (let d = shape.length - 1; d >= 0; d--) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (shape[d] as number)) break;
			idx[d] = 0;
		}
	}
	return out;
}

/** The elements of box (start, shape) of a `full` array stored in `order`, in that order of the box. */
export function naiveBox(
	full: Uint8Array,
	shape: readonly number[],
	itemsize: number,
	order: "C" | "F",
	start: readonly number[],
	box: readonly number[],
): Uint8Array {
	const n = box.reduce((a, b) => a * b, 1);
	const out = new Uint8Array(n * itemsize);
	const idx = new Array<number>(box.length).fill(0);
	for (let e = 0; e < n; e++) {
		const src = linear(
			idx.map((i, d) => i + (start[d] as number)),
			shape,
			order,
		);
		const dst = linear(idx, box, order);
		out.set(
			full.subarray(src * itemsize, (src + 1) * itemsize),
			dst * itemsize,
		);
		for (let d = box.length - 1; d >= 0; d--) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (box[d] as number)) break;
			idx[d] = 0;
		}
	}
	return out;
}

/** Deterministic pseudo-random bytes. */
export function noise(n: number, seed: number): Uint8Array {
	const out = new Uint8Array(n);
	let a = seed >>> 0 || 1;
	for (let i = 0; i < n; i++) {
		a ^= a << 13;
		a ^= a >>> 17;
		a ^= a << 5;
		out[i] = a & 0xff;
	}
	return out;
}

/** The inverse of {@link naiveBox}: writes `src` (the box in `order`) into `full`. */
export function naiveScatter(
	full: Uint8Array,
	shape: readonly number[],
	itemsize: number,
	order: "C" | "F",
	start: readonly number[],
	box: readonly number[],
	src: Uint8Array,
): void {
	const n = box.reduce((a, b) => a * b, 1);
	const idx = new Array<number>(box.length).fill(0);
	for (let e = 0; e < n; e++) {
		const dst = linear(
			idx.map((i, d) => i + (start[d] as number)),
			shape,
			order,
		);
		const s = linear(idx, box, order);
		full.set(src.subarray(s * itemsize, (s + 1) * itemsize), dst * itemsize);
		for (let d = box.length - 1; d >= 0; d--) {
			idx[d] = (idx[d] as number) + 1;
			if ((idx[d] as number) < (box[d] as number)) break;
			idx[d] = 0;
		}
	}
}
