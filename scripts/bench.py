#!/usr/bin/env python3
"""make bench: skubridge against generated sandbox stores of N matched SKUs.

For each N: a first (full) pass, then a steady-state pass after 1% of Shopify stock
changed. Per pass: requests per endpoint against the minimum the APIs allow, wall time,
skubridge's CPU time and peak RSS (wait4 rusage of the skubridge process alone).
Writes bench/RESULTS.md. Standard library only.

BENCH_ONLY=mirakl (or a comma-separated list of sizes, hardtofind, mirakl, pair,
scaling) runs only those sections and prints their results without writing
bench/RESULTS.md.
"""
import json
import math
import os
import platform
import re
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The binaries `make bench` just built: cargo puts them under CARGO_TARGET_DIR when set.
BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"), "release")
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(",")]
# Two channels side by side are compared with each alone at this size.
PAIR_SIZE = int(os.environ.get("BENCH_PAIR_SIZE", "10000"))
LATENCY_MS = int(os.environ.get("BENCH_LATENCY_MS", "50"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
LEVELS_PAGE = 250  # Shopify connection page limit
STOCK_BATCH = 100  # The Iconic v2 PUT /v2/stock/product limit
HTF_BATCH = 500  # skubridge's Hard To Find /batch size (the API states no limit)
# Hard To Find's steady pass is measured at this size.
HTF_SIZE = int(os.environ.get("BENCH_HTF_SIZE", "100000"))
# Mirakl alone is measured at this many offers (the generated shop has one per SKU).
MIRAKL_SIZE = int(os.environ.get("BENCH_MIRAKL_SIZE", "100000"))
# skubridge's offers per export file (ITEMS_PER_CHUNK in src/channel/mirakl/listings.rs).
MIRAKL_EXPORT_FILE = 10_000
# Mirakl's call frequencies (the sandbox's defaults, sandbox/src/mirakl/limits.rs):
# STO01 (stock import) once a minute, STO02 (an import's status) once per 15 s per import.
MIRAKL_IMPORT_EVERY = 60
MIRAKL_STATUS_EVERY = 15
# Memory and CPU as the catalogue grows, at latency 0 (only skubridge's own cost).
SCALING_SIZES = [int(n) for n in os.environ.get("BENCH_SCALING_SIZES", "10000,100000,1000000").split(",") if n]
# Peak RSS limits (MiB) per kind of pass, whatever the catalogue size.
RSS_LIMITS = {"first": 200, "steady": 50, "reset": 200}


def call(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        text = r.read().decode()
    return json.loads(text) if text.strip() else None


def measured(config, env, *args):
    """Runs one skubridge command (default: sync) and returns (exit, wall s, cpu s, peak RSS MiB, stderr)."""
    start = time.monotonic()
    proc = subprocess.Popen([os.path.join(BIN, "skubridge"), "--config", config, *(args or ["sync"])],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    rss_mib = usage.ru_maxrss / 1024.0
    return code, wall, cpu, rss_mib, err


def sandbox(n, latency_ms=None):
    """A generated sandbox of n SKUs; the process and its URL."""
    latency_ms = LATENCY_MS if latency_ms is None else latency_ms
    proc = subprocess.Popen(
        [os.path.join(BIN, "skubridge-sandbox"), "--generate", str(n), "--addr", "127.0.0.1:0",
         "--latency-ms", str(latency_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return proc, proc.stdout.readline().strip()


def block(name, kind, endpoint, **keys):
    """A [[channel]] block: its name, kind and endpoint, these keys (values quoted as
    TOML strings) and the bench's concurrency."""
    lines = [f'name = "{name}"', f'kind = "{kind}"', f'endpoint = "{endpoint}"']
    lines += [f'{k} = "{v}"' for k, v in keys.items()]
    return "[[channel]]\n" + "\n".join(lines) + f"\nconcurrency = {CONCURRENCY}\n"


def iconic(name, url):
    """A [[channel]] block for the sandbox's Iconic at `url`, no stock reserved."""
    return block(name, "iconic", url, client_id="iconic-bench",
                 client_secret="${ICONIC_CLIENT_SECRET}") + "reserve_stock = 0\n"


def hardtofind(name, url):
    """A [[channel]] block for the sandbox's Hard To Find at `url`."""
    return block(name, "hardtofind", f"{url}/hardtofind", username="htf-bench",
                 password="${HARDTOFIND_PASSWORD}")


def mirakl(name, url):
    """A [[channel]] block for the sandbox's Mirakl (served under /mirakl) at `url`."""
    return block(name, "mirakl", f"{url}/mirakl", api_key="${MIRAKL_API_KEY}")


def write_config(work, shop_url, blocks):
    """A config in `work` for the sandbox's Shopify and these [[channel]] blocks."""
    config = os.path.join(work, "skubridge.toml")
    text = f"""database = "skubridge.db"
[shopify]
shop = "bench.myshopify.com"
access_token = "${{SHOPIFY_ACCESS_TOKEN}}"
endpoint = "{shop_url}"
""" + "".join(blocks)
    with open(config, "w") as f:
        f.write(text)
    return config


def bench_env():
    return dict(os.environ, SHOPIFY_ACCESS_TOKEN="shpat_sandbox_bench",
                ICONIC_CLIENT_SECRET="iconic-bench-secret",
                HARDTOFIND_PASSWORD="htf-bench-password",
                # The key of the generated Mirakl shop (sandbox/src/mirakl/mod.rs `generate`).
                MIRAKL_API_KEY="mirakl-bench-key")


def change_one_percent(url, n):
    """Changes 1% of Shopify's stock, spread over the catalog; how many SKUs."""
    changed = max(1, n // 100)
    step = n // changed
    # By inventory item (the generator's 30_000_000 + i): a change by SKU makes the
    # sandbox search every variant, too slow at a million.
    updates = [{"inventory_item_id": 30_000_000 + i, "available": 1000 + i}
               for i in range(1, n + 1, step)][:changed]
    for i in range(0, len(updates), 5000):
        call(url + "/_sandbox/shopify/inventory", "POST", updates[i:i + 5000])
    time.sleep(1.1)  # the sandbox stamps changes in whole seconds
    return changed


def side_by_side(n):
    """Steady-pass wall time of two channels in one pass against each alone. Channel
    "iconic" is sandbox A's, "outlet" sandbox B's (the same generated catalogue); Shopify
    is A's. Each configuration has its own database."""
    (a, url_a), (b, url_b) = sandbox(n), sandbox(n)
    try:
        env = bench_env()
        setups = {
            "iconic alone": [iconic("iconic", url_a)],
            "outlet alone": [iconic("outlet", url_b)],
            "both": [iconic("iconic", url_a), iconic("outlet", url_b)],
        }
        configs = {}
        for name, channels in setups.items():
            work = tempfile.mkdtemp(prefix=f"skubridge-bench-pair-{n}-")
            configs[name] = write_config(work, url_a, channels)
            code, *_, err = measured(configs[name], env)
            if code != 0:
                sys.exit(f"side by side, {name}: first pass failed ({code}):\n{err}")
        change_one_percent(url_a, n)
        walls = {}
        for name, config in configs.items():
            code, wall, *_, err = measured(config, env)
            if code != 0:
                sys.exit(f"side by side, {name}: steady pass failed ({code}):\n{err}")
            walls[name] = wall
        return walls
    finally:
        for p in (a, b):
            p.terminate()
            p.wait()


def runner(url, config, n, results):
    """Runs one measured command with fresh request counts, recorded in `results`."""
    env = bench_env()

    def run(name, minimum, *args):
        call(url + "/_sandbox/requests", "DELETE")
        code, wall, cpu, rss, err = measured(config, env, *args)
        if code != 0:
            sys.exit(f"{name} failed ({code}):\n{err}")
        counts = call(url + "/_sandbox/requests")
        results.append((name, n, code, wall, cpu, rss, counts, minimum))

    return run


def bench_size(n, latency_ms=None):
    work = tempfile.mkdtemp(prefix=f"skubridge-bench-{n}-")
    proc, url = sandbox(n, latency_ms)
    try:
        config = write_config(work, url, [iconic("iconic", url)])
        results = []
        run = runner(url, config, n, results)

        # Both catalogs in full: Shopify's bulk operation, every product set (5 SKUs each).
        full_read = {
            "shopify (locations, bulk run, bulk poll, JSONL)": 4,
            "iconic product-set pages": math.ceil(math.ceil(n / 5) / 100),
            "iconic product-set products": math.ceil(n / 5),
            "iconic token": 1,
        }
        # Every sync pass asks the channel for new orders once (none arrive here).
        orders_read = {"iconic new orders": 1}
        # A new database first looks in Shopify for orders skubridge imported before.
        new_database = {"shopify earlier imports": 1}
        run("first (full) pass",
            dict(full_read, **orders_read, **new_database,
                 **{"iconic stock writes": math.ceil(n / STOCK_BATCH)}))

        changed = change_one_percent(url, n)
        run(f"steady pass, {changed} SKUs changed (1%)", dict(orders_read, **{
            "shopify levels pages": math.ceil(changed / LEVELS_PAGE),
            "iconic stock writes": math.ceil(changed / STOCK_BATCH),
        }))

        run("reset-products", full_read, "reset-products", "--yes")
        return results
    finally:
        proc.terminate()
        proc.wait()


def bench_hardtofind(n):
    """Hard To Find alone: a first pass (every SKU offered, in batches) and a steady pass
    after 1% of Shopify's stock changed."""
    work = tempfile.mkdtemp(prefix=f"skubridge-bench-htf-{n}-")
    proc, url = sandbox(n)
    try:
        config = write_config(work, url, [hardtofind("hardtofind", url)])
        results = []
        run = runner(url, config, n, results)
        orders_read = {"hardtofind READY orders page": 1}
        run("Hard To Find first pass", {
            "shopify (locations, bulk run, bulk poll, JSONL)": 4,
            "shopify earlier imports": 1,
            "hardtofind stock batches": math.ceil(n / HTF_BATCH),
            **orders_read,
        })
        changed = change_one_percent(url, n)
        run(f"Hard To Find steady pass, {changed} SKUs changed (1%)", {
            "shopify levels pages": math.ceil(changed / LEVELS_PAGE),
            "hardtofind stock batches": math.ceil(changed / HTF_BATCH),
            **orders_read,
        })
        return results
    finally:
        proc.terminate()
        proc.wait()


def imports(work):
    """skubridge's own record of its Mirakl stock imports (its database, read only): the
    ids not settled yet, when the latest was started (epoch seconds, or None), and how
    many levels the latest holds (None once settled: its lines are then dropped)."""
    db = sqlite3.connect(f"file:{os.path.join(work, 'skubridge.db')}?mode=ro", uri=True)
    try:
        open_ids = [r[0] for r in db.execute(
            "SELECT import_id FROM stock_imports WHERE state IN ('uploading', 'pending')")]
        latest = db.execute(
            "SELECT id, started_at, state FROM stock_imports ORDER BY id DESC LIMIT 1").fetchone()
        lines = None
        if latest is not None and latest[2] in ("uploading", "pending"):
            (lines,) = db.execute("SELECT COUNT(*) FROM stock_import_lines WHERE import = ?",
                                  (latest[0],)).fetchone()
    finally:
        db.close()
    at = None if latest is None else datetime.fromisoformat(latest[1].replace("Z", "+00:00")).timestamp()
    return open_ids, at, lines


def bench_mirakl(n):
    """Mirakl alone: a first pass (the full offer export, every level in one stock
    import), a steady pass after 1% of Shopify's stock changed (one import of the
    changed levels), then reset-products (the full export again). Returns the rows, how
    many unmeasured passes settled the first pass's import, and how many levels the
    steady pass's import held (None when it settled within the pass)."""
    work = tempfile.mkdtemp(prefix=f"skubridge-bench-mirakl-{n}-")
    proc, url = sandbox(n)
    try:
        config = write_config(work, url, [mirakl("mirakl", url)])
        env = bench_env()
        results = []
        run = runner(url, config, n, results)
        # OF52 starts the export, OF53 is read until it is ready (the sandbox says
        # PENDING at the first read), one OF54 per file.
        full_export = {
            "mirakl OF52 export": 1,
            "mirakl OF53 export status, at least": 1,
            f"mirakl OF54 export files of {MIRAKL_EXPORT_FILE:,}": math.ceil(n / MIRAKL_EXPORT_FILE),
        }
        # One file of every level to send, however many, and its status read once
        # at least (the sandbox completes an import at its third read, 15 s apart).
        one_import = {"mirakl STO01 stock import": 1, "mirakl STO02 import status, at least": 1}
        orders_read = {"mirakl OR11 new orders": 1}
        run("Mirakl first pass", {
            "shopify (locations, bulk run, bulk poll, JSONL)": 4,
            "shopify earlier imports": 1,
            **full_export, **one_import, **orders_read,
        })
        # An import not settled within its pass is confirmed by a later one, and its
        # SKUs are not offered again meanwhile: cron's next passes (unmeasured) settle
        # it, a status read per pass, 15 s apart as STO02 allows.
        settling = 0
        while True:
            open_ids, _, _ = imports(work)
            if not open_ids:
                break
            if settling == 4:
                sys.exit(f"Mirakl: stock imports {open_ids} still unsettled after {settling} more passes")
            time.sleep(MIRAKL_STATUS_EVERY + 1)
            code, *_, err = measured(config, env)
            if code != 0:
                sys.exit(f"Mirakl: a pass settling the first import failed ({code}):\n{err}")
            settling += 1
        changed = change_one_percent(url, n)
        # STO01 once a minute: a pass sooner leaves its levels for the next one, so the
        # steady pass waits out the minute since the last import started, as cron's
        # 5-minute passes always do.
        _, started, _ = imports(work)
        if started is not None:
            time.sleep(max(0.0, started + MIRAKL_IMPORT_EVERY + 1 - time.time()))
        run(f"Mirakl steady pass, {changed} SKUs changed (1%)", {
            "shopify levels pages": math.ceil(changed / LEVELS_PAGE),
            **one_import, **orders_read,
        })
        _, steady_started, steady_lines = imports(work)
        if steady_started == started:
            sys.exit("Mirakl: the steady pass started no stock import")
        if steady_lines is not None and steady_lines != changed:
            print(f"bench: Mirakl's steady import holds {steady_lines} levels, not the "
                  f"{changed} changed", file=sys.stderr)
        # One full export a day: the limit clocks restart, as a day later.
        call(url + "/_sandbox/mirakl/limits", "DELETE")
        run("Mirakl reset-products", {
            "shopify (locations, bulk run, bulk poll, JSONL)": 4,
            **full_export,
        }, "reset-products", "--yes")
        return results, settling, steady_lines
    finally:
        proc.terminate()
        proc.wait()


def scaling():
    """First, steady and reset passes at each SCALING_SIZES size with no latency: peak
    RSS and CPU as the catalogue grows, against RSS_LIMITS."""
    rows = []
    for n in SCALING_SIZES:
        print(f"bench: scaling, {n} SKUs at latency 0 ...", file=sys.stderr)
        for (name, _, _, wall, cpu, rss, _, _), kind in zip(bench_size(n, 0), RSS_LIMITS):
            rows.append((kind, n, wall, cpu, rss))
    lines = [
        "",
        "## Memory and CPU as the catalogue grows (latency 0)",
        "",
        "Full reads stream into SQLite staging tables and stock is planned a page at a",
        "time, so peak RSS should stay within the limits whatever the catalogue size.",
        "",
        "| pass | SKUs | wall s | CPU s | peak RSS MiB | limit MiB | within |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for kind, n, wall, cpu, rss in rows:
        limit = RSS_LIMITS[kind]
        lines.append(f"| {kind} | {n:,} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {limit} "
                     f"| {'yes' if rss <= limit else '**no**'} |")
    return lines


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){mem}, {platform.system()} {platform.release()}"


def by_endpoint(counts):
    """The counts with Mirakl's export tracking ids (a new one each run) as `{tracking_id}`."""
    merged = {}
    for k, v in counts.items():
        k = re.sub(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "/{tracking_id}", k)
        merged[k] = merged.get(k, 0) + v
    return merged


SECTIONS = ("sizes", "hardtofind", "mirakl", "pair", "scaling")


def selected_sections():
    """Every section, or only BENCH_ONLY's (comma-separated), which are then printed and
    bench/RESULTS.md is left as it is."""
    only = [x.strip() for x in os.environ.get("BENCH_ONLY", "").split(",") if x.strip()]
    unknown = [x for x in only if x not in SECTIONS]
    if unknown:
        sys.exit(f"BENCH_ONLY: unknown section(s) {', '.join(unknown)}; "
                 f"choose from {', '.join(SECTIONS)}")
    return only or list(SECTIONS), bool(only)


def mirakl_notes(n, settling, steady_lines):
    if settling:
        settled = (f"{settling} more pass{'es' if settling != 1 else ''} (unmeasured, "
                   f"{MIRAKL_STATUS_EVERY + 1} s apart) settled the first pass's import, as cron's would,")
    else:
        settled = "the first pass had settled its own import,"
    held = (f" (here {steady_lines:,} levels, the changed ones)" if steady_lines is not None else "")
    notes = [
        f"Mirakl, alone at {n:,} offers: offers come through the asynchronous export (OF52 starts "
        f"it, OF53 says when it is ready, one OF54 per file of {MIRAKL_EXPORT_FILE:,} offers, "
        "skubridge's `items_per_chunk`), and stock goes as one STO01 file import whatever the "
        "number of levels, confirmed by its STO02 status reads. The `mirakl <operation>` "
        "entries under \"Requests per endpoint\" name the Mirakl operation of the requests "
        "listed by path; they are not extra requests.",
        "Mirakl's own requests above the minimum are status reads (polls): how many depends on how "
        "long Mirakl takes, not on the catalogue. The sandbox's export is PENDING at its first "
        "OF53 read and ready at the second (skubridge reads again 1 s later); its import is "
        "WAITING, then RUNNING, then COMPLETE at the third STO02 read, which Mirakl allows once "
        f"per {MIRAKL_STATUS_EVERY} s per import (a count of reads, not a processing time). An import not "
        "settled when its pass ends is confirmed on a later pass, and its SKUs are not offered "
        "again meanwhile (the first pass's import holds every SKU).",
        f"Before the Mirakl steady pass, {settled} and the bench waited until "
        f"{MIRAKL_IMPORT_EVERY + 1} s after the last import started: Mirakl takes one stock import "
        "a minute, and a pass sooner leaves its levels for the next one (cron runs every 5 "
        "minutes). These waits are outside the measured passes; a pass's own polls are inside "
        "its wall time.",
        f"A Mirakl steady pass needs one import{held}, its status reads and one order read "
        "(OR11), whatever the catalogue size, and no offer export: product sync is hourly, and "
        "then reads only what changed (a differential export).",
        "Mirakl allows one full offer export a day: before `reset-products` the bench restarts "
        "the sandbox's frequency clocks (`DELETE /_sandbox/mirakl/limits`), as a day later.",
        "The ideal wall time does not apply to Mirakl's passes: their status reads wait for the "
        "export and the import, not for the latency. A pass asks about its import right after "
        "the upload and again every 15 s for up to `import_wait_seconds` (30 by default): the "
        "Mirakl passes' wall time is mostly that wait (see the CPU column).",
    ]
    return [textwrap.fill(note, 90, initial_indent="- ", subsequent_indent="  ") for note in notes]


def main():
    sections, only = selected_sections()
    rows = []
    if "sizes" in sections:
        for n in SIZES:
            print(f"bench: {n} SKUs ...", file=sys.stderr)
            rows.extend(bench_size(n))
    if "hardtofind" in sections:
        print(f"bench: Hard To Find, {HTF_SIZE} SKUs ...", file=sys.stderr)
        rows.extend(bench_hardtofind(HTF_SIZE))
    mirakl_facts = None
    if "mirakl" in sections:
        print(f"bench: Mirakl, {MIRAKL_SIZE} offers ...", file=sys.stderr)
        mirakl_rows, *mirakl_facts = bench_mirakl(MIRAKL_SIZE)
        rows.extend(mirakl_rows)
    walls = None
    if "pair" in sections:
        print(f"bench: two channels side by side, {PAIR_SIZE} SKUs ...", file=sys.stderr)
        walls = side_by_side(PAIR_SIZE)
    growth = scaling() if "scaling" in sections else []
    lines = [
        "# skubridge benchmark",
        "",
        f"`make bench` on {time.strftime('%Y-%m-%d', time.gmtime())}: {machine()}.",
        f"Sandbox latency {LATENCY_MS} ms per request; channel concurrency {CONCURRENCY}; "
        "release build. CPU and peak RSS are skubridge's own (wait4 rusage), not the sandbox's.",
        "Minimum requests: what the APIs allow for the work (Shopify pages of 250, "
        "Iconic stock batches of 100, one Iconic call per product set, Hard To Find "
        f"batches of {HTF_BATCH} and one page of its READY orders, Mirakl's export in files "
        f"of {MIRAKL_EXPORT_FILE:,} offers and one stock import a pass).",
        "",
        "Ideal wall time (design §12): minimum requests × latency ÷ concurrency.",
        "",
        "| pass | SKUs | requests | minimum | ratio | wall s | ideal s | CPU s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    details = []
    for name, n, code, wall, cpu, rss, counts, minimum in rows:
        # "graphql <operation>" entries break Shopify's POSTs down, and "mirakl <operation>"
        # entries Mirakl's requests; they are not extra requests.
        api_total = sum(v for k, v in counts.items() if not k.startswith(("graphql ", "mirakl ")))
        least = sum(minimum.values())
        ideal = least * LATENCY_MS / 1000 / CONCURRENCY
        lines.append(f"| {name} | {n:,} | {api_total:,} | {least:,} | {api_total / least:.2f}x "
                     f"| {wall:.2f} | {ideal:.2f} | {cpu:.2f} | {rss:.0f} |")
        details.append(f"\n### {name}, {n:,} SKUs\n")
        details.append("| endpoint | requests |\n|---|---:|")
        for k, v in sorted(by_endpoint(counts).items()):
            details.append(f"| `{k}` | {v:,} |")
        details.append("\nMinimum: " + ", ".join(f"{k} {v:,}" for k, v in minimum.items()) + ".")
    notes = ["", "Notes:"]
    if not only or {"sizes", "hardtofind"} & set(sections):
        notes += [
            "- The one request above the minimum in a steady pass is The Iconic's OAuth token,",
            "  minted once per run (tokens are kept in memory only, never written to disk).",
            "- Steady passes cannot reach the ideal wall time: Shopify's cursor pages are fetched",
            "  one after another, and the pass diffs every matched SKU locally (the CPU column)",
            "  so that a push that failed or was never confirmed is retried without any extra",
            "  request.",
            "- First passes are bound by The Iconic's one call per product set (5 SKUs a set here).",
            "- Every sync pass asks The Iconic for new orders once (none arrive here). Orders",
            "  still open after import are re-read by id, and Shopify is searched for their",
            "  fulfilments and edits, only while there are some: none in a generated store.",
            "- A first pass may poll the bulk operation twice: it is not finished at the first look.",
            "- A first pass on a new database makes one Shopify order search: skubridge looks for",
            "  orders it imported before, to recover them if the database was lost.",
            "- Hard To Find has no listing endpoint: every Shopify SKU is offered, so its first",
            "  pass sends every level, and a steady pass only the changed ones. The request above",
            "  the minimum is its login (a 15-minute token, once per run).",
        ]
    if mirakl_facts is not None:
        notes += mirakl_notes(MIRAKL_SIZE, *mirakl_facts)
    pair = []
    if walls is not None:
        slower = max(walls["iconic alone"], walls["outlet alone"])
        pair = [
            "",
            f"## Two channels side by side ({PAIR_SIZE:,} SKUs, steady pass, 1% changed)",
            "",
            "Each channel alone, then both in one pass (one Shopify read shared, each channel's",
            "steps concurrent with the other's); each configuration with its own database.",
            "",
            "| configuration | wall s |",
            "|---|---:|",
        ] + [f"| {name} | {wall:.2f} |" for name, wall in walls.items()] + [
            "",
            f"Both channels take {walls['both'] / slower:.2f}x the slower channel's wall time alone"
            " (the goal: at most 1.3x).",
        ]
    table = lines + notes if rows else []
    per_endpoint = ["", "## Requests per endpoint"] + details if rows else []
    text = "\n".join(table + pair + growth + per_endpoint) + "\n"
    if only:
        print(f"bench: only {', '.join(sections)}; bench/RESULTS.md left as it is", file=sys.stderr)
    else:
        os.makedirs(os.path.join(ROOT, "bench"), exist_ok=True)
        with open(os.path.join(ROOT, "bench", "RESULTS.md"), "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
