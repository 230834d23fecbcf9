#!/usr/bin/env bash
# Measures the real cost of the isolation analyzers: full (non-incremental) builds of the generated large project with
# and without the analyzers, alternating, after one warm-up build of each. Reports wall-clock time and CPU time
# (user + sys of the build and its compiler process: csc runs in-process, no shared compiler server), because on a
# shared machine wall time mostly measures the neighbours. Also prints the ReportAnalyzer breakdown (a sum of callback
# times across threads, not wall time).
# Usage: [ISOLATION_ANALYZER=dll] measure-build-overhead.sh [units] [rounds]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
units="${1:-3000}"
rounds="${2:-5}"
work="$(mktemp -d /tmp/isolation-build-overhead.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# ISOLATION_ANALYZER=/path/to/Isolation.Analyzers.dll measures that build instead (an older commit's, for a before/after).
if [[ -z "${ISOLATION_ANALYZER:-}" ]]; then
  dotnet build "$root/src/Isolation.Analyzers/Isolation.Analyzers.csproj" -c Release -nologo -v:q >/dev/null
fi
dotnet run -c Release --project "$here" -- generate "$work/src" "$units" >/dev/null
analyzer="${ISOLATION_ANALYZER:-$root/src/Isolation.Analyzers/bin/Release/netstandard2.0/Isolation.Analyzers.dll}"

echo '<Project />' > "$work/Directory.Build.props"
echo '<Project />' > "$work/Directory.Build.targets"
cat > "$work/.editorconfig" <<'CFG'
root = true
[*.cs]
# Keep the build green so both variants do the same work to the end; the rules still run in full.
dotnet_diagnostic.ISO001.severity = warning
dotnet_diagnostic.ISO002.severity = warning
dotnet_diagnostic.ISO003.severity = warning
dotnet_diagnostic.ISO005.severity = warning
dotnet_diagnostic.ISO006.severity = warning
dotnet_diagnostic.ISO101.severity = warning
dotnet_diagnostic.ISO102.severity = warning
dotnet_diagnostic.ISO201.severity = warning
CFG
cat > "$work/Large.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <NoWarn>\$(NoWarn);CS0169;CS0414;CS1998</NoWarn>
  </PropertyGroup>
  <ItemGroup Condition="'\$(WithIsolation)' == 'true'">
    <Analyzer Include="$analyzer" />
  </ItemGroup>
</Project>
CSPROJ

cd "$work"
dotnet restore -nologo -v:q >/dev/null
build() { dotnet build --no-restore --no-incremental -nologo -v:q -nr:false -p:UseSharedCompilation=false -p:WithIsolation="$1" "${@:2}" >/dev/null 2>&1 || true; }
# Prints "wall cpu" in seconds for one build.
timed() {
  local TIMEFORMAT='%R %U %S' out
  out=$( { time build "$@"; } 2>&1 )
  echo "$out" | awk '{printf "%.2f %.2f\n", $1, $2 + $3}'
}

build true; build false
with_wall=(); with_cpu=(); without_wall=(); without_cpu=()
for ((i = 0; i < rounds; i++)); do
  read -r w c < <(timed false); without_wall+=("$w"); without_cpu+=("$c")
  read -r w c < <(timed true); with_wall+=("$w"); with_cpu+=("$c")
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
pct() { echo "scale=2; ($1 - $2) * 100 / $2" | bc; }
echo "units: $units, files: $(ls src/*.cs | wc -l), lines: $(cat src/*.cs | wc -l), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wall without (s): ${without_wall[*]}  median $(median "${without_wall[@]}")"
echo "wall with    (s): ${with_wall[*]}  median $(median "${with_wall[@]}")"
echo "cpu  without (s): ${without_cpu[*]}  median $(median "${without_cpu[@]}")"
echo "cpu  with    (s): ${with_cpu[*]}  median $(median "${with_cpu[@]}")"
echo "overhead, wall: $(pct "$(median "${with_wall[@]}")" "$(median "${without_wall[@]}")")%  cpu: $(pct "$(median "${with_cpu[@]}")" "$(median "${without_cpu[@]}")")%"

echo "ReportAnalyzer (sum of callback times, not wall time):"
dotnet build --no-restore --no-incremental -nologo -v:d -nr:false -p:WithIsolation=true -p:ReportAnalyzer=true 2>&1 \
  | grep -E "Total analyzer execution time|^ *[0-9.<]+ +[0-9<]+ +(Isolation\.Analyzers|Microsoft\.CodeAnalysis\.(CSharp\.)?NetAnalyzers,)" | sed 's/^ *//' | sort -u | head -30
