/**
 * Byte swapping between a dtype's stored byte order and native (little-endian) order,
 * compiled once per dtype into a plan of `(offset, width)` runs inside an element: every
 * big-endian multi-byte numeric field of a record, each half of a big-endian complex, each
 * UCS-4 unit of a big-endian `U`, the int64 of M/m. `S`, opaque `V` and 1-byte types are never
 * swapped, and little-endian parts of a mixed record stay as they are.
 */
import type { DType } from "./model.js";

/** Where to swap inside one element. */
export interface SwapPlan {
	readonly itemsize: number;
	readonly runs: readonly (readonly [offset: number, width: number])[];
	/** Set when every run has the same width and they tile the element: a flat loop suffices. */
	readonly uniformWidth: number | null;
}

const plans = new WeakMap<DType, SwapPlan>();

/** The swap plan of a dtype (empty when nothing needs swapping). */
export function swapPlan(dtype: DType): SwapPlan {
	let plan = plans.get(dtype);
	if (!plan) {
		const runs: [number, number][] = [];
		collect(dtype, 0, runs);
		const w = runs[0]?.[1] ?? 0;
		const uniform =
			runs.length > 0 &&
			runs.every(([o, width], i) => width === w && o === i * w) &&
			runs.length * w === dtype.itemsize;
		plan = { itemsize: dtype.itemsize, runs, uniformWidth: uniform ? w : null };
		plans.set(dtype, plan);
	}
	return plan;
}

function collect(d: DType, base: number, out: [number, number][]): void {
	if (d.fields) {
		for (const f of d.fields) collect(f.dtype, base + f.offset, out);
		return;
	}
	if (d.subarray) {
		const n = d.subarray.shape.reduce((a, b) => a * b, 1);
		for (let i = 0; i < n; i++)
			collect(d.subarray.base, base + i * d.subarray.base.itemsize, out);
		return;
	}
	if (d.byteOrder !== ">") return;
	switch (d.kind) {
		case "i":
		case "u":
		case "f":
		case "M":
		case "m":
			if (d.itemsize > 1) out.push([base, d.itemsize]);
			return;
		case "c":
			out.push([base, d.itemsize / 2], [base + d.itemsize / 2, d.itemsize / 2]);
			return;
		case "U":
			for (let i = 0; i < d.itemsize; i += 4) out.push([base + i, 4]);
			return;
		default:
			return;
	}
}

/** True when converting between `dtype`'s byte order and native order moves bytes at all. */
export function needsSwap(dtype: DType): boolean {
	return swapPlan(dtype).runs.length > 0;
}

/** Converts every element of `bytes` in place between `dtype`'s order and native (an involution). */
export function swapInPlace(dtype: DType, bytes: Uint8Array): void {
	const plan = swapPlan(dtype);
	if (plan.runs.length === 0) return;
	if (plan.uniformWidth !== null) {
		swapFlat(bytes, plan.uniformWidth);
		return;
	}
	const size = plan.itemsize;
	for (let e = 0; e + size <= bytes.length; e += size) {
		for (const [o, w] of plan.runs) reverse(bytes, e + o, w);
	}
}

function swapFlat(b: Uint8Array, width: number): void {
	const n = b.length - (b.length % width);
	if (width === 2) {
		for (let i = 0; i < n; i += 2) {
			const t = b[i] as number;
			b[i] = b[i + 1] as number;
			b[i + 1] = t;
		}
	} else if (width === 4) {
		for (let i = 0; i < n; i += 4) {
			const t0 = b[i] as number;
			const t1 = b[i + 1] as number;
			b[i] = b[i + 3] as number;
			b[i + 1] = b[i + 2] as number;
			b[i + 2] = t1;
			b[i + 3] = t0;
		}
	} else {
		for (let i = 0; i < n; i += width) reverse(b, i, width);
	}
}

function reverse(b: Uint8Array, at: number, width: number): void {
	for (let i = at, j = at + width - 1; i < j; i++, j--) {
		const t = b[i] as number;
		b[i] = b[j] as number;
		b[j] = t;
	}
}
