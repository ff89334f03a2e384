// The WebAssembly binary format pieces our small assemblers need: the SIMD byte shuffle
// (shuffle-simd.mjs) and the Zarr package's LZ4 decoder and unshuffle (its src/wasm-asm.ts
// re-exports these). Plain JavaScript (`@arraystore/core/wasm-binary`), so worker threads load
// it without a build.

/** Unsigned LEB128. */
export function uleb(n) {
	const out = [];
	let v = n >>> 0;
	do {
		let b = v & 0x7f;
		v >>>= 7;
		if (v !== 0) b |= 0x80;
		out.push(b);
	} while (v !== 0);
	return out;
}

/** Signed LEB128 (i32.const). */
export function sleb(n) {
	const out = [];
	let v = n | 0;
	for (;;) {
		const b = v & 0x7f;
		v >>= 7;
		if ((v === 0 && !(b & 0x40)) || (v === -1 && b & 0x40)) {
			out.push(b);
			return out;
		}
		out.push(b | 0x80);
	}
}

/** A vector: its length, then its items (each a byte or a list of bytes). */
export const vec = (items) => [...uleb(items.length), ...items.flat()];
/** A section: id, byte length, body. */
export const section = (id, body) => [id, ...uleb(body.length), ...body];
/** A name (ASCII). */
export const name = (s) => vec([...s].map((c) => c.charCodeAt(0)));

/** A module: the magic number and version 1, then the given sections in order. */
export function wasmModule(sections) {
	return new Uint8Array([
		0x00,
		0x61,
		0x73,
		0x6d,
		0x01,
		0x00,
		0x00,
		0x00,
		...sections.flat(),
	]);
}
