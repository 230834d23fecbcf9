using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;
using Isolation.CodeFixes;

namespace Isolation.Analyzers.Tests.CodeFixes;

public sealed class UsingDeclarationCodeFixTests
{
    private const string Prefix = """
        using System.Threading.Tasks;
        using Microsoft.EntityFrameworkCore;

        public sealed class AppDb : DbContext { }

        """;

    [Fact]
    public async Task Fix_UndisposedSessions_GetUsingOrAwaitUsingIncludingFixAll()
    {
        await Verifier<UndisposedSessionAnalyzer>.VerifyFixAsync<UsingDeclarationCodeFix>(
            Prefix + """
            public sealed class Repository
            {
                public async Task SaveAsync(IDbContextFactory<AppDb> factory)
                {
                    // The context for this request.
                    var {|ISO103:db = new AppDb()|};
                    var {|ISO103:other = factory.CreateDbContext()|};
                    await db.SaveChangesAsync();
                    await other.SaveChangesAsync();
                }

                public void Save()
                {
                    var {|ISO103:db = new AppDb()|};
                    db.SaveChangesAsync().Wait();
                }
            }
            """,
            Prefix + """
            public sealed class Repository
            {
                public async Task SaveAsync(IDbContextFactory<AppDb> factory)
                {
                    // The context for this request.
                    await using var db = new AppDb();
                    await using var other = factory.CreateDbContext();
                    await db.SaveChangesAsync();
                    await other.SaveChangesAsync();
                }

                public void Save()
                {
                    using var db = new AppDb();
                    db.SaveChangesAsync().Wait();
                }
            }
            """);
    }
}
