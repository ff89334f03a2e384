#!/usr/bin/env node
// Sums every package's vitest JSON report into the one plain line CI reads:
// "N passed, N failed, N skipped". Exits non-zero when anything failed, a suite failed to
// load, or no test ran at all, so a broken test setup is never green.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;
let passed = 0;
let failed = 0;
let skipped = 0;
let reports = 0;
/** Failed tests, named, so a red CI says which test and why even when only its tail is shown. */
const failures = [];
for (const group of ["packages", "apps", "tooling"]) {
	const dir = join(root, group);
	if (!existsSync(dir)) continue;
	for (const name of readdirSync(dir)) {
		for (const file of ["vitest.json", "vitest-e2e.json"]) {
			const report = join(dir, name, "test-results", file);
			if (!existsSync(report)) continue;
			const r = JSON.parse(readFileSync(report, "utf8"));
			reports++;
			passed += r.numPassedTests ?? 0;
			failed += r.numFailedTests ?? 0;
			skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
			// A test file that failed to load has no tests but must not pass silently.
			for (const suite of r.testResults ?? []) {
				const file = String(suite.name ?? "").replace(root, "");
				if (
					suite.status === "failed" &&
					(suite.assertionResults ?? []).length === 0
				) {
					failed++;
					failures.push(`${file}: ${firstLine(suite.message)}`);
				}
				for (const t of suite.assertionResults ?? []) {
					if (t.status !== "failed") continue;
					failures.push(
						`${file} > ${t.fullName ?? t.title}: ${firstLine((t.failureMessages ?? [])[0])}`,
					);
				}
			}
		}
	}
}
for (const f of failures) console.log(`FAILED ${f}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
if (reports === 0 || passed === 0) {
	console.error("summary: no test report or no test ran");
	process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);

/** The first non-empty line of a failure message, cut to 300 characters. */
function firstLine(message) {
	const line =
		String(message ?? "")
			.split("\n")
			.find((l) => l.trim() !== "") ?? "(no message)";
	return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
