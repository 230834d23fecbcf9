namespace Isolation;

/// <summary>How a scope reacts to an isolation violation.</summary>
public enum IsolationMode
{
    /// <summary>No checks: violations are neither detected nor reported.</summary>
    Off = 0,

    /// <summary>Violations are recorded and reported (log, metric, event) but the offending call proceeds. For rolling out to an existing system.</summary>
    Observe = 1,

    /// <summary>Violations are reported and the offending call throws <see cref="IsolationViolationException"/>.</summary>
    Enforce = 2,
}
