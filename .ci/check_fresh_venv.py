#!/usr/bin/env python3
"""The README's install-and-serve command, checked from a fresh virtual environment (CI, issue 12).

1. A clean copy of HEAD: ``git clone`` of the repository, checked out at HEAD's commit, so that
   uncommitted or ignored files of the working tree play no part.
2. ``python -m venv``, then the README's install command (``pip install .``: no extras) in it.
   The test extras must not be there (they used to bring ipykernel in and hide its absence).
3. The README's serve command (``gwidgets dashboard``, with ``--no-browser --port N --ip 127.0.0.1``)
   from that venv, with HOME a new empty folder (no user kernelspec, no cached example store).
4. Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright from the interpreter that
   runs this script; Playwright is never installed into the venv being checked) loads the page:
   HTTP 200, the dashboard's widgets visible, no error text, no uncaught page error; a screenshot
   is kept. First paint = from navigation to the dashboard and its first slider being visible.
5. Ctrl-C (SIGINT to the command's process group); whatever the server started and is still
   alive afterwards (kernels run in their own sessions) is ended by PID.

Prints both commands with their exit codes and times, the first-paint times and the screenshot's
path, and writes them to ``fresh-venv-summary.json`` in the artefact folder. Exit code 0 only if
every check passed.

Example::

    python -m venv /tmp/tools && /tmp/tools/bin/pip install playwright
    /tmp/tools/bin/python .ci/check_fresh_venv.py --artifacts .ci/artifacts
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL_PREFIXES = ("http://127.0.0.1", "ws://127.0.0.1", "blob:", "data:")
#: packages of the test extra that must not be in the venv after ``pip install .``
TEST_ONLY = ("pytest", "nbval", "playwright", "gammapy")
#: visible in the rendered dashboard: its box, and the spectral index slider of the model editor
READY = (".gw-dashboard", ".gw-param-source-spectral-alpha .noUi-handle")
#: text that must not be on the page (Voilà's error page, a traceback, a widget that failed to render)
ERROR_TEXT = r"Traceback|No Jupyter kernel|Internal Server Error|Click to show javascript error|\b\w*Error\b"
#: server log lines that are failures
LOG_ERRORS = re.compile(r"Traceback|No Jupyter kernel|\[Voila\] ERROR|HTTP 500|\b500 GET\b")

STATE_JS = """([ready, pattern]) => {
  const text = document.body ? document.body.innerText : "";
  const m = text.match(new RegExp(pattern));
  if (m) return "error: " + m[0];
  const shown = ready.every(s => { const e = document.querySelector(s);
                                  return e && e.getBoundingClientRect().width > 0; });
  return shown ? "ok" : false;
}"""


def readme_commands(readme: Path) -> tuple[list[str], list[str]]:
    """The install and serve commands of the README line ``pip install . && gwidgets dashboard``."""
    for block in re.findall(r"```bash\n(.*?)```", readme.read_text(), flags=re.S):
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            if "gwidgets dashboard" in line:
                install, serve = (shlex.split(part) for part in line.split("&&"))
                if install[:2] != ["pip", "install"] or serve[:2] != ["gwidgets", "dashboard"]:
                    raise SystemExit(f"unexpected README command: {line!r}")
                return install, serve
    raise SystemExit(f"{readme}: no 'pip install ... && gwidgets dashboard' line in a bash block")


def clean_copy(repo: Path, dest: Path) -> str:
    """Clone ``repo`` into ``dest`` at HEAD's commit; returns the commit."""
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "-q", head], check=True)
    return head


def venv_env(venv: Path, home: Path) -> dict:
    """The environment of a user who activated ``venv``, with a new empty HOME."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GWIDGETS_", "JUPYTER_", "PYTHON", "VIRTUAL_ENV", "CONDA", "XDG_"))}
    bin_dirs = [p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != Path(sys.executable).parent]
    env.update(PATH=os.pathsep.join([str(venv / "bin"), *bin_dirs]), VIRTUAL_ENV=str(venv), HOME=str(home),
               PYTHONUNBUFFERED="1")
    return env


def timed(cmd, log: Path, **kw) -> tuple[int, float]:
    t0 = time.monotonic()
    with open(log, "w") as out:
        code = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, **kw).returncode
    return code, time.monotonic() - t0


def venv_facts(venv: Path, env: dict) -> dict:
    """Installed packages (name -> version) and the ``python3`` kernelspec that Voilà will use."""
    py = str(venv / "bin" / "python")
    listing = subprocess.run([py, "-m", "pip", "list", "--format=json"], capture_output=True, text=True, env=env)
    packages = {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(listing.stdout or "[]")}
    code = ("import json; from jupyter_client.kernelspec import KernelSpecManager as K; "
            "s = K().get_kernel_spec('python3'); print(json.dumps({'resource_dir': s.resource_dir, 'argv': s.argv}))")
    spec = subprocess.run([py, "-c", code], capture_output=True, text=True, env=env)
    kernel = json.loads(spec.stdout) if spec.returncode == 0 else {"error": spec.stderr.strip().splitlines()[-1:]}
    return {"packages": packages, "kernelspec": kernel}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.monotonic() - t0
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def descendants(pid: int) -> dict[int, str]:
    """PID -> command line of every live descendant of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = cmdline(child)
            todo.append(child)
    return found


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_idle(pids: list[int], quiet: float = 1.5, timeout: float = 120.0) -> float:
    """Wait until none of ``pids`` used CPU time for ``quiet`` seconds; returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        before = [cpu_ticks(p) for p in pids]
        time.sleep(quiet)
        if [cpu_ticks(p) for p in pids] == before:
            break
    return time.monotonic() - t0


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def stop_server(proc: subprocess.Popen, started: dict[int, str]) -> tuple[int, list[str]]:
    """Ctrl-C to the command's process group, then SIGTERM/SIGKILL by PID to whatever it started that
    is still alive (same command line, so a reused PID is left alone). Returns (exit code, leftovers)."""
    started = {**started, **descendants(proc.pid)}
    for sig, wait in ((signal.SIGINT, 30), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    code = proc.wait()
    leftovers = []
    deadline = time.monotonic() + 10
    for pid, cmd in started.items():
        while cmdline(pid) == cmd and cmd and time.monotonic() < deadline:
            time.sleep(0.2)
        if cmd and cmdline(pid) == cmd:
            leftovers.append(f"{pid} {cmd}")
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.kill(pid, sig)
                    time.sleep(1)
                except ProcessLookupError:
                    break
    return code, leftovers


def load(browser, url: str, shot: Path | None, timeout_s: float) -> dict:
    """Open ``url`` in a new context; time navigation -> dashboard visible; check the page for errors."""
    context = browser.new_context(viewport={"width": 1500, "height": 1300})
    external, page_errors, console_errors = [], [], []

    def route(r):
        if r.request.url.startswith(LOCAL_PREFIXES):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: page_errors.append(str(e)))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    t0 = time.monotonic()
    response = page.goto(url, timeout=timeout_s * 1000)
    state = page.wait_for_function(STATE_JS, arg=[list(READY), ERROR_TEXT], polling=50,
                                   timeout=timeout_s * 1000).json_value()
    painted_at = time.monotonic()
    page.wait_for_timeout(2000)  # let late outputs (a traceback printed after the display) arrive
    text = page.evaluate("document.body.innerText")
    late = re.search(ERROR_TEXT, text)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    result = {"status": response.status if response else None, "state": state,
              "first_paint_s": round(painted_at - t0, 2), "painted_at": painted_at, "late_error_text": late.group(0) if late else None,
              "n_widgets": page.locator(".jupyter-widgets").count(), "page_errors": page_errors,
              "console_errors": console_errors, "external_requests": external}
    context.close()
    return result


def page_problems(r: dict) -> list[str]:
    problems = []
    if r["status"] != 200:
        problems.append(f"HTTP {r['status']}")
    if r["state"] != "ok":
        problems.append(f"page shows {r['state']!r}")
    if r["late_error_text"]:
        problems.append(f"page shows {r['late_error_text']!r} after rendering")
    if r["page_errors"]:
        problems.append(f"uncaught page errors: {r['page_errors'][:3]}")
    # the only requests leaving the machine: the Voilà template's Font Awesome CSS (aborted)
    other = [u for u in r["external_requests"] if "fontawesome" not in u and "font-awesome" not in u]
    if other:
        problems.append(f"requests leaving the machine: {other[:3]}")
    return problems


def serve_and_load(serve, venv, env, run_dir, artifacts, timeout_s) -> dict:
    from playwright.sync_api import sync_playwright

    exe = shutil.which(serve[0], path=env["PATH"])
    if not exe or Path(exe).parent != venv / "bin":
        return {"problems": [f"'{serve[0]}' resolves to {exe}, not into the venv"], "exit_code": None}
    port = free_port()
    cmd = serve + ["--no-browser", f"--port={port}", "--ip=127.0.0.1"]
    log_path = artifacts / "fresh-venv-dashboard.log"
    out = {"command": " ".join(cmd), "problems": [], "loads": []}
    t_start = time.monotonic()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=run_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        started: dict[int, str] = {}
        try:
            out["port_open_s"] = round(wait_for_port(port, proc, timeout=120), 2)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    url = f"http://127.0.0.1:{port}/"
                    first = load(browser, url, artifacts / "dashboard-fresh-venv.png", timeout_s)
                    first["server_start_to_paint_s"] = round(first.pop("painted_at") - t_start, 2)
                    out["loads"].append(first)
                    if first["state"] == "ok":  # a second visitor: the pre-heated kernel is ready by now
                        second = load(browser, url, None, timeout_s)
                        second.pop("painted_at")
                        out["loads"].append(second)
                finally:
                    browser.close()
            # Ctrl-C once the kernels are idle: jupyter_client interrupts a kernel that is still booting or
            # running the pre-heat, which then logs its own traceback (KeyboardInterrupt, ZMQError)
            started = descendants(proc.pid)
            out["kernels_idle_after_s"] = round(wait_idle([p for p, c in started.items() if "ipykernel" in c]), 2)
        except Exception as exc:  # a server that never listens, a page that never renders
            out["problems"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        finally:
            out["exit_code"], leftovers = stop_server(proc, started)
            out["served_s"] = round(time.monotonic() - t_start, 2)
    if leftovers:
        out["problems"].append(f"still running after Ctrl-C (ended by PID): {leftovers}")
    for i, r in enumerate(out["loads"]):
        out["problems"] += [f"load {i + 1}: {p}" for p in page_problems(r)]
    log_text = log_path.read_text(errors="replace")
    bad = sorted({m.group(0) for m in LOG_ERRORS.finditer(log_text)})
    if bad:
        out["problems"].append(f"server log ({log_path}) has {bad}")
    if out["exit_code"] != 0:
        out["problems"].append(f"'{' '.join(serve)}' exited with {out['exit_code']} after Ctrl-C")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=ROOT, help="git repository to check (its HEAD)")
    parser.add_argument("--workdir", type=Path, default=None, help="where the clone and venv go (default: a temp dir)")
    parser.add_argument("--artifacts", type=Path,
                        default=Path(os.environ.get("CI_ARTIFACTS", ROOT / ".ci" / "artifacts")))
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds for the page to render")
    parser.add_argument("--keep", action="store_true", help="keep the clone and the venv")
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        print(f"FAIL: {CHROMIUM} not found (apt-get install -y chromium)")
        return 1
    install, serve = readme_commands(args.repo / "README.md")
    artifacts = args.artifacts.resolve()
    artifacts.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="gwidgets-fresh-venv-")) if args.workdir is None else args.workdir
    work.mkdir(parents=True, exist_ok=True)
    src, venv, home, run_dir = work / "src", work / "venv", work / "home", work / "run"
    home.mkdir(exist_ok=True)
    run_dir.mkdir(exist_ok=True)
    summary = {"commit": clean_copy(args.repo.resolve(), src), "problems": []}
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        env = venv_env(venv, home)
        code, seconds = timed(install, artifacts / "fresh-venv-pip-install.log", cwd=src, env=env)
        summary["install"] = {"command": " ".join(install), "exit_code": code, "seconds": round(seconds, 1)}
        facts = venv_facts(venv, env)
        summary["kernelspec"] = facts["kernelspec"]
        summary["versions"] = {k: facts["packages"].get(k) for k in ("gwidgets", "voila", "ipykernel", "jupyter-client",
                                                                     "jupyter-server", "ipywidgets", "bqplot")}
        extras = [k for k in TEST_ONLY if k in facts["packages"]]
        if code != 0:
            summary["problems"].append(f"'{' '.join(install)}' exited with {code}")
        if extras:
            summary["problems"].append(f"test-only packages in the venv: {extras}")
        if not str(facts["kernelspec"].get("resource_dir", "")).startswith(str(venv)):
            summary["problems"].append(f"python3 kernelspec not from the venv: {facts['kernelspec']}")
        if code == 0:
            summary["serve"] = serve_and_load(serve, venv, env, run_dir, artifacts, args.timeout)
            summary["problems"] += summary["serve"].pop("problems")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    (artifacts / "fresh-venv-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    report(summary, artifacts)
    return 1 if summary["problems"] else 0


def report(s: dict, artifacts: Path):
    print(f"fresh venv at {s['commit'][:12]}:")
    i = s.get("install", {})
    print(f"  {i.get('command', '?'):<32} exit {i.get('exit_code')}  {i.get('seconds')} s")
    v = s.get("serve", {})
    if v:
        print(f"  {v.get('command', '?'):<32} exit {v.get('exit_code')} after Ctrl-C  "
              f"(port open {v.get('port_open_s')} s, kernels idle {v.get('kernels_idle_after_s')} s after the "
              f"last load, served {v.get('served_s')} s)")
        for n, load_ in enumerate(v.get("loads", []), 1):
            print(f"  load {n}: HTTP {load_['status']}, {load_['state']}, first paint {load_['first_paint_s']} s "
                  f"(navigation -> dashboard visible), {load_['n_widgets']} widget views")
    print(f"  kernelspec python3: {s.get('kernelspec')}")
    print(f"  versions: {s.get('versions')}")
    print(f"  screenshot: {artifacts / 'dashboard-fresh-venv.png'}")
    print("  " + ("PASS" if not s["problems"] else "FAIL:\n    " + "\n    ".join(s["problems"])))


if __name__ == "__main__":
    sys.exit(main())
