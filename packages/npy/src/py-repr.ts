/**
 * Python `repr` of what an npy header holds, exactly as CPython prints it: strings, ints,
 * booleans, shape tuples and `dtype.descr` lists. numpy writes the header with `repr`, so
 * byte-identical headers need CPython's rules, including its choice of quotes and escapes.
 */
import type { Descr, DescrField } from "@arraystore/core";

/**
 * `repr(s)` for a Python str: single quotes unless the text has `'` and no `"`; `\\`, the quote,
 * `\t \n \r` escaped; other non-printable characters as `\xhh`, `\uhhhh` or `\Uhhhhhhhh`.
 */
export function reprStr(s: string): string {
	const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
	let out = "";
	for (const ch of s) {
		const c = ch.codePointAt(0) as number;
		if (ch === "\\") out += "\\\\";
		else if (ch === quote) out += `\\${quote}`;
		else if (ch === "\t") out += "\\t";
		else if (ch === "\n") out += "\\n";
		else if (ch === "\r") out += "\\r";
		else if (c === 0x20 || !NON_PRINTABLE.test(ch)) out += ch;
		else if (c <= 0xff) out += `\\x${hex(c, 2)}`;
		else if (c <= 0xffff) out += `\\u${hex(c, 4)}`;
		else out += `\\U${hex(c, 8)}`;
	}
	return quote + out + quote;
}

/** `repr(t)` for a tuple of ints: `()`, `(5,)`, `(3, 4)`. */
export function reprShape(shape: readonly number[]): string {
	return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * `repr(dtype.descr)` (or of `dtype.str` for simple types): a list of tuples, where a nested
 * record's type is again a list and a sub-array shape is a tuple.
 */
export function reprDescr(descr: Descr): string {
	if (typeof descr === "string") return reprStr(descr);
	return `[${descr.map(reprField).join(", ")}]`;
}

// --- internal ---

// CPython's str.isprintable() is false for these categories (space excepted).
const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;

function hex(n: number, width: number): string {
	return n.toString(16).padStart(width, "0");
}

function reprField(f: DescrField): string {
	const [name, type, shape] = f;
	const n =
		typeof name === "string"
			? reprStr(name)
			: `(${reprStr(name[0])}, ${reprStr(name[1])})`;
	const parts = [n, reprDescr(type)];
	if (shape !== undefined) parts.push(reprShape(shape));
	return `(${parts.join(", ")})`;
}
