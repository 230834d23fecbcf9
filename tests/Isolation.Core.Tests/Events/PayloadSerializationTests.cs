using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Isolation.Tests.Events;

public sealed class PayloadSerializationTests
{
    [Fact]
    public async Task PayloadTypeInfoResolver_Set_AskedForPayloadTypesBeforeReflection()
    {
        using var cts = EventTestSupport.Timeout();
        var resolver = new RecordingResolver(ChatPayloadContext.Default);
        await using var server = await EventTestServer.StartAsync(cts.Token, o => o.PayloadTypeInfoResolver = resolver);
        await using var client = await EventTestClient.ConnectAsync(server, "alice", "a-1", cts.Token);
        await using var scope = server.Scopes.CreateScope(new UserExecutionContext("alice", "a-1", "run-1"));

        await scope.Events.EmitAsync(AgentEventTypes.ToolExecuting, new ToolStarted("web_search", 2), cts.Token);
        var received = await client.ReceiveAsync(cts.Token);

        // The application's source-generated context answered for its payload type; names follow the envelope's camel case.
        Assert.Contains(typeof(ToolStarted), resolver.Answered);
        Assert.Equal("web_search", received.Payload.GetProperty("toolName").GetString());
        Assert.Equal(2, received.Payload.GetProperty("attemptNumber").GetInt32());
        Assert.Equal("run-1", received.RunId);
    }

    [Fact]
    public async Task Payload_BuiltInTypes_SerializedByTheLibrarysContext()
    {
        using var cts = EventTestSupport.Timeout();
        await using var server = await EventTestServer.StartAsync(cts.Token);
        await using var client = await EventTestClient.ConnectAsync(server, "alice", "a-1", cts.Token);
        await using var scope = server.Scopes.CreateScope(new UserExecutionContext("alice", "a-1"));
        var node = new System.Text.Json.Nodes.JsonObject { ["answer"] = 42 };

        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, true, cts.Token);
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, 2.5d, cts.Token);
        await scope.Events.EmitAsync(AgentEventTypes.AgentThinking, new[] { "a", "b" }, cts.Token);
        await scope.Events.EmitAsync(AgentEventTypes.AgentCompleted, node, cts.Token);

        Assert.True((await client.ReceiveAsync(cts.Token)).Payload.GetBoolean());
        Assert.Equal(2.5d, (await client.ReceiveAsync(cts.Token)).Payload.GetDouble());
        Assert.Equal("b", (await client.ReceiveAsync(cts.Token)).Payload[1].GetString());
        Assert.Equal(42, (await client.ReceiveAsync(cts.Token)).Payload.GetProperty("answer").GetInt32());
    }
}

public sealed record ToolStarted(string ToolName, int AttemptNumber);

[JsonSerializable(typeof(ToolStarted))]
internal sealed partial class ChatPayloadContext : JsonSerializerContext;

/// <summary>Delegates to an application's context and notes which types it answered for.</summary>
internal sealed class RecordingResolver(IJsonTypeInfoResolver inner) : IJsonTypeInfoResolver
{
    public System.Collections.Concurrent.ConcurrentBag<Type> Answered { get; } = [];

    public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options)
    {
        var info = inner.GetTypeInfo(type, options);
        if (info is not null)
        {
            Answered.Add(type);
        }

        return info;
    }
}
