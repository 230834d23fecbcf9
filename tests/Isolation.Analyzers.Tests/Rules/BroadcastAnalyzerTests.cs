using Isolation.Analyzers.Rules;
using Isolation.Analyzers.Tests.Infrastructure;

namespace Isolation.Analyzers.Tests.Rules;

public sealed class BroadcastAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Concurrent;
        using System.Collections.Generic;
        using System.Linq;
        using System.Net.WebSockets;
        using System.Threading;
        using System.Threading.Tasks;
        using Isolation;
        using Microsoft.AspNetCore.SignalR;

        """;

    [Fact]
    public async Task Analyze_AgentBroadcastsDirectlyOrThroughManager_ReportsISO201()
    {
        await Verifier<BroadcastAnalyzer>.VerifyAsync(Usings + """
            public interface IBroadcaster { Task BroadcastAsync(string message); }

            public sealed class SocketManager : IBroadcaster
            {
                private readonly ConcurrentDictionary<string, WebSocket> _sockets = new();

                public async Task BroadcastAsync(string message)
                {
                    var bytes = new ArraySegment<byte>(System.Text.Encoding.UTF8.GetBytes(message));
                    foreach (var socket in _sockets.Values)
                    {
                        await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
            }

            public sealed class ChatHub : Hub { }

            public sealed class TriageAgent : IAgent
            {
                private readonly SocketManager _manager;
                private readonly IBroadcaster _broadcaster;
                private readonly IHubContext<ChatHub> _hub;
                public TriageAgent(SocketManager manager, IBroadcaster broadcaster, IHubContext<ChatHub> hub) { _manager = manager; _broadcaster = broadcaster; _hub = hub; }

                public async Task RunAsync()
                {
                    await {|ISO201:_manager.BroadcastAsync("agent_thinking")|};
                    await {|ISO201:_broadcaster.BroadcastAsync("agent_completed")|};
                    await {|ISO201:_hub.Clients.All|}.SendAsync("agent_event", "thinking");
                    await {|ISO201:_hub.Clients.AllExcept(Array.Empty<string>())|}.SendAsync("agent_event", "done");
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_PerUserSendsAndNonAgentBroadcasts_NoDiagnostic()
    {
        await Verifier<BroadcastAnalyzer>.VerifyAsync(Usings + """
            public sealed class SocketManager
            {
                private readonly ConcurrentDictionary<string, List<WebSocket>> _byUser = new();
                private readonly ConcurrentDictionary<string, WebSocket> _all = new();

                public async Task SendToUserAsync(string userId, ArraySegment<byte> bytes)
                {
                    if (!_byUser.TryGetValue(userId, out var sockets)) return;
                    foreach (var socket in sockets)
                    {
                        await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }

                // A broadcast that no agent calls (a shutdown notice) may be intended.
                public async Task NotifyShutdownAsync(ArraySegment<byte> bytes)
                {
                    foreach (var socket in _all.Values)
                    {
                        await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
            }

            // The SignalR tutorial's public chat room: a hub method broadcasting a user's message is not an agent event.
            public sealed class ChatHub : Hub
            {
                public Task Send(string user, string message) => Clients.All.SendAsync("ReceiveMessage", message);
            }

            public sealed class TriageAgent : IAgent
            {
                private readonly SocketManager _manager;
                private readonly IHubContext<ChatHub> _hub;
                public TriageAgent(SocketManager manager, IHubContext<ChatHub> hub) { _manager = manager; _hub = hub; }

                public async Task RunAsync(string userId)
                {
                    await _manager.SendToUserAsync(userId, default);
                    await _hub.Clients.User(userId).SendAsync("agent_event", "thinking");
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_AgentOutputBroadcastOutsideAgentTypes_ReportsISO201()
    {
        await Verifier<BroadcastAnalyzer>.VerifyAsync(Usings + """
            public sealed class SocketManager
            {
                private readonly ConcurrentDictionary<string, WebSocket> _sockets = new();
                public async Task BroadcastAsync(string message)
                {
                    var bytes = new ArraySegment<byte>(System.Text.Encoding.UTF8.GetBytes(message));
                    foreach (var socket in _sockets.Values.ToList())
                    {
                        await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                    }
                }
            }

            // The connection manager is no agent and neither is the hub; the agent's streaming updates reach everyone.
            public sealed class ChatHub : Hub
            {
                private readonly SocketManager _sockets;
                private readonly Microsoft.Agents.AI.AIAgent _agent;
                public ChatHub(SocketManager sockets, Microsoft.Agents.AI.AIAgent agent) { _sockets = sockets; _agent = agent; }
                public async Task Ask(string question)
                {
                    await foreach (var update in _agent.RunStreamingAsync(question))
                    {
                        await {|ISO201:_sockets.BroadcastAsync(update.Text)|};
                        await {|ISO201:Clients.All|}.SendAsync("update", update);
                    }

                    // The user's own question is not an agent event.
                    await _sockets.BroadcastAsync(question);
                    await Clients.All.SendAsync("asked", question);
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_ConversationMessageBroadcastOutsideAgentTypes_ReportsISO201()
    {
        await Verifier<BroadcastAnalyzer>.VerifyAsync(Usings + """
            // A turn of a user's conversation with a model: it carries a ChatRole, or is an AI library's chat message.
            public sealed class ChatItem { public Microsoft.Extensions.AI.ChatRole Role { get; init; } public string Text { get; init; } = ""; }
            public sealed record RoomLine(string User, string Text);

            public sealed class ChatHub : Hub { }

            public sealed class Relay
            {
                private readonly IHubContext<ChatHub> _hub;
                public Relay(IHubContext<ChatHub> hub) => _hub = hub;

                public async Task ForwardAsync(ChatItem item, Microsoft.Extensions.AI.ChatMessage message, RoomLine line)
                {
                    await {|ISO201:_hub.Clients.All|}.SendAsync("item", item);
                    await {|ISO201:_hub.Clients.All|}.SendAsync("message", message);
                    // A chat room's line (no model conversation) and a plain string stay allowed.
                    await _hub.Clients.All.SendAsync("line", line);
                    await _hub.Clients.All.SendAsync("notice", "maintenance at noon");
                }
            }
            """);
    }

    [Fact]
    public async Task Analyze_DirectBroadcastInAgent_ReportedBeforeCompilationEnd()
    {
        var source = Usings + """
            public sealed class SocketManager
            {
                private readonly List<WebSocket> _sockets = new();
                public async Task BroadcastAsync(ArraySegment<byte> bytes)
                {
                    foreach (var socket in _sockets) await socket.SendAsync(bytes, WebSocketMessageType.Text, true, CancellationToken.None);
                }
            }

            public sealed class ChatHub : Hub { }
            public sealed class TriageAgent : IAgent
            {
                private readonly IHubContext<ChatHub> _hub;
                private readonly SocketManager _manager;
                public TriageAgent(IHubContext<ChatHub> hub, SocketManager manager) { _hub = hub; _manager = manager; }
                public async Task RunAsync()
                {
                    await _hub.Clients.All.SendAsync("agent_event", "thinking");
                    await _manager.BroadcastAsync(default);
                }
            }
            """;

        var (live, all) = await LiveAnalysis.RunAsync(new BroadcastAnalyzer(), source);

        Assert.Equal(["ISO201 _hub.Clients.All"], live);
        Assert.Equal(["ISO201 _hub.Clients.All", "ISO201 _manager.BroadcastAsync(default)"], all);
    }
}
