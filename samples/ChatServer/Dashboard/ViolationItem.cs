namespace ChatServer.Dashboard;

/// <summary>One entry of the dashboard's latest violations.</summary>
public sealed record ViolationItem(DateTimeOffset At, string Kind, bool IsLeak, string ResourceType, string Message);
