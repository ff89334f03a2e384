import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { FORMATS_DIR, sha256, tempDir } from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/cli.js";
import { UsageError } from "../src/errors.js";
import { parseCodecs, parseMemory, parseShapeList } from "../src/options.js";
import { makeArray, registry } from "./helpers.js";

interface Run {
	code: number;
	out: string;
	err: string;
}

/** Runs the CLI in-process; `onEvent` sees each --json line (and may abort). */
async function run(
	args: string[],
	options: {
		onEvent?: (e: Record<string, unknown>, abort: () => void) => void;
		env?: Record<string, string>;
	} = {},
): Promise<Run> {
	const controller = new AbortController();
	let out = "";
	let err = "";
	const stdout = new Writable({
		write(chunk, _enc, cb) {
			const text = String(chunk);
			out += text;
			if (options.onEvent)
				for (const line of text.split("\n").filter(Boolean))
					options.onEvent(JSON.parse(line) as Record<string, unknown>, () =>
						controller.abort(),
					);
			cb();
		},
	});
	const stderr = new Writable({
		write(chunk, _enc, cb) {
			err += String(chunk);
			cb();
		},
	});
	const code = await runCli(args, {
		stdout,
		stderr,
		isTTY: false,
		env: options.env ?? {},
		signal: controller.signal,
	});
	return { code, out, err };
}

const CHECKPOINT_EVERY_BLOCK = { ARRAYSTORE_CHECKPOINT_MS: "0" };

// a.npy (40 MB of float64) and the flags of a slow, resumable copy of it into b.zarr.
async function resumableZarrJob(
	tmp: { join(name: string): string },
	extra: readonly string[],
): Promise<string[]> {
	await makeArray(tmp.join("a.npy"), "<f8", [40000, 128], (i) => i / 3);
	return [
		tmp.join("a.npy"),
		tmp.join("b.zarr"),
		"--chunks",
		"100,128",
		"--max-memory",
		"48MiB",
		"--jobs",
		"1",
		...extra,
		"--json",
	];
}

// Runs the job and interrupts it once five blocks are done.
function interruptAfter5(args: string[]): Promise<Run> {
	return run(args, {
		env: CHECKPOINT_EVERY_BLOCK,
		onEvent: (e, abort) => {
			if (e.event === "progress" && Number(e.blocksDone) >= 5) abort();
		},
	});
}

// resumedBlocks of the first output in the final "done" event of a --json run.
function resumedBlocks(out: string): number | undefined {
	const done = out
		.trim()
		.split("\n")
		.map((l) => JSON.parse(l) as Record<string, unknown>)
		.find((e) => e.event === "done") as {
		outputs: { resumedBlocks: number }[];
	};
	return done.outputs[0]?.resumedBlocks;
}

// b.zarr holds exactly a.npy's data.
async function expectSameData(tmp: {
	join(name: string): string;
}): Promise<void> {
	await using a = await registry.open(tmp.join("a.npy"));
	await using b = await registry.open(tmp.join("b.zarr"));
	expect(sha256((await b.read()).bytes)).toBe(sha256((await a.read()).bytes));
}

describe("cli: option values", () => {
	it("parses codec pipelines", () => {
		expect(parseCodecs("zstd:3")).toEqual([
			{ name: "zstd", config: { level: 3 } },
		]);
		expect(parseCodecs("gzip:6")).toEqual([
			{ name: "gzip", config: { level: 6 } },
		]);
		expect(parseCodecs("blosc:lz4:5:shuffle")).toEqual([
			{ name: "blosc", config: { cname: "lz4", clevel: 5, shuffle: 1 } },
		]);
		expect(parseCodecs("shuffle,gzip")).toEqual([
			{ name: "shuffle" },
			{ name: "gzip", config: {} },
		]);
		expect(parseCodecs("none")).toEqual([]);
		expect(() => parseCodecs("brotli:3")).toThrow(UsageError);
		expect(() => parseCodecs("zstd:high")).toThrow(UsageError);
		expect(() => parseCodecs("blosc:lz4:5:sideways")).toThrow(UsageError);
	});

	it("parses shapes and sizes", () => {
		expect(parseShapeList("100,200", "--chunks")).toEqual([100, 200]);
		expect(parseShapeList("[3, 4, 5]", "--shape")).toEqual([3, 4, 5]);
		expect(parseShapeList("(7,)", "--shape")).toEqual([7]);
		expect(parseShapeList("64x64", "--chunks")).toEqual([64, 64]);
		expect(parseShapeList("[]", "--shape")).toEqual([]);
		expect(() => parseShapeList("10,-1", "--shape")).toThrow(UsageError);
		expect(() => parseShapeList("0,5", "--chunks", 1)).toThrow(UsageError);
		expect(parseMemory("256MiB")).toBe(256 * 1024 * 1024);
		expect(parseMemory("1.5 GiB")).toBe(1.5 * 1024 ** 3);
		expect(parseMemory("64m")).toBe(64 * 1024 * 1024);
		expect(parseMemory("4096")).toBe(4096);
		expect(() => parseMemory("lots")).toThrow(UsageError);
		expect(() => parseMemory("0")).toThrow(UsageError);
	});
});

describe("cli: output safety", () => {
	it("writes through DST.partial and leaves only DST", async () => {
		await using tmp = await tempDir();
		const r = await run([
			join(FORMATS_DIR, "npy/shape_3x4x5_f8.npy"),
			tmp.join("o.zarr"),
			"-q",
		]);
		expect(r).toMatchObject({ code: 0, err: "" });
		expect(existsSync(tmp.join("o.zarr"))).toBe(true);
		expect(existsSync(tmp.join("o.zarr.partial"))).toBe(false);
		expect(existsSync(tmp.join("o.zarr.partial.journal"))).toBe(false);
	});

	it("refuses an existing output without --overwrite and replaces it with it", async () => {
		await using tmp = await tempDir();
		const src = join(FORMATS_DIR, "npy/dtype_int16.npy");
		expect((await run([src, tmp.join("o.npy"), "-q"])).code).toBe(0);
		const again = await run([src, tmp.join("o.npy"), "-q"]);
		expect(again.code).toBe(1);
		expect(again.err).toMatch(/^convert: ALREADY_EXISTS: .*--overwrite/);
		expect(again.err.trim().split("\n")).toHaveLength(1);
		expect(
			(
				await run([
					join(FORMATS_DIR, "npy/dtype_int8.npy"),
					tmp.join("o.npy"),
					"-q",
					"--overwrite",
				])
			).code,
		).toBe(0);
		await using o = await registry.open(tmp.join("o.npy"));
		expect(o.info.dtype.str).toBe("|i1");
	});

	it("keeps a resumable partial output after an interruption and continues it", async () => {
		await using tmp = await tempDir();
		// --fsync: durable checkpoints after every block (and slow enough to interrupt).
		const args = await resumableZarrJob(tmp, ["--fsync"]);
		const first = await interruptAfter5(args);
		expect(first.code).toBe(3);
		expect(first.err).toMatch(/^convert: interrupted/);
		expect(existsSync(tmp.join("b.zarr"))).toBe(false);
		expect(existsSync(tmp.join("b.zarr.partial"))).toBe(true);
		expect(existsSync(tmp.join("b.zarr.partial.journal"))).toBe(true);
		// --fsync: every line is durable, none tied to this boot.
		expect(
			readFileSync(tmp.join("b.zarr.partial.journal"), "utf8"),
		).not.toContain("epoch");

		const second = await run([...args, "--resume"], {
			env: CHECKPOINT_EVERY_BLOCK,
		});
		expect(second.code).toBe(0);
		expect(resumedBlocks(second.out)).toBeGreaterThanOrEqual(5);
		expect(existsSync(tmp.join("b.zarr.partial"))).toBe(false);
		await expectSameData(tmp);
	});

	it("without --fsync journals with the boot epoch, trusted only until the machine restarts", async () => {
		await using tmp = await tempDir();
		const args = await resumableZarrJob(tmp, []);
		expect((await interruptAfter5(args)).code).toBe(3);
		const journal = tmp.join("b.zarr.partial.journal");
		const lines = readFileSync(journal, "utf8")
			.trim()
			.split("\n")
			.map((l) => JSON.parse(l) as Record<string, unknown>);
		const blockLines = lines.filter((l) => Array.isArray(l.blocks));
		expect(blockLines.length).toBeGreaterThan(0);
		const epoch = existsSync("/proc/sys/kernel/random/boot_id")
			? `boot:${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}`
			: undefined;
		for (const l of blockLines)
			if (epoch) expect(l.epoch).toBe(epoch);
			else expect(String(l.epoch)).toMatch(/^boot-time:/);
		// As if the machine had restarted: none of those lines may be trusted.
		writeFileSync(
			journal,
			readFileSync(journal, "utf8").replaceAll(
				String(blockLines[0]?.epoch),
				"boot:another",
			),
		);
		const second = await run([...args, "--resume"], {
			env: CHECKPOINT_EVERY_BLOCK,
		});
		expect(second.code).toBe(0);
		expect(resumedBlocks(second.out)).toBe(0);
		await expectSameData(tmp);
	});

	it("restarts an interrupted HDF5 output from the beginning", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<i4", [20000, 64], (i) => i);
		const args = [
			tmp.join("a.npy"),
			tmp.join("b.h5"),
			"--chunks",
			"500,64",
			"--max-memory",
			"48MiB",
			"--json",
		];
		const first = await run(args, {
			onEvent: (e, abort) => {
				if (e.event === "progress") abort();
			},
		});
		expect(first.code).toBe(3);
		expect(existsSync(tmp.join("b.h5"))).toBe(false);
		expect(existsSync(tmp.join("b.h5.partial"))).toBe(true);
		const second = await run([...args.slice(0, -1), "--resume"]);
		expect(second.code).toBe(0);
		expect(second.err).toMatch(/cannot be resumed; starting/);
		await using a = await registry.open(tmp.join("a.npy"));
		await using b = await registry.open(`${tmp.join("b.h5")}#/a`);
		expect(sha256((await b.read()).bytes)).toBe(sha256((await a.read()).bytes));
	});

	it("creates nothing on --dry-run and prints the plan", async () => {
		await using tmp = await tempDir();
		const r = await run([
			join(FORMATS_DIR, "hdf5/hierarchy.h5"),
			tmp.join("x.zarr"),
			"--dry-run",
			"--codec",
			"gzip:6",
		]);
		expect(r.code).toBe(0);
		expect(r.out).toMatch(/group1\/subgroup\/data_b/);
		expect(r.out).toMatch(/gzip\(level=6\)/);
		expect(r.out).toMatch(/peak memory: about .* \(budget 256 MiB\)/);
		expect(existsSync(tmp.join("x.zarr"))).toBe(false);
		expect(existsSync(tmp.join("x.zarr.partial"))).toBe(false);
	});

	it("plans 4 MiB blocks into an npy written past the page cache, 1 MiB ones with --page-cache", async () => {
		await using tmp = await tempDir();
		await makeArray(tmp.join("a.npy"), "<f4", [4096, 1024], (i) => i);
		const blocks = async (...flags: string[]) => {
			const r = await run([
				tmp.join("a.npy"),
				tmp.join("b.npy"),
				"--dry-run",
				...flags,
			]);
			expect(r.code, r.err).toBe(0);
			return /blocks of \[[\d, ]+\] \(([^)]+)\)/.exec(r.out)?.[1];
		};
		expect(await blocks()).toBe("4 MiB");
		expect(await blocks("--page-cache")).toBe("1 MiB");
	});
});

describe("cli: errors", () => {
	it("exits 2 with one line for wrong flags and operands", async () => {
		for (const args of [
			["--bogus"],
			["only-one.npy"],
			["a.npy", "b.zarr", "--codec", "brotli"],
			["a.npy", "b.zarr", "--max-memory", "lots"],
			["a.npy", "b.zarr", "--zarr-version", "4"],
			["a.npy", "b.zarr", "--jobs", "0"],
			["ls"],
			["ls", "x.zarr", "--chunks", "4"],
		]) {
			const r = await run(args);
			expect(r.code, args.join(" ")).toBe(2);
			expect(r.err.trim().split("\n"), args.join(" ")).toHaveLength(1);
			expect(r.err).toMatch(/^convert: /);
		}
	});

	it("exits 1 with the error code for bad input", async () => {
		await using tmp = await tempDir();
		const missing = await run([tmp.join("nope.npy"), tmp.join("o.npy")]);
		expect(missing.code).toBe(1);
		expect(missing.err).toMatch(/^convert: NOT_FOUND: /);
		const json = await run([tmp.join("nope.npy"), tmp.join("o.npy"), "--json"]);
		expect(JSON.parse(json.out.trim())).toMatchObject({
			event: "error",
			code: "NOT_FOUND",
			exitCode: 1,
		});
	});
});
