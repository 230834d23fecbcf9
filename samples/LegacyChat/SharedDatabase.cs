using System.Data.Common;

namespace LegacyChat;

/// <summary>The one connection everybody uses.</summary>
public static class SharedDatabase
{
    public static DbConnection? Current { get; private set; } // [ISO102 error]

    public static DbConnection Open(string connectionString)
    {
        var connection = DbProviderFactories.GetFactory("Microsoft.Data.Sqlite").CreateConnection()!;
        connection.ConnectionString = connectionString;
        connection.Open();
        Current = connection;
        return connection;
    }
}
