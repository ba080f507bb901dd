"""Benchmark 4: start-up cost and peak memory.

Ours: taskbot.registry.load_registry (read, parse, validate) + Store.sync_registry into a fresh
SQLite file + building the Agenda, of a 10k-task synthetic registry (bench/synth.py). Baseline: a
bare C-YAML parse of the same file, yaml.load(text, Loader=yaml.CSafeLoader) (file read included).
Each is run in a fresh subprocess, best of --repeat. Peak memory (ru_maxrss) of ours at 100k tasks,
also in a fresh subprocess, next to the bare parse's and an idle interpreter's with the same imports.
Targets: at most 3x the bare parse; at most 300 MB at 100k.

    python3 bench/startup.py [--tasks 10000] [--memory-tasks 100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)


def child(mode: str, registry: str, units: str, work: str) -> dict:
    """Runs in a fresh interpreter; prints one JSON line."""
    from datetime import timedelta

    import yaml

    import synth
    from taskbot.planning import Agenda
    from taskbot.registry import load_registry
    from taskbot.store import Store

    out: dict = {}
    t0 = time.perf_counter()
    if mode == "bare":
        with open(registry, encoding="utf-8") as fh:
            data = yaml.load(fh.read(), Loader=yaml.CSafeLoader)
        out["tasks"] = len(data["tasks"])
    elif mode == "ours":
        reg = load_registry(registry, units)
        t1 = time.perf_counter()
        db = os.path.join(work, f"state-{os.getpid()}.sqlite3")
        store = Store.open(db)
        now = synth.tick_at(0) - timedelta(minutes=1)
        result = store.sync_registry(reg, now)
        t2 = time.perf_counter()
        agenda = Agenda(reg, store.task_states(), now)
        t3 = time.perf_counter()
        out.update(tasks=len(reg.tasks), added=len(result.added), agenda=len(agenda),
                   load=t1 - t0, sync=t2 - t1, agenda_s=t3 - t2)
        store.close()
        os.unlink(db)
    out["total"] = time.perf_counter() - t0
    out["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["hwm_mb"] = vm_hwm_mb()
    return out


def vm_hwm_mb() -> float | None:
    """Peak RSS of this process image (VmHWM): unlike ru_maxrss it does not inherit the parent's peak,
    which Linux carries across fork+exec into ru_maxrss."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def run_child(mode: str, s, work: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", mode, s.registry, s.units, work]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(f"{mode} child failed:\n{p.stderr}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--memory-tasks", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", nargs=4, metavar=("MODE", "REGISTRY", "UNITS", "WORK"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        print(json.dumps(child(*a.child)))
        return 0
    import synth

    work = tempfile.mkdtemp(prefix="taskbot-startup-")
    try:
        s = synth.make(a.tasks, os.path.join(work, "t"))
        size = os.path.getsize(s.registry) / 1e6
        bare = [run_child("bare", s, work) for _ in range(a.repeat)]
        ours = [run_child("ours", s, work) for _ in range(a.repeat)]
        b, o = min(bare, key=lambda r: r["total"]), min(ours, key=lambda r: r["total"])
        ratio = o["total"] / b["total"]
        failures = [] if ratio <= 3 else [f"time ratio {ratio:.2f} > 3"]
        print(f"start-up, {a.tasks} tasks ({size:.1f} MB YAML), best of {a.repeat} fresh processes:")
        print(f"  bare yaml.load(CSafeLoader): {b['total']:.3f} s")
        print(f"  ours: {o['total']:.3f} s = load+validate {o['load']:.3f} s + sync to fresh SQLite "
              f"{o['sync']:.3f} s + agenda {o['agenda_s']:.3f} s ({o['agenda']} entries)")
        print(f"  ratio ours / bare: {ratio:.2f}  (target <= 3: {'met' if ratio <= 3 else 'NOT met'})")
        ratio_load = o["load"] / b["total"]
        print(f"  (load+validate alone / bare: {ratio_load:.2f})")
        shutil.rmtree(os.path.dirname(s.registry))
        m = synth.make(a.memory_tasks, os.path.join(work, "m"))
        size = os.path.getsize(m.registry) / 1e6
        om = run_child("ours", m, work)
        bm = run_child("bare", m, work)
        idle = run_child("idle", m, work)
        key = "hwm_mb" if om.get("hwm_mb") else "maxrss_mb"
        if om[key] > 300:
            failures.append(f"peak {om[key]:.0f} MB > 300 MB")
        print(f"peak memory, {a.memory_tasks} tasks ({size:.1f} MB YAML), peak RSS of a fresh process "
              f"({'VmHWM' if key == 'hwm_mb' else 'ru_maxrss'}; ru_maxrss in brackets):")
        print(f"  ours (load+validate+sync+agenda, {om['total']:.1f} s): {om[key]:.0f} MB [{om['maxrss_mb']:.0f}]  "
              f"(target <= 300 MB: {'met' if om[key] <= 300 else 'NOT met'})")
        print(f"  bare yaml.load(CSafeLoader) ({bm['total']:.1f} s): {bm[key]:.0f} MB [{bm['maxrss_mb']:.0f}]; "
              f"interpreter with the same imports only: {idle[key]:.0f} MB [{idle['maxrss_mb']:.0f}]")
        print(f"  ratio ours / bare: {om[key] / bm[key]:.2f}; time ratio at this size: "
              f"{om['total'] / bm['total']:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
