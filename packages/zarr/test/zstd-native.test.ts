// The zstd-napi path: synchronous decoding on the calling thread (small reads), frames cut
// when only the first bytes are wanted, output buffers reused chunk after chunk, and untrusted
// frames never decoded past the chunk size. Expected bytes come from numcodecs.
import { python, skipNote } from "@arraystore/conformance";
import { beforeAll, describe, expect, it } from "vitest";
import {
	type CodecKernel,
	type KernelCodec,
	loadKernel,
} from "../src/kernel.js";

const hasNumcodecs = python.has("numpy", "numcodecs");
if (!hasNumcodecs)
	skipNote("zstd-napi against numcodecs", python.missing("numpy", "numcodecs"));

interface Frames {
	readonly raw: number[];
	/** numcodecs' frame, and the same without its content size. */
	readonly theirs: number[];
	readonly nofcs: number[];
	/** A 64 MiB frame of zeros declaring 1000 bytes, and declaring none. */
	readonly bombSmall: number[];
	readonly bombNone: number[];
}

const MAKE = `
import numcodecs, numpy as np
n = 300000
a = (np.sin(np.arange(n) / 300) * 1000 + np.random.default_rng(5).random(n)).astype("<f4")
e = bytes(numcodecs.Zstd(level=1).encode(a))
def strip(e, fcs=None):
    fhd = e[4]
    assert not (fhd >> 5) & 1
    at = 6 + [0, 1, 2, 4][fhd & 3]
    body = e[at + [0, 2, 4, 8][fhd >> 6]:]
    if fcs is None:
        return e[:4] + bytes([fhd & 0x3f]) + e[5:at] + body
    return e[:4] + bytes([(fhd & 0x3f) | 0x80]) + e[5:at] + fcs.to_bytes(4, "little") + body
z = bytes(numcodecs.Zstd(level=1).encode(np.zeros(64 << 20, dtype="u1")))
print(json.dumps(dict(raw=list(a.tobytes()), theirs=list(e), nofcs=list(strip(e)),
    bombSmall=list(strip(z, 1000)), bombNone=list(strip(z)))))
`;

const ZSTD: KernelCodec = { id: "zstd", config: { level: 1 } };

describe.skipIf(!hasNumcodecs)("zarr: zstd on the calling thread", () => {
	let kernel: CodecKernel;
	let f: {
		raw: Uint8Array;
		theirs: Uint8Array;
		nofcs: Uint8Array;
		bombSmall: Uint8Array;
		bombNone: Uint8Array;
	};

	beforeAll(async () => {
		kernel = await loadKernel();
		const r = python.run<Frames>(MAKE, {});
		f = {
			raw: new Uint8Array(r.raw),
			theirs: new Uint8Array(r.theirs),
			nofcs: new Uint8Array(r.nofcs),
			bombSmall: new Uint8Array(r.bombSmall),
			bombNone: new Uint8Array(r.bombNone),
		};
	}, 60_000);

	it("decodes numcodecs' frames synchronously, with and without a content size", () => {
		const n = f.raw.length;
		for (const frame of [f.theirs, f.nofcs]) {
			const got = kernel.decodeChainSync([ZSTD], frame, [n]);
			expect(got).not.toBeNull();
			expect(Buffer.from(got as Uint8Array).equals(Buffer.from(f.raw))).toBe(
				true,
			);
		}
	});

	it("stops early when only the first bytes are wanted", () => {
		const n = f.raw.length;
		let short = 0;
		for (const frame of [f.theirs, f.nofcs]) {
			for (const upTo of [1, n >> 4, n >> 2]) {
				const got = kernel.decodeChainSync([ZSTD], frame, [n], true, [
					0,
					upTo,
				]) as Uint8Array;
				expect(got.length).toBeGreaterThanOrEqual(upTo);
				expect(
					Buffer.from(got).equals(Buffer.from(f.raw.subarray(0, got.length))),
				).toBe(true);
				if (got.length < n) short++;
			}
		}
		expect(short).toBeGreaterThan(3);
	});

	it("refuses frames that hold more than the chunk, declared or not, at once", () => {
		const limit = 1 << 20;
		for (const frame of [f.bombSmall, f.bombNone]) {
			const t0 = performance.now();
			expect(() => kernel.decodeChainSync([ZSTD], frame, [limit])).toThrow(
				/more than/,
			);
			expect(performance.now() - t0).toBeLessThan(2000);
		}
		// The frame of 300000 floats under a limit one byte short of them.
		expect(() =>
			kernel.decodeChainSync([ZSTD], f.nofcs, [f.raw.length - 1]),
		).toThrow(/more than/);
		expect(() =>
			kernel.decodeChainSync([ZSTD], f.theirs, [f.raw.length - 1]),
		).toThrow(/more than/);
		// A frame cut short.
		expect(() =>
			kernel.decodeChainSync(
				[ZSTD],
				f.theirs.subarray(0, f.theirs.length - 7),
				[f.raw.length],
			),
		).toThrow();
	});

	it("reuses its output buffers chunk after chunk", async () => {
		const n = f.raw.length;
		const a = await kernel.encodeChain([ZSTD], f.raw);
		const first = a.buffer;
		kernel.release(a);
		const b = await kernel.encodeChain([ZSTD], f.raw);
		expect(b.buffer).toBe(first);
		// Its frame still decodes to the data (numcodecs reads our frames: native-codecs tests).
		const d = kernel.decodeChainSync([ZSTD], b, [n]) as Uint8Array;
		expect(Buffer.from(d).equals(Buffer.from(f.raw))).toBe(true);
		kernel.release(b);
		const decoded = d.buffer;
		kernel.release(d);
		const e = kernel.decodeChainSync([ZSTD], f.theirs, [n]) as Uint8Array;
		expect(e.buffer).toBe(decoded);
		kernel.release(e);
	});
});
