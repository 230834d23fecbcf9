#!/usr/bin/env bash
# Measures the real cost of the isolation analyzers: full (non-incremental) builds of the generated large project with
# and without the analyzers, alternating, after one warm-up build of each. Reports wall-clock time and CPU time
# (user + sys of the build and its compiler process: csc runs in-process, no shared compiler server), because on a
# shared machine wall time mostly measures the neighbours. Also prints the ReportAnalyzer breakdown (a sum of callback
# times across threads, not wall time).
# Usage: [ISOLATION_ANALYZER=dll] measure-build-overhead.sh [units] [rounds]
#        ISOLATION_VARIANTS="before=/a/Isolation.Analyzers.dll after=/b/Isolation.Analyzers.dll" measure-build-overhead.sh [units] [rounds]
# With ISOLATION_VARIANTS, each round builds without the analyzer and then with each variant in turn (one alternating
# run for a before/after), every build with ReportAnalyzer, and prints per variant the median CPU time, its overhead
# over no analyzer, and the median isolation callback time as a share of the build's CPU time.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
units="${1:-3000}"
rounds="${2:-5}"
work="$(mktemp -d /tmp/isolation-build-overhead.XXXXXX)"
trap '[[ -n "${ISOLATION_KEEP:-}" ]] || rm -rf "$work"' EXIT

# ISOLATION_ANALYZER=/path/to/Isolation.Analyzers.dll measures that build instead (an older commit's, for a before/after).
if [[ -z "${ISOLATION_ANALYZER:-}" && -z "${ISOLATION_VARIANTS:-}" ]]; then
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

if [[ -n "${ISOLATION_VARIANTS:-}" ]]; then
  read -r -a variants <<< "$ISOLATION_VARIANTS"
  # One build with ReportAnalyzer: prints "cpu isolation_callback_seconds sdk_callback_seconds iso004_callback_seconds".
  measured() {
    local TIMEFORMAT='%U %S' log="$work/build.log" t
    t=$( { time dotnet build --no-restore --no-incremental -nologo -v:d -nr:false -p:UseSharedCompilation=false \
      -p:ReportAnalyzer=true -p:WithIsolation="$1" -p:IsolationAnalyzer="$2" >"$log" 2>&1 || true; } 2>&1 )
    if ! grep -q "Build succeeded" "$log"; then
      grep -m3 " error " "$log" >&2 || true
      echo "measure-build-overhead: the build with analyzer '$2' failed (log above); nothing measured" >&2
      exit 1
    fi
    if grep -q "warning CS8034" "$log"; then
      # The compiler could not load the analyzer (the file must be named Isolation.Analyzers.dll): measuring would
      # compare no analyzer with no analyzer.
      grep -m1 "warning CS8034" "$log" >&2
      echo "measure-build-overhead: the analyzer $2 did not load; nothing measured" >&2
      exit 1
    fi
    local iso sdk iso004
    # A build without the analyzer has no line of it: grep finds nothing, which must not end the script (set -e, pipefail).
    iso004=$( { grep -E "^ *[0-9.<]+ +[0-9<]+ +Isolation\.Analyzers\.Rules\.AgentCreationAnalyzer" "$log" || true; } | head -1 | awk '{print ($1 ~ /</) ? 0 : $1}')
    iso=$( { grep -E "^ *[0-9.<]+ +[0-9<]+ +Isolation\.Analyzers," "$log" || true; } | head -1 | awk '{print ($1 ~ /</) ? 0 : $1}')
    sdk=$( { grep -E "^ *[0-9.<]+ +[0-9<]+ +Microsoft\.CodeAnalysis\.(CSharp\.)?NetAnalyzers," "$log" || true; } | awk '{s += ($1 ~ /</) ? 0 : $1} END {print s + 0}')
    echo "$t" | awk -v iso="${iso:-0}" -v sdk="$sdk" -v a="${iso004:-0}" '{printf "%.2f %.3f %.3f %.3f\n", $1 + $2, iso, sdk, a}'
  }
  sed -i 's|<Analyzer Include="[^"]*" />|<Analyzer Include="$(IsolationAnalyzer)" />|' "$work/Large.csproj"
  measured false none >/dev/null
  for v in "${variants[@]}"; do measured true "${v#*=}" >/dev/null; done
  declare -A cpu iso sdk agent
  for ((i = 0; i < rounds; i++)); do
    # Measured in this shell, not in a process substitution, so a failed build ends the script.
    measured false none > "$work/measured"; read -r c _ _ _ < "$work/measured"; cpu[none]+="$c "
    for v in "${variants[@]}"; do
      measured true "${v#*=}" > "$work/measured"; read -r c a s g < "$work/measured"
      cpu[${v%%=*}]+="$c "; iso[${v%%=*}]+="$a "; sdk[${v%%=*}]+="$s "; agent[${v%%=*}]+="$g "
    done
  done
  median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
  echo "units: $units, files: $(ls src/*.cs | wc -l), rounds: $rounds, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  base=$(median ${cpu[none]})
  echo "none: cpu ${cpu[none]} median $base"
  for v in "${variants[@]}"; do
    name=${v%%=*}; m=$(median ${cpu[$name]}); a=$(median ${iso[$name]}); s=$(median ${sdk[$name]}); g=$(median ${agent[$name]})
    echo "$name: cpu ${cpu[$name]} median $m, overhead $(echo "scale=2; ($m - $base) * 100 / $base" | bc)%;" \
      "isolation callbacks ${iso[$name]} median $a s = $(echo "scale=2; $a * 100 / $m" | bc)% of build cpu;" \
      "ISO004 (AgentCreationAnalyzer) ${agent[$name]} median $g s = $(echo "scale=2; $g * 100 / $m" | bc)%; SDK analyzers median $s s"
  done
  exit 0
fi

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
