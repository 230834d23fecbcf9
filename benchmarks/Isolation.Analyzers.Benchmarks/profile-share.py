#!/usr/bin/env python3
"""Splits the CPU samples of one compile into who did the work, from `perf script -F comm,tid,ip,sym` output.

Usage: perf script -i perf.data -F comm,tid,ip,sym | profile-share.py

The compiler must run with DOTNET_PerfMapEnabled=1 (JIT-compiled frames get names) and, for a clean split,
DOTNET_ReadyToRun=0 (precompiled frames have no name otherwise). Each sample goes to the first category that one of
its frames belongs to, in this order:

  isolation  a frame of Isolation.Analyzers: our callbacks and everything they call (semantic model, symbols)
  sdk        a frame of the SDK's analyzers (Microsoft.CodeAnalysis.NetAnalyzers), the same for them
  driver     a frame of Microsoft.CodeAnalysis.Diagnostics: the analyzer driver's own work for every analyzer
             (operation trees, semantic models, action dispatch, diagnostic filtering)
  compile    the compiler's own work (parsing, binding, flow analysis, lowering, emit)
  runtime    no managed frame at all: the garbage collector, the JIT, the type loader
  other      any other managed code (thread pool, collections, file I/O)

Prints one line: "samples N isolation F sdk F driver F compile F runtime F other F", each F a fraction of N.
"""
import re
import sys

CATEGORIES = ("isolation", "sdk", "driver", "compile", "runtime", "other")
COMPILE_FRAMES = re.compile(
    r"Microsoft\.CodeAnalysis\.CSharp\.(MethodCompiler|Binder|Syntax\.InternalSyntax\.LanguageParser|Emit\.|"
    r"CodeGen\.|LocalRewriter|NullableWalker|DefiniteAssignment|Symbols\.)|Microsoft\.Cci\.|Microsoft\.CodeAnalysis\.Emit\.")


def classify(frames):
    if any("Isolation.Analyzers" in f for f in frames):
        return "isolation"
    if any("NetAnalyzers]" in f for f in frames):
        return "sdk"
    if any("Microsoft.CodeAnalysis.Diagnostics." in f for f in frames):
        return "driver"
    if not any("::" in f for f in frames):
        return "runtime"
    if any(COMPILE_FRAMES.search(f) for f in frames):
        return "compile"
    return "other"


def samples(lines):
    frames = None
    for line in lines:
        if not line.strip():
            if frames is not None:
                yield frames
            frames = None
        elif not line[0].isspace():
            frames = []
        elif frames is not None:
            frames.append(line.strip())
    if frames:
        yield frames


def main():
    counts = dict.fromkeys(CATEGORIES, 0)
    for frames in samples(sys.stdin):
        counts[classify(frames)] += 1
    total = sum(counts.values())
    if total == 0:
        sys.exit("profile-share: no samples in the input (was perf given the compiler's process id?)")
    print(f"samples {total} " + " ".join(f"{name} {counts[name] / total:.4f}" for name in CATEGORIES))


if __name__ == "__main__":
    main()
