/**
 * The few pieces of the WebAssembly binary format the modules assembled here use (lz4-wasm.ts):
 * the instructions by their opcodes; LEB128 numbers, vectors, sections and the module header come
 * from @arraystore/core/wasm-binary, which the SIMD shuffle shares.
 */

import { sleb, uleb } from "@arraystore/core/wasm-binary";

export const I32 = 0x7f;
export const V128 = 0x7b;

export {
	name,
	section,
	sleb,
	uleb,
	vec,
	wasmModule,
} from "@arraystore/core/wasm-binary";

export const get = (i: number): number[] => [0x20, i];
export const set = (i: number): number[] => [0x21, i];
export const c32 = (v: number): number[] => [0x41, ...sleb(v)];
export const ADD = 0x6a;
export const SUB = 0x6b;
export const MUL = 0x6c;
export const SELECT = 0x1b;
export const DIV_U = 0x6e;
export const AND = 0x71;
export const SHR_U = 0x76;
export const EQ = 0x46;
export const GT_U = 0x4b;
export const LT_U = 0x49;
export const GE_U = 0x4f;
export const LE_U = 0x4d;
export const EQZ = 0x45;
export const load8 = (): number[] => [0x2d, 0x00, 0x00];
export const load16 = (): number[] => [0x2f, 0x00, 0x00];
export const store8 = (): number[] => [0x3a, 0x00, 0x00];
export const vload = (): number[] => [0xfd, 0x00, 0x00, 0x00];
export const vstore = (): number[] => [0xfd, 0x0b, 0x00, 0x00];
export const MEMCOPY: readonly number[] = [0xfc, 0x0a, 0x00, 0x00];
export const IF: readonly number[] = [0x04, 0x40];
export const ELSE = 0x05;
export const END = 0x0b;
export const LOOP: readonly number[] = [0x03, 0x40];
export const fail = (): number[] => [...c32(-1), 0x0f];
// x += y
export const inc = (x: number, y: number[]): number[] => [
	...get(x),
	...y,
	ADD,
	...set(x),
];
export const range = (a: number, b: number): number[] =>
	Array.from({ length: b - a }, (_, i) => a + i);
// Interleave two vectors by `w`-byte groups: their low halves (zipLo) or high halves.
export const zipLo = (w: number): number[] =>
	range(0, 8 / w).flatMap((k) => [
		...range(k * w, k * w + w),
		...range(16 + k * w, 16 + k * w + w),
	]);
export const zipHi = (w: number): number[] => zipLo(w).map((l) => l + 8);
export const shuffle = (lanes: number[]): number[] => [0xfd, 0x0d, ...lanes];
export const vstoreAt = (offset: number): number[] => [
	0xfd,
	0x0b,
	0x00,
	...uleb(offset),
];
