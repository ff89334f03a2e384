/**
 * Test data for the conformance suite: valid random elements of any dtype, and a naive numpy
 * basic-indexing evaluator written independently of core's selection code, so the suite
 * checks the store against a second implementation.
 */
import {
	type DType,
	encodeElement,
	type Scalar,
	withByteOrder,
} from "@arraystore/core";

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

function randomValue(dtype: DType, r: () => number): Scalar {
	if (dtype.fields) {
		const rec: Record<string, Scalar> = {};
		for (const f of dtype.fields) rec[f.name] = randomValue(f.dtype, r);
		return rec;
	}
	if (dtype.subarray || dtype.kind === "V") {
		const b = new Uint8Array(dtype.itemsize);
		for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
		return b;
	}
	switch (dtype.kind) {
		case "b":
			return r() < 0.5;
		case "i":
		case "u":
		case "M":
		case "m": {
			if (dtype.itemsize === 8)
				return BigInt.asIntN(
					64,
					(BigInt(Math.floor(r() * 2 ** 32)) << 32n) |
						BigInt(Math.floor(r() * 2 ** 32)),
				);
			return (
				Math.floor(r() * 2 ** (8 * dtype.itemsize)) -
				(dtype.kind === "i" ? 2 ** (8 * dtype.itemsize - 1) : 0)
			);
		}
		case "f":
			return dtype.itemsize === 2
				? Math.round((r() - 0.5) * 2000) / 8
				: (r() - 0.5) * 1e6;
		case "c":
			return [(r() - 0.5) * 1e3, (r() - 0.5) * 1e3];
		case "S": {
			let s = "";
			const n = Math.floor(r() * (dtype.itemsize + 1));
			for (let i = 0; i < n; i++)
				s += String.fromCharCode(97 + Math.floor(r() * 26));
			return s;
		}
		case "U": {
			let s = "";
			const n = Math.floor(r() * (dtype.itemsize / 4 + 1));
			for (let i = 0; i < n; i++)
				s += String.fromCodePoint(
					[0x61, 0xe9, 0x3b1, 0x4e2d, 0x1f600][Math.floor(r() * 5)] as number,
				);
			return s;
		}
		default:
			return 0;
	}
}

/** `n` random valid elements of `dtype`, in native byte order, on a fresh ArrayBuffer. */
export function randomBytes(dtype: DType, n: number, seed = 1): Uint8Array {
	const native = withByteOrder(dtype, "native");
	const r = rng(seed);
	const out = new Uint8Array(new ArrayBuffer(n * dtype.itemsize));
	for (let i = 0; i < n; i++)
		out.set(encodeElement(native, randomValue(native, r)), i * dtype.itemsize);
	return out;
}

/** One axis of a naive selection. */
export type NaiveIndex =
	| number
	| { start?: number | null; stop?: number | null; step?: number | null }
	| null;

/** Python's `range(*slice.indices(n))` as a list. */
export function sliceIndices(
	n: number,
	s: Exclude<NaiveIndex, number | null>,
): number[] {
	const step = s.step ?? 1;
	const norm = (v: number) => (v < 0 ? v + n : v);
	const out: number[] = [];
	if (step > 0) {
		const start = Math.min(Math.max(s.start == null ? 0 : norm(s.start), 0), n);
		const stop = Math.min(Math.max(s.stop == null ? n : norm(s.stop), 0), n);
		for (let i = start; i < stop; i += step) out.push(i);
	} else {
		const start = Math.min(
			Math.max(s.start == null ? n - 1 : norm(s.start), -1),
			n - 1,
		);
		const stop = Math.min(
			Math.max(s.stop == null ? -1 : norm(s.stop), -1),
			n - 1,
		);
		for (let i = start; i > stop; i += step) out.push(i);
	}
	return out;
}

/** Evaluates a selection on a C-order byte array by brute force: returns the selected bytes and shape. */
export function naiveSelect(
	full: Uint8Array,
	shape: readonly number[],
	itemsize: number,
	sel: readonly NaiveIndex[],
): { bytes: Uint8Array; shape: number[] } {
	const axes = shape.map((n, d) => {
		const s = sel[d];
		if (s === undefined || s === null)
			return { idx: [...Array(n).keys()], keep: true };
		if (typeof s === "number") return { idx: [s < 0 ? s + n : s], keep: false };
		return { idx: sliceIndices(n, s), keep: true };
	});
	const outShape = axes.filter((a) => a.keep).map((a) => a.idx.length);
	const strides = shape.map((_, d) =>
		shape.slice(d + 1).reduce((a, b) => a * b, 1),
	);
	const chunks: number[] = [];
	const walk = (d: number, at: number) => {
		if (d === shape.length) {
			chunks.push(at);
			return;
		}
		for (const i of axes[d]?.idx ?? [])
			walk(d + 1, at + i * (strides[d] as number));
	};
	walk(0, 0);
	const out = new Uint8Array(chunks.length * itemsize);
	chunks.forEach((e, k) => {
		out.set(full.subarray(e * itemsize, (e + 1) * itemsize), k * itemsize);
	});
	return { bytes: out, shape: outShape };
}

/** Writes `values` into the selected positions of `full` (C order), by brute force. */
export function naiveAssign(
	full: Uint8Array,
	shape: readonly number[],
	itemsize: number,
	sel: readonly NaiveIndex[],
	values: Uint8Array,
): void {
	const positions: number[] = [];
	const strides = shape.map((_, d) =>
		shape.slice(d + 1).reduce((a, b) => a * b, 1),
	);
	const axes = shape.map((n, d) => {
		const s = sel[d];
		if (s === undefined || s === null) return [...Array(n).keys()];
		if (typeof s === "number") return [s < 0 ? s + n : s];
		return sliceIndices(n, s);
	});
	const walk = (d: number, at: number) => {
		if (d === shape.length) {
			positions.push(at);
			return;
		}
		for (const i of axes[d] ?? []) walk(d + 1, at + i * (strides[d] as number));
	};
	walk(0, 0);
	positions.forEach((e, k) => {
		full.set(values.subarray(k * itemsize, (k + 1) * itemsize), e * itemsize);
	});
}
