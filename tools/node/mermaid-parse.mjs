// Parse Mermaid diagrams with mermaid's own parser (what GitHub renders with), without a browser.
//
//   node tools/node/mermaid-parse.mjs FILE.md|FILE.mmd ...   (or "-" for standard input)
//
// Every ```mermaid block of a Markdown file (or a whole .mmd file) is parsed; each failure is
// printed as FILE: block N: message. Exit status: 0 all parsed, 1 a block failed, 2 usage or no
// block found. mermaid.parse needs a DOM only for its sanitiser, so jsdom stands in for one.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

const dom = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = dom.window;
globalThis.document = dom.window.document;
for (const key of ["DOMParser", "Element", "HTMLElement", "Node", "DocumentFragment", "SVGElement"]) {
  if (!(key in globalThis)) globalThis[key] = dom.window[key];
}
const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

function blocks(name, text) {
  if (!name.endsWith(".md") && name !== "-") return [text];
  // Fenced blocks as GitHub reads them: an opening ```mermaid line, closed by a bare ``` line.
  const found = [];
  const re = /^```mermaid[ \t]*\r?\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) found.push(m[1]);
  return found;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node tools/node/mermaid-parse.mjs FILE.md|FILE.mmd|- ...");
  process.exit(2);
}
let failed = 0;
let parsed = 0;
for (const name of files) {
  const text = readFileSync(name === "-" ? 0 : name, "utf8");
  const diagrams = blocks(name, text);
  if (diagrams.length === 0) {
    console.error(`${name}: no mermaid block`);
    process.exit(2);
  }
  for (const [i, source] of diagrams.entries()) {
    try {
      const result = await mermaid.parse(source);
      if (!result) throw new Error("not recognised as a diagram");
      parsed += 1;
      console.log(`${name}: block ${i + 1}: ${result.diagramType} ok`);
    } catch (err) {
      failed += 1;
      console.error(`${name}: block ${i + 1}: ${String(err?.message ?? err).split("\n").slice(0, 6).join("\n  ")}`);
    }
  }
}
process.exit(failed ? 1 : 0);
