using System.Data.Common;

namespace LegacyChat;

/// <summary>Archives transcripts every minute with the connection it was given at start-up.</summary>
public sealed class TranscriptArchiver : BackgroundService
{
    private readonly DbConnection _connection; // [ISO003 error]

    public TranscriptArchiver(DbConnection connection) => _connection = connection;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            _ = Task.Run(() => _connection.ExecuteNonQueryAsync("delete from transcripts where age > 30"), stoppingToken); // [ISO104 warning]
            await Task.Delay(TimeSpan.FromMinutes(1), stoppingToken);
        }
    }
}

internal static class DbConnectionExtensions
{
    public static async Task<int> ExecuteNonQueryAsync(this DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteNonQueryAsync();
    }
}
