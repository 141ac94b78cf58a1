"""What the benchmark scripts share: paths, result rows and their JSON hand-off to run_all.py."""

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO / "workflow" / "scripts"))


def row(metric, value, unit, target=None, ok=None, context=""):
    """One measured number; `target` is a readable bound, `ok` whether it is met."""
    return {"metric": metric, "value": value, "unit": unit, "target": target, "ok": ok,
            "context": context}


def parser(doc):
    """Argument parser with --json PATH (where run_all.py collects the rows)."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--json", help="also write the result rows to this JSON file")
    return p


def emit(rows, json_path):
    """Print the rows and, with --json, write them for run_all.py."""
    for r in rows:
        status = "" if r["ok"] is None else ("  ok" if r["ok"] else "  MISSED")
        target = f"  (target {r['target']})" if r["target"] else ""
        print(f"{r['metric']}: {fmt(r['value'])} {r['unit']}{target}{status}"
              + (f"  [{r['context']}]" if r["context"] else ""))
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=1) + "\n")


def fmt(value):
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)
