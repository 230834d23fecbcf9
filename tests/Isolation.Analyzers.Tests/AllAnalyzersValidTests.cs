using Isolation.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Isolation.Analyzers.Tests;

/// <summary>Every analyzer over a correctly isolated backend: not one diagnostic.</summary>
public sealed class AllAnalyzersValidTests
{
    private const string ValidBackend = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Data.Common;
        using System.Net.WebSockets;
        using System.Threading;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.AspNetCore.Http;
        using Microsoft.AspNetCore.SignalR;
        using Microsoft.EntityFrameworkCore;
        using Microsoft.Extensions.AI;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;

        namespace Valid;

        public sealed class AppDb : DbContext { }

        public sealed class TriageAgent : IAgent
        {
            private readonly List<ChatMessage> _history = new();
            private readonly IChatClient _client;
            private readonly AppDb _db;
            public TriageAgent(IChatClient client, AppDb db) { _client = client; _db = db; }
            public async Task RunAsync(CancellationToken ct)
            {
                _history.Add(new ChatMessage());
                await _db.SaveChangesAsync(ct);
            }
        }

        public sealed class ConnectionRegistry
        {
            private readonly ConcurrentDictionary<string, List<WebSocket>> _byUser = new();
            private readonly IAgentFactory<TriageAgent> _factory;
            private readonly IDbContextFactory<AppDb> _dbFactory;
            private readonly DbDataSource _dataSource;
            public ConnectionRegistry(IAgentFactory<TriageAgent> factory, IDbContextFactory<AppDb> dbFactory, DbDataSource dataSource) { _factory = factory; _dbFactory = dbFactory; _dataSource = dataSource; }

            public async Task SendAsync(string userId, ArraySegment<byte> payload, CancellationToken ct)
            {
                if (!_byUser.TryGetValue(userId, out var sockets)) return;
                foreach (var socket in sockets) await socket.SendAsync(payload, WebSocketMessageType.Text, true, ct);
            }

            public async Task<int> CountAsync(CancellationToken ct)
            {
                await using var connection = await _dataSource.OpenConnectionAsync(ct);
                await using var db = _dbFactory.CreateDbContext();
                return await db.SaveChangesAsync(ct);
            }

            public TriageAgent Create(IsolationScope scope) => _factory.Create(scope);
        }

        public sealed class Indexer : BackgroundService
        {
            private readonly IDbContextFactory<AppDb> _factory;
            public Indexer(IDbContextFactory<AppDb> factory) => _factory = factory;
            protected override async Task ExecuteAsync(CancellationToken stoppingToken)
            {
                using var db = _factory.CreateDbContext();
                await db.SaveChangesAsync(stoppingToken);
            }
        }

        public sealed class ChatHub : Hub
        {
            private static readonly string[] Commands = { "help" };
            public Task Send(string message) => Clients.Caller.SendAsync("echo", message);
        }

        public sealed class TimingMiddleware
        {
            private readonly RequestDelegate _next;
            public TimingMiddleware(RequestDelegate next) => _next = next;
            public Task InvokeAsync(HttpContext context) => _next(context);
        }

        public static class Startup
        {
            public static void Configure(IServiceCollection services, System.Net.Http.HttpClient http)
            {
                services.AddIsolatedAgent<TriageAgent>();
                services.AddScoped<AppDb>();
                services.AddSingleton<ConnectionRegistry>();
                services.AddHostedService<Indexer>();
                services.AddSingleton(http);
            }
        }
        """;

    [Fact]
    public async Task AllAnalyzers_CorrectlyIsolatedBackend_ReportNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var options = new CSharpParseOptions(LanguageVersion.Latest);
        var diagnostics = await RobustnessTests.AssertNoAnalyzerExceptionAsync(
        [
            CSharpSyntaxTree.ParseText(Stubs.Source, options, Stubs.FileName, cancellationToken: ct),
            CSharpSyntaxTree.ParseText(ValidBackend, options, "ValidBackend.cs", cancellationToken: ct),
        ]);

        Assert.Empty(diagnostics.Where(d => d.Id.StartsWith("ISO", StringComparison.Ordinal)).Select(d => d.ToString()));
    }
}
