namespace Isolation.Redis.Internal;

/// <summary>
/// Remembers, per sending process, the highest message counter seen and which of the 64 counters below it arrived, so a
/// message that arrives twice is refused (the sliding window of IPsec's anti-replay check). Used by one reader only.
/// </summary>
internal sealed class ReplayWindow
{
    private const int Width = 64;
    private readonly Dictionary<string, SenderState> _senders = new(StringComparer.Ordinal);
    private readonly long _forgetAfterTicks;
    private int _checksSincePrune;

    public ReplayWindow(TimeSpan forgetAfter)
    {
        _forgetAfterTicks = forgetAfter.Ticks;
    }

    /// <summary>Checks a counter from a sender; false means it was seen already (or is too far behind to tell).</summary>
    /// <param name="sender">The sending process's instance id.</param>
    /// <param name="counter">The message's counter, 1, 2, … per sender and target.</param>
    /// <param name="nowTicks">The current time, for forgetting silent senders.</param>
    /// <param name="missed">How many counters were skipped by this message (messages that never arrived, so far).</param>
    public bool TryAccept(string sender, long counter, long nowTicks, out long missed)
    {
        missed = 0;
        if (++_checksSincePrune >= 1024)
        {
            Prune(nowTicks);
        }

        if (!_senders.TryGetValue(sender, out var state))
        {
            _senders[sender] = new SenderState { High = counter, Seen = 1, LastSeenTicks = nowTicks };
            return true;
        }

        state.LastSeenTicks = nowTicks;
        if (counter > state.High)
        {
            var shift = counter - state.High;
            missed = shift - 1;
            state.Seen = shift >= Width ? 1UL : (state.Seen << (int)shift) | 1UL;
            state.High = counter;
            return true;
        }

        var offset = state.High - counter;
        if (offset >= Width)
        {
            return false;
        }

        var bit = 1UL << (int)offset;
        if ((state.Seen & bit) != 0)
        {
            return false;
        }

        state.Seen |= bit;
        return true;
    }

    private void Prune(long nowTicks)
    {
        _checksSincePrune = 0;
        List<string>? silent = null;
        foreach (var (sender, state) in _senders)
        {
            if (nowTicks - state.LastSeenTicks > _forgetAfterTicks)
            {
                (silent ??= []).Add(sender);
            }
        }

        if (silent is not null)
        {
            foreach (var sender in silent)
            {
                _senders.Remove(sender);
            }
        }
    }

    private sealed class SenderState
    {
        public long High { get; set; }

        public ulong Seen { get; set; }

        public long LastSeenTicks { get; set; }
    }
}
