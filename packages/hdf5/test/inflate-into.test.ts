// Inflater (inflate-into.ts): zlib streams inflated into one reused buffer, exactly like
// zlib.inflateSync, with typed failures for corrupt and oversized streams, and a stream that
// keeps working after any failure.
import { deflateSync, inflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { InflateError, Inflater } from "../src/inflate-into.js";

function data(n: number, seed: number): Buffer {
	const b = Buffer.alloc(n);
	for (let i = 0; i < n; i++) b[i] = ((i * 2654435761 + seed) >>> 13) & 0x3f;
	return b;
}

describe("hdf5: inflating into reused buffers", () => {
	it("inflates one stream after another into the same buffer", async () => {
		const inf = new Inflater();
		const a = data(100_000, 1);
		const b = data(100_000, 2);
		const ra = await inf.inflate(deflateSync(a), a.length);
		expect(Buffer.from(ra).equals(a)).toBe(true);
		const rb = await inf.inflate(deflateSync(b, { level: 9 }), b.length);
		expect(Buffer.from(rb).equals(inflateSync(deflateSync(b)))).toBe(true);
		expect(rb.buffer).toBe(ra.buffer);
	});

	it("reports corrupt, truncated and oversized streams, and recovers after each", async () => {
		const inf = new Inflater();
		const a = data(50_000, 3);
		const z = deflateSync(a);
		const bad = Buffer.from(z);
		bad.fill(0x5a, 2, 40);
		const fail = (p: Promise<unknown>) =>
			p.then(
				() => null,
				(e: unknown) => e,
			);
		const corrupt = await fail(inf.inflate(bad, a.length));
		expect(corrupt).toBeInstanceOf(InflateError);
		expect((corrupt as InflateError).tooLarge).toBe(false);
		expect(Buffer.from(await inf.inflate(z, a.length)).equals(a)).toBe(true);
		const truncated = await fail(
			inf.inflate(z.subarray(0, z.length >> 1), a.length),
		);
		expect(truncated).toBeInstanceOf(InflateError);
		expect(Buffer.from(await inf.inflate(z, a.length)).equals(a)).toBe(true);
		const big = await fail(
			inf.inflate(deflateSync(Buffer.alloc(10_000_000)), a.length),
		);
		expect(big).toBeInstanceOf(InflateError);
		expect((big as InflateError).tooLarge).toBe(true);
		// Output of exactly the buffer's size is "too large" too, not silently cut.
		const edge = await fail(
			inf.inflate(deflateSync(data(50_064, 4)), a.length),
		);
		expect((edge as InflateError).tooLarge).toBe(true);
		// Bytes after the end of the stream are ignored, as HDF5's deflate filter does.
		const trailing = Buffer.concat([z, Buffer.from("junk")]);
		expect(Buffer.from(await inf.inflate(trailing, a.length)).equals(a)).toBe(
			true,
		);
		expect(Buffer.from(await inf.inflate(z, a.length)).equals(a)).toBe(true);
		// A short stream reads as its real length (the caller checks it against the chunk).
		expect(
			(await inf.inflate(deflateSync(a.subarray(0, 10)), a.length)).length,
		).toBe(10);
	});

	it("runs several streams at once on separate inflaters", async () => {
		const inputs = Array.from({ length: 8 }, (_, i) => data(300_000, i));
		const infs = inputs.map(() => new Inflater());
		const got = await Promise.all(
			inputs.map((a, i) => infs[i]?.inflate(deflateSync(a), a.length)),
		);
		got.forEach((g, i) => {
			expect(Buffer.from(g as Uint8Array).equals(inputs[i] as Buffer)).toBe(
				true,
			);
		});
	});
});
