/**
 * Paired before/after comparison of the backfill bench (`bench/backfill.bench.ts`) between the
 * working tree and a git ref: `npm run bench:compare -- <ref> [pairs]` (default `HEAD~1`, 12 pairs).
 *
 * Why pairs: on a shared 2-core machine the same code's backfill figure moves by ±20 % within
 * minutes, more than most changes. Each pair runs the two builds back to back in fresh processes
 * (the order alternates from pair to pair), so both see the same machine load; the figure is the
 * median over pairs of the per-pair time ratio `this / ref` (below 1 = this tree is faster), for the
 * whole backfill and each stage, with the median peak RSS of each side.
 *
 * The ref is checked out with `git worktree add --detach` into a temp dir that is removed at the
 * end; it uses this tree's `node_modules` (a symlink), so a ref with other dependencies is refused
 * (its `package-lock.json` differs). Both sides are compiled with their own `tsconfig.bench.json`.
 * @throws Error when the ref is unknown, its lock file differs, or a run fails (with its exit code)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median } from "./median.js";

/** The fields of one backfill run (`BENCH_CHILD=1` output) that are compared; ms and bytes. */
interface RunFigures {
  totalMs: number;
  parseMs: number;
  storeMs: number;
  statsMs: number;
  anomaliesMs: number;
  peakRss: number;
}
const STAGES = ["totalMs", "parseMs", "storeMs", "statsMs", "anomaliesMs"] as const;

const here = resolve(import.meta.dirname, "..");
const ref = process.argv[2] ?? "HEAD~1";
const pairs = Math.max(1, Number(process.argv[3] ?? 12));

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

/** One backfill run of the build in `cwd` (a fresh node process, as `npm run bench:backfill`). */
function backfillOnce(cwd: string): RunFigures {
  const out = run(process.execPath, ["--max-semi-space-size=4", ".bench-build/bench/backfill.bench.js"], cwd, { ...process.env, BENCH_CHILD: "1" });
  return JSON.parse(out) as RunFigures;
}

const sha = run("git", ["rev-parse", "--verify", `${ref}^{commit}`], here).trim();
const refLock = run("git", ["show", `${sha}:package-lock.json`], here);
if (refLock !== readFileSync(join(here, "package-lock.json"), "utf8")) {
  throw new Error(`${ref} has another package-lock.json than this tree; compare trees with the same dependencies`);
}
const worktree = mkdtempSync(join(tmpdir(), "eb-bench-ref-"));
run("git", ["worktree", "add", "--detach", "--force", worktree, sha], here);
try {
  symlinkSync(join(here, "node_modules"), join(worktree, "node_modules"), "dir");
  for (const dir of [here, worktree]) run(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.bench.json"], dir);
  if (!existsSync(join(worktree, ".bench-build/bench/backfill.bench.js"))) throw new Error(`${ref} has no bench/backfill.bench.ts to compare`);

  const ratios: Record<(typeof STAGES)[number], number[]> = { totalMs: [], parseMs: [], storeMs: [], statsMs: [], anomaliesMs: [] };
  const rss = { ours: [] as number[], theirs: [] as number[] };
  for (let i = 0; i < pairs; i++) {
    let ours: RunFigures;
    let theirs: RunFigures;
    if (i % 2 === 0) {
      ours = backfillOnce(here);
      theirs = backfillOnce(worktree);
    } else {
      theirs = backfillOnce(worktree);
      ours = backfillOnce(here);
    }
    for (const k of STAGES) if (theirs[k] > 0) ratios[k].push(ours[k] / theirs[k]);
    rss.ours.push(ours.peakRss);
    rss.theirs.push(theirs.peakRss);
    process.stderr.write(`pair ${i + 1}/${pairs}: ${ours.totalMs.toFixed(0)} ms vs ${theirs.totalMs.toFixed(0)} ms\n`);
  }
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  console.log(`| backfill, this tree vs ${ref} (${sha.slice(0, 7)}) | median of ${pairs} per-pair time ratios |`);
  console.log("|---|---|");
  for (const k of STAGES) if (ratios[k].length) console.log(`| ${k.replace(/Ms$/, "")} | ${median(ratios[k]).toFixed(2)}× [${Math.min(...ratios[k]).toFixed(2)}–${Math.max(...ratios[k]).toFixed(2)}] |`);
  console.log(`| peak RSS | ${mb(median(rss.ours))} vs ${mb(median(rss.theirs))} |`);
} finally {
  run("git", ["worktree", "remove", "--force", worktree], here);
  rmSync(worktree, { recursive: true, force: true });
}
