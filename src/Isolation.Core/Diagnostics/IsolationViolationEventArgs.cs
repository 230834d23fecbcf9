namespace Isolation;

/// <summary>Event data for <see cref="IsolationMonitor.ViolationDetected"/> and <see cref="IsolationMonitor.LeakDetected"/>.</summary>
public sealed class IsolationViolationEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    /// <param name="violation">The violation.</param>
    public IsolationViolationEventArgs(IsolationViolation violation) => Violation = violation ?? throw new ArgumentNullException(nameof(violation));

    /// <summary>Gets the violation.</summary>
    public IsolationViolation Violation { get; }
}
