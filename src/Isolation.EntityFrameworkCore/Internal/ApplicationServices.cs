using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>
/// The application's <see cref="IsolationMonitor"/> and mode, for reports that belong to no live scope. Found through the
/// application service provider EF Core records in the options (AddDbContext, AddDbContextPool, AddDbContextFactory set it).
/// </summary>
internal sealed class ApplicationServices
{
    private static readonly ApplicationServices None = new(null, IsolationMode.Observe);

    private ApplicationServices(IsolationMonitor? monitor, IsolationMode mode)
    {
        Monitor = monitor;
        Mode = mode;
    }

    public IsolationMonitor? Monitor { get; }

    public IsolationMode Mode { get; }

    public static ApplicationServices From(IDbContextOptions options)
    {
        var provider = options.FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider;
        if (provider is null)
        {
            return None;
        }

        var monitor = provider.GetService<IsolationMonitor>();
        var mode = provider.GetService<IOptions<IsolationOptions>>()?.Value.Mode ?? IsolationMode.Observe;
        return new ApplicationServices(monitor, mode);
    }

    /// <summary>Reports to the monitor unless isolation is off (a report without a scope never throws).</summary>
    public void Report(IsolationViolation violation)
    {
        if (Mode != IsolationMode.Off)
        {
            Monitor?.ReportViolation(violation);
        }
    }
}
