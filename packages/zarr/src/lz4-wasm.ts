/**
 * An LZ4 block decoder in WebAssembly, assembled here (a few hundred bytes, no toolchain, no
 * binary file), that decodes into a place of its own memory: the napi LZ4 binding decodes a
 * 128 KiB blosc split in ~100 µs into a fresh buffer per call (C LZ4 takes ~20 µs), which is
 * most of a small read of a blosc-lz4 chunk. Short literal runs and matches move 16 bytes at a
 * time (the regions the caller lays out keep 16 spare bytes after them); every offset and
 * length is checked against its region first.
 */

import { UNSHUFFLE4 } from "./unshuffle-wasm.js";
import {
	ADD,
	AND,
	c32,
	DIV_U,
	ELSE,
	END,
	EQ,
	EQZ,
	fail,
	GE_U,
	GT_U,
	get,
	I32,
	IF,
	inc,
	LE_U,
	LOOP,
	LT_U,
	load8,
	load16,
	MEMCOPY,
	MUL,
	name,
	SELECT,
	SHR_U,
	SUB,
	section,
	set,
	store8,
	uleb,
	V128,
	vec,
	vload,
	vstore,
	wasmModule,
} from "./wasm-asm.js";

// Locals: parameters s, se, d, de, stop; then d0, t, lit, b, off, ml, m, e.
const [S, SE, D, DE, STOP, D0, T, LIT, B, OFF, ML, M, E] = [
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
];
// A run of 255-continued length bytes added to local `x`; fails at the end of the input.
const moreLength = (x: number): number[] => [
	...LOOP,
	...get(S),
	...get(SE),
	GE_U,
	...IF,
	...fail(),
	END,
	...get(S),
	...load8(),
	...set(B),
	...inc(S, c32(1)),
	...inc(x, get(B)),
	...get(B),
	...c32(255),
	EQ,
	0x0d,
	0, // br_if: the next length byte
	END,
];

// (s, se, d, de, stop) -> the end of the decoded bytes in [d, de), or -1 (malformed input);
// returns early once at least stop - d0 bytes are decoded.
const PROGRAM: number[] = [
	...get(D),
	...set(D0),
	...LOOP,
	// Enough decoded (a caller wanting only the first bytes).
	...get(D),
	...get(STOP),
	GE_U,
	...IF,
	...get(D),
	0x0f,
	END,
	// Token.
	...get(S),
	...get(SE),
	GE_U,
	...IF,
	...fail(),
	END,
	...get(S),
	...load8(),
	...set(T),
	...inc(S, c32(1)),
	...get(T),
	...c32(4),
	SHR_U,
	...set(LIT),
	...get(LIT),
	...c32(15),
	EQ,
	...IF,
	...moreLength(LIT),
	END,
	// Literals: within the input and the output.
	...get(LIT),
	...get(SE),
	...get(S),
	SUB,
	GT_U,
	...IF,
	...fail(),
	END,
	...get(LIT),
	...get(DE),
	...get(D),
	SUB,
	GT_U,
	...IF,
	...fail(),
	END,
	...get(LIT),
	...c32(16),
	LE_U,
	...IF,
	...get(D),
	...get(S),
	...vload(),
	...vstore(),
	ELSE,
	...get(D),
	...get(S),
	...get(LIT),
	...MEMCOPY,
	END,
	...inc(S, get(LIT)),
	...inc(D, get(LIT)),
	// The last sequence has literals only.
	...get(S),
	...get(SE),
	EQ,
	...IF,
	...get(D),
	0x0f,
	END,
	// Match offset: two bytes, nonzero, no further back than the output's start.
	...get(SE),
	...get(S),
	SUB,
	...c32(2),
	LT_U,
	...IF,
	...fail(),
	END,
	...get(S),
	...load16(),
	...set(OFF),
	...inc(S, c32(2)),
	...get(OFF),
	EQZ,
	...IF,
	...fail(),
	END,
	...get(OFF),
	...get(D),
	...get(D0),
	SUB,
	GT_U,
	...IF,
	...fail(),
	END,
	// Match length.
	...get(T),
	...c32(15),
	AND,
	...c32(4),
	ADD,
	...set(ML),
	...get(T),
	...c32(15),
	AND,
	...c32(15),
	EQ,
	...IF,
	...moreLength(ML),
	END,
	...get(ML),
	...get(DE),
	...get(D),
	SUB,
	GT_U,
	...IF,
	...fail(),
	END,
	...get(D),
	...get(ML),
	ADD,
	...set(E),
	// A match closer than 16 bytes back repeats a pattern of `off` bytes: copy its first
	// eff - off bytes one by one, eff the smallest multiple of off from 16 on; from there
	// every byte equals the one eff bytes back, far enough for 16-byte moves.
	...get(OFF),
	...set(B),
	...get(OFF),
	...c32(16),
	LT_U,
	...IF,
	...get(OFF),
	...c32(15),
	ADD,
	...get(OFF),
	DIV_U,
	...get(OFF),
	MUL,
	...set(B),
	...get(D),
	...get(B),
	ADD,
	...get(OFF),
	SUB,
	...set(LIT),
	...get(LIT),
	...get(E),
	GT_U,
	...IF,
	...get(E),
	...set(LIT),
	END,
	...LOOP,
	...get(D),
	...get(D),
	...get(OFF),
	SUB,
	...load8(),
	...store8(),
	...inc(D, c32(1)),
	...get(D),
	...get(LIT),
	LT_U,
	0x0d,
	0,
	END,
	END,
	...get(D),
	...get(B),
	SUB,
	...set(M),
	...get(ML),
	...c32(64),
	GE_U,
	...IF,
	// Long matches: [m, d) repeats with a period dividing d - m, so it can be copied onto d
	// whole, doubling the run each time (one copy when the match is not longer than its offset).
	0x02,
	0x40,
	...LOOP,
	...get(D),
	...get(E),
	GE_U,
	0x0d,
	1,
	...get(D),
	...get(M),
	...get(D),
	...get(M),
	SUB,
	...set(LIT),
	...get(LIT),
	...get(E),
	...get(D),
	SUB,
	...get(LIT),
	...get(E),
	...get(D),
	SUB,
	LT_U,
	SELECT,
	...set(LIT),
	...get(LIT),
	...MEMCOPY,
	...inc(D, get(LIT)),
	0x0c,
	0,
	END,
	END,
	ELSE,
	// 16 bytes at a time, each step reading only bytes already final (may pass `e` by up
	// to 15 bytes, rewritten by what follows or in the spare bytes).
	0x02,
	0x40,
	...LOOP,
	...get(D),
	...get(E),
	GE_U,
	0x0d,
	1,
	...get(D),
	...get(M),
	...vload(),
	...vstore(),
	...inc(D, c32(16)),
	...inc(M, c32(16)),
	0x0c,
	0,
	END,
	END,
	END,
	...get(E),
	...set(D),
	0x0c,
	0, // br: the next sequence
	END,
	...fail(),
	END,
];

function moduleBytes(): Uint8Array {
	const type = section(
		1,
		vec([
			[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([[I32]])],
			[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), ...vec([])],
		]),
	);
	const funcs = section(3, vec([[0], [1]]));
	const memory = section(5, vec([[0x00, ...uleb(1)]]));
	const exports = section(
		7,
		vec([
			[...name("decode"), 0x00, 0],
			[...name("unshuffle4"), 0x00, 1],
			[...name("memory"), 0x02, 0],
		]),
	);
	const body = [...vec([[...uleb(8), I32]]), ...PROGRAM];
	const body2 = [
		...vec([
			[...uleb(3), I32],
			[...uleb(4), V128],
		]),
		...UNSHUFFLE4,
	];
	const code = section(
		10,
		vec([
			[...uleb(body.length), ...body],
			[...uleb(body2.length), ...body2],
		]),
	);
	return wasmModule([type, funcs, memory, exports, code]);
}

/** Spare bytes the decoder may write past an output region or read past an input one. */
export const LZ4_SLACK = 16;
/** Spare bytes {@link Lz4Wasm.unshuffle4} may write past its elements (and read past a plane). */
export const UNSHUFFLE_SLACK = 64;

/** The decoder and its memory. */
export interface Lz4Wasm {
	/**
	 * Decodes the LZ4 block at [s, se) of the memory into [d, de): answers the end of the
	 * decoded bytes, or -1 for a malformed block. With `stop` (at most `de`), it may answer
	 * as soon as [d, stop) is decoded (the end answered is then at least `stop`). Both regions
	 * need {@link LZ4_SLACK} spare bytes after them, inside the memory.
	 */
	decode(s: number, se: number, d: number, de: number, stop?: number): number;
	/**
	 * Unshuffles elements [i0, i1) of a block of `n` byte-shuffled 4-byte elements at `src`
	 * (plane p at src + p * n) to `dst`, element i0 first. Reads up to 15 elements past i1
	 * in each plane and writes up to {@link UNSHUFFLE_SLACK} bytes past the elements.
	 */
	unshuffle4(src: number, n: number, i0: number, i1: number, dst: number): void;
	/** The memory, at least `n` bytes (views taken before a call that grows it go stale). */
	heap(n: number): Uint8Array;
}

// The WebAssembly global as used here (this package's TypeScript libs do not declare it).
interface WasmGlobal {
	validate(bytes: Uint8Array): boolean;
	Module: new (bytes: Uint8Array) => object;
	Instance: new (module: object) => { readonly exports: unknown };
}
interface Exports {
	decode(s: number, se: number, d: number, de: number, stop: number): number;
	unshuffle4(src: number, n: number, i0: number, i1: number, dst: number): void;
	readonly memory: {
		readonly buffer: ArrayBuffer;
		grow(pages: number): number;
	};
}

let instance: Lz4Wasm | null | undefined;

/** The decoder, or null where WebAssembly (with SIMD) is not available. */
export function lz4Wasm(): Lz4Wasm | null {
	if (instance !== undefined) return instance;
	instance = null;
	const wasm = (globalThis as { WebAssembly?: WasmGlobal }).WebAssembly;
	try {
		const bytes = moduleBytes();
		if (!wasm?.validate(bytes)) return null;
		const ex = new wasm.Instance(new wasm.Module(bytes)).exports as Exports;
		const mem = ex.memory;
		instance = {
			decode: (s, se, d, de, stop) =>
				ex.decode(s, se, d, de, stop === undefined ? de + 1 : stop),
			unshuffle4: (src, n, i0, i1, dst) => {
				if (i1 > i0) ex.unshuffle4(src, n, i0, i1, dst);
			},
			heap(n) {
				const have = mem.buffer.byteLength;
				if (have < n) mem.grow(Math.ceil((n - have) / 65536));
				return new Uint8Array(mem.buffer);
			},
		};
	} catch {
		instance = null;
	}
	return instance;
}
