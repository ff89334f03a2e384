// Blosc frames against numcodecs (c-blosc 1.21): we decode every variant numcodecs writes
// (each compressor, shuffle, type size, several blocks and a leftover block, forced block
// sizes), and numcodecs — the modern one and Debian's 0.11 — decodes what we write, laid out
// as it lays it out (same flags, type size and block size).
import { readFile } from "node:fs/promises";
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
} from "../src/kernel.js";

const hasNumcodecs = python.has("numpy", "numcodecs");
const hasLegacy = pythonLegacy.has("numpy", "numcodecs");
if (!hasNumcodecs)
	skipNote(
		"blosc frames against numcodecs",
		python.missing("numpy", "numcodecs"),
	);
if (!hasLegacy)
	skipNote(
		"blosc frames against Debian's numcodecs",
		pythonLegacy.missing("numpy", "numcodecs"),
	);

interface Case {
	readonly name: string;
	readonly cname: string;
	readonly clevel: number;
	readonly shuffle: number;
	readonly blocksize: number;
	readonly typesize: number;
	readonly bytes: number;
}

// Writes raw data and numcodecs' blosc frame of it for every case into INPUT["dir"].
const MAKE = `
import numcodecs, numpy as np
out = []
rng = np.random.default_rng(7)
def data(dt, n):
    if dt == "S3":
        return np.frombuffer(rng.integers(0, 4, size=n * 3, dtype="u1").tobytes(), dtype="S3")
    x = np.sin(np.arange(n) / 50) * 100 + rng.random(n)
    return (np.arange(n) % 251).astype(dt) if dt in ("u1", "i2") else x.astype(dt)
def case(dt, n, cname, sh, cl, bs):
    a = data(dt, n)
    name = "c%d" % len(out)
    e = numcodecs.Blosc(cname=cname, clevel=cl, shuffle=sh, blocksize=bs).encode(a)
    open(INPUT["dir"] + "/" + name + ".raw", "wb").write(a.tobytes())
    open(INPUT["dir"] + "/" + name + ".blosc", "wb").write(e)
    out.append(dict(name=name, cname=cname, clevel=cl, shuffle=sh, blocksize=bs,
                    typesize=a.dtype.itemsize, bytes=a.nbytes))
# Every compressor, shuffle and type size: tiny (stored), one block, one split block.
for dt in ["u1", "i2", "f4", "f8", "c16", "S3"]:
    for n in [10, 700, 9000]:
        for cname in ["lz4", "lz4hc", "zstd", "zlib", "blosclz"]:
            for sh in [0, 1, 2]:
                case(dt, n, cname, sh, 5, 0)
# Several blocks and a leftover block; levels and forced block sizes.
for dt, n in [("f4", 50001), ("f8", 30001), ("i2", 70001)]:
    for cname in ["lz4", "zstd", "zlib"]:
        for sh in [0, 1, 2]:
            for cl in [1, 9]:
                case(dt, n, cname, sh, cl, 0)
        case(dt, n, cname, 1, 5, 3000)
print(json.dumps(out))
`;

// Decodes our frames with numcodecs' blosc; answers the names that round-trip.
const CHECK = `
import numcodecs
ok = []
for name in INPUT["names"]:
    raw = open(INPUT["dir"] + "/" + name + ".raw", "rb").read()
    got = numcodecs.blosc.decompress(open(INPUT["dir"] + "/" + name + ".ours", "rb").read())
    if bytes(got) == raw:
        ok.append(name)
print(json.dumps(ok))
`;

function spec(c: Case): KernelCodec {
	return {
		id: "blosc",
		config: {
			cname: c.cname,
			clevel: c.clevel,
			shuffle: c.shuffle,
			blocksize: c.blocksize,
			typesize: c.typesize,
		},
	};
}

// Header fields that say how a frame is laid out (the stored-raw bit aside: whether a
// nearly incompressible buffer fits depends on the LZ4 implementation's exact output).
function layout(b: Uint8Array): number[] {
	const v = new DataView(b.buffer, b.byteOffset, 16);
	return [
		b[0] ?? -1,
		b[1] ?? -1,
		(b[2] ?? 0) & ~0x02,
		b[3] ?? -1,
		v.getUint32(4, true),
		v.getUint32(8, true),
	];
}

describe.skipIf(!hasNumcodecs)("zarr: blosc frames against numcodecs", () => {
	let tmp: TempDir;
	let cases: Case[] = [];
	let kernel: CodecKernel;
	const raw = new Map<string, Uint8Array>();
	const theirs = new Map<string, Uint8Array>();

	beforeAll(async () => {
		tmp = await tempDir("zarr-blosc-");
		cases = python.run<Case[]>(MAKE, { dir: tmp.path });
		kernel = await loadKernel();
		for (const c of cases) {
			raw.set(
				c.name,
				new Uint8Array(await readFile(tmp.join(`${c.name}.raw`))),
			);
			theirs.set(
				c.name,
				new Uint8Array(await readFile(tmp.join(`${c.name}.blosc`))),
			);
		}
	}, 60_000);
	afterAll(async () => {
		await tmp?.[Symbol.asyncDispose]();
	});

	it("covers every compressor, shuffle and several-block frames", () => {
		expect(cases.length).toBeGreaterThan(300);
		const flags = new Set(cases.map((c) => theirs.get(c.name)?.[2]));
		// Compressed and stored frames, split and unsplit, of each shuffle.
		for (const f of [0x01, 0x04, 0x21, 0x24, 0x91, 0x94, 0x61, 0x64, 0x22])
			expect(flags.has(f)).toBe(true);
	});

	it("decodes every frame numcodecs writes (native and WebAssembly paths)", async () => {
		for (const native of [true, false]) {
			for (const c of cases) {
				const got = await kernel.decodeChain(
					[spec(c)],
					theirs.get(c.name) as Uint8Array,
					[c.bytes],
					native,
				);
				expect(
					Buffer.from(got).equals(Buffer.from(raw.get(c.name) as Uint8Array)),
					`${c.name} ${JSON.stringify(c)} native=${native}`,
				).toBe(true);
			}
		}
	}, 60_000);

	it("writes frames laid out as numcodecs lays them out, which it decodes", async () => {
		const { writeFile } = await import("node:fs/promises");
		const written: string[] = [];
		for (const c of cases) {
			const ours = await kernel.encodeChain(
				[spec(c)],
				raw.get(c.name) as Uint8Array,
			);
			await writeFile(tmp.join(`${c.name}.ours`), ours);
			written.push(c.name);
			// lz4hc and blosclz are written by the WebAssembly blosc (type size 4 there).
			if (c.cname === "lz4hc" || c.cname === "blosclz") continue;
			expect(layout(ours), `${c.name} ${JSON.stringify(c)}`).toEqual(
				layout(theirs.get(c.name) as Uint8Array),
			);
		}
		expect(
			python.run<string[]>(CHECK, { dir: tmp.path, names: written }),
		).toEqual(written);
		if (hasLegacy)
			expect(
				pythonLegacy.run<string[]>(CHECK, { dir: tmp.path, names: written }),
			).toEqual(written);
	}, 60_000);

	it("answers corrupt frames with an error or a buffer of the chunk's size", async () => {
		const c = cases.find(
			(x) => x.cname === "lz4" && x.shuffle === 1 && x.bytes > 100_000,
		);
		if (!c) throw new Error("no several-block lz4 case");
		const frame = theirs.get(c.name) as Uint8Array;
		let errors = 0;
		for (let i = 0; i < 200; i++) {
			const bad = frame.slice();
			const at = (i * 7919) % bad.length;
			bad[at] = (bad[at] ?? 0) ^ (1 << (i % 8));
			try {
				const got = await kernel.decodeChain([spec(c)], bad, [c.bytes]);
				expect(got.length).toBeLessThanOrEqual(c.bytes);
			} catch {
				errors++;
			}
		}
		expect(errors).toBeGreaterThan(0);
		await expect(
			kernel.decodeChain([spec(c)], frame.subarray(0, frame.length - 9), [
				c.bytes,
			]),
		).rejects.toThrow(/blosc/);
		await expect(
			kernel.decodeChain([spec(c)], frame, [c.bytes - 1]),
		).rejects.toThrow(/more than/);
	});
});
