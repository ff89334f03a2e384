// Byte shuffle and unshuffle of 4- and 8-byte elements with WebAssembly SIMD (i8x16.shuffle),
// 16 elements per step: several times the JavaScript word loops (0.1-0.3 ms per MiB against
// 0.3-1 ms), for blosc's and numcodecs' shuffle in the Zarr codec workers and HDF5's shuffle
// filter on the main thread. The layout is the one both formats share: byte j of every element
// (plane j), then byte j+1. The module is a few hundred bytes assembled here (no toolchain, no
// binary file). Its functions take (src, dst, n): offsets into its memory and the element count,
// a multiple of 16.
//
// Plain JavaScript (`@arraystore/core/shuffle-simd`): worker threads load it without a build
// (one instance per thread).

import { name, section, sleb, uleb, vec, wasmModule } from "./wasm-binary.mjs";

const V128 = 0x7b;
const I32 = 0x7f;

// The few instructions used.
const get = (i) => [0x20, ...uleb(i)];
const set = (i) => [0x21, ...uleb(i)];
const i32 = (v) => [0x41, ...sleb(v)];
const add = [0x6a];
const mul = [0x6c];
const load = [0xfd, 0x00, 0x00, 0x00];
const store = [0xfd, 0x0b, 0x00, 0x00];
const shuffleOp = (lanes) => [0xfd, 0x0d, ...lanes];

const range = (a, b) => Array.from({ length: b - a }, (_, i) => a + i);
// Interleave two vectors by `w`-byte groups: their low halves (zipLo) or high halves (zipHi).
const zipLo = (w) =>
	range(0, 8 / w).flatMap((k) => [
		...range(k * w, k * w + w),
		...range(16 + k * w, 16 + k * w + w),
	]);
const zipHi = (w) => zipLo(w).map((l) => l + 8);
// The even (parity 0) or odd `w`-byte groups of two vectors: the inverse of zipping.
const unzip = (w, parity) =>
	range(0, 16 / w).flatMap((k) =>
		range((2 * k + parity) * w, (2 * k + parity) * w + w),
	);

// Locals: 0 src, 1 dst, 2 n, 3 i (byte offset within a plane), 4 p (byte offset within the
// elements), then v128 registers from R.
const SRC = 0;
const DST = 1;
const N = 2;
const I = 3;
const P = 4;
const R = 5;

// Address of plane j at i (base + j·n + i), and of element vector k at p (base + p + 16k).
const plane = (base, j) => [
	...get(base),
	...get(N),
	...i32(j),
	...mul,
	...add,
	...get(I),
	...add,
];
const elems = (base, k) => [
	...get(base),
	...get(P),
	...add,
	...i32(16 * k),
	...add,
];

// One step of a recipe: register `to` = shuffle(register a, register b, lanes).
const op = (to, a, b, lanes) => [
	...get(R + a),
	...get(R + b),
	...shuffleOp(lanes),
	...set(R + to),
];

/** Register programs: planes → elements (unshuffle) and back, for 4- and 8-byte elements. */
const PROGRAMS = {
	// Planes 0-3 in registers 0-3; elements 0-3, 4-7, 8-11, 12-15 end in registers 8-11.
	unshuffle4: {
		ts: 4,
		out: [8, 9, 10, 11],
		ops: [
			op(4, 0, 1, zipLo(1)),
			op(5, 0, 1, zipHi(1)),
			op(6, 2, 3, zipLo(1)),
			op(7, 2, 3, zipHi(1)),
			op(8, 4, 6, zipLo(2)),
			op(9, 4, 6, zipHi(2)),
			op(10, 5, 7, zipLo(2)),
			op(11, 5, 7, zipHi(2)),
		],
	},
	// Elements in registers 0-3; planes 0-3 end in registers 8-11.
	shuffle4: {
		ts: 4,
		out: [8, 9, 10, 11],
		ops: [
			op(4, 0, 1, unzip(2, 0)), // bytes 0-1 of elements 0-7
			op(5, 0, 1, unzip(2, 1)), // bytes 2-3 of elements 0-7
			op(6, 2, 3, unzip(2, 0)), // bytes 0-1 of elements 8-15
			op(7, 2, 3, unzip(2, 1)),
			op(8, 4, 6, unzip(1, 0)),
			op(9, 4, 6, unzip(1, 1)),
			op(10, 5, 7, unzip(1, 0)),
			op(11, 5, 7, unzip(1, 1)),
		],
	},
	// Planes 0-7 in registers 0-7; elements 0-1 … 14-15 end in registers 16-23.
	unshuffle8: {
		ts: 8,
		out: [16, 17, 18, 19, 20, 21, 22, 23],
		ops: [
			// Byte pairs (planes 2k, 2k+1) of elements 0-7 and 8-15.
			...[0, 1, 2, 3].flatMap((k) => [
				op(8 + 2 * k, 2 * k, 2 * k + 1, zipLo(1)),
				op(9 + 2 * k, 2 * k, 2 * k + 1, zipHi(1)),
			]),
			// Four bytes (planes 0-3 in 24-27, planes 4-7 in 28-31) of elements 0-3 … 12-15.
			op(24, 8, 10, zipLo(2)),
			op(25, 8, 10, zipHi(2)),
			op(26, 9, 11, zipLo(2)),
			op(27, 9, 11, zipHi(2)),
			op(28, 12, 14, zipLo(2)),
			op(29, 12, 14, zipHi(2)),
			op(30, 13, 15, zipLo(2)),
			op(31, 13, 15, zipHi(2)),
			// Whole elements.
			...[0, 1, 2, 3].flatMap((k) => [
				op(16 + 2 * k, 24 + k, 28 + k, zipLo(4)),
				op(17 + 2 * k, 24 + k, 28 + k, zipHi(4)),
			]),
		],
	},
	// Elements (two per register) in registers 0-7; planes 0-7 end in registers 16-23.
	shuffle8: {
		ts: 8,
		out: [16, 17, 18, 19, 20, 21, 22, 23],
		ops: [
			// Bytes 0-3 (24-27) and 4-7 (28-31) of elements 0-3 … 12-15.
			...[0, 1, 2, 3].flatMap((k) => [
				op(24 + k, 2 * k, 2 * k + 1, unzip(4, 0)),
				op(28 + k, 2 * k, 2 * k + 1, unzip(4, 1)),
			]),
			// Byte pairs: planes (0,1) of elements 0-7 in 8, of 8-15 in 9; (2,3) in 10, 11 …
			op(8, 24, 25, unzip(2, 0)),
			op(10, 24, 25, unzip(2, 1)),
			op(9, 26, 27, unzip(2, 0)),
			op(11, 26, 27, unzip(2, 1)),
			op(12, 28, 29, unzip(2, 0)),
			op(14, 28, 29, unzip(2, 1)),
			op(13, 30, 31, unzip(2, 0)),
			op(15, 30, 31, unzip(2, 1)),
			// Planes.
			...[0, 1, 2, 3].flatMap((k) => [
				op(16 + 2 * k, 8 + 2 * k, 9 + 2 * k, unzip(1, 0)),
				op(17 + 2 * k, 8 + 2 * k, 9 + 2 * k, unzip(1, 1)),
			]),
		],
	},
};

// A function body: loop i over the planes (16 elements per step), load, run the program, store.
function body(program, inverse) {
	const { ts, ops, out } = program;
	const steps = [];
	for (let k = 0; k < ts; k++)
		steps.push(
			...(inverse ? plane(SRC, k) : elems(SRC, k)),
			...load,
			...set(R + k),
		);
	steps.push(...ops.flat());
	for (const [k, r] of out.entries())
		steps.push(
			...(inverse ? elems(DST, k) : plane(DST, k)),
			...get(R + r),
			...store,
		);
	const code = [
		...i32(0),
		...set(I),
		...i32(0),
		...set(P),
		0x02,
		0x40, // block
		0x03,
		0x40, // loop
		...get(I),
		...get(N),
		0x4f, // i32.ge_u
		0x0d,
		1, // br_if: leave the block
		...steps,
		...get(I),
		...i32(16),
		...add,
		...set(I),
		...get(P),
		...i32(16 * ts),
		...add,
		...set(P),
		0x0c,
		0, // br: next step
		0x0b,
		0x0b,
		0x0b, // end loop, block, function
	];
	const locals = vec([
		[...uleb(2), I32],
		[...uleb(32), V128],
	]);
	const fn = [...locals, ...code];
	return [...uleb(fn.length), ...fn];
}

const EXPORTS = ["shuffle4", "unshuffle4", "shuffle8", "unshuffle8"];

function moduleBytes() {
	const type = section(1, vec([[0x60, ...vec([I32, I32, I32]), ...vec([])]]));
	const funcs = section(3, vec(EXPORTS.map(() => [0])));
	const memory = section(5, vec([[0x00, ...uleb(1)]]));
	const exports = section(
		7,
		vec([
			...EXPORTS.map((e, i) => [...name(e), 0x00, ...uleb(i)]),
			[...name("memory"), 0x02, 0],
		]),
	);
	const code = section(
		10,
		vec(EXPORTS.map((e) => body(PROGRAMS[e], e.startsWith("unshuffle")))),
	);
	return wasmModule([type, funcs, memory, exports, code]);
}

const MAX_BLOCK = 4 * 1024 * 1024;
let instance;

function simd() {
	if (instance === undefined) {
		try {
			const bytes = moduleBytes();
			instance = WebAssembly.validate(bytes)
				? new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports
				: null;
		} catch {
			instance = null;
		}
	}
	return instance;
}

// Copies `src` into the module's memory and runs one function over it; returns the module's
// memory (output at src.length), or null, touching nothing, when it cannot (no SIMD, another
// element size, an element count that is not a multiple of 16, or more than MAX_BLOCK bytes).
function run(src, ts, inverse) {
	if ((ts !== 4 && ts !== 8) || src.length % (16 * ts) !== 0) return null;
	// The module's memory never shrinks: keep it to a few blosc blocks.
	if (src.length > MAX_BLOCK) return null;
	const m = simd();
	if (!m) return null;
	const need = 2 * src.length;
	const mem = m.memory;
	if (mem.buffer.byteLength < need)
		mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
	const heap = new Uint8Array(mem.buffer);
	heap.set(src, 0);
	m[`${inverse ? "unshuffle" : "shuffle"}${ts}`](
		0,
		src.length,
		src.length / ts,
	);
	return heap;
}

/**
 * Byte-shuffles (or with `inverse`, unshuffles) `src` into `dst` for `ts`-byte elements with
 * SIMD. Returns false, touching nothing, when it cannot (no SIMD, another element size, an
 * element count that is not a multiple of 16, or more than 4 MiB).
 */
export function simdShuffle(src, dst, ts, inverse) {
	const heap = run(src, ts, inverse);
	if (heap === null) return false;
	dst.set(heap.subarray(src.length, 2 * src.length));
	return true;
}

/**
 * Unshuffles `src` (`ts`-byte elements) with SIMD and returns the result in place in the
 * module's memory, saving the copy out when the caller copies it on anyway: valid until the
 * next call into this module on this thread. Null when {@link simdShuffle} would return false.
 */
export function simdUnshuffled(src, ts) {
	const heap = run(src, ts, true);
	return heap === null ? null : heap.subarray(src.length, 2 * src.length);
}
