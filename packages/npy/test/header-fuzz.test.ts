import { readdirSync, readFileSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { FORMATS_DIR } from "@arraystore/conformance";
import { isArrayStoreError } from "@arraystore/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readNpyHeader } from "../src/header.js";

// Every fixture's preamble, header and (up to 256) data bytes: the seeds the mutations start from.
const seeds = readdirSync(join(FORMATS_DIR, "npy"))
	.filter(
		(f) => f.endsWith(".npy") && !f.startsWith("version2_header_over_64k"),
	)
	.map((f) => {
		const b = new Uint8Array(readFileSync(join(FORMATS_DIR, "npy", f)));
		return b.subarray(0, Math.min(b.length, 512));
	});

// Tokens that stress the literal parser when spliced into header text.
const TOKENS = [
	"(",
	")",
	"[",
	"]",
	"{",
	"}",
	",",
	":",
	"'",
	'"',
	"\\",
	"\\x",
	"\\u12",
	"L",
	"u'",
	"b'",
	"-",
	"0",
	"99999999999999999999999",
	"9007199254740993",
	"True",
	"None",
	"'descr'",
	"'shape'",
	"'fortran_order'",
	"'|O'",
	"'<f8'",
	"('a', '<i4')",
	"(2,)",
	"\n",
	" ",
	"\x00",
	"\xff",
	"[".repeat(100),
	"(".repeat(70),
];

type Mutation =
	| { readonly k: "flip"; readonly at: number; readonly bit: number }
	| { readonly k: "set"; readonly at: number; readonly v: number }
	| {
			readonly k: "splice";
			readonly at: number;
			readonly del: number;
			readonly tok: number;
	  }
	| { readonly k: "len"; readonly v: number }
	| { readonly k: "truncate"; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
	fc.record({
		k: fc.constant("flip" as const),
		at: fc.nat(600),
		bit: fc.nat(7),
	}),
	fc.record({
		k: fc.constant("set" as const),
		at: fc.nat(600),
		v: fc.nat(255),
	}),
	fc.record({
		k: fc.constant("splice" as const),
		at: fc.nat(600),
		del: fc.nat(8),
		tok: fc.nat(TOKENS.length - 1),
	}),
	fc.record({
		k: fc.constant("len" as const),
		v: fc.oneof(fc.nat(0xffff), fc.constant(0xffffffff), fc.nat()),
	}),
	fc.record({ k: fc.constant("truncate" as const), at: fc.nat(600) }),
);

/** Fixes HEADER_LEN after splices, so the parser sees the whole mutated text (half the cases). */
function rewrap(b: Uint8Array, seed: Uint8Array): Uint8Array {
	if (b.length < 12 || seed.length < 12) return b;
	const v1 = seed[6] === 1;
	const pre = v1 ? 10 : 12;
	const seedView = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
	const seedEnd =
		pre + (v1 ? seedView.getUint16(8, true) : seedView.getUint32(8, true));
	const dataLen = Math.max(0, seed.length - seedEnd);
	const headerLen = Math.max(0, b.length - pre - dataLen);
	const out = Uint8Array.from(b);
	const v = new DataView(out.buffer);
	if (out[6] === 1) v.setUint16(8, Math.min(headerLen, 0xffff), true);
	else v.setUint32(8, headerLen, true);
	return out;
}

function mutate(seed: Uint8Array, ms: readonly Mutation[]): Uint8Array {
	let b = Uint8Array.from(seed);
	for (const m of ms) {
		const at = b.length === 0 ? 0 : ("at" in m ? m.at : 0) % b.length;
		if (m.k === "flip") b[at] = (b[at] ?? 0) ^ (1 << m.bit);
		else if (m.k === "set") b[at] = m.v;
		else if (m.k === "truncate") b = b.subarray(0, at);
		else if (m.k === "splice") {
			// Splice only inside the header text (after the preamble) so the parser sees it.
			const pos = Math.min(Math.max(12, at), b.length);
			const del = Math.min(m.del, b.length - pos);
			const tok = Uint8Array.from(
				[...(TOKENS[m.tok] as string)].map((c) => c.charCodeAt(0) & 0xff),
			);
			const out = new Uint8Array(b.length - del + tok.length);
			out.set(b.subarray(0, pos));
			out.set(tok, pos);
			out.set(b.subarray(pos + del), pos + tok.length);
			b = out;
		} else if (b.length >= 12) {
			const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
			if (b[6] === 1) v.setUint16(8, m.v & 0xffff, true);
			else v.setUint32(8, m.v >>> 0, true);
		}
	}
	return b;
}

/** An in-memory FileHandle that fails the test if a read buffer is larger than the file. */
function memoryHandle(bytes: Uint8Array, allocations: number[]): FileHandle {
	return {
		async stat() {
			return { size: bytes.length };
		},
		async read(
			buffer: Uint8Array,
			offset: number,
			length: number,
			position: number,
		) {
			allocations.push(buffer.length);
			const src = bytes.subarray(position, position + length);
			buffer.set(src, offset);
			return { bytesRead: src.length, buffer };
		},
	} as unknown as FileHandle;
}

describe("npy: header fuzz", () => {
	it("turns 10,000 mutated headers into values or typed errors, never allocating beyond the file", async () => {
		const outcomes = new Map<string, number>();
		await fc.assert(
			fc.asyncProperty(
				fc.nat(seeds.length - 1),
				fc.array(mutation, { minLength: 1, maxLength: 4 }),
				fc.boolean(),
				async (si, ms, fix) => {
					const seed = seeds[si] as Uint8Array;
					const mutated = mutate(seed, ms);
					const bytes = fix ? rewrap(mutated, seed) : mutated;
					const allocations: number[] = [];
					const started = performance.now();
					let outcome: string;
					try {
						const h = await readNpyHeader(memoryHandle(bytes, allocations));
						// A value must describe data that fits the file.
						expect(h.dataOffset + h.nbytes).toBeLessThanOrEqual(bytes.length);
						outcome = "ok";
					} catch (err) {
						if (!isArrayStoreError(err)) throw err;
						outcome = err.code;
					}
					// Generous: a hang never ends, while a loaded CI machine can stall a single parse.
					expect(performance.now() - started).toBeLessThan(1000);
					for (const n of allocations)
						expect(n).toBeLessThanOrEqual(bytes.length);
					outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
				},
			),
			{ seed: 20240601, numRuns: 10_000 },
		);
		process.stderr.write(
			`npy header fuzz outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}\n`,
		);
		// The mutations must reach the deep paths, not just the magic check.
		expect(outcomes.get("ok") ?? 0).toBeGreaterThan(100);
		expect(outcomes.get("MALFORMED") ?? 0).toBeGreaterThan(100);
		expect(outcomes.get("TRUNCATED") ?? 0).toBeGreaterThan(100);
		expect(outcomes.get("UNSUPPORTED_DTYPE") ?? 0).toBeGreaterThan(10);
		expect(outcomes.get("LIMIT_EXCEEDED") ?? 0).toBeGreaterThan(0);
	});
});
