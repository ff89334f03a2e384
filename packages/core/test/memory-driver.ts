// A minimal in-memory driver for testing core's store without any format.
import type {
	ArrayDriver,
	ArrayInfo,
	Attributes,
	DType,
	Region,
} from "@arraystore/core";
import { copyElements, stridesOf } from "@arraystore/core";

export interface MemoryDriver extends ArrayDriver {
	readonly stored: Uint8Array;
	reads: number;
	writes: number;
}

/** `stored` holds the whole array in stored byte order and stored order. */
export function memoryDriver(
	dtype: DType,
	shape: number[],
	order: "C" | "F" = "C",
	stored?: Uint8Array,
	chunks: number[] | null = null,
): MemoryDriver {
	const n = shape.reduce((a, b) => a * b, 1);
	const bytes = stored ?? new Uint8Array(n * dtype.itemsize);
	const info: ArrayInfo = {
		dtype,
		shape,
		order,
		chunks,
		blockShape: chunks ?? shape.map((s) => Math.max(1, s)),
		fillValue: null,
		codecs: [],
		byteOffset: null,
	};
	const whole = stridesOf(shape, order);
	let attrs: Attributes = {};
	const view = (r: Region) => ({
		bytes,
		base: r.start.reduce((a, s, d) => a + s * (whole[d] as number), 0),
		strides: whole,
	});
	const box = (r: Region, b: Uint8Array) => ({
		bytes: b,
		base: 0,
		strides: stridesOf(r.shape, order),
	});
	const d: MemoryDriver = {
		info,
		stored: bytes,
		reads: 0,
		writes: 0,
		async read(r, out) {
			d.reads++;
			copyElements(view(r), box(r, out), r.shape, dtype.itemsize);
		},
		async write(r, b) {
			d.writes++;
			copyElements(box(r, b), view(r), r.shape, dtype.itemsize);
		},
		async attrs() {
			return attrs;
		},
		async setAttrs(a) {
			attrs = { ...attrs, ...a };
		},
		async close() {},
	};
	return d;
}
