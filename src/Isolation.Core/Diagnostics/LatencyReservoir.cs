namespace Isolation.Diagnostics;

/// <summary>The most recent durations (a fixed ring, written lock-free) and their percentiles, for the health check.</summary>
internal sealed class LatencyReservoir
{
    private readonly double[] _values;
    private long _written;

    public LatencyReservoir(int capacity) => _values = new double[capacity];

    public int Count => (int)Math.Min(Interlocked.Read(ref _written), _values.Length);

    public void Record(double seconds)
    {
        var index = (Interlocked.Increment(ref _written) - 1) % _values.Length;
        Volatile.Write(ref _values[index], seconds);
    }

    /// <summary>The <paramref name="percentile"/> (0–100) of the recorded values, nearest rank; null when empty.</summary>
    public double? Percentile(double percentile)
    {
        var count = Count;
        if (count == 0)
        {
            return null;
        }

        var copy = new double[count];
        Array.Copy(_values, copy, count);
        Array.Sort(copy);
        var rank = (int)Math.Ceiling(percentile / 100d * count);
        return copy[Math.Clamp(rank - 1, 0, count - 1)];
    }
}
