using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace Isolation.Analyzers.Tests.Rules;

/// <summary>
/// ISO201 of <see cref="SingletonHeldStateAnalyzer"/>: a process-wide multicast stream (an Rx subject, a Dataflow
/// <c>BroadcastBlock</c>) of conversation messages that do not say whose they are, pushed into by request paths.
/// </summary>
public sealed class ConversationStreamTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Reactive.Subjects;
        using System.Threading.Tasks;
        using System.Threading.Tasks.Dataflow;
        using Microsoft.AspNetCore.SignalR;
        using Microsoft.Extensions.AI;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;

        """;

    [Fact]
    public async Task Analyze_SingletonStreamOfConversationMessages_ReportsISO201()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            // A user's prompt and the assistant's answer: turns of one conversation (they carry a ChatRole).
            public abstract class ChatItem { public string Text { get; init; } = ""; public string? Id { get; init; } public abstract ChatRole Role { get; } }
            public sealed class UserMessage : ChatItem { public override ChatRole Role => ChatRole.User; }
            public sealed class AssistantResponse : ChatItem { public override ChatRole Role => ChatRole.Assistant; }

            public sealed class ChatStream
            {
                private readonly Subject<ChatItem> {|ISO201:_messages|} = new();
                public IObservable<ChatItem> Messages => _messages;
                public void Add(ChatItem item) => _messages.OnNext(item);
            }

            public sealed class TranscriptFeed
            {
                public ReplaySubject<ChatMessage> {|ISO201:Transcript|} { get; } = new();
                public void Publish(ChatMessage message) => Transcript.OnNext(message);
            }

            public sealed class TokenFeed
            {
                private readonly BroadcastBlock<ChatResponseUpdate> {|ISO201:_updates|} = new(u => u);
                public void Publish(ChatResponseUpdate update) => _updates.Post(update);
                public Task PublishAsync(ChatResponseUpdate update) => _updates.SendAsync(update);
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<ChatStream>();
                    services.AddSingleton<TranscriptFeed>();
                    services.AddSingleton(new TokenFeed());
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_StreamReport_NamesRegistrationItemAndWriter()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(
            Usings + """
            public sealed class Line { public ChatRole Role { get; init; } public string Text { get; init; } = ""; }
            public sealed class ChatStream
            {
                private readonly Subject<Line> {|#0:_lines|} = new();
                public void Add(Line line) => _lines.OnNext(line);
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddSingleton<ChatStream>();
            }
            """,
            [
                Verifier<SingletonHeldStateAnalyzer>.Diagnostic(Descriptors.ISO201ConversationStreamInRegisteredSingleton, 0)
                    .WithArguments("ChatStream", "registered as a singleton by AddSingleton at Test0.cs:19", "field", "_lines", "Subject", "Line", "Add"),
            ]);
    }

    [Fact]
    public async Task Analyze_StaticStreamOrHostedService_ReportedLive()
    {
        var source = Usings + """
            public static class Feed
            {
                public static readonly Subject<ChatMessage> Messages = new();
                public static void Publish(ChatMessage message) => Messages.OnNext(message);
            }

            public sealed class Relay : BackgroundService
            {
                private readonly Subject<ChatMessage> _out = new();
                public void Forward(ChatMessage message) => _out.OnNext(message);
                protected override Task ExecuteAsync(System.Threading.CancellationToken stoppingToken) => Task.CompletedTask;
            }
            """;

        var (live, all) = await LiveAnalysis.RunAsync(new SingletonHeldStateAnalyzer(), source);

        Assert.Equal(["ISO201 Messages", "ISO201 _out"], live);
        Assert.Equal(live, all);
    }

    [Fact]
    public async Task Analyze_LookAlikeStreams_NoDiagnostic()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(Usings + """
            // Shared by design: quotes and notices belong to nobody.
            public sealed record StockQuote(string Symbol, decimal Price);
            public sealed class Ticker
            {
                private readonly Subject<StockQuote> _quotes = new();
                private readonly Subject<string> _notices = new();
                public void Publish(StockQuote quote) => _quotes.OnNext(quote);
                public void Notify(string notice) => _notices.OnNext(notice);
            }

            // A chat room: a user's typed line relayed to the room by design (no model conversation, no role).
            public sealed record RoomLine(string User, string Text);
            public sealed class Room
            {
                private readonly Subject<RoomLine> _lines = new();
                public void Say(RoomLine line) => _lines.OnNext(line);
            }

            // Conversation messages that say whose they are: subscribers can filter on the id.
            public sealed class OwnedItem { public string ConversationId { get; init; } = ""; public ChatRole Role { get; init; } }
            public sealed class OwnedStream
            {
                private readonly Subject<OwnedItem> _items = new();
                public void Add(OwnedItem item) => _items.OnNext(item);
            }

            // Scoped: one stream per request.
            public sealed class ScopedStream
            {
                private readonly Subject<ChatMessage> _messages = new();
                public void Add(ChatMessage message) => _messages.OnNext(message);
            }

            // Pushed only while starting, not on request paths; and never pushed into at all.
            public sealed class Seeded
            {
                private readonly Subject<ChatMessage> _messages = new();
                private readonly Subject<ChatMessage> _unused = new();
                public Seeded() => _messages.OnNext(new ChatMessage());
                public IObservable<ChatMessage> Messages => _messages;
            }

            // A hub's instance state is its request's own.
            public sealed class ChatHub : Hub
            {
                private readonly Subject<ChatMessage> _messages = new();
                public void Add(ChatMessage message) => _messages.OnNext(message);
            }

            public static class Startup
            {
                public static void Configure(IServiceCollection services)
                {
                    services.AddSingleton<Ticker>();
                    services.AddSingleton<Room>();
                    services.AddSingleton<OwnedStream>();
                    services.AddScoped<ScopedStream>();
                    services.AddSingleton<Seeded>();
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_SingletonTypesFromEditorConfig_ReportsLiveAndSeverityIsConfigurable()
    {
        await Verifier<SingletonHeldStateAnalyzer>.VerifyAsync(
            Usings + """
            namespace MyApp.Streams
            {
                public sealed class ChatFeed { private readonly Subject<ChatMessage> {|#0:_messages|} = new(); public void Add(ChatMessage m) => _messages.OnNext(m); }
                public sealed class Other { private readonly Subject<ChatMessage> _messages = new(); public void Add(ChatMessage m) => _messages.OnNext(m); }
            }
            """,
            [
                Verifier<SingletonHeldStateAnalyzer>.Diagnostic(Descriptors.ISO201ConversationStreamInSingleton, 0)
                    .WithSeverity(DiagnosticSeverity.Warning)
                    .WithArguments("ChatFeed", "isolation.singleton_types", "field", "_messages", "Subject", "ChatMessage", "Add"),
            ],
            "isolation.singleton_types = MyApp.Streams.*Feed\ndotnet_diagnostic.ISO201.severity = warning");
    }
}
