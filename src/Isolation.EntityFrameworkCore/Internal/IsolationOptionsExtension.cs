using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Isolation.EntityFrameworkCore.Internal;

/// <summary>
/// The options extension behind <c>UseIsolation()</c>: adds one <see cref="ContextGuard"/> per context instance to EF Core's
/// internal services, as an interceptor and as a resettable service that runs first when a pooled context is returned.
/// </summary>
internal sealed class IsolationOptionsExtension : IDbContextOptionsExtension
{
    private DbContextOptionsExtensionInfo? _info;

    public IsolationOptionsExtension(IsolationDbContextOptions options) => Options = options;

    public IsolationDbContextOptions Options { get; }

    public DbContextOptionsExtensionInfo Info => _info ??= new ExtensionInfo(this);

    public void ApplyServices(IServiceCollection services)
    {
        services.AddScoped<ContextGuard>();
        services.AddScoped<IInterceptor>(static sp => sp.GetRequiredService<ContextGuard>());
        if (Options.RowLevelSecuritySetting is not null)
        {
            services.AddScoped<IInterceptor, RowLevelSecurityInterceptor>();
        }

        // First of all resettable services: the pristine check must see the context before EF Core clears the change
        // tracker and disposes the transaction (it resolves IEnumerable<IResettableService> in registration order).
        services.Insert(0, ServiceDescriptor.Scoped<IResettableService>(static sp => sp.GetRequiredService<ContextGuard>()));
    }

    public void Validate(IDbContextOptions options)
    {
    }

    private sealed class ExtensionInfo(IsolationOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        private bool RowLevelSecurity => extension.Options.RowLevelSecuritySetting is not null;

        public override bool IsDatabaseProvider => false;

        public override string LogFragment => "UseIsolation ";

        // The guard reads its options per context; only whether the connection interceptor is registered changes the services.
        public override int GetServiceProviderHashCode() => RowLevelSecurity ? 1 : 0;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other)
            => other is ExtensionInfo info && info.RowLevelSecurity == RowLevelSecurity;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo)
            => debugInfo["Isolation:UseIsolation"] = "1";
    }
}
