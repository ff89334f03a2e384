/**
 * Decoders for the literal arguments of pickle opcodes: LONG1/LONG4 two's-complement bytes and
 * the protocol-0 text forms (INT, LONG, FLOAT, UNICODE, STRING and memo indices). Each either
 * returns the value or throws `MalformedError`; none allocates more than its input.
 */
import { MalformedError } from "@arraystore/core";

/** A JS number when the integer is safe, a bigint otherwise (how the VM keeps Python ints). */
export function normInt(v: bigint): number | bigint {
	return v >= BigInt(Number.MIN_SAFE_INTEGER) &&
		v <= BigInt(Number.MAX_SAFE_INTEGER)
		? Number(v)
		: v;
}

/** LONG1/LONG4: a little-endian two's-complement integer of any length (empty is 0). */
export function decodeLong(b: Uint8Array): number | bigint {
	if (b.length === 0) return 0;
	let v = 0n;
	for (let i = b.length - 1; i >= 0; i--)
		v = (v << 8n) | BigInt(b[i] as number);
	if (((b[b.length - 1] as number) & 0x80) !== 0)
		v -= 1n << BigInt(8 * b.length);
	return normInt(v);
}

/** Protocol-0 INT/LONG text; "01" and "00" are protocol 0's True and False. */
export function textInt(s: string): number | bigint | boolean {
	if (s === "01") return true;
	if (s === "00") return false;
	if (!/^[+-]?\d{1,4300}$/.test(s))
		throw new MalformedError(
			`pickle: bad integer text ${JSON.stringify(s.slice(0, 40))}`,
		);
	return normInt(BigInt(s));
}

/** Protocol-0 PUT/GET memo index text. */
export function memoIndex(s: string): number {
	if (!/^\d{1,10}$/.test(s))
		throw new MalformedError(
			`pickle: bad memo index ${JSON.stringify(s.slice(0, 40))}`,
		);
	return Number(s);
}

/** Protocol-0 FLOAT text (Python's repr, including nan and inf). */
export function textFloat(s: string): number {
	const t = s.trim().toLowerCase();
	if (t === "nan" || t === "-nan") return Number.NaN;
	if (t === "inf" || t === "+inf") return Number.POSITIVE_INFINITY;
	if (t === "-inf") return Number.NEGATIVE_INFINITY;
	const v = Number(t);
	if (t === "" || Number.isNaN(v))
		throw new MalformedError(
			`pickle: bad float text ${JSON.stringify(s.slice(0, 40))}`,
		);
	return v;
}

/** Protocol-0 UNICODE: raw-unicode-escape (latin-1 bytes with \uXXXX and \UXXXXXXXX). */
export function rawUnicodeEscape(b: Uint8Array): string {
	let out = "";
	for (let i = 0; i < b.length; i++) {
		const c = b[i] as number;
		if (c === 0x5c && (b[i + 1] === 0x75 || b[i + 1] === 0x55)) {
			const n = b[i + 1] === 0x75 ? 4 : 8;
			const hex = String.fromCharCode(...b.subarray(i + 2, i + 2 + n));
			if (hex.length === n && /^[0-9a-fA-F]+$/.test(hex)) {
				const cp = Number.parseInt(hex, 16);
				if (cp > 0x10ffff)
					throw new MalformedError("pickle: UNICODE escape above U+10FFFF");
				out += String.fromCodePoint(cp);
				i += 1 + n;
				continue;
			}
		}
		out += String.fromCharCode(c);
	}
	return out;
}

/** Protocol-0 STRING: a quoted Python 2 str literal, decoded to bytes. */
export function pyStringLiteral(b: Uint8Array): Uint8Array {
	const q = b[0];
	if (b.length < 2 || (q !== 0x27 && q !== 0x22) || b[b.length - 1] !== q)
		throw new MalformedError("pickle: STRING argument is not quoted");
	const out: number[] = [];
	for (let i = 1; i < b.length - 1; i++) {
		const c = b[i] as number;
		if (c !== 0x5c) {
			out.push(c);
			continue;
		}
		const n = b[++i];
		const simple: Record<number, number> = {
			110: 10,
			116: 9,
			114: 13,
			92: 0x5c,
			39: 0x27,
			34: 0x22,
			97: 7,
			98: 8,
			102: 12,
			118: 11,
		};
		if (n !== undefined && n in simple) out.push(simple[n] as number);
		else if (n === 0x78) {
			const v = Number.parseInt(
				String.fromCharCode(b[i + 1] ?? 0, b[i + 2] ?? 0),
				16,
			);
			if (Number.isNaN(v))
				throw new MalformedError("pickle: bad \\x escape in STRING");
			out.push(v);
			i += 2;
		} else if (n !== undefined && n >= 0x30 && n <= 0x37) {
			let v = n - 0x30;
			for (
				let k = 0;
				k < 2 && (b[i + 1] ?? 0) >= 0x30 && (b[i + 1] ?? 0) <= 0x37;
				k++
			)
				v = v * 8 + ((b[++i] as number) - 0x30);
			out.push(v & 0xff);
		} else out.push(0x5c, n ?? 0);
	}
	return Uint8Array.from(out);
}
