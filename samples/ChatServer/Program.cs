using ChatServer;

// `dotnet run --project samples/ChatServer` runs the chat server (pages on / and /dashboard);
// `-- simulate [options]` drives simulated users against a real server on loopback and prints an isolation report;
// `-- --help` prints the usage.
return await ChatServerCommand.InvokeAsync(args, Console.Out, Console.Error, CancellationToken.None);
