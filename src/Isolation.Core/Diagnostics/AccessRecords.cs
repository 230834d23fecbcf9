using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Isolation.Diagnostics;

/// <summary>
/// The last <see cref="Capacity"/> accesses of one tracked agent or session (in the manner of Netty's ADVANCED leak
/// level), printed in its leak report. Only objects of tracked scopes have one, so untracked objects pay one null check.
/// </summary>
/// <remarks>
/// An access is an ownership check of an agent (<c>IsolatedAgent.EnsureOwned</c>) or an enter of a session guard
/// (<c>SessionGuard.Enter</c> and the guarded commands). Each record keeps the accessing member (the compiler's caller
/// member name: free at run time), the ambient scope's context, the managed thread and the time; in
/// <see cref="LeakDetectionLevel.Paranoid"/> also the stack trace of the access. Records are structs in a fixed array,
/// so recording allocates nothing below Paranoid (a guard's <c>Enter()</c> stays allocation-free).
/// </remarks>
internal sealed class AccessRecords
{
    /// <summary>How many accesses are kept: the newest replace the oldest.</summary>
    public const int Capacity = 4;

    private readonly Record[] _records = new Record[Capacity];
    private readonly TimeProvider _time;
    private readonly bool _stackTraces;
    private long _count;

    public AccessRecords(TimeProvider time, bool stackTraces)
    {
        _time = time;
        _stackTraces = stackTraces;
    }

    /// <summary>Gets how many accesses were recorded in all, including the ones no longer kept.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Records an access by <paramref name="member"/>.</summary>
    public void Add(string member)
    {
        // Skip this method and the library's check that called it: the trace starts where the application made the call.
        var record = new Record(
            member,
            IsolationScope.Current?.Context,
            Environment.CurrentManagedThreadId,
            _time.GetUtcNow(),
            _stackTraces ? new StackTrace(2, fNeedFileInfo: true).ToString() : null);
        lock (_records)
        {
            _records[(int)(_count % Capacity)] = record;
            _count++;
        }
    }

    /// <summary>Returns the kept accesses, newest first.</summary>
    public IReadOnlyList<Record> Snapshot()
    {
        lock (_records)
        {
            var kept = (int)Math.Min(_count, Capacity);
            var list = new Record[kept];
            for (var i = 0; i < kept; i++)
            {
                list[i] = _records[(int)((_count - 1 - i) % Capacity)];
            }

            return list;
        }
    }

    /// <summary>
    /// Returns the text appended to a leak report: a line per kept access, newest first, or a line saying there was none.
    /// </summary>
    public string Format()
    {
        var kept = Snapshot();
        var builder = new StringBuilder();
        builder.Append(Environment.NewLine);
        if (kept.Count == 0)
        {
            builder.Append("Recent accesses: none recorded.");
            return builder.ToString();
        }

        var total = Count;
        builder.Append(CultureInfo.InvariantCulture, $"Recent accesses (the last {kept.Count} of {total}, newest first):");
        for (var i = 0; i < kept.Count; i++)
        {
            var record = kept[i];
            builder.Append(Environment.NewLine).Append(CultureInfo.InvariantCulture, $"#{total - i}: {record.Member} ");
            builder.Append(record.Context is null ? "outside any isolation scope" : "in the scope of " + record.Context);
            builder.Append(CultureInfo.InvariantCulture, $", thread {record.ThreadId}, at {record.At:O}");
            if (record.StackTrace is not null)
            {
                builder.Append(Environment.NewLine).Append(record.StackTrace.TrimEnd());
            }
        }

        return builder.ToString();
    }

    /// <summary>One access.</summary>
    /// <param name="Member">The accessing member: the agent's method that checked ownership, or the operation entered on the session.</param>
    /// <param name="Context">The context of the ambient scope at the access, or <see langword="null"/> outside any scope.</param>
    /// <param name="ThreadId">The managed thread that made the access.</param>
    /// <param name="At">When the access happened.</param>
    /// <param name="StackTrace">Where the access was made, in <see cref="LeakDetectionLevel.Paranoid"/> only.</param>
    internal readonly record struct Record(string Member, UserExecutionContext? Context, int ThreadId, DateTimeOffset At, string? StackTrace);
}
