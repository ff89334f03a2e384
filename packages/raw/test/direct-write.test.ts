import { constants } from "node:fs";
import { open, readFile, rename, stat } from "node:fs/promises";
import { skipNote, tempDir } from "@arraystore/conformance";
import {
	type ArrayDriver,
	parseDType,
	UnsupportedError,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import {
	DIRECT_ALIGN,
	DIRECT_MIN_BYTES,
	DirectWriter,
	directSpan,
	directWriteStats,
	STAGE_BYTES,
} from "../src/direct-write.js";
import { createRawAdapter, openRawRegion } from "../src/index.js";
import { noise } from "./helpers.js";

// The region driver always writes; ArrayDriver declares write optional.
function writer(d: ArrayDriver): NonNullable<ArrayDriver["write"]> {
	if (d.write === undefined) throw new Error("driver cannot write");
	return d.write.bind(d);
}

const MiB = 1024 * 1024;
const u1 = parseDType("|u1");

// Whether this machine's temporary directory takes O_DIRECT at all (tmpfs on old kernels, some
// FUSE and network file systems do not): there the bytes must still land, only buffered.
async function directSupported(dir: string): Promise<boolean> {
	const path = `${dir}/probe`;
	const fh = await open(path, "w");
	try {
		const dio = await open(path, constants.O_WRONLY | constants.O_DIRECT);
		try {
			// A WebAssembly memory is page-aligned, as O_DIRECT wants (the test's libs do not declare it).
			const wasm = (
				globalThis as unknown as {
					WebAssembly: {
						Memory: new (d: { initial: number }) => { buffer: ArrayBuffer };
					};
				}
			).WebAssembly;
			const mem = new wasm.Memory({ initial: 1 });
			await dio.write(new Uint8Array(mem.buffer), 0, DIRECT_ALIGN, 0);
			return true;
		} finally {
			await dio.close();
		}
	} catch {
		return false;
	} finally {
		await fh.close();
	}
}

// 2 MiB of bytes at offset 0, positional I/O with direct writes asked for.
function openBytes(path: string, mode: "w+" | "c"): Promise<ArrayDriver> {
	return openRawRegion(path, {
		mode,
		dtype: u1,
		shape: [2 * MiB],
		order: "C",
		offset: 0,
		mmap: false,
		directWrites: true,
	});
}

describe("raw: direct writes (O_DIRECT)", () => {
	it("takes the page-aligned interior of writes of 2 MiB and more", () => {
		expect(DIRECT_MIN_BYTES).toBe(2 * MiB);
		expect(directSpan(0, DIRECT_MIN_BYTES - 1)).toBeNull();
		expect(directSpan(100, DIRECT_MIN_BYTES)).toBeNull();
		expect(directSpan(0, DIRECT_MIN_BYTES)).toEqual({
			start: 0,
			end: DIRECT_MIN_BYTES,
		});
		expect(directSpan(128, 4 * MiB)).toEqual({
			start: DIRECT_ALIGN,
			end: 4 * MiB,
		});
		expect(directSpan(128, 2 * MiB)).toBeNull();
		expect(directSpan(5000, 3 * MiB + 7)).toEqual({
			start: 2 * DIRECT_ALIGN,
			end: Math.floor((5000 + 3 * MiB + 7) / DIRECT_ALIGN) * DIRECT_ALIGN,
		});
	});

	it("writes long unaligned runs byte-exactly, concurrently, and mostly directly", async () => {
		await using dir = await tempDir();
		const supported = await directSupported(dir.path);
		if (!supported)
			skipNote(
				"raw: direct writes",
				`${dir.path} refuses O_DIRECT; checking the buffered fallback only`,
			);
		const n = 3 * STAGE_BYTES + 12345;
		const offset = 100; // an unaligned data offset, like npy's header
		const path = dir.join("out.dat");
		const adapter = createRawAdapter({ mmap: false, directWrites: true });
		const driver = await adapter.create(path, {
			path: "",
			dtype: u1,
			shape: [n],
			order: "C",
			offset,
			exclusive: false,
			adapterOptions: { sidecar: false },
		});
		const want = new Uint8Array(n);
		const before = directWriteStats();
		let direct = 0; // what directSpan says should bypass the page cache
		const expectDirect = (start: number, length: number) => {
			const span = directSpan(offset + start, length);
			if (span !== null) direct += span.end - span.start;
		};
		// Disjoint regions written at once (more than MAX_STAGES, so some wait for a stage), then
		// overlapping ones one after the other (the later one wins), then short ones.
		const cuts = [0, 3 * MiB + 1, 5 * MiB + 77, 9 * MiB + 4095, 11 * MiB, n];
		await Promise.all(
			cuts.slice(0, -1).map((start, i) => {
				const data = noise((cuts[i + 1] as number) - start, i + 1);
				want.set(data, start);
				expectDirect(start, data.length);
				return writer(driver)({ start: [start], shape: [data.length] }, data);
			}),
		);
		for (const [start, length, seed] of [
			[1234, 2 * MiB + 3, 40],
			[2 * MiB, STAGE_BYTES + 1, 41],
			[7, 1000, 42],
			[n - 5000, 5000, 43],
		] as const) {
			const data = noise(length, seed);
			want.set(data, start);
			expectDirect(start, length);
			await writer(driver)({ start: [start], shape: [length] }, data);
		}
		const back = new Uint8Array(n);
		await driver.read({ start: [0], shape: [n] }, back);
		await driver.close();
		expect(Buffer.compare(back, want)).toBe(0);
		const file = await readFile(path);
		expect(file.length).toBe(offset + n);
		expect(Buffer.compare(file.subarray(offset), want)).toBe(0);
		expect(file.subarray(0, offset).every((b) => b === 0)).toBe(true);
		const after = directWriteStats();
		if (supported) {
			expect(after.refused).toBe(before.refused);
			expect(direct).toBeGreaterThan(n / 2);
			expect(after.bytes - before.bytes).toBe(direct);
		} else expect(after.bytes).toBe(before.bytes);
	});

	it("turns itself off for good when the kernel refuses a span", async () => {
		await using dir = await tempDir();
		if (!(await directSupported(dir.path))) {
			skipNote("raw: direct write refusal", `${dir.path} refuses O_DIRECT`);
			return;
		}
		const path = dir.join("f.bin");
		const fh = await open(path, "w+");
		try {
			await fh.truncate(4 * MiB);
			const writer = await DirectWriter.open(fh, path);
			expect(writer).not.toBeNull();
			if (writer === null) return;
			const before = directWriteStats().refused;
			// Offset 100 is aligned to nothing a block device takes: EINVAL.
			const ok = await writer.write(noise(2 * MiB, 5), 0, {
				start: 100,
				end: 100 + 2 * MiB,
			});
			expect([ok, writer.usable]).toEqual([false, false]);
			expect(directWriteStats().refused).toBe(before + 1);
			// Off for good: the next (aligned) span is refused without a syscall.
			expect(await writer.write(noise(MiB, 6), 0, { start: 0, end: MiB })).toBe(
				false,
			);
			await writer.close();
		} finally {
			await fh.close();
		}
	});

	it("writes to the open file even after its path was renamed", async () => {
		await using dir = await tempDir();
		const supported = await directSupported(dir.path);
		const path = dir.join("a.dat");
		const driver = await openBytes(path, "w+");
		await rename(path, dir.join("b.dat"));
		const before = directWriteStats().bytes;
		const data = noise(2 * MiB, 9);
		await writer(driver)({ start: [0], shape: [2 * MiB] }, data);
		await driver.close();
		expect(Buffer.compare(await readFile(dir.join("b.dat")), data)).toBe(0);
		await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
		if (supported) expect(directWriteStats().bytes - before).toBe(2 * MiB);
	});

	it("never writes the file in mode c", async () => {
		await using dir = await tempDir();
		const path = dir.join("c.dat");
		const original = noise(2 * MiB, 3);
		const fh = await open(path, "w");
		await fh.writeFile(original);
		await fh.close();
		const driver = await openBytes(path, "c");
		const before = directWriteStats().bytes;
		const data = noise(2 * MiB, 4);
		await writer(driver)({ start: [0], shape: [2 * MiB] }, data);
		const back = new Uint8Array(2 * MiB);
		await driver.read({ start: [0], shape: [2 * MiB] }, back);
		await driver.close();
		expect(Buffer.compare(back, data)).toBe(0);
		expect(Buffer.compare(await readFile(path), original)).toBe(0);
		expect(directWriteStats().bytes).toBe(before);
	});

	it("rejects a directWrites option that is not a boolean", async () => {
		await using dir = await tempDir();
		await expect(
			createRawAdapter().create(dir.join("x.dat"), {
				path: "",
				dtype: u1,
				shape: [4],
				order: "C",
				offset: 0,
				exclusive: false,
				adapterOptions: { sidecar: false, directWrites: "yes" },
			}),
		).rejects.toBeInstanceOf(UnsupportedError);
	});
});
