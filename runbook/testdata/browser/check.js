// Opens each page of a generated status page in Chromium from file://,
// runs axe-core in it (WCAG 2.0 and 2.1, levels A and AA) in the light and
// the dark colour scheme, and reports what the DOM holds. Driven by
// runbook/browser_test.go: a JSON request on stdin, a JSON report on stdout.
//
// request: {"chromium": PATH, "userDataDir": DIR, "pages": [PATH...], "screenshot": PATH or ""}
// report:  {"pages": [{"path", "scheme", "violations": [...], "scripts", "external": [URL...],
//            "services": [{"name", "state", "days", "titles": [...], "label", "uptime"}],
//            "maintenance": [{"section", "title", "text"}]}]}
"use strict";
const fs = require("fs");
const puppeteer = require("puppeteer-core");

const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

async function main() {
  const req = JSON.parse(fs.readFileSync(0, "utf8"));
  const browser = await puppeteer.launch({
    executablePath: req.chromium,
    headless: true,
    userDataDir: req.userDataDir,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const report = { pages: [] };
  try {
    for (const path of req.pages) {
      for (const scheme of ["light", "dark"]) {
        const page = await browser.newPage();
        const external = [];
        page.on("request", (r) => {
          const u = r.url();
          if (!u.startsWith("file://") && !u.startsWith("data:")) external.push(u);
        });
        await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
        await page.setViewport({ width: 900, height: 1200 });
        await page.goto("file://" + path, { waitUntil: "load" });
        const dom = await page.evaluate(() => ({
          scripts: document.querySelectorAll("script").length,
          services: [...document.querySelectorAll("ul.services > li")].map((li) => {
            const svg = li.querySelector("svg.bars");
            const rects = svg ? [...svg.querySelectorAll("rect")] : [];
            return {
              name: (li.querySelector(".name") || {}).textContent || "",
              state: (li.querySelector(".state") || {}).textContent || "",
              label: svg ? svg.getAttribute("aria-label") : "",
              days: rects.length,
              titles: rects.map((r) => (r.querySelector("title") || {}).textContent || ""),
              uptime: (li.querySelector(".legend") || {}).textContent || "",
            };
          }),
          maintenance: [...document.querySelectorAll("section.maintenance article")].map((a) => ({
            section: (a.closest("section").querySelector("h2") || {}).textContent || "",
            title: (a.querySelector("h3") || {}).textContent || "",
            text: a.innerText,
          })),
        }));
        await page.addScriptTag({ content: axeSource });
        const result = await page.evaluate(
          (tags) => axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] }),
          tags,
        );
        const violations = result.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 200), summary: n.failureSummary })),
        }));
        report.pages.push({ path, scheme, violations, external, ...dom });
        if (req.screenshot && scheme === "light" && report.pages.length === 1) {
          await page.setViewport({ width: 820, height: 1000, deviceScaleFactor: 1 });
          await page.screenshot({ path: req.screenshot, fullPage: false });
        }
        await page.close();
      }
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(report));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + "\n");
  process.exit(1);
});
