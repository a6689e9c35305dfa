#!/usr/bin/env python3
"""Score the blind specs of tests/blind/ against their hand labels: precision, recall, and
whether each spec's false promise is flagged as unimplemented. With --evidence, each crate is
reviewed first (offline engine, probes) and scored with `--run latest`: text and evidence links
are counted apart. See tests/blind/README.md."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CRATES = {"semver": "1.0.28", "shlex": "2.0.1", "base64": "0.22.1", "duration-string": "0.5.3"}


def binary():
    for profile in ("release", "debug"):
        candidate = ROOT / "target" / profile / "cargo-dualtrack"
        if candidate.exists():
            return str(candidate)
    sys.exit("build cargo-dualtrack first (cargo build --release)")


def registry_copy(name, version):
    home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    for index in (home / "registry" / "src").glob("*"):
        source = index / f"{name}-{version}"
        if source.is_dir():
            return source
    return None


def run(args):
    return json.loads(subprocess.run(args, capture_output=True, check=True).stdout)


def evaluate(name, crate, evidence):
    manifest = str(crate / "Cargo.toml")
    extra = []
    if evidence:
        # The offline review's run: the spec's own tests, a baseline call each, with probes.
        subprocess.run([binary(), "review", "--all-functions", "--fail-on", "never", "--manifest-path", manifest],
                       capture_output=True, check=True)
        extra = ["--run", "latest"]
    doc_score = run([binary(), "score", "--format", "json", "--manifest-path", manifest] + extra)
    analysis = run([binary(), "analyze", "--format", "json", "--manifest-path", str(crate / "Cargo.toml")])
    sites = {s["id"]: s for f in analysis["functions"] for s in f["sites"]}
    edge_cases = [i["id"] for i in doc_score["items"] if i["section"] == "edge_cases"]
    by_call = {i.get("call"): i["id"] for i in doc_score["items"] if i.get("call")}
    labels = {}
    for line in (crate / "labels.txt").read_text().splitlines():
        if not line.strip():
            continue
        if line.startswith("CONTRACT "):
            m = re.match(r"CONTRACT (.*?)\s+(src/\S+:\d+|NONE)", line)
            item, location = by_call.get(m.group(1).strip()), m.group(2)
        else:
            item, location = line.split()[:2]
            if item.startswith("EC") and int(item[2:]) <= len(edge_cases):
                item = edge_cases[int(item[2:]) - 1]
        labels.setdefault(item, [])
        if location != "NONE":
            file, number = location.rsplit(":", 1)
            labels[item].append((file, int(number)))

    def near(site, file, number):
        return site["file"] == file and (abs(site["line"] - number) <= 2 or site["line"] <= number <= site["end_line"])

    labelled = sum(len(v) for v in labels.values())
    false_promises = [i for i, locs in labels.items() if not locs]
    result = {}
    for basis in ("text", "evidence", "all"):
        ours = {}
        for link in doc_score["links"]:
            if basis in ("all", link.get("basis", "text")):
                linked = ours.setdefault(link["item"], [])
                if sites[link["site"]] not in linked:
                    linked.append(sites[link["site"]])
        links = sum(len(v) for v in ours.values())
        correct = sum(any(near(s, f, n) for f, n in labels.get(item, [])) for item, linked in ours.items() for s in linked)
        found = sum(any(near(s, f, n) for s in ours.get(item, [])) for item, locs in labels.items() for f, n in locs)
        result[basis] = (links, correct, labelled, found)
        if basis != "evidence" or evidence:
            print(f"{name} [{basis}]: {links} links, precision {correct / max(links, 1):.2f}; {labelled} labelled, "
                  f"recall {found / max(labelled, 1):.2f}")
    flagged = [i for i in false_promises if i in doc_score["unimplemented_items"]]
    print(f"{name}: promises no code keeps flagged: {len(flagged)} of {len(false_promises)}")
    return result


def main():
    evidence = "--evidence" in sys.argv
    totals = {basis: [0, 0, 0, 0] for basis in ("text", "evidence", "all")}
    for name, version in CRATES.items():
        source = registry_copy(name, version)
        if source is None:
            print(f"{name}-{version} is not in the local registry: cargo fetch --manifest-path benches/corpus/Cargo.toml")
            continue
        with tempfile.TemporaryDirectory() as scratch:
            crate = Path(scratch) / name
            shutil.copytree(source, crate)
            manifest = crate / "Cargo.toml"
            if "[workspace]" not in manifest.read_text():
                manifest.write_text(manifest.read_text() + "\n[workspace]\n")
            for file in ("SPEC.md", "labels.txt"):
                shutil.copy(ROOT / "tests" / "blind" / name / file, crate / file)
            for basis, values in evaluate(name, crate, evidence).items():
                for i, value in enumerate(values):
                    totals[basis][i] += value
    for basis, (links, correct, labelled, found) in totals.items():
        if basis != "evidence" or evidence:
            print(f"overall [{basis}]: precision {correct / max(links, 1):.2f}, recall {found / max(labelled, 1):.2f}")


if __name__ == "__main__":
    main()
