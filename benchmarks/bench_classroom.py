"""Classroom load test (issue 14): one ``gwidgets dashboard`` server, N browsers at once.

    python benchmarks/run.py classroom                # N = 10 pages, 50 slider moves each
    python benchmarks/run.py classroom --pages 5 --moves 20 --pool-size 2

What it does, on loopback only, bounded in count and time:

1. starts the real command, ``python -m gwidgets dashboard --no-browser --ip 127.0.0.1 --port P``
   (default dashboard: the simulated example store with its first look), with the
   classroom options given (``--pool-size``, ``--cull-idle-timeout``);
2. opens N pages concurrently (one headless Chromium, one browser context per student,
   asyncio Playwright) and times goto → model-editor sliders visible (first paint);
3. on every page at once, presses an arrow key on the first model slider ``--moves`` times
   and times key press → the residual panel redrawn (its canvas's ``data-drawn`` changes);
4. measures the RSS of the Voilà server and of every kernel process (psutil, children of the
   server whose command line runs ``gwidgets.app.kernel`` or ``ipykernel_launcher``);
5. closes the pages WITHOUT ``beforeunload`` (a laptop lid closed, a network drop: Voilà's own
   kernel shutdown on unload does not run) and polls until only the idle pre-heated kernels are
   left: the time until then is what kernel culling (``--cull-idle-timeout``) gives.

Targets: per-kernel RSS <= 150 MiB on the default dataset; no kernel of a closed page alive 60 s
after it closed. The last line is a one-line summary.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "browser"))

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: a kernel process: the dashboard's own kernel (gwidgets.app.kernel), or ipykernel's
KERNEL_COMMANDS = ("gwidgets.app.kernel", "ipykernel_launcher")
PAINTED = ".gw-dashboard .noUi-handle"
SLIDER = ".gw-dashboard .gw-param-row .noUi-handle"
DRAWN = "(document.querySelector('.gw-fit-residuals') || {dataset: {}}).dataset.drawn || ''"
CHANGED = ("(b) => { const s = " + DRAWN + "; if (s && s !== b) { window.__t1 = performance.now(); return true; }"
           " return false; }")


def _kernels(server):
    """The kernel processes (`KERNEL_COMMANDS`) below the server process."""
    import psutil

    out = []
    for child in server.children(recursive=True):
        try:
            if any(k in part for part in child.cmdline() for k in KERNEL_COMMANDS):
                out.append(child)
        except psutil.Error:
            continue
    return out


def _rss_mib(proc) -> float:
    import psutil

    try:
        return proc.memory_info().rss / 2**20
    except psutil.Error:
        return float("nan")


def _voila_process(cli):
    """The ``python -m voila`` child of ``gwidgets dashboard``."""
    import psutil

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for child in psutil.Process(cli.pid).children(recursive=True):
            try:
                if "voila" in " ".join(child.cmdline()):
                    return child
            except psutil.Error:
                continue
        time.sleep(0.2)
    raise RuntimeError("gwidgets dashboard started no Voilà process within 60 s")


async def _student(browser, port, moves, results, i, start_event):
    ctx = await browser.new_context(viewport={"width": 1400, "height": 1200})
    await ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
        ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else r.abort())
    page = await ctx.new_page()
    await start_event.wait()
    t0 = time.perf_counter()
    await page.goto(f"http://127.0.0.1:{port}/", timeout=300_000)
    await page.wait_for_selector(PAINTED, state="visible", timeout=300_000)
    paint = time.perf_counter() - t0
    # the first look's fit is running in the kernel: wait until the residual panel has drawn once
    await page.wait_for_function(f"() => ({DRAWN}) !== ''", timeout=300_000)
    lat, lost = [], 0
    await page.locator(SLIDER).first.focus()
    for k in range(moves):
        await page.wait_for_timeout(100)
        before = await page.evaluate(DRAWN)
        t1 = await page.evaluate("performance.now()")
        await page.keyboard.press("ArrowRight" if k < moves // 2 else "ArrowLeft")
        try:
            await page.wait_for_function(CHANGED, arg=before, polling="raf", timeout=10_000)
        except Exception:  # noqa: BLE001 - a move the page never showed within 10 s: counted
            lost += 1
            continue
        lat.append(await page.evaluate("window.__t1") - t1)
    results[i] = {"paint": paint, "lat": lat, "lost": lost, "ctx": ctx}


def main(argv=None):
    """Run the classroom load test; ``argv`` as on the command line (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="bench_classroom")
    ap.add_argument("--pages", type=int, default=10)
    ap.add_argument("--moves", type=int, default=50)
    ap.add_argument("--pool-size", type=int, default=None, help="pre-heated kernels (gwidgets dashboard --pool-size)")
    ap.add_argument("--cull-idle-timeout", type=float, default=None, help="seconds (gwidgets dashboard option)")
    ap.add_argument("--wait", type=float, default=90.0, help="how long to watch for kernels after the pages close")
    args = ap.parse_args(argv)
    if not os.path.exists("/usr/bin/chromium"):
        print("== classroom benchmark skipped: /usr/bin/chromium not found")
        return
    from browser_helpers import free_port, server_env, stop, wait_for_port

    port = free_port()
    cmd = [sys.executable, "-m", "gwidgets", "dashboard", "--no-browser", "--ip", "127.0.0.1", "--port", str(port)]
    if args.pool_size is not None:
        cmd += ["--pool-size", str(args.pool_size)]
    if args.cull_idle_timeout is not None:
        cmd += ["--cull-idle-timeout", str(args.cull_idle_timeout)]
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "server.log", "w")
        env = server_env(PYTHONPATH=ROOT)
        cli = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=False)
        try:
            wait_for_port(port, cli, timeout=120)
            server = _voila_process(cli)
            # the pre-heated pool is filled (each pooled kernel has run the notebook)
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and (Path(tmp) / "server.log").read_text().count("is filled") < 1:
                time.sleep(0.5)
            time.sleep(3.0)
            n_pool = len(_kernels(server))
            idle_rss = [_rss_mib(k) for k in _kernels(server)]
            t_start = time.perf_counter()
            browser_results = asyncio.run(_run_and_close(port, args, server, n_pool))
            (students, errors, loaded_rss, server_rss, n_loaded, release) = browser_results
            wall = time.perf_counter() - t_start
        finally:
            stop(cli)
            log.close()
            server_log = (Path(tmp) / "server.log").read_text(errors="replace")
            keep = Path(tempfile.gettempdir()) / "gwidgets-classroom-server.log"
            keep.write_text(server_log)
    paints = np.array([s["paint"] for s in students]) if students else np.array([np.nan])
    lat = np.concatenate([s["lat"] for s in students]) if students else np.array([np.nan])
    lost = sum(s["lost"] for s in students)
    kernel_max = np.nanmax(loaded_rss) if loaded_rss else float("nan")
    print(f"== classroom: {args.pages} pages opened at once on one `gwidgets dashboard` "
          f"(pre-heated pool {n_pool}, {os.cpu_count()} cores), {args.moves} slider moves each")
    print(f"   pages that failed          : {len(errors)}" + (f"  ({errors[0]!r})" if errors else ""))
    if errors:
        print(f"   server log (whole: {keep}):")
        print("\n".join("     | " + line for line in server_log.splitlines()[-25:]))
    print(f"   first paint                : p50 {np.median(paints):.2f} s, p95 {np.percentile(paints, 95):.2f} s, "
          f"best {np.min(paints):.2f} s")
    print(f"   slider → residuals redrawn : p50 {np.median(lat):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms "
          f"over {lat.size} moves ({lost} not shown within 10 s)")
    print(f"   kernels while loaded       : {n_loaded}; RSS per kernel max {kernel_max:.0f} MiB, "
          f"median {np.nanmedian(loaded_rss):.0f} MiB; idle pre-heated kernel {np.nanmedian(idle_rss):.0f} MiB")
    print(f"   server (Voilà) RSS         : {server_rss:.0f} MiB")
    released = release is not None
    print("   after the pages closed     : " + (f"every page's kernel gone after {release:.0f} s" if released
                                                  else f"kernels still alive after {args.wait:.0f} s"))
    ok_rss = kernel_max <= 150
    ok_release = released and release <= 60
    print(f"   targets: per-kernel RSS <= 150 MiB -> {'OK' if ok_rss else 'MISSED'}; "
          f"no kernel left 60 s after its page closed -> {'OK' if ok_release else 'MISSED'}")
    print(f"classroom: {args.pages} pages, first paint p50 {np.median(paints):.2f} s p95 "
          f"{np.percentile(paints, 95):.2f} s, redraw p50 {np.median(lat):.0f} ms p95 {np.percentile(lat, 95):.0f} ms, "
          f"kernel RSS max {kernel_max:.0f} MiB, released in "
          f"{f'{release:.0f} s' if released else 'never'} (wall {wall:.0f} s)")


async def _run_and_close(port, args, server, n_pool):
    from playwright.async_api import async_playwright

    results = [None] * args.pages
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        start = asyncio.Event()
        tasks = [asyncio.create_task(_student(browser, port, args.moves, results, i, start))
                 for i in range(args.pages)]
        await asyncio.sleep(1.0)
        start.set()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        errors = [d for d in done if isinstance(d, BaseException)]
        kernels = _kernels(server)
        loaded_rss = [_rss_mib(k) for k in kernels]
        server_rss = _rss_mib(server)
        page_kernels = len(kernels)
        for r in results:  # close every page without running beforeunload (no Voilà shutdown request)
            if r is not None:
                await r["ctx"].close()
        closed_at = time.perf_counter()
        await browser.close()
    release = None
    while time.perf_counter() - closed_at < args.wait:
        if len(_kernels(server)) <= n_pool:
            release = time.perf_counter() - closed_at
            break
        await asyncio.sleep(2.0)
    students = [r for r in results if r is not None]
    return students, errors, loaded_rss, server_rss, page_kernels, release


if __name__ == "__main__":
    main()
