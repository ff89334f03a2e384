/**
 * Byte unshuffle of 4-byte elements with WebAssembly SIMD, for the module of lz4-wasm.ts:
 * only a range of a block's elements, from the block's planes in the module's memory to
 * another place of it (blosc-small.ts then copies the wanted elements out from there).
 */
import {
	ADD,
	c32,
	END,
	get,
	inc,
	LOOP,
	LT_U,
	set,
	shuffle,
	vload,
	vstoreAt,
	zipHi,
	zipLo,
} from "./wasm-asm.js";

// unshuffle4(src, n, i0, i1, dst): elements i0 <= i < i1 of a block of n 4-byte elements
// byte-shuffled at src (plane p of the block at src + p * n) to dst, 16 elements a step with
// i8x16.shuffle (the last step may read up to 15 elements past i1 and write up to 60 bytes
// past dst + 4 * (i1 - i0)).
const [US, UN, UI, UE, UD, P1, P2, P3, VA, VB, VC, VD] = [
	0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
];
const planeLoad = (p: number): number[] => [
	...get(p),
	...get(UI),
	ADD,
	...vload(),
];
/** Body of unshuffle4(src, n, i0, i1, dst), locals 3 × i32 then 4 × v128. */
export const UNSHUFFLE4: readonly number[] = [
	...get(US),
	...get(UN),
	ADD,
	...set(P1),
	...get(P1),
	...get(UN),
	ADD,
	...set(P2),
	...get(P2),
	...get(UN),
	ADD,
	...set(P3),
	...LOOP,
	...planeLoad(US),
	...planeLoad(P1),
	...shuffle(zipLo(1)),
	...set(VA),
	...planeLoad(US),
	...planeLoad(P1),
	...shuffle(zipHi(1)),
	...set(VB),
	...planeLoad(P2),
	...planeLoad(P3),
	...shuffle(zipLo(1)),
	...set(VC),
	...planeLoad(P2),
	...planeLoad(P3),
	...shuffle(zipHi(1)),
	...set(VD),
	...get(UD),
	...get(VA),
	...get(VC),
	...shuffle(zipLo(2)),
	...vstoreAt(0),
	...get(UD),
	...get(VA),
	...get(VC),
	...shuffle(zipHi(2)),
	...vstoreAt(16),
	...get(UD),
	...get(VB),
	...get(VD),
	...shuffle(zipLo(2)),
	...vstoreAt(32),
	...get(UD),
	...get(VB),
	...get(VD),
	...shuffle(zipHi(2)),
	...vstoreAt(48),
	...inc(UI, c32(16)),
	...inc(UD, c32(64)),
	...get(UI),
	...get(UE),
	LT_U,
	0x0d,
	0,
	END,
	END,
];
