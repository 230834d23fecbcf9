#!/usr/bin/env python3
"""Runs the packed isolation analyzers over local snapshots of public chat/bot/agent backends and scores the labels.

Usage: run-corpus.py CORPUS_DIR [--labels labels.tsv] [--served nuget.tsv] [--repos a,b] [--analyzer DLL [--peer --ids REGEX]] [--log FILE] [--keep]

CORPUS_DIR holds one folder per repository, named owner+name (a snapshot of its public source; never committed).
repos.tsv beside this script lists the repositories, the commit each label was made on and the folders built only as
dependencies. Each backend project of a snapshot (test projects, app hosts and browser clients excluded) is built from
its own .cs files, Razor components and package references (at the served version nearest to the one asked for, with
$(Properties), floating versions, Directory.Build.props and Directory.Packages.props resolved; the list of served
packages is --served), with the projects it references built from their sources the same way; the analyzers run on the
project itself. A file that needs a package not served or another version's API (a declaration error, after which the
compiler runs no analyzer) is dropped and the build repeated, and so is a file of a referenced project with any error;
labelled files are never dropped. A label in a project that still could not be analysed is reported as not measured
and scored neither way. Each reported
diagnostic is matched to labels.tsv by repository, path, line and rule; the script prints per-rule true positives,
false negatives, reports on code labelled safe and unlabelled reports, and exits non-zero when a report is unlabelled
(so the labels stay complete). --analyzer DLL --peer --ids REGEX scores another analyzer's reports by location.
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
SERVED_DEFAULT = "/work/.library/env/packages/nuget.tsv"
# Test projects, Aspire hosting plumbing and browser (WebAssembly) clients are not backend code.
EXCLUDED_DIRS = re.compile(r"(^|/)(bin|obj|tests?|[^/]*\.Tests?|[^/]*Tests|[^/]*EvalTests|[^/]*\.AppHost|[^/]*\.ServiceDefaults|[^/]*\.DevProxy|Client)(/|$)", re.IGNORECASE)
# Errors the compiler finds before binding method bodies: with one of them it stops and runs no analyzer.
DECLARATION_ERRORS = {"CS0535", "CS0534", "CS8802", "CS0101", "CS0111", "CS0246", "CS0234", "CS0115", "CS0738", "CS0508", "CS0462", "CS0263", "CS0260", "CS0506", "CS0400", "CS0305", "CS0308", "CS0539", "CS0540", "CS0616", "CS0122", "CS0542"}
DIAGNOSTIC = re.compile(r"^\s*(?:[\d:]+>)?(?P<file>[^(\n]+)\((?P<line>\d+),\d+\): (?P<severity>error|warning) (?P<id>ISO\d{3}):", re.MULTILINE)
# Razor components (.razor) are compiled with the project (their generated code declares types the .cs files use).
ERROR = re.compile(r"^\s*(?:[\d:]+>)?(?P<file>[^(\n]+\.(?:cs|razor))\((?P<line>\d+),\d+\): error (?P<id>CS\d{4}):", re.MULTILINE)
# Packages that only build or host (analyzers, tooling, test runners, native back ends): compiling needs none of them.
NOT_NEEDED = re.compile(r"^(Microsoft\.VisualStudio\.Web\.|Microsoft\.EntityFrameworkCore\.(Design|Tools)$|LLamaSharp\.Backend\.|coverlet|xunit\.runner|Microsoft\.NET\.Test\.Sdk$|Aspire\.Hosting\.)", re.IGNORECASE)
ROUNDS = 8


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


def build_error_tolerant(work, served):
    """Builds ErrorTolerant/Program.cs (beside this script) in the work folder: it runs analyzers over a project's
    compiler command line through CompilationWithAnalyzers, which reports their diagnostics even when the compilation
    has declaration errors. Roslyn at the version of the SDK's compiler where it is served (the SDK's own generators,
    Razor among them, load against it)."""
    folder = os.path.join(work, "error-tolerant")
    os.makedirs(folder, exist_ok=True)
    shutil.copy(os.path.join(HERE, "ErrorTolerant", "Program.cs"), folder)
    for f in ("Directory.Build.props", "Directory.Packages.props", "Directory.Build.targets"):
        with open(os.path.join(folder, f), "w") as handle:
            handle.write("<Project />\n")
    versions, newest = served.get("microsoft.codeanalysis.csharp", ([], None))
    compiler = _compiler_version()
    version = choose_version(compiler, versions, newest) if compiler else newest
    with open(os.path.join(folder, "ErrorTolerant.csproj"), "w") as handle:
        handle.write(f"""<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <NoWarn>$(NoWarn);NU1603;RS1035</NoWarn>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.CodeAnalysis.CSharp" Version="{version}" />
  </ItemGroup>
</Project>
""")
    subprocess.run(["dotnet", "build", "ErrorTolerant.csproj", "-c", "Release", "-nologo", "-v:q", "-o", os.path.join(folder, "out")],
                   cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return os.path.join(folder, "out", "ErrorTolerant.dll")


def _compiler_version():
    """The version of the SDK's C# compiler (5.9.0 for the 10.0.4xx SDKs), from its assembly's product version."""
    result = subprocess.run(["dotnet", "--list-sdks"], capture_output=True, text=True)
    sdk = (result.stdout.strip().splitlines() or [""])[-1]
    match = re.match(r"(\S+) \[(.+)\]", sdk)
    if not match:
        return None
    dll = os.path.join(match.group(2), match.group(1), "Roslyn", "bincore", "Microsoft.CodeAnalysis.dll")
    if not os.path.isfile(dll):
        return None
    with open(dll, "rb") as handle:
        text = handle.read().decode("utf-16-le", errors="ignore")
    version = re.search(r"ProductVersion\x00+(\d+\.\d+\.\d+)", text)
    return version.group(1) if version else None


def served_versions(path):
    """Package name (lower case) -> (versions served, the version that restored alone on net10.0)."""
    served = {}
    with open(path, encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            if len(cells) >= 5 and re.match(r"^\d", cells[1]):
                versions = [v for v in cells[4].split("(")[0].split() if re.match(r"^\d+\.\d+", v)]
                served[cells[0].lower()] = (versions, cells[1].split()[0])
    return served


def _version_key(version):
    core, _, pre = version.partition("-")
    return tuple(int(p) if p.isdigit() else 0 for p in core.split(".")) + ((1,) if not pre else (0,))


def choose_version(wanted, versions, newest):
    """The wanted version where it is served, else the oldest served one above it, else the newest that restored."""
    wanted = (wanted or "").strip("[]() ")
    if not wanted or wanted.startswith("*"):
        # No version, or a floating "*": the newest that restored.
        return newest
    # A floating version (1.2.*) takes the newest served one of that prefix.
    if "*" in wanted:
        prefix = wanted.split("*")[0]
        matching = sorted((v for v in versions if v.startswith(prefix)), key=_version_key)
        return matching[-1] if matching else newest
    if wanted in versions:
        return wanted
    above = sorted((v for v in versions if wanted and _version_key(v) >= _version_key(wanted)), key=_version_key)
    return above[0] if above else newest


def _imported(path, name):
    """The nearest Directory.Build.props (or Directory.Packages.props) above a project, as MSBuild finds it."""
    directory = os.path.dirname(os.path.abspath(path))
    while True:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _read(path):
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        return handle.read()


def _property_values(text):
    """Properties set in the PropertyGroups of a project or props file (unconditional values; a later one wins)."""
    values = {}
    for group in re.findall(r"<PropertyGroup\b[^>]*>(.*?)</PropertyGroup>", text, re.DOTALL):
        for key, value in re.findall(r"<(\w+)(?:\s[^>]*)?>([^<]*)</\1>", group):
            values[key] = value.strip()
    return values


def read_project(path):
    """(SDK, properties, [(package, version)], [referenced .csproj paths]) of one project file, with the properties and
    central package versions of the Directory.Build.props / Directory.Packages.props above it."""
    text = _read(path)
    sdk = re.search(r'<Project\s+Sdk="([^"]+)"', text)
    values = {}
    props = _imported(path, "Directory.Build.props")
    if props:
        values.update(_property_values(_read(props)))
    values.update(_property_values(text))
    central = {}
    packages_props = _imported(path, "Directory.Packages.props")
    if packages_props:
        central_text = _read(packages_props)
        values = {**_property_values(central_text), **values}
        central = {n.lower(): v for n, v in re.findall(r'<PackageVersion\s+Include="([^"]+)"\s+Version="([^"]*)"', central_text)}

    def expand(value):
        return re.sub(r"\$\((\w+)\)", lambda m: values.get(m.group(1), ""), value) if value else value

    properties = {key: expand(values[key]) for key in ("OutputType", "AllowUnsafeBlocks", "LangVersion", "Nullable", "ImplicitUsings", "RootNamespace") if key in values}
    packages = []
    for match in re.finditer(r'<PackageReference\s+Include="([^"]+)"(?:\s+Version="([^"]*)")?[^>]*?(/>|>(.*?)</PackageReference>)', text, re.DOTALL):
        version = match.group(2)
        if version is None and match.group(4):
            inner = re.search(r"<Version>([^<]+)</Version>", match.group(4))
            version = inner.group(1) if inner else None
        if version is None:
            version = central.get(match.group(1).lower())
        packages.append((match.group(1), expand(version)))
    references = [os.path.normpath(os.path.join(os.path.dirname(path), r.replace("\\", "/")))
                  for r in re.findall(r'<ProjectReference\s+Include="([^"]+)"', text)]
    return sdk.group(1) if sdk else "Microsoft.NET.Sdk", properties, packages, references


def resolve_packages(wanted, served):
    """Packages to reference (served versions) and the names not served."""
    chosen, not_served = {}, set()
    for name, version in wanted:
        if NOT_NEEDED.search(name):
            continue
        entry = served.get(name.lower())
        if entry is None:
            not_served.add(name)
            continue
        version = choose_version(version, *entry)
        previous = chosen.get(name.lower())
        if previous is None or _version_key(version) > _version_key(previous[1]):
            chosen[name.lower()] = (name, version)
    return sorted(chosen.values()), sorted(not_served)


class Generated:
    """One generated project standing for one project of a snapshot: its sources, served packages and references."""

    def __init__(self, work, project_file, index):
        self.source = project_file
        self.directory = os.path.dirname(project_file)
        self.folder = os.path.join(work, f"p{index}")
        self.sdk, self.properties, self.packages, references = read_project(project_file)
        # A browser (WebAssembly) client is not part of the server's compilation.
        self.references = [r for r in references if os.path.exists(r) and "BlazorWebAssembly" not in read_project(r)[0]]
        self.library = False
        # A project outside the snapshot is taken as the package of the same name where one is served (LLamaSharp.csproj).
        self.packages += [(os.path.splitext(os.path.basename(r))[0], None) for r in references if not os.path.exists(r)]

    def write(self, generated, served, analyzers, removes, nested):
        packages, self.not_served = resolve_packages(self.packages, served)
        refs = "\n".join(f'    <PackageReference Include="{n}" Version="{v}" />' for n, v in packages)
        projects = "\n".join(f'    <ProjectReference Include="{generated[r].folder}/Corpus.csproj" />'
                              for r in self.references if r in generated)
        items = "\n".join(f'    <Analyzer Include="{a}" Condition="\'$(CorpusRoot)\' == \'$(MSBuildProjectDirectory)\'" />' for a in analyzers)
        removed = "\n".join(f'    <{"RazorComponent" if r.endswith(".razor") else "Compile"} Remove="{r}" />' for r in sorted(removes | nested)
                             if r.startswith(self.directory + os.sep))
        web = self.sdk.endswith((".Web", ".Worker", ".Razor")) or "BlazorWebAssembly" in self.sdk
        output = "Library" if self.library else self.properties.get("OutputType", "Exe" if web else "Library")
        unsafe = self.properties.get("AllowUnsafeBlocks", "false")
        usings = self.properties.get("ImplicitUsings", "disable")
        name = os.path.splitext(os.path.basename(self.source))[0]
        root_namespace = self.properties.get("RootNamespace") or re.sub(r"[^\w.]", "_", name)
        # Razor components of a web project, with their paths inside it (the generator derives namespaces from them).
        razor = (f'    <RazorComponent Include="{self.directory}/**/*.razor" Exclude="{self.directory}/**/bin/**;{self.directory}/**/obj/**" '
                 'Link="%(RecursiveDir)%(Filename)%(Extension)" />') if web else ""
        os.makedirs(self.folder, exist_ok=True)
        for f in ("Directory.Build.props", "Directory.Packages.props", "Directory.Build.targets"):
            with open(os.path.join(self.folder, f), "w") as handle:
                handle.write("<Project />\n")
        with open(os.path.join(self.folder, "Corpus.csproj"), "w") as handle:
            handle.write(f"""<Project Sdk="Microsoft.NET.Sdk.Web">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <OutputType>{output}</OutputType>
    <AssemblyName>{name}</AssemblyName>
    <RootNamespace>{root_namespace}</RootNamespace>
    <EnableDefaultCompileItems>false</EnableDefaultCompileItems>
    <EnableDefaultContentItems>false</EnableDefaultContentItems>
    <ImplicitUsings>{usings}</ImplicitUsings>
    <AllowUnsafeBlocks>{unsafe}</AllowUnsafeBlocks>
    <LangVersion>latest</LangVersion>
    <Nullable>annotations</Nullable>
    <TreatWarningsAsErrors>false</TreatWarningsAsErrors>
    <GenerateDocumentationFile>false</GenerateDocumentationFile>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
    <NoWarn>$(NoWarn);NU1603;NU1605;NU1608;NU1701;NU1702;NU1902;NU1903;NU1904;CS8981</NoWarn>
  </PropertyGroup>
  <ItemGroup>
{refs}
{projects}
{items}
  </ItemGroup>
  <ItemGroup>
    <Compile Include="{self.directory}/**/*.cs" Exclude="{self.directory}/**/bin/**;{self.directory}/**/obj/**" />
{razor}
{removed}
  </ItemGroup>
  <!-- The compiler's arguments, for the error-tolerant pass (with SkipCompilerExecution and ProvideCommandLineArgs). -->
  <Target Name="CorpusCommandLine" AfterTargets="CoreCompile" Condition="'$(CorpusCommandLine)' != ''">
    <WriteLinesToFile File="$(CorpusCommandLine)" Lines="@(CscCommandLineArgs)" Overwrite="true" />
  </Target>
</Project>
""")


def run(snapshot_dir, name, analyzers, work, served, labelled, log, built_only=(), tolerant=None):
    """Compiles each backend project of one snapshot, with the projects it references built from their sources too;
    returns the reports and one status per project: (project, how it was analysed or None, files with compile errors).
    A project the compiler cannot analyse (declaration errors left) is analysed by the error-tolerant pass (tolerant,
    the ErrorTolerant tool) where one is given."""
    found = set()
    statuses = []
    project_files = sorted(os.path.normpath(p) for p in _files(snapshot_dir, ".csproj"))
    project_dirs = [os.path.dirname(p) for p in project_files]
    work = os.path.join(work, name)
    generated = {p: Generated(work, p, i) for i, p in enumerate(project_files)}
    # Nested projects and build outputs are not a project's sources.
    nested = {p for d in project_dirs for other in project_dirs if other != d and other.startswith(d + os.sep)
              for p in _files(other, ".cs")}
    removes = set()
    dropped = []
    for project_file in project_files:
        relative = os.path.relpath(os.path.dirname(project_file), snapshot_dir)
        if EXCLUDED_DIRS.search(relative.replace(os.sep, "/") + "/") or "BlazorWebAssembly" in generated[project_file].sdk \
                or any(relative == b or relative.startswith(b + os.sep) for b in built_only):
            continue
        root = generated[project_file]
        analysed = False
        for _ in range(ROUNDS):
            for g in generated.values():
                g.write(generated, served, analyzers, removes, nested)
            result = subprocess.run(["dotnet", "build", "Corpus.csproj", "-nologo", "-v:d", "-nr:false", "-clp:NoSummary",
                                     "-p:UseSharedCompilation=false", "-p:ReportAnalyzer=true", f"-p:CorpusRoot={root.folder}"],
                                    cwd=root.folder, capture_output=True, text=True)
            output = result.stdout + result.stderr
            log.write(f"==== {name}/{relative}\n{output}\n")
            # The compiler reports the analyzers' time when it started them, but reports their diagnostics only when the
            # declarations compiled: with a declaration error left (a using of a missing namespace, a missing base type)
            # it stops before emitting and drops every analyzer diagnostic. Analysed means: started, and no such error.
            started = any(re.search(r"\b" + re.escape(os.path.basename(a)[:-4]) + r", Version=", output) for a in analyzers)
            declaration_errors = {m.group("id") for m in ERROR.finditer(output) if m.group("id") in DECLARATION_ERRORS}
            analysed = started and not declaration_errors
            if analysed:
                break
            if "error CS5001" in output:
                # No entry point once the files that need a missing package are gone: compile it as a library.
                for g in generated.values():
                    g.library = True
                continue
            # Files that need what is not there (a package not served, another version's API): drop them, never a
            # labelled file, and build again.
            culprits = set()
            for match in ERROR.finditer(output):
                path = os.path.normpath(match.group("file").strip())
                # A referenced project must compile without any error for the project itself to be compiled at all; in
                # the project itself only declaration errors stop the analyzers.
                in_reference = not path.startswith(root.directory + os.sep)
                if match.group("id") not in DECLARATION_ERRORS and not in_reference:
                    continue
                if path in removes or os.path.relpath(path, snapshot_dir) in labelled or not path.startswith(snapshot_dir + os.sep):
                    continue
                culprits.add(path)
            if not culprits:
                break
            removes |= culprits
            dropped.extend(os.path.relpath(p, snapshot_dir) for p in sorted(culprits))
        mode = "compiled" if analysed else None
        error_files = set()
        if not analysed and tolerant:
            # The compiler's own command line for the project (its references built), then the analyzers over that
            # compilation through CompilationWithAnalyzers, which reports their diagnostics whatever the errors.
            # The project's own files are all kept (its registrations in Program.cs among them); the drops of its
            # references stay, since those were built without them.
            root.write(generated, served, analyzers, {r for r in removes if not r.startswith(root.directory + os.sep)}, nested)
            rsp = os.path.join(root.folder, "csc.rsp")
            if os.path.exists(rsp):
                os.remove(rsp)
            subprocess.run(["dotnet", "build", "Corpus.csproj", "-nologo", "-v:q", "-nr:false", "-p:UseSharedCompilation=false",
                            "-p:BuildProjectReferences=false", "-p:SkipCompilerExecution=true", "-p:ProvideCommandLineArgs=true",
                            f"-p:CorpusCommandLine={rsp}", f"-p:CorpusRoot={root.folder}"],
                           cwd=root.folder, capture_output=True, text=True)
            if os.path.exists(rsp):
                result = subprocess.run(["dotnet", tolerant, rsp, root.folder] + analyzers, capture_output=True, text=True)
                log.write(f"==== {name}/{relative} (error-tolerant pass)\n{result.stdout}{result.stderr}\n")
                if result.returncode == 0 and "analyzers ran: " in result.stdout:
                    output = result.stdout
                    mode = "tolerant"
                    error_files = {os.path.relpath(os.path.normpath(m.group("file").strip()), snapshot_dir) for m in ERROR.finditer(output)}
        count = 0
        for match in DIAGNOSTIC.finditer(output):
            path = os.path.relpath(os.path.normpath(match.group("file").strip()), snapshot_dir)
            key = (name, path, int(match.group("line")), match.group("id"))
            if key not in found:
                count += 1
            found.add(key)
        if analysed:
            state = "analysed"
        elif mode == "tolerant":
            state = "analysed with errors by the error-tolerant pass (errors " + ", ".join(sorted({m.group("id") for m in ERROR.finditer(output)})) + \
                    "; in " + ", ".join(sorted(f for f in error_files if not f.startswith(".."))) + ")"
        else:
            # Declaration errors left only in labelled files (never dropped) or files outside the snapshot: name them.
            blocking = sorted({os.path.relpath(os.path.normpath(m.group("file").strip()), snapshot_dir) for m in ERROR.finditer(output)
                               if m.group("id") in DECLARATION_ERRORS})
            state = "not analysed (errors " + ", ".join(sorted({m.group("id") for m in ERROR.finditer(output)})) + \
                    ("; declaration errors in " + ", ".join(blocking) if blocking else "") + ")"
        not_served = sorted({n for g in generated.values() if g.source == project_file or g.source in root.references for n in g.not_served})
        line = f"  {name}/{relative}: {state}, {count} report(s)"
        if not_served:
            line += "; packages not served: " + ", ".join(not_served)
        print(line, flush=True)
        statuses.append((f"{name}/{relative}", mode, error_files))
    if dropped:
        print(f"  {name}: {len(dropped)} file(s) dropped (they need a package not served or another version's API; a project "
              "analysed by the error-tolerant pass keeps its own): " + ", ".join(sorted(set(dropped))), flush=True)
    return found, statuses


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
    parser.add_argument("--served", default=SERVED_DEFAULT, help="the list of packages served (name, version, ..., versions)")
    parser.add_argument("--analyzer", action="append", default=[],
                        help="run these analyzer assemblies instead of the packed isolation analyzers (a build of them, or a peer)")
    parser.add_argument("--ids", default=r"ISO\d{3}", help="regular expression of the diagnostic ids to score")
    parser.add_argument("--log", help="write every build's output to this file")
    parser.add_argument("--repos", help="only these snapshots (comma-separated folder names), in this order")
    parser.add_argument("--peer", action="store_true", help="score the --analyzer reports by location (a peer's own ids)")
    parser.add_argument("--side-by-side", metavar="DLL", action="append", default=[],
                        help="also run this peer analyzer assembly in the same builds, scored apart by location (its ids: --side-ids)")
    parser.add_argument("--side-ids", default=r"DI\d{3}", help="regular expression of the --side-by-side analyzer's ids")
    parser.add_argument("--no-tolerant", action="store_true",
                        help="no error-tolerant pass: a project with declaration errors left is not analysed")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    global DIAGNOSTIC
    ids = args.ids + ("|" + args.side_ids if args.side_by_side else "")
    DIAGNOSTIC = re.compile(r"^\s*(?:[\d:]+>)?(?P<file>[^(\n]+)\((?P<line>\d+),\d+\): (?P<severity>error|warning) (?P<id>" + ids + r"):", re.MULTILINE)
    peer = args.peer

    labels = {}
    with open(args.labels, newline="") as handle:
        for row in csv.DictReader((l for l in handle if not l.startswith("#")), delimiter="\t"):
            labels[(row["repo"], row["path"], int(row["line"]), row["rule"])] = row["label"]
    served = served_versions(args.served)
    # repos.tsv: the folders of a snapshot that are built (as dependencies, from source) but are not backend code.
    built_only = {}
    with open(os.path.join(HERE, "repos.tsv"), newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            built_only[row["repo"]] = [p for p in (row.get("built_only") or "").split(",") if p and p != "-"]

    work = tempfile.mkdtemp(prefix="isolation-corpus-")
    log = open(args.log, "w") if args.log else open(os.devnull, "w")
    statuses = []
    try:
        analyzers = [os.path.abspath(a) for a in args.analyzer] if peer else pack_analyzer(work)
        analyzers += [os.path.abspath(a) for a in args.side_by_side]
        tolerant = None if args.no_tolerant else build_error_tolerant(work, served)
        reported = set()
        repos = args.repos.split(",") if args.repos else sorted(d for d in os.listdir(args.corpus) if os.path.isdir(os.path.join(args.corpus, d)))
        for name in repos:
            labelled = {key[1] for key in labels if key[0] == name}
            found, status = run(os.path.abspath(os.path.join(args.corpus, name)), name, analyzers, work, served, labelled, log,
                                built_only.get(name, ()), tolerant)
            statuses += status
            print(f"{name}: {len(found)} report(s)", flush=True)
            reported |= found
    finally:
        log.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    compiled = sum(1 for _, m, _ in statuses if m == "compiled")
    tolerated = sum(1 for _, m, _ in statuses if m == "tolerant")
    print(f"\n{compiled + tolerated} of {len(statuses)} projects analysed ({compiled} compiled, {tolerated} by the error-tolerant pass)")

    own = re.compile(r"^(?:" + args.ids + r")$")
    unlabelled = score("Isolation" if not peer else "peer", labels, {r for r in reported if own.match(r[3])}, statuses, repos, peer)
    if args.side_by_side:
        side = re.compile(r"^(?:" + args.side_ids + r")$")
        score("side by side: " + ", ".join(os.path.basename(a) for a in args.side_by_side), labels,
              {r for r in reported if side.match(r[3])}, statuses, repos, peer=True)
    return 1 if unlabelled and not peer else 0


def score(title, labels, reported, statuses, repos, peer):
    """Prints per-rule scores of one analyzer's reports; returns its unlabelled reports. A label is measured when its
    project was compiled, or analysed by the error-tolerant pass; in the second case a label in a file with compile
    errors is scored apart (what the analyzers see of such a file may be incomplete)."""
    print(f"\n== {title}")
    if peer:
        # A peer's rules have other ids: a report counts where it lands on a labelled line, whatever its id.
        located = {(r[0], r[1], r[2]) for r in reported}
        reported = {key for key in labels if (key[0], key[1], key[2]) in located} | \
                   {(r[0], r[1], r[2], r[3]) for r in reported if not any((r[0], r[1], r[2]) == k[:3] for k in labels)}
    stats = collections.defaultdict(collections.Counter)
    with_errors = collections.defaultdict(collections.Counter)
    unlabelled = []
    unmeasured = []
    in_error_files = []
    for key, label in labels.items():
        if key[0] not in repos:
            continue
        mode, error_files = _measured(key, statuses)
        if mode is None:
            # Its project was not analysed (a declaration error left in a labelled file, a package not served): the
            # analyzers never saw it, so it counts neither way; listed below.
            unmeasured.append((key, label))
            continue
        target = stats
        if mode == "tolerant" and key[1] in error_files:
            target = with_errors
            in_error_files.append((key, label))
        if label == "bug":
            target[key[3]]["tp" if key in reported else "fn"] += 1
        elif key in reported:
            target[key[3]]["fp"] += 1
        else:
            target[key[3]]["tn"] += 1
    for key in sorted(reported):
        if key not in labels:
            unlabelled.append(key)
            stats[key[3]]["unlabelled"] += 1

    print("rule    TP  FN  FP(safe)  unlabelled  precision  recall   (labels in files with compile errors apart)")
    total = collections.Counter()
    for rule in sorted(stats):
        s = stats[rule]
        total.update(s)
        print(_row(rule, s))
    print(_row("all", total))
    errors_total = collections.Counter()
    for rule in sorted(with_errors):
        errors_total.update(with_errors[rule])
    for key in unlabelled:
        mode, error_files = _measured(key, statuses)
        where = " (in a file with compile errors)" if mode == "tolerant" and key[1] in error_files else ""
        print(f"unlabelled report{where}:", "\t".join(map(str, key)))
    for key, label in sorted(labels.items()):
        if label == "bug" and key not in reported and key[0] in repos and (key, label) not in unmeasured and (key, label) not in in_error_files:
            print("missed:", "\t".join(map(str, key)))
    for key, label in sorted(in_error_files):
        verdict = "reported" if key in reported else "not reported"
        print(f"in a file with compile errors ({label}, {verdict}):", "\t".join(map(str, key)))
    if in_error_files:
        print(_row("errfiles", errors_total) + "   <- labels in files with compile errors (error-tolerant pass)")
    for key, label in sorted(unmeasured):
        print(f"not measured ({label}, its project was not analysed):", "\t".join(map(str, key)))
    found, missed = total["tp"], total["fn"]
    bugs_err = errors_total["tp"] + errors_total["fn"]
    bugs_unmeasured = sum(1 for _, label in unmeasured if label == "bug")
    if bugs_err:
        both = found + errors_total["tp"]
        print(f"recall with the bugs in files with compile errors: {both}/{found + missed + bugs_err} = {both / (found + missed + bugs_err):.2f}; "
              f"reports on safe code there: {errors_total['fp']}")
    if bugs_unmeasured:
        all_bugs = found + missed + bugs_err + bugs_unmeasured
        print(f"recall counting the {bugs_unmeasured} unmeasured bug(s) as missed: {found + errors_total['tp']}/{all_bugs} = "
              f"{(found + errors_total['tp']) / all_bugs:.2f}")
    return unlabelled


def _measured(key, statuses):
    """How the project that holds a labelled file (the deepest project folder above it) was analysed ("compiled",
    "tolerant" or None) and the files with compile errors in it."""
    best, mode, errors = -1, None, set()
    for project, how, error_files in statuses:
        repo, _, relative = project.partition("/")
        if repo != key[0]:
            continue
        if relative == "." or key[1].startswith(relative + "/"):
            depth = 0 if relative == "." else relative.count("/") + 1
            if depth > best:
                best, mode, errors = depth, how, error_files
    return mode, errors


def _row(rule, s):
    reports = s["tp"] + s["fp"] + s["unlabelled"]
    precision = f"{s['tp'] / reports:.2f}" if reports else "-"
    recall = f"{s['tp'] / (s['tp'] + s['fn']):.2f}" if s["tp"] + s["fn"] else "-"
    return f"{rule:7} {s['tp']:3} {s['fn']:3} {s['fp']:9} {s['unlabelled']:11}  {precision:>9}  {recall:>6}"


if __name__ == "__main__":
    sys.exit(main())
