// Counts texts with the reference libraries our channel counters must agree
// with. Usage: node count.js twitter|graphemer < texts
//
// Each input line is one JSON string; each output line is its count:
//   twitter:   require("twitter-text").parseTweet(text).weightedLength
//   graphemer: new (require("graphemer").default)().countGraphemes(text)
"use strict";

const readline = require("readline");

const counters = {
  twitter: () => {
    const twitter = require("twitter-text");
    return (text) => twitter.parseTweet(text).weightedLength;
  },
  graphemer: () => {
    const Graphemer = require("graphemer").default;
    const g = new Graphemer();
    return (text) => g.countGraphemes(text);
  },
};

const make = counters[process.argv[2]];
if (!make) {
  process.stderr.write("usage: node count.js " + Object.keys(counters).join("|") + "\n");
  process.exit(2);
}
const count = make();
const out = [];
readline
  .createInterface({ input: process.stdin, crlfDelay: Infinity })
  .on("line", (line) => out.push(String(count(JSON.parse(line)))))
  .on("close", () => process.stdout.write(out.join("\n") + (out.length ? "\n" : "")));
