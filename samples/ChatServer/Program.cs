using ChatServer;
using ChatServer.Simulation;

// `dotnet run --project samples/ChatServer -- simulate [options]` drives simulated users against a real server on loopback
// and prints an isolation report; without `simulate` the chat server runs normally (pages on / and /dashboard).
if (args.Length > 0 && args[0] == "simulate")
{
    return await SimulateCommand.RunAsync(args[1..], Console.Out, Console.Error, CancellationToken.None);
}

var app = ChatServerApp.Build(ChatServerApp.CreateBuilder(args));
await app.RunAsync();
return 0;
