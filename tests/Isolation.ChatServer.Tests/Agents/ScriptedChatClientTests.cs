using ChatServer.Agents;
using Microsoft.Extensions.AI;

namespace ChatServer.Tests.Agents;

public sealed class ScriptedChatClientTests
{
    private static readonly ChatTools Tools = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("What is the weather in Lisbon?", ChatTools.Weather)]
    [InlineData("How many messages are in my history?", ChatTools.CountMessages)]
    [InlineData("What time is it?", ChatTools.CurrentTime)]
    [InlineData("How do refunds work?", ChatTools.SearchKnowledgeBase)]
    public async Task GetResponseAsync_UserMessage_TriagesToTheToolForIt(string text, string tool)
    {
        using var model = new ScriptedChatClient(TimeSpan.Zero);
        var response = await model.GetResponseAsync([new ChatMessage(ChatRole.User, text)], new ChatOptions { Tools = Tools.All }, Ct);

        var call = Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<FunctionCallContent>());
        Assert.Equal(tool, call.Name);
        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_ToolResults_AnswersFromThem()
    {
        using var model = new ScriptedChatClient(TimeSpan.Zero);
        ChatMessage[] conversation =
        [
            new(ChatRole.User, "What is the weather in Lisbon?"),
            new(ChatRole.Assistant, [new FunctionCallContent("call-1", ChatTools.Weather, new Dictionary<string, object?> { ["city"] = "Lisbon" })]),
            new(ChatRole.Tool, [new FunctionResultContent("call-1", "Lisbon: sunny, 21 °C.")]),
        ];

        var response = await model.GetResponseAsync(conversation, new ChatOptions { Tools = Tools.All }, Ct);

        Assert.Equal("Here is what I found: Lisbon: sunny, 21 °C.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task GetResponseAsync_SameInputTwice_SameOutput()
    {
        using var model = new ScriptedChatClient(TimeSpan.Zero);
        var first = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "weather in Oslo")], new ChatOptions { Tools = Tools.All }, Ct);
        var second = await model.GetResponseAsync([new ChatMessage(ChatRole.User, "weather in Oslo")], new ChatOptions { Tools = Tools.All }, Ct);
        var a = (FunctionCallContent)first.Messages[0].Contents[0];
        var b = (FunctionCallContent)second.Messages[0].Contents[0];
        Assert.Equal(a.Arguments!["city"], b.Arguments!["city"]);
        Assert.Equal("Oslo", a.Arguments["city"]);
    }

    [Fact]
    public async Task GetResponseAsync_CancelledWhileThinking_Throws()
    {
        using var model = new ScriptedChatClient(TimeSpan.FromMinutes(5));
        using var cancel = new CancellationTokenSource();
        var call = model.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], null, cancel.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_SameContentAsGetResponse()
    {
        using var model = new ScriptedChatClient(TimeSpan.Zero);
        ChatMessage[] conversation = [new(ChatRole.User, "hi"), new(ChatRole.Tool, [new FunctionResultContent("c", "42")])];
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in model.GetStreamingResponseAsync(conversation, null, Ct))
        {
            updates.Add(update);
        }

        Assert.Equal("Here is what I found: 42", updates.ToChatResponse().Text);
    }

    [Fact]
    public void GetService_Metadata_NamesTheScriptedModel()
    {
        using var model = new ScriptedChatClient(TimeSpan.Zero);
        Assert.Equal(ScriptedChatClient.ModelId, model.GetService<ChatClientMetadata>()!.DefaultModelId);
        Assert.Same(model, model.GetService<ScriptedChatClient>());
    }
}
