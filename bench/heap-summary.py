#!/usr/bin/env python3
"""Summarises the relay's heap log (`samizdat relay --heap-log`) and, when
given, a dhat profile: each column's start, peak and end in MiB and its
slope in MiB per minute over the second half of the run (after warm-up);
then the allocation sites holding the most bytes at the end.

Usage: bench/heap-summary.py heap.csv [dhat-heap.json]
"""
import csv
import json
import sys

MIB = 1048576.0


def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / den if den else 0.0


rows = list(csv.DictReader(open(sys.argv[1])))
if not rows:
    sys.exit("heap log is empty")
secs = [int(r["secs"]) for r in rows]
half = [i for i, s in enumerate(secs) if s >= secs[-1] / 2]
print(f"heap over {secs[-1] / 60:.1f} min ({len(rows)} samples), MiB: start / peak / end, slope MiB/min in the second half")
# With dhat as Rust's allocator, what malloc holds beyond it is C's own
# (SQLite's page cache and statements).
for r in rows:
    if r.get("dhat_live"):
        r["in_use_not_rust"] = str(int(r["malloc_in_use"]) - int(r["dhat_live"]))
for col in ["malloc_in_use", "malloc_free_in_arenas", "malloc_own_blocks", "rss_anon", "dhat_live", "in_use_not_rust"]:
    vals = [float(r[col]) / MIB for r in rows if r.get(col)]
    if len(vals) != len(rows):
        continue
    s = slope([secs[i] / 60 for i in half], [vals[i] for i in half])
    print(f"  {col:22} {vals[0]:8.1f} / {max(vals):8.1f} / {vals[-1]:8.1f}   {s:+.2f}")

if len(sys.argv) > 2:
    prof = json.load(open(sys.argv[2]))
    frames = prof["ftbl"]
    def show(key, count_key, title):
        sites = sorted(prof["pps"], key=lambda p: p.get(key, 0), reverse=True)
        total = sum(p.get(key, 0) for p in prof["pps"])
        print(f"dhat: {total / MIB:.1f} MiB live {title} in {sum(p.get(count_key, 0) for p in prof['pps'])} blocks; the largest sites:")
        for p in sites[:8]:
            if not p.get(key):
                break
            names = [frames[i] for i in p["fs"]]
            # Frames past the allocator's own, the first three that say who asked.
            useful = [n for n in names if not any(x in n for x in ("alloc::", "dhat::", "core::", "hashbrown::raw", "<alloc"))][:3]
            print(f"  {p[key] / MIB:7.1f} MiB in {p.get(count_key, 0):6} blocks  " + " <- ".join(f.split(" (")[0].split(": ", 1)[-1][:60] for f in useful))

    show("gb", "gbk", "at the peak")
    show("eb", "ebk", "at the end (after shutdown)")
