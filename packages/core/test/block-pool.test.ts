import { describe, expect, it } from "vitest";
import { BlockPool } from "../src/copy/block-pool.js";

describe("copy: block pool", () => {
	it("lends views of the asked size on shared buffers and reuses returned ones", async () => {
		const pool = new BlockPool(1024, 2);
		const a = await pool.take(1024);
		const b = await pool.take(100);
		expect(a.length).toBe(1024);
		expect(b.length).toBe(100);
		expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
		expect(a.buffer).not.toBe(b.buffer);
		pool.give(b);
		const c = await pool.take(512);
		expect(c.buffer).toBe(b.buffer);
		expect(c.length).toBe(512);
	});

	it("makes a taker wait until a buffer is given back, and ignores a second give", async () => {
		const pool = new BlockPool(64, 1);
		const a = await pool.take(64);
		let got: Uint8Array | null = null;
		const waiting = pool.take(32).then((v) => {
			got = v;
		});
		await new Promise((r) => setTimeout(r, 5));
		expect(got).toBeNull();
		pool.give(a);
		await waiting;
		expect((got as Uint8Array | null)?.buffer).toBe(a.buffer);
		// A view given twice must not hand its buffer to two takers.
		pool.give(a);
		let second: Uint8Array | null = null;
		void pool.take(8).then((v) => {
			second = v;
		});
		await new Promise((r) => setTimeout(r, 5));
		expect(second).toBeNull();
	});

	it("refuses a block larger than its buffers", async () => {
		const pool = new BlockPool(16, 1);
		await expect(pool.take(17)).rejects.toThrow(RangeError);
	});
});
