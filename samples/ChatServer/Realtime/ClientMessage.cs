namespace ChatServer.Realtime;

/// <summary>
/// A message from the browser: <c>{"type":"chat","text":"…","runId":"…","threadId":"…"}</c> or <c>{"type":"cancel","runId":"…"}</c>.
/// There is deliberately no user field: the user is the token's. A <c>userId</c> sent anyway is ignored.
/// </summary>
public sealed class ClientMessage
{
    public string? Type { get; set; }

    public string? Text { get; set; }

    public string? RunId { get; set; }

    public string? ThreadId { get; set; }
}
