import { existsSync } from "node:fs";
import { rng, sha256, tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { builtinRegistry } from "../src/adapters.js";
import { convert, events, pool } from "./e2e-helpers.js";

const registry = builtinRegistry();
const TRIALS = 10;

// Hashes and attributes of every array and group of a container, by path.
async function snapshot(path: string): Promise<Record<string, unknown>> {
	await using c = await registry.openContainer(path);
	const out: Record<string, unknown> = { "/": await c.attrs("") };
	for (const e of await c.list("", { recursive: true })) {
		if (e.kind === "group") {
			out[e.path] = await c.attrs(e.path);
			continue;
		}
		const a = await c.openArray(e.path);
		out[e.path] = {
			dtype: a.info.dtype.str,
			shape: a.info.shape,
			chunks: a.info.chunks,
			sha256: sha256((await a.read()).bytes),
			attrs: await a.attrs(),
		};
		await a.close();
	}
	return out;
}

describe("cli e2e: kill -9 and --resume", () => {
	it(`gives the same output as an uninterrupted run in ${TRIALS} of ${TRIALS} trials`, async () => {
		await using tmp = await tempDir();
		const src = tmp.join("src.h5");
		{
			// An HDF5 tree: two groups with attributes, three chunked arrays (~20 MB).
			await using h5 = await registry.openContainer(src, {
				mode: "w+",
				format: "hdf5",
			});
			await h5.setAttrs("", { title: "resume test" });
			await h5.createGroup("g", { level: 1 });
			const specs = [
				{
					path: "a",
					dtype: "<f4",
					shape: [6000, 512],
					chunks: [100, 512],
					f: (i: number) => Math.sin(i / 7),
				},
				{
					path: "g/b",
					dtype: "<i2",
					shape: [3000, 1000],
					chunks: [250, 250],
					f: (i: number) => (i * 31) % 30011,
				},
				{
					path: "g/c",
					dtype: "<f8",
					shape: [700, 300],
					chunks: [70, 300],
					f: (i: number) => i / 3,
				},
			];
			for (const s of specs) {
				const a = await h5.createArray(s.path, {
					dtype: s.dtype,
					shape: s.shape,
					chunks: s.chunks,
					codecs: [{ name: "gzip", config: { level: 1 } }],
					attrs: { name: s.path },
				});
				const n = s.shape.reduce((x, y) => x * y, 1);
				const values =
					s.dtype === "<f4"
						? new Float32Array(n)
						: s.dtype === "<i2"
							? new Int16Array(n)
							: new Float64Array(n);
				for (let i = 0; i < n; i++) values[i] = s.f(i);
				await a.write([], values);
				await a.close();
			}
		}
		const args = (out: string) => [
			src,
			out,
			"--max-memory",
			"48MiB",
			"--codec",
			"zstd:1",
			"--json",
		];
		const env = { ARRAYSTORE_CHECKPOINT_MS: "0" };
		// Kill points are drawn over the part of a run after planning (output creation, copy,
		// commit), measured on an uninterrupted run.
		let planned = 0;
		const ref = await convert(args(tmp.join("ref.zarr")), {
			env,
			onLine: (line) => {
				if (planned === 0 && line.includes('"event":"plan"'))
					planned = Date.now();
			},
		});
		const duration = Date.now() - planned;
		expect(ref.code, ref.stderr).toBe(0);
		const expected = await snapshot(tmp.join("ref.zarr"));
		expect(Object.keys(expected).sort()).toEqual(["/", "a", "g", "g/b", "g/c"]);

		const random = rng(20240607);
		const delays = Array.from({ length: TRIALS }, () =>
			Math.floor(random() * 0.9 * duration),
		);
		const outcomes = await pool(
			2,
			delays.map((delay, i) => async () => {
				const out = tmp.join(`t${i}.zarr`);
				let timer: NodeJS.Timeout | undefined;
				const killed = await convert(args(out), {
					env,
					onLine: (line, child) => {
						if (timer === undefined && line.includes('"event":"plan"'))
							timer = setTimeout(() => child.kill("SIGKILL"), delay);
					},
				});
				clearTimeout(timer);
				const wasKilled = killed.signal === "SIGKILL";
				// A killed run never leaves something that looks complete.
				if (wasKilled)
					expect(existsSync(out), `trial ${i} (${delay} ms)`).toBe(false);
				if (!wasKilled) {
					// The run finished before the kill point: it must simply be complete.
					expect(killed.code, `trial ${i}: ${killed.stderr}`).toBe(0);
					expect(await snapshot(out), `trial ${i} (${delay} ms)`).toEqual(
						expected,
					);
					return { delay, wasKilled, resumedBlocks: 0 };
				}
				const resumed = await convert([...args(out), "--resume"], { env });
				expect(
					resumed.code,
					`trial ${i} (${delay} ms): ${resumed.stderr}`,
				).toBe(0);
				expect(existsSync(`${out}.partial`)).toBe(false);
				expect(existsSync(`${out}.partial.journal`)).toBe(false);
				const done = events(resumed.stdout).at(-1) as {
					outputs: { resumedBlocks: number }[];
				};
				expect(await snapshot(out), `trial ${i} (${delay} ms)`).toEqual(
					expected,
				);
				return {
					delay,
					wasKilled,
					resumedBlocks: done.outputs[0]?.resumedBlocks ?? 0,
				};
			}),
		);
		console.log(
			`resume trials (uninterrupted run: ${duration} ms after planning): ${outcomes.map((o) => `${o.delay} ms ${o.wasKilled ? `killed, ${o.resumedBlocks} blocks reused` : "finished first"}`).join("; ")}`,
		);
		// The trials must really interrupt conversions, and some must continue from written blocks.
		expect(outcomes.filter((o) => o.wasKilled).length).toBeGreaterThanOrEqual(
			TRIALS / 2,
		);
	});
});
