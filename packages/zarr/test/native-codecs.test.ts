// Native zstd and lz4 against numcodecs: frames numcodecs writes decode, frames we write
// decode with numcodecs (the modern one and Debian's 0.11, which needs the content size in
// the frame header), and untrusted frames never expand past the chunk size.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
	python,
	pythonLegacy,
	skipNote,
	type TempDir,
	tempDir,
} from "@arraystore/conformance";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	type CodecKernel,
	type KernelCodec,
	loadKernel,
	runInline,
} from "../src/kernel.js";
import { createZarr, openZarr } from "./helpers.js";

const hasNumcodecs = python.has("numpy", "numcodecs");
const hasLegacy = pythonLegacy.has("numpy", "numcodecs");
if (!hasNumcodecs)
	skipNote("zstd/lz4 against numcodecs", python.missing("numpy", "numcodecs"));
if (!hasLegacy)
	skipNote(
		"zstd/lz4 against Debian's numcodecs",
		pythonLegacy.missing("numpy", "numcodecs"),
	);

interface Case {
	readonly name: string;
	readonly id: "zstd" | "lz4";
	readonly level: number;
	readonly bytes: number;
}

// numcodecs frames of smooth and random data; `nofcs` copies have the content size removed
// from the frame header (as streaming encoders write them).
const MAKE = `
import numcodecs, numpy as np
rng = np.random.default_rng(3)
out = []
def strip_fcs(f, size):
    fhd = f[4]
    single, flag = (fhd >> 5) & 1, fhd >> 6
    dict_len = [0, 1, 2, 4][fhd & 3]
    if single:
        # A single-segment frame sizes its window by its content: give it a window descriptor.
        at = 5 + dict_len
        n = [1, 2, 4, 8][flag]
        log = max(10, (size - 1).bit_length())
        return f[:4] + bytes([fhd & 0x1f, (log - 10) << 3]) + f[5:at] + f[at + n:]
    at = 6 + dict_len
    n = [0, 2, 4, 8][flag]
    return f[:4] + bytes([fhd & 0x3f]) + f[5:at] + f[at + n:]
for n in [1, 1000, 300000, 2000000]:
    a = (np.sin(np.arange(n) / 300) * 1000 + rng.random(n)).astype("<f4")
    if n == 1000:
        a = rng.random(n).astype("<f8")
    for codec, level in [("zstd", 1), ("zstd", 3), ("zstd", -3), ("zstd", 19), ("lz4", 1)]:
        name = "%s%d_%d" % (codec, level, n)
        c = numcodecs.Zstd(level=level) if codec == "zstd" else numcodecs.LZ4(acceleration=level)
        e = c.encode(a)
        open(INPUT["dir"] + "/" + name + ".raw", "wb").write(a.tobytes())
        open(INPUT["dir"] + "/" + name + ".theirs", "wb").write(e)
        out.append(dict(name=name, id=codec, level=level, bytes=a.nbytes))
        if codec == "zstd":
            open(INPUT["dir"] + "/" + name + ".nofcs", "wb").write(strip_fcs(bytes(e), a.nbytes))
print(json.dumps(out))
`;

const CHECK = `
import numcodecs
ok = []
for c in INPUT["cases"]:
    raw = open(INPUT["dir"] + "/" + c["name"] + ".raw", "rb").read()
    codec = numcodecs.Zstd() if c["id"] == "zstd" else numcodecs.LZ4()
    got = codec.decode(open(INPUT["dir"] + "/" + c["name"] + ".ours", "rb").read())
    if bytes(got) == raw:
        ok.append(c["name"])
print(json.dumps(ok))
`;

// A zstd frame of `n` zeros declaring `fcs` bytes (or none), built by numcodecs.
const BOMB = `
import numcodecs, numpy as np
e = bytes(numcodecs.Zstd(level=1).encode(np.zeros(INPUT["n"], dtype="u1")))
fhd = e[4]
assert not (fhd >> 5) & 1
at = 6 + [0, 1, 2, 4][fhd & 3]
n = [0, 2, 4, 8][fhd >> 6]
body = e[at + n:]
if INPUT["fcs"] is None:
    f = e[:4] + bytes([fhd & 0x3f]) + e[5:at] + body
else:
    f = e[:4] + bytes([(fhd & 0x3f) | 0x80]) + e[5:at] + INPUT["fcs"].to_bytes(4, "little") + body
print(json.dumps(list(f)))
`;

function spec(c: Pick<Case, "id" | "level">): KernelCodec {
	return c.id === "zstd"
		? { id: "zstd", config: { level: c.level } }
		: { id: "lz4", config: { acceleration: c.level } };
}

describe("zarr: native codec modules", () => {
	it("load on this platform", async () => {
		const k = await loadKernel();
		expect(k.nativeCodecs()).toEqual({ zstd: true, lz4: true });
	});

	it("give way to the WebAssembly codecs with adapterOptions.nativeCodecs false", async () => {
		await using tmp = await tempDir();
		const data = new Float64Array(64 * 128).map((_, i) => Math.sin(i / 50));
		const typesizes: number[] = [];
		for (const nativeCodecs of [true, false]) {
			const target = tmp.join(`n${nativeCodecs}.zarr`);
			{
				await using a = await createZarr(target, {
					dtype: "<f8",
					shape: [64, 128],
					chunks: [64, 128],
					codecs: [
						{ name: "blosc", config: { cname: "lz4", clevel: 5, shuffle: 1 } },
					],
					adapterOptions: { zarrFormat: 2, nativeCodecs },
				});
				await a.write([], data);
			}
			// The numcodecs.js blosc always writes type size 4; ours the item size.
			typesizes.push((await readFile(join(target, "0.0")))[3] ?? -1);
			await using b = await openZarr(target, "", "r", { nativeCodecs });
			expect(new Float64Array((await b.read()).bytes.buffer)).toEqual(data);
		}
		expect(typesizes).toEqual([8, 4]);
	});
});

describe("zarr: native codecs under concurrent writes", () => {
	it("keeps every chunk intact while buffers are reused across arrays", async () => {
		await using tmp = await tempDir();
		const shape = [768, 512];
		// 64 KiB chunks: coded on libuv's pool (native) or a worker (the rest).
		const chunks = [128, 128];
		const codecs = [
			[{ name: "zstd", config: { level: 1 } }],
			[{ name: "blosc", config: { cname: "lz4", clevel: 5, shuffle: 1 } }],
			[{ name: "blosc", config: { cname: "zstd", clevel: 1, shuffle: 2 } }],
			[{ name: "lz4" }],
			[{ name: "blosc", config: { cname: "zlib", clevel: 1, shuffle: 0 } }],
			[{ name: "blosc", config: { cname: "lz4", clevel: 5, shuffle: 0 } }],
		];
		// Smooth data, and noise for the last two (blosc then stores chunks uncompressed).
		let seed = 99;
		const noise = () => {
			seed = (seed * 1103515245 + 12345) >>> 0;
			return seed / 2 ** 32;
		};
		const data = codecs.map((_, k) =>
			new Float32Array(768 * 512).map((_, i) =>
				k < codecs.length - 2
					? Math.sin(i / (40 + k)) * 100 + (i % 7)
					: noise() * 1e9,
			),
		);
		await Promise.all(
			codecs.map(async (c, k) => {
				await using a = await createZarr(tmp.join(`a${k}.zarr`), {
					dtype: "<f4",
					shape,
					chunks,
					codecs: c,
					adapterOptions: { zarrFormat: 2 },
				});
				// Row slabs of 192: whole chunks and partial ones (read-modify-write).
				const d = data[k] as Float32Array;
				await Promise.all(
					[0, 192, 384, 576].map((r) =>
						a.write(
							[{ start: r, stop: r + 192 }],
							d.subarray(r * 512, (r + 192) * 512),
						),
					),
				);
			}),
		);
		for (const [k, d] of data.entries()) {
			await using a = await openZarr(tmp.join(`a${k}.zarr`));
			const got = (await a.read()).bytes;
			expect(Buffer.from(got).equals(Buffer.from(d.buffer)), `array ${k}`).toBe(
				true,
			);
		}
	});
});

describe("zarr: native codecs rewriting chunks", () => {
	it("re-encodes decoded chunks that no longer compress", async () => {
		await using tmp = await tempDir();
		// Compressible chunks, then a partial write of noise: each chunk is decoded (into a
		// pooled buffer), patched and stored uncompressed by blosc — in a buffer of the same
		// pool size class, which must not be the one it copies from.
		for (const cname of ["lz4", "zlib"]) {
			const target = tmp.join(`${cname}.zarr`);
			const want = new Float32Array(256 * 256).fill(1.5);
			await using a = await createZarr(target, {
				dtype: "<f4",
				shape: [256, 256],
				chunks: [64, 64],
				codecs: [{ name: "blosc", config: { cname, clevel: 5, shuffle: 0 } }],
				adapterOptions: { zarrFormat: 2 },
			});
			await a.write([], want);
			// Noise everywhere but the last column: a partial write of every chunk.
			let seed = 7;
			const bits = new Uint32Array(256 * 255).map(() => {
				seed ^= seed << 13;
				seed ^= seed >>> 17;
				seed ^= seed << 5;
				return (seed >>> 0) & 0x3fffffff;
			});
			const noise = new Float32Array(bits.buffer);
			for (let r = 0; r < 256; r++)
				want.set(noise.subarray(r * 255, (r + 1) * 255), r * 256);
			await a.write(
				[
					{ start: 0, stop: 256 },
					{ start: 0, stop: 255 },
				],
				noise,
			);
			await using b = await openZarr(target);
			const got = (await b.read()).bytes;
			expect(Buffer.from(got).equals(Buffer.from(want.buffer)), cname).toBe(
				true,
			);
		}
	});
});

describe("zarr: chunk reads into pooled buffers", () => {
	it("patches checksum-only chunks read into pooled buffers", async () => {
		await using tmp = await tempDir();
		const target = tmp.join("crc.zarr");
		const want = new Float32Array(512 * 512).map((_, i) => i);
		await using a = await createZarr(target, {
			dtype: "<f4",
			shape: [512, 512],
			chunks: [128, 128],
			codecs: [{ name: "crc32c" }],
			adapterOptions: { zarrFormat: 3 },
		});
		await a.write([], want);
		// Every chunk is read into a pooled buffer, patched and written back, four at once.
		const patch = new Float32Array(511 * 511).map((_, i) => -i);
		for (let r = 0; r < 511; r++)
			want.set(patch.subarray(r * 511, (r + 1) * 511), (r + 1) * 512 + 1);
		await a.write(
			[
				{ start: 1, stop: 512 },
				{ start: 1, stop: 512 },
			],
			patch,
		);
		await using b = await openZarr(target);
		const got = (await b.read()).bytes;
		expect(Buffer.from(got).equals(Buffer.from(want.buffer))).toBe(true);
	});
});

describe.skipIf(!hasNumcodecs)("zarr: zstd and lz4 against numcodecs", () => {
	let tmp: TempDir;
	let cases: Case[] = [];
	let kernel: CodecKernel;
	const raw = new Map<string, Uint8Array>();
	const file = async (name: string) =>
		new Uint8Array(await readFile(tmp.join(name)));

	beforeAll(async () => {
		tmp = await tempDir("zarr-codecs-");
		cases = python.run<Case[]>(MAKE, { dir: tmp.path });
		kernel = await loadKernel();
		for (const c of cases) raw.set(c.name, await file(`${c.name}.raw`));
	}, 60_000);
	afterAll(async () => {
		await tmp?.[Symbol.asyncDispose]();
	});

	it("decodes numcodecs' frames, with and without a declared content size", async () => {
		let nofcs = 0;
		for (const native of [true, false]) {
			for (const c of cases) {
				const want = Buffer.from(raw.get(c.name) as Uint8Array);
				const frames = [await file(`${c.name}.theirs`)];
				if (c.id === "zstd") {
					frames.push(await file(`${c.name}.nofcs`));
					nofcs++;
				}
				for (const f of frames) {
					const got = await kernel.decodeChain([spec(c)], f, [c.bytes], native);
					expect(
						Buffer.from(got).equals(want),
						`${c.name} native=${native}`,
					).toBe(true);
				}
			}
		}
		expect(nofcs).toBeGreaterThan(10);
	});

	it("decodes the first bytes of numcodecs' frames, stopping early where the blocks allow", async () => {
		let cut = 0;
		for (const c of cases) {
			if (c.id !== "zstd") continue;
			const want = Buffer.from(raw.get(c.name) as Uint8Array);
			for (const f of [
				await file(`${c.name}.theirs`),
				await file(`${c.name}.nofcs`),
			]) {
				for (const upTo of [1, c.bytes >> 3, c.bytes >> 1, c.bytes - 1]) {
					if (upTo < 1) continue;
					const got = await kernel.decodeChain([spec(c)], f, [c.bytes], true, [
						0,
						upTo,
					]);
					const at = `${c.name} upTo=${upTo}`;
					expect(got.length, at).toBeGreaterThanOrEqual(upTo);
					expect(got.length, at).toBeLessThanOrEqual(c.bytes);
					expect(
						Buffer.from(got).equals(want.subarray(0, got.length)),
						at,
					).toBe(true);
					if (got.length < c.bytes) cut++;
				}
			}
		}
		expect(cut).toBeGreaterThan(4);
	});

	it("decodes the first bytes of numcodecs' frames from their first stored bytes only", async () => {
		let decoded = 0;
		let refused = 0;
		for (const c of cases) {
			if (c.id !== "zstd" || c.bytes < 100_000) continue;
			const want = Buffer.from(raw.get(c.name) as Uint8Array);
			for (const f of [
				await file(`${c.name}.theirs`),
				await file(`${c.name}.nofcs`),
			]) {
				for (const part of [0.001, 0.3, 0.6, 0.9]) {
					const head = f.subarray(0, Math.ceil(f.length * part));
					for (const upTo of [1, c.bytes >> 3, c.bytes >> 1]) {
						const at = `${c.name} head=${head.length}/${f.length} upTo=${upTo}`;
						const got = await kernel.decodeHead(
							[spec(c)],
							head,
							[c.bytes],
							[0, upTo],
							f.length,
						);
						if (got === null) {
							refused++;
							continue;
						}
						decoded++;
						expect(got.length, at).toBeGreaterThanOrEqual(upTo);
						expect(got.length, at).toBeLessThanOrEqual(c.bytes);
						expect(
							Buffer.from(got).equals(want.subarray(0, got.length)),
							at,
						).toBe(true);
					}
				}
			}
		}
		// Heads too short (a few bytes, or short of the wanted ones) are refused, not guessed.
		expect(refused).toBeGreaterThan(4);
		expect(decoded).toBeGreaterThan(4);
	});

	it("decodes whole frames when a cut comes short of the wanted bytes", async () => {
		// A frame built by hand (RFC 8878): no content size, a 1 KiB window, 50 compressed
		// blocks of 20 raw literals and no sequences each. Every block decodes to 20 bytes, far
		// below the window a cut must assume, so cuts come short and the whole frame decides.
		const data = new Uint8Array(50 * 20).map((_, i) => (i * 37 + 11) % 251);
		const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00];
		for (let k = 0; k < 50; k++) {
			const body = [20 << 3, ...data.subarray(k * 20, k * 20 + 20), 0];
			const bh = (body.length << 3) | (2 << 1) | (k === 49 ? 1 : 0);
			parts.push(bh & 0xff, (bh >> 8) & 0xff, (bh >> 16) & 0xff, ...body);
		}
		const frame = new Uint8Array(parts);
		const zstd: KernelCodec = { id: "zstd", config: { level: 1 } };
		for (const upTo of [1, 100, 500]) {
			const got = await kernel.decodeChain([zstd], frame, [1000], true, [
				0,
				upTo,
			]);
			expect(got.length, `upTo=${upTo}`).toBeGreaterThanOrEqual(upTo);
			expect(
				Buffer.from(got).equals(Buffer.from(data.subarray(0, got.length))),
				`upTo=${upTo}`,
			).toBe(true);
			// 500 bytes: the cut (after 5 blocks a 1 KiB window could fill) holds 100 only.
			if (upTo === 500) expect(got.length).toBe(1000);
			const head = await kernel.decodeHead(
				[zstd],
				frame.subarray(0, 600),
				[1000],
				[0, upTo],
				frame.length,
			);
			if (head !== null)
				expect(
					Buffer.from(head).equals(
						Buffer.from(data.subarray(0, head.length)),
					) && head.length >= upTo,
					`head upTo=${upTo}`,
				).toBe(true);
		}
	});

	it("writes frames numcodecs decodes, content size declared", async () => {
		for (const c of cases) {
			const ours = await kernel.encodeChain(
				[spec(c)],
				raw.get(c.name) as Uint8Array,
			);
			if (c.id === "zstd") {
				// Frame_Content_Size_flag set (or single segment): numcodecs < 0.13 needs it.
				const fhd = ours[4] ?? 0;
				expect(fhd >> 6 !== 0 || (fhd & 0x20) !== 0).toBe(true);
			}
			await writeFile(tmp.join(`${c.name}.ours`), ours);
		}
		const names = cases.map((c) => c.name);
		expect(python.run<string[]>(CHECK, { dir: tmp.path, cases })).toEqual(
			names,
		);
		if (hasLegacy)
			expect(
				pythonLegacy.run<string[]>(CHECK, { dir: tmp.path, cases }),
			).toEqual(names);
	});

	it("writes with the WebAssembly codecs when asked, frames numcodecs decodes", async () => {
		const some = cases.filter((c) => c.bytes === 1_200_000);
		expect(some.length).toBeGreaterThan(3);
		for (const c of some) {
			const ours = await runInline({
				op: "encode",
				chain: [spec(c)],
				bytes: raw.get(c.name) as Uint8Array,
				native: false,
			});
			await writeFile(tmp.join(`${c.name}.ours`), ours);
		}
		expect(python.run<string[]>(CHECK, { dir: tmp.path, cases: some })).toEqual(
			some.map((c) => c.name),
		);
	});

	it("refuses zstd frames that expand past the chunk, whatever their header says", async () => {
		const limit = 1 << 20;
		const n = 64 << 20;
		for (const fcs of [1000, null, n]) {
			const frame = new Uint8Array(python.run<number[]>(BOMB, { n, fcs }));
			const t0 = performance.now();
			await expect(
				runInline({
					op: "decode",
					chain: [{ id: "zstd", config: { level: 1 } }],
					bytes: frame,
					limits: [limit],
				}),
			).rejects.toThrow();
			expect(performance.now() - t0).toBeLessThan(5000);
		}
	});
});
