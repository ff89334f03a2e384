import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import { isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { OUT_CHUNK } from "../src/joblib/bzip2.js";
import {
	type Codec,
	type StreamLimits,
	streamInput,
} from "../src/joblib/compressed.js";
import { xxh32 } from "../src/joblib/xxhash32.js";

/** Decodes a whole file: sha256, size and the largest chunk handed out. */
async function decode(
	path: string,
	codec: Codec,
	limits: StreamLimits = {},
): Promise<{ sha256: string; size: number; largest: number }> {
	const input = streamInput(path, codec, limits);
	const h = createHash("sha256");
	let size = 0;
	let largest = 0;
	try {
		for (;;) {
			const chunk = await input.read(size, 1 << 30);
			if (chunk.length === 0) break;
			h.update(chunk);
			size += chunk.length;
			largest = Math.max(largest, chunk.length);
		}
	} finally {
		input.close();
	}
	return { sha256: h.digest("hex"), size, largest };
}

async function decodeError(
	path: string,
	codec: Codec,
	limits?: StreamLimits,
): Promise<unknown> {
	return decode(path, codec, limits).then(
		() => undefined,
		(e: unknown) => e,
	);
}

interface Case {
	readonly name: string;
	readonly sha256: string;
	readonly size: number;
}

/** Python writes one file per case into `dir`; returns what it compressed. */
const CASES = `
import hashlib, os, bz2, lzma
dir, which = INPUT
rng = __import__("random").Random(11)
noise = bytes(rng.getrandbits(8) for _ in range(300_000))
text = b"".join(b"line %d of a text that repeats itself somewhat\\n" % (i % 977) for i in range(40_000))
runs = b"".join(bytes([i % 251]) * n for i, n in enumerate([1, 2, 3, 4, 5, 6, 255, 256, 259, 260, 1000, 4, 4, 3, 70000] * 7))
datas = {"empty": b"", "one": b"x", "noise": noise, "text": text, "runs": runs, "all": bytes(range(256)) * 500, "zeros": bytes(3_000_000)}
out = []
def put(name, data, blob):
    open(os.path.join(dir, name), "wb").write(blob)
    out.append({"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
if which == "bz2":
    for k, d in datas.items():
        for lvl in (1, 9):
            put(f"{k}-{lvl}", d, bz2.compress(d, lvl))
    put("concat", text + noise, bz2.compress(text, 1) + bz2.compress(noise, 2))
if which == "lzma":
    for k in ("empty", "text", "noise", "runs"):
        put(f"{k}-alone", datas[k], lzma.compress(datas[k], format=lzma.FORMAT_ALONE))
if which == "xz":
    for k in ("empty", "text", "noise"):
        for ck in (lzma.CHECK_NONE, lzma.CHECK_CRC32, lzma.CHECK_CRC64, lzma.CHECK_SHA256):
            put(f"{k}-{ck}", datas[k], lzma.compress(datas[k], format=lzma.FORMAT_XZ, check=ck))
    put("concat", text + noise, lzma.compress(text) + lzma.compress(noise))
if which == "lz4":
    import lz4.frame as f
    for k in ("empty", "one", "text", "noise", "runs", "zeros"):
        for bs in (f.BLOCKSIZE_DEFAULT, f.BLOCKSIZE_MAX256KB, f.BLOCKSIZE_MAX1MB, f.BLOCKSIZE_MAX4MB):
            for linked in (True, False):
                put(f"{k}-{bs}-{linked}", datas[k], f.compress(datas[k], block_size=bs, block_linked=linked))
        put(f"{k}-checks", datas[k], f.compress(datas[k], content_checksum=True, block_checksum=True, store_size=True))
        put(f"{k}-hc", datas[k], f.compress(datas[k], compression_level=f.COMPRESSIONLEVEL_MINHC, store_size=False))
    skip = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"12345"
    put("frames", text + noise, skip + f.compress(text) + skip + f.compress(noise, content_checksum=True))
print(json.dumps(out))
`;

const PY_CODECS: [Codec, string[]][] = [
	["bz2", []],
	["lzma", []],
	["xz", []],
	["lz4", ["lz4"]],
];

for (const [codec, mods] of PY_CODECS) {
	const ok = python.has(...mods);
	describe.skipIf(!ok)(`codecs: ${codec} streams written by Python`, () => {
		if (!ok) skipNote(`${codec} streams`, python.missing(...mods));
		it("decodes every case to the bytes Python compressed", async () => {
			await using tmp = await tempDir();
			const cases = python.run<Case[]>(CASES, [tmp.path, codec]);
			expect(cases.length).toBeGreaterThanOrEqual(4);
			for (const c of cases) {
				const got = await decode(tmp.join(c.name), codec);
				expect(got.size, c.name).toBe(c.size);
				expect(got.sha256, c.name).toBe(c.sha256);
				// Bounded chunks: bz2 hands out ≤ 1 MiB, lz4 one block (≤ 4 MiB).
				if (codec === "bz2") expect(got.largest).toBeLessThanOrEqual(OUT_CHUNK);
				if (codec === "lz4") expect(got.largest).toBeLessThanOrEqual(4 << 20);
			}
		}, 60_000);

		it("fails truncated streams with TruncatedError and stops at the size limit", async () => {
			await using tmp = await tempDir();
			const cases = python.run<Case[]>(CASES, [tmp.path, codec]);
			const text = cases.find((c) => c.name.startsWith("text"));
			if (!text) throw new Error("no text case");
			const good = await readFile(tmp.join(text.name));
			for (const cut of [
				1,
				5,
				good.length >> 2,
				good.length >> 1,
				good.length - 1,
			]) {
				await writeFile(tmp.join("cut"), good.subarray(0, cut));
				const err = await decodeError(tmp.join("cut"), codec);
				expect(isArrayStoreError(err, "TRUNCATED"), `${cut}: ${err}`).toBe(
					true,
				);
			}
			const zeros = cases.find((c) => c.name.startsWith("zeros"));
			if (zeros) {
				const err = await decodeError(tmp.join(zeros.name), codec, {
					maxBytes: 100_000,
				});
				expect(isArrayStoreError(err, "LIMIT_EXCEEDED"), String(err)).toBe(
					true,
				);
			}
		}, 60_000);
	});
}

describe("codecs: xxh32", () => {
	it("matches the reference test vectors", () => {
		const enc = (s: string) => new TextEncoder().encode(s);
		expect(xxh32(enc(""))).toBe(0x02cc5d05);
		expect(xxh32(enc("a"))).toBe(0x550d7456);
		expect(xxh32(enc("abc"))).toBe(0x32d153ff);
	});
});

/** An LZ4 frame around `blocks` (raw block words and payloads), built from the format spec. */
function frame(
	blocks: Uint8Array[],
	opts: { flg?: number; bd?: number; hc?: number } = {},
): Uint8Array {
	const flg = opts.flg ?? 0x60;
	const bd = opts.bd ?? 0x40;
	const hc = opts.hc ?? (xxh32(new Uint8Array([flg, bd])) >>> 8) & 0xff;
	return Buffer.concat([
		Buffer.from([0x04, 0x22, 0x4d, 0x18, flg, bd, hc]),
		...blocks,
		Buffer.from([0, 0, 0, 0]),
	]);
}

function block(payload: number[] | Uint8Array, stored = false): Uint8Array {
	const head = Buffer.alloc(4);
	head.writeUInt32LE((payload.length | (stored ? 0x80000000 : 0)) >>> 0);
	return Buffer.concat([head, Buffer.from(payload)]);
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

describe("codecs: LZ4 frames built by hand from the format spec", () => {
	async function run(bytes: Uint8Array): Promise<string | unknown> {
		await using tmp = await tempDir();
		await writeFile(tmp.join("f.lz4"), bytes);
		const input = streamInput(tmp.join("f.lz4"), "lz4");
		try {
			const parts: Uint8Array[] = [];
			for (let pos = 0; ; ) {
				const c = await input.read(pos, 1 << 30);
				if (c.length === 0) break;
				parts.push(c);
				pos += c.length;
			}
			return Buffer.concat(parts).toString("latin1");
		} catch (err) {
			return err;
		} finally {
			input.close();
		}
	}

	it("decodes literals, overlapping matches, length extensions and stored blocks", async () => {
		// "abcd", then a match at offset 4 of length 8 (overlapping), then final literals "xy".
		const seq = [0x44, ...ascii("abcd"), 4, 0, 0x20, ...ascii("xy")];
		expect(await run(frame([block(seq)]))).toBe("abcdabcdabcdxy");
		// Literal length 15 + 255 + 3 = 273 and match length 4 + 15 + 255 + 1 = 275 (offset 1).
		const lits = Array.from({ length: 273 }, (_, i) => 97 + (i % 26));
		const long = [0xff, 255, 3, ...lits, 1, 0, 255, 1, 0x10, 0x7a];
		const want = `${String.fromCharCode(...lits)}${String.fromCharCode(lits[272] as number).repeat(275)}z`;
		expect(await run(frame([block(long)]))).toBe(want);
		// A stored block, then a linked block whose match reaches back into it.
		expect(
			await run(
				frame([block(ascii("hello "), true), block([0x12, 0x21, 7, 0, 0x00])], {
					flg: 0x40,
				}),
			),
		).toBe("hello !hello ");
	});

	it("refuses corrupt frames with typed errors", async () => {
		const good = [0x44, ...ascii("abcd"), 4, 0, 0x20, ...ascii("xy")];
		const cases: [string, Uint8Array, string][] = [
			[
				"offset 0",
				frame([block([0x44, ...ascii("abcd"), 0, 0, 0x10, 0x41])]),
				"MALFORMED",
			],
			[
				"offset before the output",
				frame([block([0x44, ...ascii("abcd"), 9, 0, 0x10, 0x41])]),
				"MALFORMED",
			],
			[
				"literals past the block",
				frame([block([0x50, 0x41, 0x42])]),
				"MALFORMED",
			],
			[
				"no final literals",
				frame([block([0x44, ...ascii("abcd"), 4, 0])]),
				"MALFORMED",
			],
			["header checksum", frame([block(good)], { hc: 0 }), "MALFORMED"],
			["version", frame([block(good)], { flg: 0xa0 }), "MALFORMED"],
			["block size id", frame([block(good)], { bd: 0x30 }), "MALFORMED"],
			["dictionary", frame([block(good)], { flg: 0x61 }), "UNSUPPORTED"],
			["bad magic", Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), "MALFORMED"],
			["empty file", new Uint8Array(0), "TRUNCATED"],
			["no end mark", frame([block(good)]).subarray(0, -4), "TRUNCATED"],
			[
				"trailing garbage",
				Buffer.concat([frame([block(good)]), Buffer.from("junk")]),
				"MALFORMED",
			],
		];
		// A block larger than the frame's 64 KiB maximum.
		const big = Buffer.alloc(4);
		big.writeUInt32LE(0x10001);
		cases.push([
			"oversized block",
			Buffer.concat([frame([]).subarray(0, 7), big]),
			"MALFORMED",
		]);
		for (const [what, bytes, code] of cases) {
			const err = await run(bytes);
			expect(
				isArrayStoreError(err, code as "MALFORMED"),
				`${what}: ${err}`,
			).toBe(true);
		}
	});
});

describe("codecs: bzip2 corruption", () => {
	it("refuses bad magic, empty files and trailing garbage", async () => {
		await using tmp = await tempDir();
		const p = tmp.join("f.bz2");
		for (const [bytes, code] of [
			[Buffer.from("BZh0xxxxxxxx"), "MALFORMED"],
			[Buffer.from("BZ"), "TRUNCATED"],
			[new Uint8Array(0), "TRUNCATED"],
			// A valid empty stream (header + end marker + CRC 0), then junk.
			[
				Buffer.from([
					0x42, 0x5a, 0x68, 0x39, 0x17, 0x72, 0x45, 0x38, 0x50, 0x90, 0, 0, 0,
					0, 1, 2, 3, 4,
				]),
				"MALFORMED",
			],
		] as const) {
			await writeFile(p, bytes);
			const err = await decodeError(p, "bz2");
			expect(isArrayStoreError(err, code), String(err)).toBe(true);
		}
	});
});
