/**
 * Selections seen from inside their bounding box: the strided views, flat indices and splits
 * `createArrayStore` uses to gather reads and scatter writes.
 */
import type { ArrayData } from "./dtype/typed.js";
import { shapeSize } from "./dtype/typed.js";
import { type StridedView, stridesOf } from "./layout.js";
import type { ResolvedSelection } from "./selection.js";

/** True for `ArrayData`-shaped values (bytes + dtype + shape), not typed arrays. */
export function isArrayData(v: unknown): v is ArrayData {
	return (
		typeof v === "object" &&
		v !== null &&
		!ArrayBuffer.isView(v) &&
		(v as ArrayData).bytes instanceof Uint8Array &&
		typeof (v as ArrayData).dtype === "object" &&
		Array.isArray((v as ArrayData).shape)
	);
}

/** The selection inside its (native C-order) bounding box, as a strided view. */
export function boxView(sel: ResolvedSelection, box: Uint8Array): StridedView {
	const cs = stridesOf(sel.box.shape, "C");
	let base = 0;
	const strides = sel.dims.map((dim, d) => {
		base += (dim.start - (sel.box.start[d] as number)) * (cs[d] as number);
		return dim.step * (cs[d] as number);
	});
	return { bytes: box, base, strides };
}

/** Flat C-order indices (into the bounding box) of every selected element, in selection order. */
export function boxIndices(sel: ResolvedSelection): number[] {
	const out: number[] = [];
	const view = boxView(sel, new Uint8Array(0));
	const walk = (d: number, at: number) => {
		if (d === sel.dims.length) {
			out.push(at);
			return;
		}
		const dim = sel.dims[d] as ResolvedSelection["dims"][number];
		for (let i = 0; i < dim.count; i++)
			walk(d + 1, at + i * (view.strides[d] as number));
	};
	walk(0, view.base);
	return out;
}

/** The outermost dimension with gaps (|step| > 1), where a sparse selection is split. */
export function splitDim(sel: ResolvedSelection): number | null {
	const i = sel.dims.findIndex((d) => d.count > 1 && Math.abs(d.step) > 1);
	return i < 0 ? null : i;
}

/** Runs `fn` once per index of dimension `d`, with that dimension fixed (views offset to match). */
export async function forEachSub(
	sel: ResolvedSelection,
	d: number,
	view: StridedView,
	fn: (s: ResolvedSelection, v: StridedView) => Promise<void>,
): Promise<void> {
	const dim = sel.dims[d] as ResolvedSelection["dims"][number];
	for (let i = 0; i < dim.count; i++) {
		const index = dim.start + i * dim.step;
		const dims = sel.dims.map((x, k) =>
			k === d ? { start: index, step: 1, count: 1, dropped: x.dropped } : x,
		);
		const fullShape = sel.fullShape.map((n, k) => (k === d ? 1 : n));
		const start = sel.box.start.map((s, k) => (k === d ? index : s));
		const shape = sel.box.shape.map((s, k) => (k === d ? 1 : s));
		const sub: ResolvedSelection = {
			dims,
			outShape: sel.outShape,
			fullShape,
			box: { start, shape },
			contiguous: dims.every((x) => x.count <= 1 || x.step === 1),
			size: shapeSize(fullShape),
		};
		await fn(sub, {
			bytes: view.bytes,
			base: view.base + i * (view.strides[d] as number),
			strides: view.strides,
		});
	}
}
