namespace Isolation;

/// <summary>Values of the <c>isolation.run.status</c> tag.</summary>
internal static class ScopeStatus
{
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string TimedOut = "timed_out";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";
}
