import { readFileSync, writeFileSync } from "node:fs";
import { tempDir } from "@arraystore/conformance";
import { isArrayStoreError } from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { npyAdapter, npzAdapter, openNpz } from "../src/index.js";

const registry = createRegistry([npyAdapter, npzAdapter]);

type Mutation =
	| { readonly k: "set"; readonly at: number; readonly v: number }
	| { readonly k: "u32"; readonly at: number; readonly v: number }
	| { readonly k: "truncate"; readonly at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
	fc.record({ k: fc.constant("set" as const), at: fc.nat(), v: fc.nat(255) }),
	fc.record({
		k: fc.constant("u32" as const),
		at: fc.nat(),
		v: fc.oneof(fc.nat(), fc.constant(0xffffffff), fc.nat(4096)),
	}),
	fc.record({ k: fc.constant("truncate" as const), at: fc.nat() }),
);

/** Opens every array of the archive and reads it whole. */
async function readAll(file: string): Promise<void> {
	const npz = await openNpz(file, "r", { cacheBytes: 1024 });
	try {
		for (const key of npz.keys()) {
			const d = await npz.openArray(key, {
				mode: "r",
				path: key,
				adapterOptions: {},
			});
			try {
				const n =
					d.info.shape.reduce((a, b) => a * b, 1) * d.info.dtype.itemsize;
				if (n > 1 << 20) continue;
				await d.read(
					{ start: d.info.shape.map(() => 0), shape: d.info.shape },
					new Uint8Array(n),
				);
			} finally {
				await d.close();
			}
		}
	} finally {
		await npz.close();
	}
}

describe("npz: archive fuzz", () => {
	it("turns 1,000 mutated archives into values or typed errors", async () => {
		await using tmp = await tempDir();
		const seedFile = tmp.join("seed.npz");
		{
			await using npz = await registry.openContainer(seedFile, { mode: "w+" });
			for (const [name, compression] of [
				["a", "stored"],
				["b", "deflated"],
				["c", "deflated"],
			] as const) {
				await using x = await npz.createArray(name, {
					dtype: name === "c" ? ">i2" : "<f8",
					shape: [40, 3],
					adapterOptions: { compression },
				});
				await x.write(
					[],
					name === "c"
						? new Int16Array(120).map((_, i) => i)
						: new Float64Array(120).map((_, i) => i / 3),
				);
			}
		}
		const seed = new Uint8Array(readFileSync(seedFile));
		await readAll(seedFile);
		const file = tmp.join("m.npz");
		const outcomes = new Map<string, number>();
		await fc.assert(
			fc.asyncProperty(
				fc.array(mutation, { minLength: 1, maxLength: 3 }),
				async (ms) => {
					let b = Uint8Array.from(seed);
					for (const m of ms) {
						if (b.length < 4) break;
						const at = m.at % b.length;
						if (m.k === "set") b[at] = m.v;
						else if (m.k === "u32")
							new DataView(b.buffer, b.byteOffset).setUint32(
								Math.min(at, b.length - 4),
								m.v >>> 0,
								true,
							);
						else b = b.subarray(0, at);
					}
					writeFileSync(file, b);
					const started = performance.now();
					let outcome = "ok";
					try {
						await readAll(file);
					} catch (err) {
						if (!isArrayStoreError(err)) throw err;
						outcome = err.code;
					}
					expect(performance.now() - started).toBeLessThan(2000);
					outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
				},
			),
			{ seed: 4242, numRuns: 1000 },
		);
		process.stderr.write(
			`npz fuzz outcomes: ${JSON.stringify(Object.fromEntries(outcomes))}\n`,
		);
		expect(outcomes.get("ok") ?? 0).toBeGreaterThan(25);
		expect(outcomes.get("MALFORMED") ?? 0).toBeGreaterThan(25);
	});
});
