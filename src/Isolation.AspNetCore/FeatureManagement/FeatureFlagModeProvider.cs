using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.FeatureManagement;
using Microsoft.FeatureManagement.FeatureFilters;

namespace Isolation.AspNetCore.FeatureManagement;

/// <summary>
/// An <see cref="IIsolationModeProvider"/> driven by a <c>Microsoft.FeatureManagement</c> variant feature flag
/// (<see cref="IsolationFeatureOptions.FeatureName"/>, variants <c>Off</c>/<c>Observe</c>/<c>Enforce</c> allocated by user,
/// group or percentile). <see cref="GetMode"/> never waits: it answers from a per-user cache of evaluated modes and
/// evaluates in the background when a user is new or their mode is older than <see cref="IsolationFeatureOptions.CacheDuration"/>.
/// </summary>
/// <remarks>
/// A user's first scope (and every scope until the first evaluation finishes, typically microseconds to milliseconds later)
/// gets <see cref="IsolationFeatureOptions.FallbackMode"/>; call <see cref="RefreshAsync"/> where waiting is fine (when a
/// connection opens) to have the mode ready for the first request. At most one evaluation per user runs at a time.
/// </remarks>
public sealed class FeatureFlagModeProvider : IIsolationModeProvider, IDisposable
{
    private static readonly TimeSpan MinClockPeriod = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxClockPeriod = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Entry> _cache = new(StringComparer.Ordinal);
    private readonly IVariantFeatureManager _features;
    private readonly IsolationFeatureOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly long _ttlTicks;
    private readonly ITimer _clock;

    // The time GetMode compares expiries with: advanced by _clock, so a scope never reads the clock itself.
    private long _now;

    internal FeatureFlagModeProvider(IVariantFeatureManager features, IsolationFeatureOptions options, TimeProvider time, ILoggerFactory? loggerFactory)
    {
        _features = features;
        _options = options;
        _time = time;
        _logger = (ILogger?)loggerFactory?.CreateLogger("Isolation.AspNetCore.FeatureManagement") ?? NullLogger.Instance;
        _ttlTicks = (long)(options.CacheDuration.TotalSeconds * time.TimestampFrequency);
        _now = time.GetTimestamp();

        // An eighth of the cache duration, between 10 ms and 1 s: a stale mode is noticed at most that late.
        var period = TimeSpan.FromTicks(Math.Clamp(options.CacheDuration.Ticks / 8, MinClockPeriod.Ticks, MaxClockPeriod.Ticks));
        // The timer must not capture whatever flow (e.g. a current IsolationScope) first resolved the provider.
        var suppress = !ExecutionContext.IsFlowSuppressed();
        if (suppress)
        {
            ExecutionContext.SuppressFlow();
        }

        try
        {
            _clock = time.CreateTimer(static s => ((FeatureFlagModeProvider)s!).Tick(), this, period, period);
        }
        finally
        {
            if (suppress)
            {
                ExecutionContext.RestoreFlow();
            }
        }
    }

    /// <summary>Stops the timer that ages cached modes. The container disposes the provider with itself.</summary>
    public void Dispose() => _clock.Dispose();

    /// <summary>Returns the cached mode of the context's user without waiting; starts a background evaluation when it is missing or stale.</summary>
    /// <param name="context">The context of the scope being created.</param>
    /// <returns>The user's evaluated mode, or <see cref="IsolationFeatureOptions.FallbackMode"/> before the first evaluation.</returns>
    public IsolationMode GetMode(UserExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (_cache.TryGetValue(context.UserId, out var entry))
        {
            if (Volatile.Read(ref _now) >= Volatile.Read(ref entry.ExpiresAt))
            {
                StartRefresh(context.UserId, entry);
            }

            return entry.Mode;
        }

        return Miss(context.UserId);
    }

    /// <summary>Evaluates the flag for <paramref name="userId"/> now and caches the result, e.g. when the user's connection opens.</summary>
    /// <param name="userId">The user.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>The user's mode as the flag assigns it (or the fallback mode when it assigns none or fails).</returns>
    public async ValueTask<IsolationMode> RefreshAsync(string userId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(userId);
        var entry = _cache.GetOrAdd(userId, static (_, fallback) => new Entry(fallback), _options.FallbackMode);
        await EvaluateIntoAsync(userId, entry, cancellationToken).ConfigureAwait(false);
        return entry.Mode;
    }

    private void Tick() => Volatile.Write(ref _now, _time.GetTimestamp());

    private IsolationMode Miss(string userId)
    {
        if (_cache.Count >= _options.MaxCachedUsers)
        {
            _cache.Clear();
        }

        var entry = _cache.GetOrAdd(userId, static (_, fallback) => new Entry(fallback), _options.FallbackMode);
        StartRefresh(userId, entry);
        return entry.Mode;
    }

    private void StartRefresh(string userId, Entry entry)
    {
        if (Interlocked.CompareExchange(ref entry.Refreshing, 1, 0) != 0)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            static state => _ = state.Provider.RefreshInBackgroundAsync(state.UserId, state.Entry),
            (Provider: this, UserId: userId, Entry: entry),
            preferLocal: false);
    }

    private async Task RefreshInBackgroundAsync(string userId, Entry entry)
    {
        try
        {
            await EvaluateIntoAsync(userId, entry, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref entry.Refreshing, 0);
        }
    }

    private async Task EvaluateIntoAsync(string userId, Entry entry, CancellationToken cancellationToken)
    {
        IsolationMode mode;
        try
        {
            var target = new TargetingContext { UserId = userId, Groups = _options.GetGroups?.Invoke(userId) ?? [] };
            var variant = await _features.GetVariantAsync(_options.FeatureName, target, cancellationToken).ConfigureAwait(false);
            mode = ToMode(variant, userId);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A broken flag source must not fail requests: the user keeps their mode and it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.FeatureEvaluationFailed(_logger, ex, _options.FeatureName, userId, entry.Mode);
            mode = entry.Mode;
        }

        entry.Mode = mode;
        Volatile.Write(ref entry.ExpiresAt, _time.GetTimestamp() + _ttlTicks);
    }

    private IsolationMode ToMode(Variant? variant, string userId)
    {
        if (variant is null)
        {
            return _options.FallbackMode;
        }

        var value = variant.Configuration?.Value;
        var text = string.IsNullOrWhiteSpace(value) ? variant.Name : value;
        if (Enum.TryParse<IsolationMode>(text, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !int.TryParse(text, out _))
        {
            return mode;
        }

        Log.UnknownVariant(_logger, _options.FeatureName, variant.Name, value, userId, _options.FallbackMode);
        return _options.FallbackMode;
    }

    /// <summary>One user's evaluated mode and when it goes stale.</summary>
    private sealed class Entry(IsolationMode mode)
    {
#pragma warning disable SA1401, CA1051 // Read on the scope creation path without locks.
        public volatile IsolationMode Mode = mode;
        public long ExpiresAt;
        public int Refreshing;
#pragma warning restore SA1401, CA1051
    }
}
