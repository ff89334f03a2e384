/**
 * Generic mmappickle values: attribute values written as protocol-4 pickle fragments the way
 * mmappickle stores them (no PROTO, FRAME or STOP; no memo, since attribute values are trees),
 * with CPython's opcode choices so `pickle.load` reads them back.
 */
import { type AttrValue, UnsupportedError } from "@arraystore/core";
import { encodeInt } from "./format.js";

const BATCH = 1000;
const MAX_DEPTH = 200;

/** The fragment for one value. */
export function pickleValue(v: AttrValue): Uint8Array {
	const out: number[] = [];
	write(v, out, 0);
	return Uint8Array.from(out);
}

function write(v: AttrValue, out: number[], depth: number): void {
	if (depth > MAX_DEPTH)
		throw new UnsupportedError("attribute value nested too deeply");
	if (v === null) out.push(0x4e);
	else if (v === true) out.push(0x88);
	else if (v === false) out.push(0x89);
	else if (typeof v === "bigint") out.push(...encodeInt(v));
	else if (typeof v === "number") {
		if (Number.isSafeInteger(v)) out.push(...encodeInt(v));
		else {
			const b = new Uint8Array(8);
			new DataView(b.buffer).setFloat64(0, v, false);
			out.push(0x47, ...b);
		}
	} else if (typeof v === "string") {
		const b = Buffer.from(v, "utf8");
		if (b.length < 256) out.push(0x8c, b.length);
		else if (b.length < 2 ** 32) out.push(0x58, ...u32(b.length));
		else throw new UnsupportedError("string attribute too large");
		for (const x of b) out.push(x);
	} else if (Array.isArray(v)) {
		out.push(0x5d);
		batched(
			v.length,
			out,
			(i) => write(v[i] as AttrValue, out, depth + 1),
			0x61,
			0x65,
		);
	} else if (isArrayData(v)) {
		// Bytes read from a pickle come back as 1-d |u1 data: write them as bytes again.
		if (v.dtype.str !== "|u1" || v.shape.length !== 1)
			throw new UnsupportedError(
				"mmappickle attributes cannot hold arrays (store them as keys instead)",
			);
		const n = v.bytes.length;
		if (n < 256) out.push(0x43, n);
		else out.push(0x42, ...u32(n));
		for (const x of v.bytes) out.push(x);
	} else {
		const entries = Object.entries(v as Record<string, AttrValue>);
		out.push(0x7d);
		batched(
			entries.length,
			out,
			(i) => {
				const [k, x] = entries[i] as [string, AttrValue];
				write(k, out, depth + 1);
				write(x, out, depth + 1);
			},
			0x73,
			0x75,
		);
	}
}

/** CPython's `_batch_appends` / `_batch_setitems`: one item → single op, more → MARK … op. */
function batched(
	n: number,
	out: number[],
	item: (i: number) => void,
	single: number,
	many: number,
): void {
	for (let start = 0; start < n; start += BATCH) {
		const end = Math.min(n, start + BATCH);
		if (end - start === 1) {
			item(start);
			out.push(single);
		} else {
			out.push(0x28);
			for (let i = start; i < end; i++) item(i);
			out.push(many);
		}
	}
}

function u32(n: number): number[] {
	return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function isArrayData(
	v: AttrValue,
): v is Extract<AttrValue, { bytes: Uint8Array }> {
	return (
		typeof v === "object" &&
		v !== null &&
		!Array.isArray(v) &&
		"bytes" in v &&
		(v as { bytes: unknown }).bytes instanceof Uint8Array
	);
}
