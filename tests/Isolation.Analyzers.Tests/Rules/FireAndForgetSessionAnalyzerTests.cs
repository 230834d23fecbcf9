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
                    _ = {|ISO104:Task.Run(() => _db.SaveChangesAsync())|};
                    {|ISO104:Task.Run(async () => await connection.OpenAsync())|};
                    {|ISO104:ThreadPool.QueueUserWorkItem(_ => Touch(session))|};
                    {|ISO104:Task.Factory.StartNew(() => _db.SaveChangesAsync())|};
                    _ = {|ISO104:SaveLaterAsync(_db)|};
                    _ = {|ISO104:_db.SaveChangesAsync()|};
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

    [Fact]
    public async Task Analyze_ControllerDbContextCapturedByTaskRun_ReportsISO104OnTheCallWithTheMessage()
    {
        await Verifier<FireAndForgetSessionAnalyzer>.VerifyAsync(
            Usings + """
            public sealed class ChatController : Microsoft.AspNetCore.Mvc.ControllerBase
            {
                private readonly AppDb _db;
                public ChatController(AppDb db) => _db = db;
                public void Post(string text)
                {
                    _ = {|#0:Task.Run(async () =>
                    {
                        await Task.Delay(10);
                        await _db.SaveChangesAsync();
                    })|};
                }
            }
            """,
            [
                Verifier<FireAndForgetSessionAnalyzer>.Diagnostic(Descriptors.ISO104SessionCapturedByFireAndForget)
                    .WithArguments("_db", "AppDb", "Task.Run without await"),
            ]);
    }

    [Fact]
    public async Task Analyze_SessionTypesFromEditorConfig_ReportsISO104()
    {
        await Verifier<FireAndForgetSessionAnalyzer>.VerifyAsync(
            Usings + """
            namespace MyApp { public sealed class TenantSession { public Task FlushAsync() => Task.CompletedTask; } }
            public sealed class Worker
            {
                public void Run(MyApp.TenantSession session, string text)
                {
                    _ = {|ISO104:Task.Run(() => session.FlushAsync())|};
                    _ = Task.Run(() => System.Console.WriteLine(text));
                }
            }
            """,
            "isolation.session_types = MyApp.TenantSession");
    }
}
