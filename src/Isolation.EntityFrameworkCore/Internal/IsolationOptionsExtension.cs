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

        // First of all resettable services: the pristine check must see the context before EF Core clears the change
        // tracker and disposes the transaction (it resolves IEnumerable<IResettableService> in registration order).
        services.Insert(0, ServiceDescriptor.Scoped<IResettableService>(static sp => sp.GetRequiredService<ContextGuard>()));
    }

    public void Validate(IDbContextOptions options)
    {
    }

    private sealed class ExtensionInfo(IDbContextOptionsExtension extension) : DbContextOptionsExtensionInfo(extension)
    {
        public override bool IsDatabaseProvider => false;

        public override string LogFragment => "UseIsolation ";

        // The guard reads its options per context, so every isolated context can share one internal service provider.
        public override int GetServiceProviderHashCode() => 0;

        public override bool ShouldUseSameServiceProvider(DbContextOptionsExtensionInfo other) => other is ExtensionInfo;

        public override void PopulateDebugInfo(IDictionary<string, string> debugInfo)
            => debugInfo["Isolation:UseIsolation"] = "1";
    }
}
