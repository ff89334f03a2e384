import { python, sha256, skipNote, tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { planBlosc } from "../src/blosc-ranges.js";
import { zarrAdapter } from "../src/index.js";

// Small reads of blosc frames read only the header, the block offsets and the blocks holding
// the wanted bytes (zeros elsewhere).

const NATIVE = { lz4: true, zstd: true };

// A frame header: version 2, `flags`, typesize 4, `nbytes` decoded in blocks of `bs`, `cbytes`
// stored, then the block offsets.
function frame(
	flags: number,
	nbytes: number,
	bs: number,
	cbytes: number,
	offsets: readonly number[],
): Uint8Array {
	const b = new Uint8Array(16 + 4 * offsets.length);
	const v = new DataView(b.buffer);
	b.set([2, 1, flags, 4]);
	v.setUint32(4, nbytes, true);
	v.setUint32(8, bs, true);
	v.setUint32(12, cbytes, true);
	offsets.forEach((o, i) => {
		v.setUint32(16 + 4 * i, o, true);
	});
	return b;
}

const LZ4_SHUFFLE = (1 << 5) | 0x01;
const none = () => null;

describe("zarr: blosc block ranges", () => {
	it("plans the header, offsets and the wanted blocks (stored in any order)", () => {
		// 8 blocks of 1000 bytes; stored 500 bytes each, in order.
		const inOrder = [48, 548, 1048, 1548, 2048, 2548, 3048, 3548];
		const f = frame(LZ4_SHUFFLE, 8000, 1000, 4048, inOrder);
		expect(planBlosc(f, 4048, [2100, 2900], NATIVE, none)).toEqual({
			head: 48,
			from: 1048,
			to: 1548,
		});
		expect(planBlosc(f, 4048, [1999, 3001], NATIVE, none)).toEqual({
			head: 48,
			from: 548,
			to: 2048,
		});
		// The last block ends at the end of the frame.
		expect(planBlosc(f, 4048, [7000, 8000], NATIVE, none)).toEqual({
			head: 48,
			from: 3548,
			to: 4048,
		});
		// Blocks stored in reverse: block 2 lies between blocks 3 and 1.
		const reversed = [...inOrder].reverse();
		const r = frame(LZ4_SHUFFLE, 8000, 1000, 4048, reversed);
		expect(planBlosc(r, 4048, [2100, 2900], NATIVE, none)).toEqual({
			head: 48,
			from: 2548,
			to: 3048,
		});
	});

	it("reads whole frames the kernel decodes whole, headers that do not add up and most-wanted frames", () => {
		const offs = [48, 548, 1048, 1548, 2048, 2548, 3048, 3548];
		const plan = (
			f: Uint8Array,
			want: [number, number],
			native = NATIVE,
			size = 4048,
		) => planBlosc(f, size, want, native, none);
		const w: [number, number] = [2100, 2900];
		expect(plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, offs), w)).not.toBeNull();
		// Stored uncompressed, blosclz and snappy (WebAssembly), lz4 without the native module.
		expect(
			plan(frame(LZ4_SHUFFLE | 0x02, 8000, 1000, 4048, offs), w),
		).toBeNull();
		expect(plan(frame(0x01, 8000, 1000, 4048, offs), w)).toBeNull();
		expect(plan(frame((2 << 5) | 1, 8000, 1000, 4048, offs), w)).toBeNull();
		expect(
			plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, offs), w, {
				lz4: false,
				zstd: true,
			}),
		).toBeNull();
		// More compressed bytes than the file, an offset into the header or past the end.
		expect(
			plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, offs), w, NATIVE, 4000),
		).toBeNull();
		const bad = [...offs];
		bad[2] = 20;
		expect(plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, bad), w)).toBeNull();
		bad[2] = 5000;
		expect(plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, bad), w)).toBeNull();
		// Wanted bytes past the decoded size; six blocks of eight.
		expect(
			plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, offs), [7000, 8001]),
		).toBeNull();
		expect(
			plan(frame(LZ4_SHUFFLE, 8000, 1000, 4048, offs), [1000, 7000]),
		).toBeNull();
		// Block offsets past the first bytes read come from `offsets`.
		const f = frame(LZ4_SHUFFLE, 8000, 1000, 4048, offs);
		expect(planBlosc(f.subarray(0, 16), 4048, w, NATIVE, () => f)).toEqual({
			head: 48,
			from: 1048,
			to: 1548,
		});
		expect(planBlosc(f.subarray(0, 16), 4048, w, NATIVE, none)).toBeNull();
	});
});

const hasNc = python.has("numpy", "numcodecs");
if (!hasNc)
	skipNote(
		"zarr blosc frames with blocks out of order",
		python.missing("numpy", "numcodecs"),
	);

// numcodecs frames (16 KiB blocks, 16 a chunk) whose blocks are then stored in reverse order,
// as a multithreaded compressor may store them; numcodecs still decodes them. Answers the
// sha256 of the C-order bytes of the array numcodecs decodes.
const WRITE_REVERSED = `
import numpy as np, numcodecs, hashlib, json, os, struct
path = INPUT
os.makedirs(path)
a = (np.arange(256 * 1024, dtype="<f4").reshape(256, 1024) * 0.37 - 11).astype("<f4")
a[100:140] = 0
with open(os.path.join(path, ".zarray"), "w") as f:
    json.dump({"zarr_format": 2, "shape": [256, 1024], "chunks": [128, 512], "dtype": "<f4",
               "order": "C", "fill_value": 0, "compressor": {"id": "blosc", "cname": "lz4",
               "clevel": 5, "shuffle": 1, "blocksize": 16384}, "filters": None}, f)
codec = numcodecs.Blosc("lz4", 5, 1, 16384)
full = np.zeros_like(a)
for i in range(2):
    for j in range(2):
        chunk = np.ascontiguousarray(a[i * 128:(i + 1) * 128, j * 512:(j + 1) * 512])
        b = bytes(codec.encode(chunk))
        nbytes, bs, cbytes = struct.unpack_from("<III", b, 4)
        n = -(-nbytes // bs)
        starts = list(struct.unpack_from(f"<{n}I", b, 16))
        # numcodecs may already store blocks out of order (several threads): each block runs
        # to the next start in the file.
        ends = [min([o for o in starts if o > s] + [cbytes]) for s in starts]
        body = b""
        new = [0] * n
        at = 16 + 4 * n
        for k in reversed(range(n)):
            new[k] = at
            body += b[starts[k]:ends[k]]
            at += ends[k] - starts[k]
        out = b[:16] + struct.pack(f"<{n}I", *new) + body
        back = np.frombuffer(codec.decode(out), "<f4").reshape(128, 512)
        assert (back == chunk).all()
        full[i * 128:(i + 1) * 128, j * 512:(j + 1) * 512] = back
        with open(os.path.join(path, f"{i}.{j}"), "wb") as f:
            f.write(out)
print(json.dumps(hashlib.sha256(full.tobytes()).hexdigest()))
`;

describe.skipIf(!hasNc)("zarr: small reads of blosc frames", () => {
	it("reads boxes of frames whose blocks are stored out of order", async () => {
		await using tmp = await tempDir("zarr-br-");
		const path = tmp.join("rev.zarr");
		const want = python.run<string>(WRITE_REVERSED, path);
		const d = await zarrAdapter.open(path, {
			mode: "r",
			path: "",
			adapterOptions: {},
		});
		const [R, C] = [256, 1024];
		const full = new Float32Array(R * C);
		// Boxes of 9 rows x 300 columns: a few 16 KiB blocks of one or two chunks each.
		for (let r = 0; r < R; r += 9)
			for (let c = 0; c < C; c += 300) {
				const h = Math.min(9, R - r);
				const w = Math.min(300, C - c);
				const box = new Uint8Array(h * w * 4);
				await d.read({ start: [r, c], shape: [h, w] }, box);
				const f = new Float32Array(box.buffer);
				for (let y = 0; y < h; y++)
					full.set(f.subarray(y * w, (y + 1) * w), (r + y) * C + c);
			}
		await d.close();
		expect(sha256(new Uint8Array(full.buffer))).toBe(want);
	});
});
