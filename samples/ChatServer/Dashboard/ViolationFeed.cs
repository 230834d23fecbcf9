using Isolation;

namespace ChatServer.Dashboard;

/// <summary>The latest violations and leaks reported by <see cref="IsolationMonitor"/>, for the dashboard's list.</summary>
public sealed class ViolationFeed : IDisposable
{
    private const int Capacity = 50;
    private readonly IsolationMonitor _monitor;
    private readonly TimeProvider _time;
    private readonly Queue<ViolationItem> _items = new();
    private readonly object _lock = new();

    public ViolationFeed(IsolationMonitor monitor, TimeProvider time)
    {
        _monitor = monitor;
        _time = time;
        _monitor.ViolationDetected += OnViolation;
    }

    public IReadOnlyList<ViolationItem> Latest()
    {
        lock (_lock)
        {
            var list = _items.ToList();
            list.Reverse();
            return list;
        }
    }

    public void Dispose() => _monitor.ViolationDetected -= OnViolation;

    private void OnViolation(object? sender, IsolationViolationEventArgs e)
    {
        var item = new ViolationItem(_time.GetUtcNow(), e.Violation.Kind.ToTagValue(), e.Violation.Kind.IsLeak(), e.Violation.ResourceType, e.Violation.Message);
        lock (_lock)
        {
            if (_items.Count == Capacity)
            {
                _items.Dequeue();
            }

            _items.Enqueue(item);
        }
    }
}
