import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import {
	FORMATS_DIR,
	fingerprint,
	sha256,
	tempDir,
} from "@arraystore/conformance";
import { type DriverOpenOptions, parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { openRawRegion } from "../src/index.js";
import { adapterFor, IO_PATHS, noise } from "./helpers.js";

const fixture = join(FORMATS_DIR, "raw/i2_20x30.dat");

function opts(extra: Partial<DriverOpenOptions> = {}): DriverOpenOptions {
	return { mode: "c", path: "", adapterOptions: {}, ...extra };
}

describe("raw: copy-on-write (mode c)", () => {
	for (const io of IO_PATHS) {
		it(`${io.name}: reads see the writes; file bytes and mtime never change`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("a.dat");
			await copyFile(fixture, file);
			await copyFile(`${fixture}.json`, `${file}.json`);
			const original = new Uint8Array(await readFile(file));
			const before = await fingerprint(file);
			const hash = sha256(original);
			// Let a write that reached the file show up as a later mtime.
			await new Promise((r) => setTimeout(r, 20));
			const d = await adapterFor(io.mmap).open(file, opts());
			const patch = new Uint8Array(
				new Int16Array([-1, -2, -3, -4, -5, -6]).buffer,
			);
			await d.write?.({ start: [3, 10], shape: [2, 3] }, patch);
			const out = new Uint8Array(2 * 5 * 2);
			await d.read({ start: [3, 9], shape: [2, 5] }, out);
			const expected = new Uint8Array(20);
			expected.set(original.subarray((3 * 30 + 9) * 2, (3 * 30 + 10) * 2), 0);
			expected.set(patch.subarray(0, 6), 2);
			expected.set(original.subarray((3 * 30 + 13) * 2, (3 * 30 + 14) * 2), 8);
			expected.set(original.subarray((4 * 30 + 9) * 2, (4 * 30 + 10) * 2), 10);
			expected.set(patch.subarray(6, 12), 12);
			expected.set(original.subarray((4 * 30 + 13) * 2, (4 * 30 + 14) * 2), 18);
			expect(out).toEqual(expected);
			await d.flush?.({ durable: true });
			expect(sha256(new Uint8Array(await readFile(file)))).toBe(hash);
			await d.close();
			expect(await fingerprint(file)).toBe(before);
			expect(sha256(new Uint8Array(await readFile(file)))).toBe(hash);
			// A fresh open does not see the discarded writes.
			const again = await adapterFor(io.mmap).open(file, opts({ mode: "r" }));
			const whole = new Uint8Array(1200);
			await again.read({ start: [0, 0], shape: [20, 30] }, whole);
			expect(whole).toEqual(original);
			await again.close();
		});

		it(`${io.name}: writes over many windows survive window eviction`, async () => {
			await using tmp = await tempDir();
			const file = tmp.join("b.bin");
			const n = 64 * 1024;
			const base = noise(n, 77);
			const { writeFile } = await import("node:fs/promises");
			await writeFile(file, base);
			const before = await fingerprint(file);
			const d = await openRawRegion(file, {
				mode: "c",
				dtype: parseDType("|u1"),
				shape: [n],
				order: "C",
				offset: 0,
				mmap: io.mmap,
				windowBytes: 4096,
				maxWindows: 1,
			});
			const model = base.slice();
			for (let w = 0; w < 15; w += 3) {
				const at = w * 4096 + 1000;
				const src = noise(5000, w + 1);
				await d.write?.({ start: [at], shape: [5000] }, src);
				model.set(src, at);
			}
			const out = new Uint8Array(n);
			await d.read({ start: [0], shape: [n] }, out);
			expect(out).toEqual(model);
			await d.close();
			expect(await fingerprint(file)).toBe(before);
		});
	}

	it("fallback: the private copy is bounded (LimitExceededError)", async () => {
		await using tmp = await tempDir();
		const file = tmp.join("c.bin");
		const { writeFile } = await import("node:fs/promises");
		await writeFile(file, new Uint8Array(1024 * 1024));
		const d = await openRawRegion(file, {
			mode: "c",
			dtype: parseDType("|u1"),
			shape: [1024 * 1024],
			order: "C",
			offset: 0,
			mmap: false,
			maxPrivateBytes: 128 * 1024,
		});
		await d.write?.(
			{ start: [0], shape: [100_000] },
			new Uint8Array(100_000).fill(1),
		);
		await expect(
			d.write?.(
				{ start: [0], shape: [300_000] },
				new Uint8Array(300_000).fill(2),
			),
		).rejects.toMatchObject({ code: "LIMIT_EXCEEDED" });
		await d.close();
	});
});
