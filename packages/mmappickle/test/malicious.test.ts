import cp from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import { basename } from "node:path";
import { tempDir } from "@arraystore/conformance";
import { ForbiddenGlobalError } from "@arraystore/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { allowedGlobals } from "../src/index.js";
import { ByteReader, memoryInput } from "../src/pickle-vm/byte-reader.js";
import { runPickle } from "../src/pickle-vm/vm.js";
import { fixturePath, manifestFiles, registry } from "./helpers.js";

const ECHO = "echo FIXTURE-PAYLOAD-EXECUTED-this-should-never-happen";
const SPIED = [
	"spawn",
	"spawnSync",
	"exec",
	"execSync",
	"execFile",
	"execFileSync",
	"fork",
] as const;
const malicious = manifestFiles().filter((f) =>
	f.path.startsWith("malicious/"),
);

/** Rewrites the payload's shell command (same length) so that running it would create `sentinel`. */
function armed(bytes: Uint8Array, sentinel: string): Uint8Array {
	const cmd = `touch ${sentinel}`.padEnd(ECHO.length, " ");
	if (cmd.length !== ECHO.length) throw new Error("sentinel path too long");
	const buf = Buffer.from(bytes);
	const at = buf.indexOf(ECHO, 0, "latin1");
	if (at >= 0) buf.write(cmd, at, "latin1");
	return buf;
}

/** Reads everything a caller could ask for: every array, every attribute. */
async function readAll(path: string): Promise<void> {
	await using c = await registry.openContainer(path);
	for (const e of await c.list("", { recursive: true })) {
		if (e.kind === "array") {
			await using a = await c.openArray(e.path);
			await a.read();
		}
	}
	await c.attrs("");
	// mmappickle lists only what decodes; ask for every live key explicitly too.
	for (const key of ["evil"]) {
		if (c.format === "mmappickle") {
			await using a = await c.openArray(key);
			await a.read();
		}
	}
}

describe("malicious fixtures: refused before anything runs", () => {
	const spies: ReturnType<typeof vi.spyOn>[] = [];
	beforeAll(() => {
		for (const name of SPIED) spies.push(vi.spyOn(cp, name as never));
		syncBuiltinESMExports();
	});
	afterAll(() => {
		for (const s of spies) s.mockRestore();
		syncBuiltinESMExports();
	});

	for (const f of malicious) {
		const want = f.expected.forbidden_globals?.[0] as string;
		it(`${f.path}: ForbiddenGlobalError naming ${want}, no process, no sentinel`, async () => {
			await using tmp = await tempDir("as-evil-");
			const sentinel = tmp.join("s");
			const target = tmp.join(basename(f.path));
			const original = await readFile(fixturePath(f.path));
			const bytes = armed(original, sentinel);
			// Payloads that carry a shell command now carry one that would create the sentinel.
			expect(Buffer.from(bytes).includes("touch ")).toBe(
				original.includes(ECHO),
			);
			await writeFile(target, bytes);
			const err = await readAll(target).catch((e: unknown) => e);
			expect(err).toBeInstanceOf(ForbiddenGlobalError);
			expect((err as ForbiddenGlobalError).global).toBe(want);
			expect((err as Error).message).toContain(want);
			for (const s of spies) expect(s).not.toHaveBeenCalled();
			expect(existsSync(sentinel)).toBe(false);
		});
	}

	it("applies no callable of a single malicious object, and only allowlisted ones elsewhere", async () => {
		const allowed = new Set([
			...allowedGlobals(),
			"joblib.numpy_pickle.NumpyArrayWrapper",
		]);
		for (const f of malicious.filter((x) => x.format !== "mmappickle")) {
			const applied: string[] = [];
			const bytes = new Uint8Array(await readFile(fixturePath(f.path)));
			const err = await runPickle(new ByteReader(memoryInput(bytes), 0), {
				onApply: (n) => applied.push(n),
			}).catch((e: unknown) => e);
			expect(err, f.path).toBeInstanceOf(ForbiddenGlobalError);
			for (const name of applied)
				expect(allowed.has(name), `${f.path}: ${name}`).toBe(true);
			expect(applied).not.toContain(f.expected.forbidden_globals?.[0]);
			if (!f.path.includes("dict_arrays") && !f.path.includes("joblib"))
				expect(applied, f.path).toEqual([]);
		}
	});

	it("reads the good keys of the malicious mmappickle file, and refuses the evil one", async () => {
		await using c = await registry.openContainer(
			fixturePath("malicious/mmappickle_evil_generic_value.mmdpickle"),
		);
		expect((await c.list("")).map((e) => e.path)).toEqual(["after", "ok"]);
		await using ok = await c.openArray("ok");
		expect(Array.from((await ok.read()).data as Float32Array)).toEqual([
			0, 1, 2, 3,
		]);
		await expect(c.openArray("evil")).rejects.toBeInstanceOf(
			ForbiddenGlobalError,
		);
		await expect(c.attrs("")).rejects.toBeInstanceOf(ForbiddenGlobalError);
	});
});
