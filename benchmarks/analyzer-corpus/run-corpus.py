#!/usr/bin/env python3
"""Runs the packed isolation analyzers over local snapshots of public chat/bot/agent backends and scores the labels.

Usage: run-corpus.py CORPUS_DIR [--labels labels.tsv] [--analyzer DLL] [--keep]

CORPUS_DIR holds one folder per repository, named owner+name (a snapshot of its public source; never committed).
repos.tsv beside this script lists the repositories and the commit each label was made on. Each project of a snapshot
(a folder with a .csproj, test projects excluded) is compiled in a generated web project with its .cs files, the
packages the backends use (EF Core, LLamaSharp, Microsoft.Extensions.AI, Microsoft.Agents.AI) and the analyzers taken
from the packed Isolation.Core package. Errors in method bodies (other package versions) are expected: the analyzers
run on what binds. The compiler runs no analyzer on a compilation with declaration errors; such a project is listed
as "not analysed", and its labels count as misses. Each reported ISO diagnostic is matched to labels.tsv by repository, path, line and
rule; the script prints per-rule true positives, false negatives (labelled bugs not reported), false positives
(reports on code labelled safe by design) and unlabelled reports, and exits non-zero when a report is unlabelled
(so the labels stay complete).
"""
import argparse
import collections
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
PACKAGES = [
    ("Microsoft.EntityFrameworkCore", "10.0.15"),
    ("Microsoft.Extensions.AI", "10.11.0"),
    ("Microsoft.Agents.AI", "1.28.0"),
    ("LLamaSharp", "0.30.0"),
]
# Test projects, Aspire hosting plumbing and browser (WebAssembly) clients are not backend code.
EXCLUDED_DIRS = re.compile(r"(^|/)(bin|obj|tests?|[^/]*\.Tests?|[^/]*UnitTests?|[^/]*EvalTests|[^/]*\.AppHost|[^/]*\.ServiceDefaults|[^/]*\.DevProxy|Client)(/|$)", re.IGNORECASE)
# Errors the compiler finds before binding method bodies: with one of them it stops and runs no analyzer.
DECLARATION_ERRORS = {"CS0535", "CS0534", "CS8802", "CS0101", "CS0111", "CS0246", "CS0234", "CS0115", "CS0738", "CS0508", "CS0462", "CS0263", "CS0260"}
DIAGNOSTIC = re.compile(r"^(?P<file>[^(\n]+)\((?P<line>\d+),\d+\): (?P<severity>error|warning) (?P<id>ISO\d{3}):", re.MULTILINE)


def pack_analyzer(work):
    out = os.path.join(work, "pkg")
    subprocess.run(["dotnet", "pack", os.path.join(ROOT, "src", "Isolation.Core", "Isolation.Core.csproj"), "-c", "Release",
                    "-o", out, "-nologo", "-v:q"], check=True, stdout=subprocess.DEVNULL)
    package = next(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".nupkg") and not f.endswith(".snupkg"))
    target = os.path.join(work, "analyzers")
    with zipfile.ZipFile(package) as archive:
        for name in archive.namelist():
            if name.startswith("analyzers/dotnet/cs/") and name.endswith(".dll"):
                archive.extract(name, target)
    return [os.path.join(target, "analyzers", "dotnet", "cs", f) for f in os.listdir(os.path.join(target, "analyzers", "dotnet", "cs"))]


def project(snapshot, analyzers):
    items = "\n".join(f'    <Analyzer Include="{a}" />' for a in analyzers)
    refs = "\n".join(f'    <PackageReference Include="{n}" Version="{v}" />' for n, v in PACKAGES)
    return f"""<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <OutputType>Library</OutputType>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <ImplicitUsings>enable</ImplicitUsings>
    <Nullable>annotations</Nullable>
    <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <NoWarn>$(NoWarn);NU1608;NU1701;NU1903;CS8981</NoWarn>
  </PropertyGroup>
  <ItemGroup>
{refs}
{items}
  </ItemGroup>
  <ItemGroup>
    <Compile Include="{snapshot}/**/*.cs" Exclude="{snapshot}/**/bin/**;{snapshot}/**/obj/**" />
  </ItemGroup>
</Project>
"""


def run(snapshot_dir, name, analyzers, work):
    found = set()
    projects = sorted({os.path.dirname(p) for p in _files(snapshot_dir, ".csproj")})
    for index, directory in enumerate(projects):
        relative = os.path.relpath(directory, snapshot_dir)
        if EXCLUDED_DIRS.search(relative.replace(os.sep, "/") + "/"):
            continue
        folder = os.path.join(work, name, str(index))
        os.makedirs(folder, exist_ok=True)
        for f in ("Directory.Build.props", "Directory.Packages.props"):
            with open(os.path.join(folder, f), "w") as handle:
                handle.write("<Project />\n")
        with open(os.path.join(folder, "Corpus.csproj"), "w") as handle:
            handle.write(project(directory, analyzers))
        # Nested projects and build outputs are not this project's sources.
        removes = [p for p in _files(directory, ".cs")
                   if any(os.path.dirname(p).startswith(other + os.sep) or os.path.dirname(p) == other for other in projects if other != directory and other.startswith(directory + os.sep))]
        with open(os.path.join(folder, "Directory.Build.targets"), "w") as handle:
            items = "\n".join(f'    <Compile Remove="{r}" />' for r in removes)
            handle.write(f"<Project>\n  <ItemGroup>\n{items}\n  </ItemGroup>\n</Project>\n")
        result = subprocess.run(["dotnet", "build", "Corpus.csproj", "-nologo", "-v:q", "-nr:false", "-clp:NoSummary",
                                 "-p:UseSharedCompilation=false"], cwd=folder, capture_output=True, text=True)
        output = result.stdout + result.stderr
        count = 0
        for match in DIAGNOSTIC.finditer(output):
            path = os.path.relpath(os.path.join(folder, match.group("file")), snapshot_dir)
            found.add((name, path, int(match.group("line")), match.group("id")))
            count += 1
        errors = sorted(set(re.findall(r"error (CS\d+)", output)))
        declaration = [e for e in errors if e in DECLARATION_ERRORS]
        state = "not analysed (declaration errors " + ", ".join(declaration) + ")" if declaration and count == 0 else "analysed"
        print(f"  {name}/{relative}: {state}, {count} report(s)", flush=True)
    return found


def _files(directory, suffix):
    for base, _, files in os.walk(directory):
        if "/bin" in base or "/obj" in base:
            continue
        for f in files:
            if f.endswith(suffix):
                yield os.path.join(base, f)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus")
    parser.add_argument("--labels", default=os.path.join(HERE, "labels.tsv"))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    labels = {}
    with open(args.labels, newline="") as handle:
        for row in csv.DictReader((l for l in handle if not l.startswith("#")), delimiter="\t"):
            labels[(row["repo"], row["path"], int(row["line"]), row["rule"])] = row["label"]

    work = tempfile.mkdtemp(prefix="isolation-corpus-")
    try:
        analyzers = pack_analyzer(work)
        reported = set()
        repos = sorted(d for d in os.listdir(args.corpus) if os.path.isdir(os.path.join(args.corpus, d)))
        for name in repos:
            found = run(os.path.abspath(os.path.join(args.corpus, name)), name, analyzers, work)
            print(f"{name}: {len(found)} report(s)", flush=True)
            reported |= found
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    stats = collections.defaultdict(collections.Counter)
    unlabelled = []
    for key, label in labels.items():
        if key[0] not in repos:
            continue
        if label == "bug":
            stats[key[3]]["tp" if key in reported else "fn"] += 1
        elif key in reported:
            stats[key[3]]["fp"] += 1
    for key in sorted(reported):
        if key not in labels:
            unlabelled.append(key)
            stats[key[3]]["unlabelled"] += 1

    print("\nrule    TP  FN  FP(safe)  unlabelled  precision  recall")
    total = collections.Counter()
    for rule in sorted(stats):
        s = stats[rule]
        total.update(s)
        print(_row(rule, s))
    print(_row("all", total))
    for key in unlabelled:
        print("unlabelled report:", "\t".join(map(str, key)))
    for key, label in sorted(labels.items()):
        if label == "bug" and key not in reported and key[0] in repos:
            print("missed:", "\t".join(map(str, key)))
    return 1 if unlabelled else 0


def _row(rule, s):
    reports = s["tp"] + s["fp"] + s["unlabelled"]
    precision = f"{s['tp'] / reports:.2f}" if reports else "-"
    recall = f"{s['tp'] / (s['tp'] + s['fn']):.2f}" if s["tp"] + s["fn"] else "-"
    return f"{rule:7} {s['tp']:3} {s['fn']:3} {s['fp']:9} {s['unlabelled']:11}  {precision:>9}  {recall:>6}"


if __name__ == "__main__":
    sys.exit(main())
