import { pythonLegacy, skipNote, tempDir } from "@arraystore/conformance";
import { vstringDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { createZarr, openZarr } from "./helpers.js";

const hasZarr2 = pythonLegacy.has("numpy", "zarr");
if (!hasZarr2)
	skipNote(
		"zarr vlen strings with zarr-python 2",
		pythonLegacy.missing("numpy", "zarr"),
	);

const WORDS = [
	"",
	"a",
	"héllo",
	"日本語",
	"x".repeat(300),
	"🙂 emoji",
	"tab\there",
];

describe("zarr: variable-length strings (vlen-utf8)", () => {
	it("round-trips v2 object arrays, partial writes included, and refuses v3", async () => {
		await using tmp = await tempDir();
		const root = tmp.join("s.zarr");
		const values = Array.from(
			{ length: 35 },
			(_, i) => `${WORDS[i % WORDS.length]}#${i}`,
		);
		{
			await using a = await createZarr(root, {
				dtype: vstringDType(),
				shape: [5, 7],
				chunks: [2, 3],
				codecs: [{ name: "zstd" }],
				fillValue: "?",
				adapterOptions: { zarrFormat: 2 },
			});
			await a.write([{ start: 0, stop: 3 }], values.slice(0, 21) as never);
			await a.write([{ start: 3, stop: 5 }], values.slice(21) as never);
			await a.write([1, { start: 2, stop: 4 }], ["X", "Y"] as never);
		}
		const want = [...values];
		want[9] = "X";
		want[10] = "Y";
		await using a = await openZarr(root);
		expect(a.info.dtype.kind).toBe("O");
		expect(a.info.fillValue).toBe("?");
		expect((await a.read()).data).toEqual(want);
		expect((await a.read([{ start: 1, stop: 3 }, 2])).data).toEqual([
			"X",
			want[16],
		]);
		await expect(
			createZarr(tmp.join("v3.zarr"), {
				dtype: vstringDType(),
				shape: [2],
				adapterOptions: { zarrFormat: 3 },
			}),
		).rejects.toMatchObject({ code: "UNSUPPORTED_DTYPE" });
	});

	it.skipIf(!hasZarr2)(
		"writes what zarr-python 2 reads and reads what it writes",
		async () => {
			await using tmp = await tempDir();
			{
				await using a = await createZarr(tmp.join("ours.zarr"), {
					dtype: vstringDType(),
					shape: [7],
					chunks: [3],
					codecs: [{ name: "gzip" }],
					adapterOptions: { zarrFormat: 2 },
				});
				await a.write([{ start: 0, stop: 5 }], WORDS.slice(0, 5) as never);
			}
			const r = pythonLegacy.run<{ ours: string[]; fill: string }>(
				`
import zarr, numcodecs, numpy as np, os
ours = zarr.open_array(os.path.join(INPUT, "ours.zarr"), mode="r")
z = zarr.open_array(os.path.join(INPUT, "theirs.zarr"), mode="w", shape=(6,), chunks=(4,), dtype=object, object_codec=numcodecs.VLenUTF8(), fill_value="")
z[:] = np.array(["α", "", "bb", "日本", "z" * 100, "end"], dtype=object)
print(json.dumps({"ours": [str(x) for x in ours[...]], "fill": str(ours.fill_value)}))
`,
				tmp.path,
			);
			expect(r.ours).toEqual([...WORDS.slice(0, 5), "", ""]);
			await using theirs = await openZarr(tmp.join("theirs.zarr"));
			expect((await theirs.read()).data).toEqual([
				"α",
				"",
				"bb",
				"日本",
				"z".repeat(100),
				"end",
			]);
		},
	);
});
