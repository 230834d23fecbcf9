using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.ChangeTracking.Internal;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>
/// One per context instance (a scoped service of EF Core's internal provider, so a pooled context keeps its guard across
/// leases): binds the context to the first scope that uses it, checks every command, SaveChanges and transaction operation,
/// and inspects a pooled context when it is returned. Not a connection interceptor: EF Core allocates event data for every
/// connection open and close once one is registered, so that is left to <see cref="RowLevelSecurityInterceptor"/>, opt-in.
/// </summary>
internal sealed partial class ContextGuard :
    IDbCommandInterceptor,
    IDbTransactionInterceptor,
    ISaveChangesInterceptor,
    IResettableService,
    IDisposable
{
    private readonly ICurrentDbContext _currentContext;
    private readonly IDbContextOptions _contextOptions;
    private readonly IServiceProvider _internalServices;
    private readonly IsolationDbContextOptions _options;
    private readonly QueryTrackingBehavior _defaultTracking;
    private readonly int? _defaultCommandTimeout;

    private IsolationScope? _owner;
    private object? _holder;
    private string? _holderOperation;
    private int _unscopedReported;
    private ChangeTracker? _changeTracker;
    private ApplicationServices? _application;
    private string? _typeName;
    private InvalidOperationException? _configurationError;
    private readonly bool _pooled;
    private int _inspected;

    public ContextGuard(ICurrentDbContext currentContext, IDbContextOptions contextOptions, IServiceProvider internalServices)
    {
        _currentContext = currentContext;
        _contextOptions = contextOptions;
        _internalServices = internalServices;
        _options = contextOptions.FindExtension<IsolationOptionsExtension>()?.Options ?? new IsolationDbContextOptions();

        // Read here and thrown by every operation, so a misplaced [TenantState] fails the first query, never a Dispose.
        try
        {
            _tenantState = TenantStateMembers.For(currentContext.Context.GetType());
        }
        catch (InvalidOperationException ex)
        {
            _tenantState = [];
            _configurationError = ex;
        }
        var core = contextOptions.FindExtension<CoreOptionsExtension>();
        _defaultTracking = core?.QueryTrackingBehavior ?? QueryTrackingBehavior.TrackAll;
        _pooled = core?.MaxPoolSize is not null;
        foreach (var extension in contextOptions.Extensions)
        {
            if (extension is RelationalOptionsExtension relational)
            {
                _defaultCommandTimeout = relational.CommandTimeout;
            }
        }
    }

    private string TypeName => _typeName ??= _currentContext.Context.GetType().FullName ?? _currentContext.Context.GetType().Name;

    private ApplicationServices Application => _application ??= ApplicationServices.From(_contextOptions);

    /// <summary>Checks the ambient scope against the one the context is bound to; the fast path is two reads and a compare.</summary>
    private void Check(DbContext? context, string operation)
    {
        var current = IsolationScope.Current;
        var owner = Volatile.Read(ref _owner);
        if (owner is not null && ReferenceEquals(owner, current) && !owner.IsDisposed)
        {
            return;
        }

        CheckSlow(context, operation, current, owner);
    }

    private void CheckSlow(DbContext? context, string operation, IsolationScope? current, IsolationScope? owner)
    {
        if (_configurationError is { } error)
        {
            throw new InvalidOperationException(error.Message, error);
        }

        // A lease is in use: its return (or its disposal by a full pool) has something to inspect.
        Volatile.Write(ref _inspected, 0);

        if (_changeTracker is null && context is not null)
        {
            // Kept across leases; read here, while the context is surely alive, for the pristine check at return (which
            // can run while EF Core disposes the context, when its pool is full).
            _changeTracker = context.ChangeTracker;
            CaptureServices();
        }

        if (owner is null)
        {
            if (current is null)
            {
                ReportUnscoped(operation);
                return;
            }

            owner = Interlocked.CompareExchange(ref _owner, current, null);
            if (owner is null)
            {
                if (current.IsDisposed)
                {
                    ReportAfterScopeEnded(operation, current, current);
                }

                return;
            }

            if (ReferenceEquals(owner, current) && !owner.IsDisposed)
            {
                return;
            }
        }

        if (owner.IsDisposed)
        {
            ReportAfterScopeEnded(operation, owner, current);
            return;
        }

        if (current is null)
        {
            owner.ReportViolation(new IsolationViolation(
                ViolationKind.CrossScopeAccess,
                TypeName,
                string.Format(
                    CultureInfo.InvariantCulture,
                    "DbContext {0} bound to the scope of {1} was used ({2}) from code running outside any scope (a background thread, a timer, work started with the execution context suppressed). A context belongs to one request. Give background work its own scope (IIsolationScopeFactory.CreateScope) and its own context (IDbContextFactory<{3}>).",
                    TypeName,
                    owner.Context,
                    operation,
                    _currentContext.Context.GetType().Name),
                owner.Context));
            return;
        }

        current.ReportViolation(new IsolationViolation(
            ViolationKind.CrossScopeAccess,
            TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "DbContext {0} bound to the scope of {1} was used ({2}) from the scope of {3}. A context belongs to one request: another request using it reads and writes through the first one's change tracker, connection and transaction. Resolve or create a context in each request (AddDbContext, AddDbContextPool or IDbContextFactory<{4}>) and do not keep it in fields, statics or caches.",
                TypeName,
                owner.Context,
                operation,
                current.Context,
                _currentContext.Context.GetType().Name),
            owner.Context,
            current.Context));
    }

    private void ReportAfterScopeEnded(string operation, IsolationScope owner, IsolationScope? current)
    {
        var live = current is not null && !current.IsDisposed ? current : null;
        var violation = new IsolationViolation(
            ViolationKind.UseAfterDispose,
            TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "DbContext {0} bound to the scope of {1} was used ({2}) after that scope ended{3}. A reference to the context outlived its request (a field, a static, a captured closure, fire-and-forget work). Resolve or create a context in each request and finish all work on it before the request ends.",
                TypeName,
                owner.Context,
                operation,
                live is null ? string.Empty : " (from the scope of " + live.Context + ")"),
            owner.Context,
            live?.Context);
        if (live is not null)
        {
            live.ReportViolation(violation);
        }
        else
        {
            Application.Report(violation);
        }
    }

    private void ReportUnscoped(string operation)
    {
        if (Interlocked.Exchange(ref _unscopedReported, 1) != 0)
        {
            return;
        }

        Application.Report(new IsolationViolation(
            ViolationKind.CrossScopeAccess,
            TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "DbContext {0} was used ({1}) outside any isolation scope, so nothing ties its data to a user. Run the work inside a scope (IIsolatedRunner.RunAsync, or IIsolationScopeFactory.CreateScope for background work) and use the context from there. Reported once per context lease.",
                TypeName,
                operation)));
    }

    /// <summary>Marks the context busy with <paramref name="token"/>; a second operation while it is busy is concurrent use.</summary>
    private void Enter(object token, string operation)
    {
        if (Interlocked.CompareExchange(ref _holder, token, null) is null)
        {
            _holderOperation = operation;
            return;
        }

        var current = IsolationScope.Current;
        var owner = Volatile.Read(ref _owner);
        var violation = new IsolationViolation(
            ViolationKind.ConcurrentUse,
            TypeName,
            string.Format(
                CultureInfo.InvariantCulture,
                "DbContext {0}{1} was used ({2}) while another operation on it ({3}) was still running. A DbContext is not thread-safe: two flows used it at once (a missing await, Task.WhenAll over one context, fire-and-forget work), and EF Core's own concurrency detector does not see transaction operations. Await each operation before starting the next, or give each parallel flow its own context from IDbContextFactory<{4}>.",
                TypeName,
                owner is null ? string.Empty : " of the scope of " + owner.Context,
                operation,
                _holderOperation ?? "an operation",
                _currentContext.Context.GetType().Name),
            owner?.Context,
            current is null || ReferenceEquals(current, owner) ? null : current.Context);
        var reportTo = current ?? owner;
        if (reportTo is not null && !reportTo.IsDisposed)
        {
            reportTo.ReportViolation(violation);
        }
        else
        {
            Application.Report(violation);
        }
    }

    private void Exit(object token) => Interlocked.CompareExchange(ref _holder, null, token);
}
