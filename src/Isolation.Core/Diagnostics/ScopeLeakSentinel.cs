using System.Globalization;

namespace Isolation.Diagnostics;

/// <summary>
/// Owned only by a tracked scope. When the scope becomes unreachable without having been disposed, the sentinel
/// becomes unreachable with it and its finalizer reports the leak. It holds what the report needs, never the scope
/// or its resources (which would keep the scope alive and hide the leak). Two fields (32 bytes): only Paranoid's
/// subclass also holds the creation stack trace, so a sampled tracked scope costs as little as it can.
/// </summary>
internal class ScopeLeakSentinel
{
    private readonly IsolationMonitor _monitor;
    private readonly UserExecutionContext _context;

    public ScopeLeakSentinel(IsolationMonitor monitor, UserExecutionContext context)
    {
        _monitor = monitor;
        _context = context;
    }

    /// <summary>Gets where the scope was created, when leak detection is Paranoid.</summary>
    protected virtual string? CreationStackTrace => null;

    ~ScopeLeakSentinel()
    {
        try
        {
            // The scope ended here, undisposed: it is counted as a finished scope, and as a violated one.
            _monitor.ScopeFinished(hadViolations: true);
            _monitor.Report(new IsolationViolation(
                ViolationKind.ScopeLeak,
                typeof(IsolationScope).FullName!,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "The isolation scope of {0} was never disposed; the garbage collector found it unreachable. Its agents and sessions were never released, and its deadline timer and DI scope were left to the finalizer. Dispose every scope, preferably with 'await using var scope = factory.CreateScope(...)'.",
                    _context),
                _context,
                otherContext: null,
                CreationStackTrace));
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

/// <summary>The sentinel of a Paranoid scope: also where the scope was created.</summary>
internal sealed class TracingScopeLeakSentinel : ScopeLeakSentinel
{
    private readonly string _creationStackTrace;

    public TracingScopeLeakSentinel(IsolationMonitor monitor, UserExecutionContext context, string creationStackTrace)
        : base(monitor, context)
    {
        _creationStackTrace = creationStackTrace;
    }

    protected override string? CreationStackTrace => _creationStackTrace;
}
