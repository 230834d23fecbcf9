using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Internal;

#pragma warning disable EF1001 // IStateManager: the only way to count tracked entities of a returned context without running DetectChanges.

internal sealed partial class ContextGuard
{
    private IStateManager? _stateManager;
    private IDbContextTransactionManager? _transactionManager;
    private readonly TenantStateMembers.Member[] _tenantState;

    // EF Core calls this when a pooled context goes back to its pool, before its own services reset (registered first).
    void IResettableService.ResetState() => Return();

    Task IResettableService.ResetStateAsync(CancellationToken cancellationToken)
    {
        Return();
        return Task.CompletedTask;
    }

    // EF Core's pool disposes a returned context without resetting it when the pool is already full: the internal
    // service scope is disposed with it, and so is this guard. A lease that was used and not inspected is inspected here.
    public void Dispose()
    {
        if (!_pooled || Interlocked.Exchange(ref _inspected, 1) != 0)
        {
            return;
        }

        try
        {
            InspectAndReport(disposing: true);
        }
        catch (ObjectDisposedException)
        {
            // A service the check reads was disposed first; nothing is leased again anyway.
        }
    }

    private void Return()
    {
        try
        {
            Volatile.Write(ref _inspected, 1);
            InspectAndReport(disposing: false);
        }
        finally
        {
            Volatile.Write(ref _owner, null);
            Volatile.Write(ref _holder, null);
            Volatile.Write(ref _unscopedReported, 0);
        }
    }

    private void InspectAndReport(bool disposing)
    {
        var owner = Volatile.Read(ref _owner);
        if ((owner?.Mode ?? Application.Mode) != IsolationMode.Off && Inspect() is { } reasons)
        {
            ReportDirty(owner, reasons, disposing);
        }
    }

    /// <summary>Returns why the context is not pristine, or <see langword="null"/>. Allocates only when it is dirty.</summary>
    private string? Inspect()
    {
        StringBuilder? reasons = null;
        var context = _currentContext.Context;

        CaptureServices();
        var stateManager = _stateManager!;
        if (_options.RequireEmptyChangeTracker ? stateManager.Count > 0 : stateManager.ChangedCount > 0)
        {
            Add(ref reasons, _options.RequireEmptyChangeTracker
                ? string.Format(CultureInfo.InvariantCulture, "the change tracker still tracks {0} entities", stateManager.Count)
                : string.Format(CultureInfo.InvariantCulture, "the change tracker holds {0} unsaved changes", stateManager.ChangedCount));
        }

        if (_changeTracker is { } changeTracker)
        {
            if (changeTracker.QueryTrackingBehavior != _defaultTracking)
            {
                Add(ref reasons, string.Format(CultureInfo.InvariantCulture, "QueryTrackingBehavior is {0}, configured {1}", changeTracker.QueryTrackingBehavior, _defaultTracking));
            }

            if (!changeTracker.AutoDetectChangesEnabled)
            {
                Add(ref reasons, "AutoDetectChangesEnabled is false, configured true");
            }
        }

        var transactionManager = _transactionManager!;
        if (transactionManager.CurrentTransaction is not null)
        {
            Add(ref reasons, "a transaction is still open (neither committed nor rolled back)");
        }

        if (transactionManager is IRelationalConnection relational && relational.CommandTimeout != _defaultCommandTimeout)
        {
            Add(ref reasons, string.Format(
                CultureInfo.InvariantCulture,
                "the command timeout is {0}, configured {1}",
                relational.CommandTimeout?.ToString(CultureInfo.InvariantCulture) ?? "the provider's default",
                _defaultCommandTimeout?.ToString(CultureInfo.InvariantCulture) ?? "the provider's default"));
        }

        foreach (var member in _tenantState)
        {
            if (!member.IsDefault(context))
            {
                Add(ref reasons, "[TenantState] " + member.Name + " was not reset");
            }
        }

        foreach (var check in _options.PristineChecks)
        {
            if (check(context) is { Length: > 0 } reason)
            {
                Add(ref reasons, reason);
            }
        }

        return reasons?.ToString();
    }

    private void ReportDirty(IsolationScope? owner, string reasons, bool disposing)
    {
        var discarding = _options.DiscardsDirtyContexts;
        if (discarding && !disposing)
        {
            PooledContextDiscards.Mark(_currentContext.Context);
        }

        var violation = new IsolationViolation(
            ViolationKind.SessionLeak,
            TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "Pooled DbContext {0}{1} went back to its pool dirty: {2}. {3} Reset per-request state before the request ends (commit or roll back transactions, set [TenantState] members back, restore options changed on the context) or configure it on the options instead of the context.",
                TypeName,
                owner is null ? string.Empty : " of the scope of " + owner.Context,
                reasons,
                disposing
                    ? "The pool was full, so EF Core disposes it instead of leasing it again."
                    : discarding
                    ? "It is discarded, not leased to the next request."
                    : "EF Core will lease it again: call services.AddPooledDbContextChecks<" + _currentContext.Context.GetType().Name + ">() to discard dirty contexts."),
            owner?.Context);
        if (owner is not null)
        {
            owner.ReportViolation(violation);
        }
        else
        {
            Application.Report(violation);
        }
    }

    private void CaptureServices()
    {
        _stateManager ??= _internalServices.GetRequiredService<IStateManager>();
        _transactionManager ??= _internalServices.GetRequiredService<IDbContextTransactionManager>();
    }

    private static void Add(ref StringBuilder? reasons, string reason)
    {
        if (reasons is null)
        {
            reasons = new StringBuilder(reason);
        }
        else
        {
            reasons.Append("; ").Append(reason);
        }
    }
}
