/**
 * Lossless JSON for Zarr metadata. `JSON.parse` rounds integers beyond 2^53 (a uint64
 * `fill_value` of 18446744073709551615 is common), so metadata goes through this reader, which
 * keeps such integers as `bigint`, and through a writer that prints `bigint` as a bare number.
 */
import { MalformedError } from "@arraystore/core";

/** A parsed JSON value; integers outside ±(2^53−1) are `bigint`. */
export type JsonValue =
	| null
	| boolean
	| number
	| bigint
	| string
	| JsonValue[]
	| { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

// Deeply nested input must not blow the stack: zarr metadata is shallow.
const MAX_DEPTH = 512;

/**
 * Parses JSON text, keeping big integers exact.
 * @throws {MalformedError} on invalid JSON.
 */
export function parseJson(text: string, what = "JSON"): JsonValue {
	const p = new Parser(text, what);
	p.ws();
	const v = p.value(0);
	p.ws();
	if (p.i !== text.length) p.fail("trailing characters");
	return v;
}

/** Parses JSON bytes (UTF-8). */
export function parseJsonBytes(bytes: Uint8Array, what = "JSON"): JsonValue {
	let text: string;
	try {
		text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
	} catch (cause) {
		throw new MalformedError(`${what}: not valid UTF-8`, { cause });
	}
	return parseJson(text, what);
}

class Parser {
	i = 0;
	readonly s: string;
	readonly what: string;
	constructor(s: string, what: string) {
		this.s = s;
		this.what = what;
	}
	fail(msg: string): never {
		throw new MalformedError(`${this.what}: ${msg} at offset ${this.i}`);
	}
	ws(): void {
		const s = this.s;
		while (this.i < s.length) {
			const c = s.charCodeAt(this.i);
			if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.i++;
			else break;
		}
	}
	value(depth: number): JsonValue {
		if (depth > MAX_DEPTH) this.fail("nesting too deep");
		const c = this.s[this.i];
		if (c === "{") return this.object(depth);
		if (c === "[") return this.array(depth);
		if (c === '"') return this.string();
		if (c === "t") return this.literal("true", true);
		if (c === "f") return this.literal("false", false);
		if (c === "n") return this.literal("null", null);
		// Python's json writes NaN/Infinity as bare words; accept them on read.
		if (c === "N") return this.literal("NaN", Number.NaN);
		if (c === "I") return this.literal("Infinity", Number.POSITIVE_INFINITY);
		if (c === "-" && this.s.startsWith("-Infinity", this.i))
			return this.literal("-Infinity", Number.NEGATIVE_INFINITY);
		return this.number();
	}
	literal<T extends JsonValue>(word: string, v: T): T {
		if (!this.s.startsWith(word, this.i)) this.fail("unexpected token");
		this.i += word.length;
		return v;
	}
	number(): number | bigint {
		const m = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
		m.lastIndex = this.i;
		const r = m.exec(this.s);
		if (!r || r[0] === "" || r[0] === "-") this.fail("unexpected token");
		this.i += r[0].length;
		const text = r[0];
		if (r[1] === undefined && r[2] === undefined) {
			const n = Number(text);
			if (!Number.isSafeInteger(n)) return BigInt(text);
			return n;
		}
		return Number(text);
	}
	string(): string {
		const s = this.s;
		this.i++;
		let out = "";
		let start = this.i;
		for (;;) {
			if (this.i >= s.length) this.fail("unterminated string");
			const c = s.charCodeAt(this.i);
			if (c === 0x22) {
				out += s.slice(start, this.i);
				this.i++;
				return out;
			}
			if (c < 0x20) this.fail("control character in string");
			if (c === 0x5c) {
				out += s.slice(start, this.i);
				const e = s[this.i + 1];
				this.i += 2;
				if (e === "u") {
					const hex = s.slice(this.i, this.i + 4);
					if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape");
					out += String.fromCharCode(Number.parseInt(hex, 16));
					this.i += 4;
				} else {
					const map: Record<string, string> = {
						'"': '"',
						"\\": "\\",
						"/": "/",
						b: "\b",
						f: "\f",
						n: "\n",
						r: "\r",
						t: "\t",
					};
					const r = e === undefined ? undefined : map[e];
					if (r === undefined) this.fail("bad escape");
					out += r;
				}
				start = this.i;
				continue;
			}
			this.i++;
		}
	}
	array(depth: number): JsonValue[] {
		this.i++;
		const out: JsonValue[] = [];
		this.ws();
		if (this.s[this.i] === "]") {
			this.i++;
			return out;
		}
		for (;;) {
			this.ws();
			out.push(this.value(depth + 1));
			this.ws();
			const c = this.s[this.i++];
			if (c === "]") return out;
			if (c !== ",") this.fail("expected , or ]");
		}
	}
	object(depth: number): JsonObject {
		this.i++;
		const out: JsonObject = Object.create(null) as JsonObject;
		this.ws();
		if (this.s[this.i] === "}") {
			this.i++;
			return { ...out };
		}
		for (;;) {
			this.ws();
			if (this.s[this.i] !== '"') this.fail("expected a key");
			const k = this.string();
			this.ws();
			if (this.s[this.i++] !== ":") this.fail("expected :");
			this.ws();
			out[k] = this.value(depth + 1);
			this.ws();
			const c = this.s[this.i++];
			if (c === "}") return { ...out };
			if (c !== ",") this.fail("expected , or }");
		}
	}
}

/** Options of {@link stringifyJson}. */
export interface StringifyOptions {
	/** Spaces per level (zarr-python: 4 for v2, 2 for v3); 0 = compact. */
	readonly indent?: number;
	/** Sort object keys (zarr-python 2 does). */
	readonly sortKeys?: boolean;
}

/**
 * Serialises JSON with `bigint` as bare integers. Non-finite numbers become `null` (as
 * `JSON.stringify`); callers encode NaN fill values as strings first.
 */
export function stringifyJson(
	value: unknown,
	options: StringifyOptions = {},
): string {
	const indent = options.indent ?? 0;
	const out: string[] = [];
	write(value, 0);
	return out.join("");

	function nl(level: number): string {
		return indent > 0 ? `\n${" ".repeat(indent * level)}` : "";
	}
	function write(v: unknown, level: number): void {
		if (v === null || v === undefined) out.push("null");
		else if (typeof v === "bigint") out.push(v.toString());
		else if (typeof v === "number")
			// -0.0 keeps its sign (a float fill value of -0.0 is not 0.0).
			out.push(
				Object.is(v, -0)
					? "-0.0"
					: Number.isFinite(v)
						? JSON.stringify(v)
						: "null",
			);
		else if (typeof v === "boolean") out.push(v ? "true" : "false");
		else if (typeof v === "string") out.push(asciiString(v));
		else if (Array.isArray(v)) {
			if (v.length === 0) {
				out.push("[]");
				return;
			}
			out.push("[");
			v.forEach((e, i) => {
				if (i > 0) out.push(",");
				out.push(nl(level + 1));
				write(e, level + 1);
			});
			out.push(nl(level), "]");
		} else if (typeof v === "object") {
			let keys = Object.keys(v).filter(
				(k) => (v as Record<string, unknown>)[k] !== undefined,
			);
			if (options.sortKeys) keys = keys.sort();
			if (keys.length === 0) {
				out.push("{}");
				return;
			}
			out.push("{");
			keys.forEach((k, i) => {
				if (i > 0) out.push(",");
				out.push(nl(level + 1), asciiString(k), indent > 0 ? ": " : ":");
				write((v as Record<string, unknown>)[k], level + 1);
			});
			out.push(nl(level), "}");
		} else out.push("null");
	}
}

// Python's json.dumps escapes non-ASCII by default; doing the same keeps files byte-stable.
function asciiString(s: string): string {
	return JSON.stringify(s).replace(
		/[\u007f-\uffff]/g,
		(c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
	);
}

/** True for a plain JSON object. */
export function isJsonObject(v: JsonValue | undefined): v is JsonObject {
	return typeof v === "object" && v !== null && !Array.isArray(v);
}
