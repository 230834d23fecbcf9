using System.Globalization;

namespace Isolation.Diagnostics;

/// <summary>
/// Owned only by a tracked scope. When the scope becomes unreachable without having been disposed, the sentinel
/// becomes unreachable with it and its finalizer reports the leak. It holds what the report needs, never the scope
/// or its resources (which would keep the scope alive and hide the leak).
/// </summary>
internal sealed class ScopeLeakSentinel
{
    private readonly IsolationMonitor _monitor;
    private readonly UserExecutionContext _context;
    private readonly string? _creationStackTrace;

    public ScopeLeakSentinel(IsolationMonitor monitor, UserExecutionContext context, string? creationStackTrace)
    {
        _monitor = monitor;
        _context = context;
        _creationStackTrace = creationStackTrace;
    }

    ~ScopeLeakSentinel()
    {
        try
        {
            _monitor.Report(new IsolationViolation(
                ViolationKind.ScopeLeak,
                typeof(IsolationScope).FullName!,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "The isolation scope of {0} was never disposed; the garbage collector found it unreachable. Its agents and sessions were never released, and its deadline timer and DI scope were left to the finalizer. Dispose every scope, preferably with 'await using var scope = factory.CreateScope(...)'.",
                    _context),
                _context,
                otherContext: null,
                _creationStackTrace));
        }
#pragma warning disable CA1031 // Nothing may escape a finalizer: it would take the process down.
        catch
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Called when the scope is disposed: the leak cannot happen any more.</summary>
#pragma warning disable CA1816 // Not IDisposable by design: the sentinel's only job is its finalizer, cancelled when the scope is disposed.
    public void Disarm() => GC.SuppressFinalize(this);
#pragma warning restore CA1816
}
