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
# ISOLATION_SERVER=1 (with ISOLATION_VARIANTS) builds through the compiler server, as a plain `dotnet build` and the IDE
# do, and counts the server's own CPU time per build, after three alternating warm-up builds each; it stops a running
# compiler server first, and nothing else may build on the machine meanwhile. ISOLATION_PROFILE=1 (needs perf) also
# samples the server during every build and prints, per variant, the share of the samples under the isolation
# analyzers' callbacks, under the rest of the analyzer driver, and all samples over the compiler's own work
# (profile-share.py): shares of one build's own samples, which a shared machine's changing speed moves far less.
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
  if [[ -n "${ISOLATION_SERVER:-}" ]]; then
    # The compiler server of this SDK, started afresh by the first build so that it has this script's environment.
    dotnet build-server shutdown --vbcscompiler >/dev/null 2>&1 || true
    # The shutdown returns before the old server has exited; a build meanwhile would start a second one.
    for ((i = 0; i < 60 && $(pgrep -fc 'VBCSCompiler' || true) > 0; i++)); do sleep 1; done
    if pgrep -f 'VBCSCompiler' >/dev/null; then
      echo "measure-build-overhead: a compiler server is still running after a minute (another build on this machine?); nothing measured" >&2
      exit 1
    fi
    if [[ -n "${ISOLATION_PROFILE:-}" ]]; then
      command -v perf >/dev/null || { echo "measure-build-overhead: ISOLATION_PROFILE needs perf (apt-get install linux-perf)" >&2; exit 1; }
      # Named frames for JIT-compiled code, and no precompiled code without names (after the warm-up builds the hot
      # code is JIT-compiled at tier 1 either way).
      export DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0 DOTNET_ReadyToRun=0
    fi
  fi
  # The newest: one that is still exiting after the shutdown above must not be taken for the one the builds use.
  server_pid() { pgrep -n -f 'VBCSCompiler' || true; }
  server_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  # One build through the compiler server: prints "seconds 0", the server's own CPU time during the build (the first
  # build, which starts the server, prints 0). With ISOLATION_PROFILE, also writes the split of the server's CPU
  # samples during the build (profile-share.py) to $work/share.
  server_build() {
    local pid before after recorder=""
    rm -f "$work/share"
    pid=$(server_pid)
    if [[ -n "$pid" ]]; then
      before=$(server_ticks "$pid")
      if [[ -n "${ISOLATION_PROFILE:-}" ]]; then
        perf record -q -e cpu-clock -F 499 --call-graph fp,2000 -p "$pid" -o "$work/perf.data" >/dev/null 2>&1 &
        recorder=$!
        sleep 0.5
      fi
    fi
    dotnet build --no-restore --no-incremental -nologo -v:d -nr:false -p:UseSharedCompilation=true \
      -p:ReportAnalyzer=true -p:WithIsolation="$1" -p:IsolationAnalyzer="$2" >"$3" 2>&1 || true
    if [[ -z "$pid" ]]; then
      echo "0 0"
      return
    fi
    if [[ "$(server_pid)" != "$pid" ]]; then
      echo "measure-build-overhead: the compiler server restarted during a build (another build on this machine?); nothing measured" >&2
      exit 1
    fi
    after=$(server_ticks "$pid")
    if [[ -n "$recorder" ]]; then
      kill -INT "$recorder"; wait "$recorder" || true
      perf script -i "$work/perf.data" -F comm,tid,ip,sym 2>/dev/null | python3 "$here/profile-share.py" > "$work/share"
    fi
    echo "$after $before $(getconf CLK_TCK)" | awk '{printf "%.2f 0\n", ($1 - $2) / $3}'
  }
  # One build with ReportAnalyzer: prints "cpu isolation_callback_seconds sdk_callback_seconds iso004_callback_seconds".
  measured() {
    local TIMEFORMAT='%U %S' log="$work/build.log" t
    if [[ -n "${ISOLATION_SERVER:-}" ]]; then
      t=$(server_build "$1" "$2" "$log")
    else
      t=$( { time dotnet build --no-restore --no-incremental -nologo -v:d -nr:false -p:UseSharedCompilation=false \
        -p:ReportAnalyzer=true -p:WithIsolation="$1" -p:IsolationAnalyzer="$2" >"$log" 2>&1 || true; } 2>&1 )
    fi
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
  # Warm-up, alternating: one build each, or three through the server (its JIT has to reach tier 1 for both).
  warmups=$([[ -n "${ISOLATION_SERVER:-}" ]] && echo 3 || echo 1)
  for ((i = 0; i < warmups; i++)); do
    measured false none >/dev/null
    for v in "${variants[@]}"; do measured true "${v#*=}" >/dev/null; done
  done
  declare -A cpu iso sdk agent shares
  # With a profile: per build, the isolation callbacks' and the driver's shares of the samples and all samples over
  # the compiler's own (that work is the same in every build, so the ratio does not move with the machine's speed).
  share() {
    [[ -n "${ISOLATION_PROFILE:-}" ]] || return 0
    [[ -s "$work/share" ]] || { echo "measure-build-overhead: no profile of the last build (perf record or perf script failed)" >&2; exit 1; }
    shares[$1]+="$(awk '{printf "%.4f,%.4f,%.4f", $4, $8, 1 / $10}' "$work/share") "
  }
  for ((i = 0; i < rounds; i++)); do
    # Measured in this shell, not in a process substitution, so a failed build ends the script.
    measured false none > "$work/measured"; read -r c _ _ _ < "$work/measured"; cpu[none]+="$c "; share none
    for v in "${variants[@]}"; do
      measured true "${v#*=}" > "$work/measured"; read -r c a s g < "$work/measured"
      cpu[${v%%=*}]+="$c "; iso[${v%%=*}]+="$a "; sdk[${v%%=*}]+="$s "; agent[${v%%=*}]+="$g "; share "${v%%=*}"
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
  if [[ -n "${ISOLATION_PROFILE:-}" ]]; then
    column() { local n=$1; shift; printf '%s\n' "$@" | cut -d, -f"$n"; }
    base_ratio=$(median $(column 3 ${shares[none]}))
    echo "profile (per build: isolation share, driver share, samples over the compiler's own): none ${shares[none]}"
    for v in "${variants[@]}"; do
      name=${v%%=*}
      echo "$name: ${shares[$name]}; median isolation callbacks $(median $(column 1 ${shares[$name]})) of the samples," \
        "driver $(median $(column 2 ${shares[$name]})) (none $(median $(column 2 ${shares[none]})))," \
        "samples over the compiler's own $(median $(column 3 ${shares[$name]})) (none $base_ratio)"
    done
  fi
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
