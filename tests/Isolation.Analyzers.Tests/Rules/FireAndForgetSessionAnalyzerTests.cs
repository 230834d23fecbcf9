using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class FireAndForgetSessionAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Data.Common;
        using System.Threading;
        using System.Threading.Tasks;
        using Microsoft.EntityFrameworkCore;

        public sealed class AppDb : DbContext { }

        """;

    [Fact]
    public async Task Analyze_SessionUsedByFireAndForgetWork_ReportsISO104()
    {
        await Verifier<FireAndForgetSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatController
            {
                private readonly AppDb _db;
                public ChatController(AppDb db) => _db = db;

                public void Post(DbConnection connection, Microsoft.Agents.AI.AgentSession session)
                {
                    _ = Task.Run(() => {|ISO104:_db|}.SaveChangesAsync());
                    Task.Run(async () => await {|ISO104:connection|}.OpenAsync());
                    ThreadPool.QueueUserWorkItem(_ => Touch({|ISO104:session|}));
                    Task.Factory.StartNew(() => {|ISO104:_db|}.SaveChangesAsync());
                    _ = SaveLaterAsync({|ISO104:_db|});
                    _ = {|ISO104:_db|}.SaveChangesAsync();
                }

                private static void Touch(object value) { }
                private static Task SaveLaterAsync(AppDb db) => db.SaveChangesAsync();
            }
            """);
    }

    [Fact]
    public async Task Analyze_AwaitedStoredOrOwnSession_NoDiagnostic()
    {
        await Verifier<FireAndForgetSessionAnalyzer>.VerifyAsync(Usings + """
            public sealed class ChatController
            {
                private readonly AppDb _db;
                private readonly IDbContextFactory<AppDb> _factory;
                private Task? _background;
                public ChatController(AppDb db, IDbContextFactory<AppDb> factory) { _db = db; _factory = factory; }

                public async Task PostAsync(string text, System.Net.Http.HttpClient http)
                {
                    await Task.Run(() => _db.SaveChangesAsync());
                    await _db.SaveChangesAsync();
                    var pending = Task.Run(() => _db.SaveChangesAsync());
                    await pending;
                    _background = Task.Run(() => _db.SaveChangesAsync());

                    // The background work opens its own session: nothing of this request is captured.
                    _ = Task.Run(async () =>
                    {
                        using var db = _factory.CreateDbContext();
                        await db.SaveChangesAsync();
                    });

                    // Shared-by-design and plain values are fine.
                    _ = Task.Run(() => http.GetAsync("http://localhost/"));
                    _ = Task.Run(() => Console.WriteLine(text));
                    _ = NotifyAsync(text);
                }

                private static Task NotifyAsync(string text) => Task.CompletedTask;
            }
            """);
    }
}
