using System.Data.Common;
using System.Net.WebSockets;
using System.Text;
using LegacyChat;

var builder = WebApplication.CreateBuilder(args);

// One agent registry, one connection, one socket manager for the whole process.
builder.Services.AddSingleton<AgentRegistry>();
builder.Services.AddSingleton<ConnectionManager>();
builder.Services.AddSingleton<ChatLog>();
builder.Services.AddSingleton<DbConnection>(_ => SharedDatabase.Open(builder.Configuration["ConnectionStrings:Chat"] ?? "Data Source=chat.db")); // [ISO101 error]
builder.Services.AddSingleton<TriageAgent>(); // [ISO001 error]
builder.Services.AddHostedService<TranscriptArchiver>();

var app = builder.Build();
app.UseWebSockets();

app.Map("/ws", async (HttpContext context, AgentRegistry registry, ConnectionManager sockets) =>
{
    if (!context.WebSockets.IsWebSocketRequest)
    {
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        return;
    }

    var userId = context.Request.Query["user"].ToString();
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    sockets.Add(context.Connection.Id, socket);

    var buffer = new byte[4096];
    while (socket.State == WebSocketState.Open)
    {
        var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
        if (received.MessageType == WebSocketMessageType.Close)
        {
            break;
        }

        var agent = registry.GetOrCreate(userId);
        await agent.HandleAsync(userId, Encoding.UTF8.GetString(buffer, 0, received.Count));
    }

    sockets.Remove(context.Connection.Id);
});

app.MapGet("/history/{user}", (string user, AgentRegistry registry) => registry.GetOrCreate(user).History);

app.MapPost("/log/{user}", (string user, string text, ChatLog log) =>
{
    log.Add(user, text);
    return log.Recent;
});

app.MapPost("/audit", (string text) =>
{
    var connection = DbProviderFactories.GetFactory("Microsoft.Data.Sqlite").CreateConnection()!; // [ISO103 warning]
    connection.ConnectionString = "Data Source=audit.db";
    connection.Open();
    return Results.Ok();
});

app.Run();
