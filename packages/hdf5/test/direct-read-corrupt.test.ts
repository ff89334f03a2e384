// Direct chunk reads (direct-read.ts) of corrupt files: damaged deflate streams, fletcher32
// mismatches, chunk addresses and sizes outside the file or the chunk, chunks that inflate to
// the wrong size, broken index structures, and fuzzed chunk bytes all give typed errors
// (MalformedError) or, where a flip cannot be seen, h5py's values.
import { createHash } from "node:crypto";
import {
	closeSync,
	copyFileSync,
	openSync,
	readFileSync,
	writeSync,
} from "node:fs";
import { join } from "node:path";
import { python, skipNote, tempDir } from "@arraystore/conformance";
import {
	type ArrayDriver,
	isArrayStoreError,
	type Region,
	shapeSize,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { openDriver, readAll } from "./helpers.js";

const sha = (b: Uint8Array): string =>
	createHash("sha256").update(b).digest("hex");

async function readBox(d: ArrayDriver, region: Region): Promise<Uint8Array> {
	const out = new Uint8Array(shapeSize(region.shape) * d.info.dtype.itemsize);
	await d.read(region, out);
	return out;
}

const CORRUPTIBLE = `
import h5py, numpy as np, struct, zlib
path = INPUT
with h5py.File(path, "w") as f:
    f.create_dataset("g", data=np.arange(4000, dtype="<f8").reshape(40, 100), chunks=(10, 100), compression="gzip", shuffle=True)
    f.create_dataset("c", data=np.arange(4000, dtype="<u2").reshape(40, 100), chunks=(10, 100), fletcher32=True)
    w = f.create_dataset("w", shape=(4, 100), dtype="<f8", chunks=(2, 100), compression="gzip")
    w.id.write_direct_chunk((0, 0), zlib.compress(bytes(2 * 100 * 8 - 8)))
    w.id.write_direct_chunk((2, 0), zlib.compress(bytes(2 * 100 * 8 * 64)))
raw = open(path, "rb").read()
out = {}
with h5py.File(path, "r") as f:
    for name in ["g", "c"]:
        info = f[name].id.get_chunk_info(1)
        key = 8 + 8 * 3
        # The B-tree entry: the key (size, mask, offsets) is followed by the chunk address.
        at = [i for i in range(len(raw)) if raw.startswith(struct.pack("<Q", info.byte_offset), i) and struct.unpack_from("<I", raw, i - key)[0] == info.size]
        out[name] = {"offset": info.byte_offset, "size": info.size, "entry": at[0], "node": raw.rfind(b"TREE", 0, at[0])}
print(json.dumps(out))
`;

interface Where {
	readonly offset: number;
	readonly size: number;
	/** File position of the chunk's address in its B-tree node. */
	readonly entry: number;
	/** File position of that node. */
	readonly node: number;
}

function patch(file: string, at: number, bytes: Uint8Array): void {
	const fd = openSync(file, "r+");
	try {
		writeSync(fd, bytes, 0, bytes.length, at);
	} finally {
		closeSync(fd);
	}
}

function u32(v: number): Uint8Array {
	const b = new Uint8Array(4);
	new DataView(b.buffer).setUint32(0, v, true);
	return b;
}

function u64(v: number): Uint8Array {
	const b = new Uint8Array(8);
	new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
	return b;
}

async function readError(file: string, path: string): Promise<unknown> {
	const d = await openDriver(file, path);
	try {
		await readAll(d);
		return null;
	} catch (err) {
		return err;
	} finally {
		await d.close();
	}
}

describe.skipIf(!python.has("h5py"))(
	"hdf5: corrupt chunks read directly",
	() => {
		if (!python.has("h5py"))
			skipNote("hdf5 corrupt chunks", python.missing("h5py"));

		async function corrupt(
			edit: (file: string, w: Record<string, Where>) => void,
			path: string,
		): Promise<unknown> {
			await using tmp = await tempDir();
			const file = join(tmp.path, "bad.h5");
			const where = python.run<Record<string, Where>>(CORRUPTIBLE, file);
			edit(file, where);
			// Awaited here: the temporary folder must outlive the read.
			const err = await readError(file, path);
			return err;
		}

		const malformed = (err: unknown, pattern: RegExp): void => {
			expect(isArrayStoreError(err) && err.code).toBe("MALFORMED");
			expect(String((err as Error).message)).toMatch(pattern);
		};

		it("reports a corrupt deflate stream", async () => {
			const err = await corrupt((file, w) => {
				const g = w.g as Where;
				patch(file, g.offset + 2, new Uint8Array(g.size - 4).fill(0x5a));
			}, "/g");
			malformed(err, /not a valid deflate stream/);
		});

		it("reports a fletcher32 mismatch", async () => {
			const err = await corrupt((file, w) => {
				patch(
					file,
					(w.c as Where).offset + 10,
					Uint8Array.of(0xff, 0x00, 0xff),
				);
			}, "/c");
			malformed(err, /fletcher32 checksum mismatch/);
		});

		it("reports chunk addresses and sizes outside the file or the chunk", async () => {
			const outside = await corrupt((file, w) => {
				patch(file, (w.g as Where).entry, u64(2 ** 40));
			}, "/g");
			malformed(outside, /outside the file/);
			const huge = await corrupt((file, w) => {
				patch(file, (w.g as Where).entry - 32, u32(0x7fffffff));
			}, "/g");
			malformed(huge, /outside the file|more than a 8000-byte chunk/);
			const short = await corrupt((file, w) => {
				patch(file, (w.g as Where).entry - 32, u32(10));
			}, "/g");
			malformed(short, /not a valid deflate stream/);
			const node = await corrupt((file, w) => {
				patch(file, (w.g as Where).node, new TextEncoder().encode("EERT"));
			}, "/g");
			malformed(node, /no B-tree node/);
			const offGrid = await corrupt((file, w) => {
				// The chunk's first dimension offset (10) moved off the 10-row grid.
				patch(file, (w.g as Where).entry - 24, u64(13));
			}, "/g");
			malformed(offGrid, /off the chunk grid/);
			const unfiltered = await corrupt((file, w) => {
				patch(file, (w.c as Where).entry - 32, u32(100));
			}, "/c");
			malformed(unfiltered, /fletcher32|decodes to/);
		});

		it("reports chunks that inflate to less or more than the chunk size", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "bad.h5");
			python.run(CORRUPTIBLE, file);
			const d = await openDriver(file, "/w");
			try {
				const small = await readBox(d, {
					start: [0, 0],
					shape: [2, 100],
				}).catch((e: unknown) => e);
				malformed(small, /decodes to 1592 bytes, not 1600/);
				const big = await readBox(d, { start: [2, 0], shape: [2, 100] }).catch(
					(e: unknown) => e,
				);
				malformed(big, /inflates to more than 1600 bytes/);
			} finally {
				await d.close();
			}
		});

		it("reports extensible array and version-2 B-tree blocks that fail their checksum", async () => {
			await using tmp = await tempDir();
			const file = join(tmp.path, "ea.h5");
			const at = python.run<[string, number][]>(
				`
import h5py, numpy as np
with h5py.File(INPUT, "w", libver="latest") as f:
    f.create_dataset("e", data=np.arange(3000, dtype="<i4").reshape(300, 10), maxshape=(None, 10), chunks=(2, 10))
    f.create_dataset("b", data=np.arange(3000, dtype="<i4").reshape(300, 10), maxshape=(None, None), chunks=(2, 2))
raw = open(INPUT, "rb").read()
print(json.dumps([["/e", raw.find(b"EAIB")], ["/e", raw.find(b"EADB")], ["/b", raw.find(b"BTIN")], ["/b", raw.find(b"BTLF")]]))
`,
				file,
			);
			for (const [path, pos] of at) {
				expect(pos).toBeGreaterThan(0);
				const copy = join(tmp.path, `bad${pos}.h5`);
				copyFileSync(file, copy);
				// A byte inside the block (past its signature, version and client id) changes.
				const b = readFileSync(copy).subarray(pos + 20, pos + 21);
				patch(copy, pos + 20, Uint8Array.of((b[0] as number) ^ 0x40));
				malformed(await readError(copy, path), /checksum mismatch/);
			}
		});

		it("gives typed errors or h5py's values for fuzzed chunk bytes, never anything else", async () => {
			await using tmp = await tempDir();
			const clean = join(tmp.path, "clean.h5");
			const where = python.run<Record<string, Where>>(CORRUPTIBLE, clean);
			const ref = await openDriver(clean, "/g");
			const good = sha(await readAll(ref));
			await ref.close();
			const g = where.g as Where;
			const original = readFileSync(clean);
			let seed = 12345;
			const rand = (n: number): number => {
				seed = (seed * 1103515245 + 12345) % 2 ** 31;
				return seed % n;
			};
			let errors = 0;
			for (let i = 0; i < 24; i++) {
				const file = join(tmp.path, `fuzz${i}.h5`);
				copyFileSync(clean, file);
				const bytes = Uint8Array.from(
					original.subarray(g.offset, g.offset + g.size),
				);
				for (let k = 0; k < 1 + (i % 4); k++) {
					const at = rand(bytes.length);
					bytes[at] = (bytes[at] as number) ^ (1 + rand(255));
				}
				patch(file, g.offset, bytes);
				const d = await openDriver(file, "/g");
				try {
					const got = await readAll(d);
					// A flip deflate cannot see would have to leave the values as they were.
					expect(sha(got)).toBe(good);
				} catch (err) {
					errors++;
					expect(isArrayStoreError(err), String(err)).toBe(true);
				} finally {
					await d.close();
				}
			}
			expect(errors).toBeGreaterThan(12);
		});
	},
);
